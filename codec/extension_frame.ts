/**
 * Frames on the `/extension` socket: the legacy relay frames (no `type` field) and the
 * gateway-style handshake frames (`type: "req" | "res" | "event"`).
 *
 * @module
 */

import type { JsonObject, JsonValue } from "./json.ts";

/** A CDP method call as carried inside `forwardCDPCommand` and `forwardCDPEvent`. */
export interface CdpCall {
  /** CDP method, e.g. `"Runtime.evaluate"`. */
  readonly method: string;
  /** CDP params; omitted on the wire when absent. */
  readonly params?: JsonObject;
  /** Flat session id; omitted on the wire when absent. */
  readonly sessionId?: string;
}

/** Outcome of a forwarded command: a result object or a non-empty error string. */
export type Outcome =
  | { readonly ok: true; readonly result: JsonObject }
  | { readonly ok: false; readonly error: string };

/** `client` block of the gateway v3 `ConnectParams`. */
export interface ConnectClient {
  /** One of {@linkcode GATEWAY_CLIENT_IDS}. */
  readonly id: string;
  /** Optional display name. */
  readonly displayName?: string;
  /** Client version; the extension sends its manifest version. */
  readonly version: string;
  /** Platform, e.g. `"chrome-extension"`. */
  readonly platform: string;
  /** Optional device family. */
  readonly deviceFamily?: string;
  /** Optional model identifier. */
  readonly modelIdentifier?: string;
  /** One of {@linkcode GATEWAY_CLIENT_MODES}. */
  readonly mode: string;
  /** Optional instance id. */
  readonly instanceId?: string;
}

/** `device` block of the gateway v3 `ConnectParams` (device-signature auth; unused here). */
export interface ConnectDevice {
  /** Device id. */
  readonly id: string;
  /** Public key. */
  readonly publicKey: string;
  /** Signature over the challenge nonce. */
  readonly signature: string;
  /** Signing time in milliseconds. */
  readonly signedAt: number;
  /** The challenge nonce. */
  readonly nonce: string;
}

/** `auth` block of the gateway v3 `ConnectParams`. */
export interface ConnectAuth {
  /** The raw gateway token. */
  readonly token?: string;
  /** Bootstrap token. */
  readonly bootstrapToken?: string;
  /** Device token. */
  readonly deviceToken?: string;
  /** Password. */
  readonly password?: string;
}

/** Gateway protocol v3 `ConnectParams`; every object rejects unknown fields. */
export interface ConnectParams {
  /** Lowest protocol the client speaks (integer ≥ 1). */
  readonly minProtocol: number;
  /** Highest protocol the client speaks (integer ≥ 1). */
  readonly maxProtocol: number;
  /** Who is connecting. */
  readonly client: ConnectClient;
  /** Capabilities (non-empty strings). */
  readonly caps?: readonly string[];
  /** Commands (non-empty strings). */
  readonly commands?: readonly string[];
  /** Permission flags. */
  readonly permissions?: { readonly [key: string]: boolean };
  /** PATH of the client environment. */
  readonly pathEnv?: string;
  /** Role, e.g. `"operator"`. */
  readonly role?: string;
  /** Scopes (non-empty strings). */
  readonly scopes?: readonly string[];
  /** Device identity. */
  readonly device?: ConnectDevice;
  /** Credentials. */
  readonly auth?: ConnectAuth;
  /** Locale. */
  readonly locale?: string;
  /** `navigator.userAgent` of the extension's browser. */
  readonly userAgent?: string;
}

/** Connection policy announced by the relay in hello-ok; honour only positive integers. */
export interface HelloPolicy {
  /** No outbound frame may be larger, in bytes. */
  readonly maxPayload?: number;
  /** The sender closes with 4001 when its send buffer exceeds this. */
  readonly maxBufferedBytes?: number;
  /** The relay's ping interval in milliseconds. */
  readonly tickIntervalMs?: number;
  /**
   * Most frames per frame batch, in both directions (docs/protocol-extensions.md). Sent only to
   * an extension that listed `frame-batch-v1` in `connect.caps`; absent, batching is off.
   */
  readonly maxBatchFrames?: number;
}

/** The `payload` of a successful connect response. */
export interface HelloOk {
  /** Always `"hello-ok"`. */
  readonly type: "hello-ok";
  /** Negotiated protocol version. */
  readonly protocol: number;
  /** Relay identity. */
  readonly server?: { readonly version: string; readonly connId: string };
  /** Methods and events the relay supports. */
  readonly features?: { readonly methods: readonly string[]; readonly events: readonly string[] };
  /** Gateway snapshot; opaque to this project. */
  readonly snapshot?: JsonObject;
  /** Connection policy. */
  readonly policy?: HelloPolicy;
}

/** Error shape of a failed gateway response. */
export interface GatewayError {
  /** Gateway error code, e.g. `"INVALID_REQUEST"`. */
  readonly code: string;
  /** Human-readable message. */
  readonly message: string;
  /** Structured details, e.g. `{"code":"AUTH_TOKEN_MISMATCH"}`. */
  readonly details?: JsonValue;
  /** Whether retrying may succeed. */
  readonly retryable?: boolean;
  /** Suggested wait before a retry, in milliseconds. */
  readonly retryAfterMs?: number;
}

/**
 * Every frame that can travel on the `/extension` socket, in either direction.
 *
 * Wire shapes:
 * - `command`: `{id, method: "forwardCDPCommand", params: {method, sessionId?, params?}}`
 * - `response`: `{id, result}` or `{id, error}`
 * - `event`: `{method: "forwardCDPEvent", params: {method, sessionId?, params?}}`
 * - `ping` / `pong`: `{method: "ping"}` / `{method: "pong"}`
 * - `connect_challenge`: `{type: "event", event: "connect.challenge", payload: {nonce, ts}}`
 * - `gateway_event`: any other `{type: "event", event, payload?}`
 * - `connect_request`: `{type: "req", id, method: "connect", params: ConnectParams}`
 * - `gateway_request`: any other `{type: "req", id, method, params?}`
 * - `hello_ok`: `{type: "res", id, ok: true, payload: HelloOk}`
 * - `gateway_response`: any other `{type: "res", id, ok: true, payload?}`
 * - `gateway_error`: `{type: "res", id, ok: false, error: GatewayError}`
 */
export type ExtensionFrame =
  | { readonly kind: "command"; readonly id: number; readonly cdp: CdpCall }
  | { readonly kind: "response"; readonly id: number; readonly outcome: Outcome }
  | { readonly kind: "event"; readonly cdp: CdpCall }
  | { readonly kind: "ping" }
  | { readonly kind: "pong" }
  | GatewayFrame;

/** The gateway-style frames of the handshake. */
export type GatewayFrame =
  | { readonly kind: "connect_challenge"; readonly nonce: string; readonly ts: number }
  | { readonly kind: "gateway_event"; readonly event: string; readonly payload?: JsonValue }
  | { readonly kind: "connect_request"; readonly id: string; readonly params: ConnectParams }
  | {
    readonly kind: "gateway_request";
    readonly id: string;
    readonly method: string;
    readonly params?: JsonValue;
  }
  | { readonly kind: "hello_ok"; readonly id: string; readonly hello: HelloOk }
  | { readonly kind: "gateway_response"; readonly id: string; readonly payload?: JsonValue }
  | { readonly kind: "gateway_error"; readonly id: string; readonly error: GatewayError };

/** The `kind` of an {@linkcode ExtensionFrame}. */
export type ExtensionFrameKind = ExtensionFrame["kind"];
