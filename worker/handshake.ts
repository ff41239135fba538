/**
 * The gateway-style handshake, as pure functions: the one `connect` request (protocol §3.3), the
 * classification of its reply (§3.4–§3.6), and the answer to a `mutual-v1` challenge, which
 * checks the relay's proof before any credential is sent (docs/protocol-extensions.md).
 *
 * @module
 */

import type {
  ConnectParams,
  GatewayError,
  HelloOk,
  HelloPolicy,
} from "../codec/extension_frame.ts";
import type { JsonValue } from "../codec/json.ts";
import { DEFAULT_MAX_PAYLOAD, GATEWAY_PROTOCOL } from "../codec/limits.ts";
import type { ConnectionErrorCode, EffectivePolicy } from "./connection_state.ts";
import { RelayProtocolError } from "./errors.ts";
import {
  mutualConnectToken,
  mutualProof,
  parseMutualChallengeNonce,
  verifyMutualProof,
} from "../codec/mutual_auth.ts";
import { relayBaseUrl } from "./settings.ts";
import { FRAME_BATCH_CAP } from "../codec/frame_batch.ts";

/** What {@linkcode buildConnectRequest} needs. */
export interface ConnectRequestInput {
  /** The raw gateway token (already trimmed). */
  readonly token: string;
  /** The manifest version, sent as `client.version`. */
  readonly version: string;
  /** `navigator.userAgent`; omitted from the request when empty. */
  readonly userAgent?: string;
  /** `Date.now()`, used in the request id. */
  readonly now: number;
  /** Returns a number in [0, 1); used for the 6 hex digits of the request id. */
  readonly random: () => number;
  /**
   * `connect.caps`: empty for the OpenClaw flow (§3.3); the `mutual-v1` answer offers
   * `frame-batch-v1`.
   *
   * @default {[]}
   */
  readonly caps?: readonly string[];
}

/** The `connect` request frame, ready for `encodeExtensionFrame`. */
export interface ConnectRequestFrame {
  readonly kind: "connect_request";
  readonly id: string;
  readonly params: ConnectParams;
}

/**
 * Builds the one `connect` request sent after a challenge. It carries exactly the fields the
 * gateway v3 `ConnectParams` schema allows: `client.id "webchat-ui"`, `mode "webchat"`, role
 * `operator`, the two operator scopes, `caps` (empty unless given), empty `commands`,
 * `auth.token` and optionally `userAgent`. No top-level `nonce` (OpenClaw's schema bug, §11).
 *
 * @param input Token, version, user agent, time and randomness.
 * @returns The request frame with id `ext-connect-<now>-<6 hex digits>`.
 *
 * @example
 * ```ts
 * const req = buildConnectRequest({ token: "t", version: "0.1.0", now: 1, random: () => 0 });
 * req.id; // "ext-connect-1-000000"
 * ```
 */
export function buildConnectRequest(input: ConnectRequestInput): ConnectRequestFrame {
  const r = input.random();
  const unit = Number.isFinite(r) ? Math.max(r, 0) : 0;
  const suffix = Math.min(Math.floor(unit * 0x1000000), 0xffffff).toString(16).padStart(6, "0");
  const params: ConnectParams = {
    minProtocol: GATEWAY_PROTOCOL,
    maxProtocol: GATEWAY_PROTOCOL,
    client: {
      id: "webchat-ui",
      version: input.version,
      platform: "chrome-extension",
      mode: "webchat",
    },
    role: "operator",
    scopes: ["operator.read", "operator.write"],
    caps: input.caps ?? [],
    commands: [],
    auth: { token: input.token },
    ...(input.userAgent ? { userAgent: input.userAgent } : {}),
  };
  return { kind: "connect_request", id: `ext-connect-${input.now}-${suffix}`, params };
}

function detailField(details: JsonValue | undefined, key: string): JsonValue | undefined {
  if (details === null || typeof details !== "object" || Array.isArray(details)) return undefined;
  return (details as { readonly [key: string]: JsonValue })[key];
}

/**
 * Tells whether a failed `connect` reply is an authentication error (protocol §3.6):
 * `error.details.code` starts with `AUTH_` (except `AUTH_RATE_LIMITED`), `DEVICE_` or
 * `CONTROL_UI_`, or equals `PAIRING_REQUIRED`; or `error.code` is `NOT_PAIRED`.
 *
 * @param error The gateway error.
 * @returns `true` for an authentication error.
 *
 * @example
 * ```ts
 * isAuthError({ code: "INVALID_REQUEST", message: "x", details: { code: "AUTH_TOKEN_MISMATCH" } }); // true
 * ```
 */
export function isAuthError(error: GatewayError): boolean {
  if (error.code === "NOT_PAIRED") return true;
  const code = detailField(error.details, "code");
  if (typeof code !== "string") return false;
  if (code === "AUTH_RATE_LIMITED") return false;
  return code.startsWith("AUTH_") || code.startsWith("DEVICE_") ||
    code.startsWith("CONTROL_UI_") || code === "PAIRING_REQUIRED";
}

/** A reply frame to the pending `connect`. */
export type ConnectReply =
  | { readonly kind: "hello_ok"; readonly id: string; readonly hello: HelloOk }
  | { readonly kind: "gateway_response"; readonly id: string; readonly payload?: JsonValue }
  | { readonly kind: "gateway_error"; readonly id: string; readonly error: GatewayError };

/** How the handshake ended (protocol §3.5). */
export type HandshakeOutcome =
  | {
    readonly kind: "accepted";
    readonly hello: HelloOk;
    readonly policy: EffectivePolicy;
  }
  | {
    readonly kind: "rejected";
    /** `never`: stop until settings change; `backoff`: retry per the reconnect policy. */
    readonly retry: "never" | "backoff";
    /** The code for the connection's `lastError`. */
    readonly code: ConnectionErrorCode;
    /** The relay's reason, for `lastError.message` and logs. */
    readonly error: RelayProtocolError;
    /** Minimum wait before the next attempt (`AUTH_RATE_LIMITED`). */
    readonly retryAfterMs?: number;
  };

function positiveInteger(value: number | undefined): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * The policy a ready connection honours: positive integers from hello-ok, defaults otherwise.
 * The liveness window is `max(3 × tickIntervalMs, 15000)`.
 *
 * @param policy `policy` from hello-ok, or `undefined` (legacy relay).
 * @param defaultLivenessMs Liveness window without a `tickIntervalMs`.
 * @returns The effective policy.
 *
 * @example
 * ```ts
 * effectivePolicy({ tickIntervalMs: 10_000 }).livenessMs; // 30000
 * ```
 */
export function effectivePolicy(
  policy: HelloPolicy | undefined,
  defaultLivenessMs = 15_000,
): EffectivePolicy {
  const maxPayload = positiveInteger(policy?.maxPayload) ?? DEFAULT_MAX_PAYLOAD;
  const maxBufferedBytes = positiveInteger(policy?.maxBufferedBytes);
  const tick = positiveInteger(policy?.tickIntervalMs);
  const livenessMs = tick === undefined ? defaultLivenessMs : Math.max(3 * tick, 15_000);
  const batch = positiveInteger(policy?.maxBatchFrames);
  return {
    maxPayload,
    ...(maxBufferedBytes === undefined ? {} : { maxBufferedBytes }),
    livenessMs,
    ...(batch === undefined || batch < 2
      ? {}
      : { maxBatchFrames: Math.min(batch, MAX_BATCH_FRAMES_HONOURED) }),
  };
}

/** A relay may ask for larger batches; the extension sends at most this many frames in one. */
const MAX_BATCH_FRAMES_HONOURED = 1_024;

/**
 * Classifies the reply to the pending `connect` (protocol §3.5, §3.6).
 *
 * @param reply The `res` frame whose id matches the pending connect.
 * @param defaultLivenessMs Liveness window when hello-ok has no `tickIntervalMs`.
 * @returns `accepted` for `ok:true` with a `hello-ok` payload of protocol 3, else `rejected`
 *   with whether retrying can help.
 *
 * @example
 * ```ts
 * classifyConnectReply({
 *   kind: "gateway_error",
 *   id: "x",
 *   error: { code: "INVALID_REQUEST", message: "protocol mismatch", details: { expectedProtocol: 3 } },
 * }).kind; // "rejected" (retry "never")
 * ```
 */
export function classifyConnectReply(
  reply: ConnectReply,
  defaultLivenessMs = 15_000,
): HandshakeOutcome {
  switch (reply.kind) {
    case "hello_ok": {
      if (reply.hello.type === "hello-ok" && reply.hello.protocol === GATEWAY_PROTOCOL) {
        return {
          kind: "accepted",
          hello: reply.hello,
          policy: effectivePolicy(reply.hello.policy, defaultLivenessMs),
        };
      }
      return {
        kind: "rejected",
        retry: "backoff",
        code: "handshake_rejected",
        error: new RelayProtocolError(
          `Relay accepted the connect request with an unsupported protocol: current value is ${reply.hello.protocol}`,
          { code: "UNSUPPORTED_PROTOCOL", method: "connect" },
        ),
      };
    }
    case "gateway_response":
      return {
        kind: "rejected",
        retry: "backoff",
        code: "handshake_rejected",
        error: new RelayProtocolError(
          "Relay answered the connect request without a hello-ok payload",
          { code: "NOT_HELLO_OK", method: "connect" },
        ),
      };
    case "gateway_error": {
      const { error } = reply;
      const detailCode = detailField(error.details, "code");
      const code = typeof detailCode === "string" ? detailCode : error.code;
      const protocolError = new RelayProtocolError(
        `Relay rejected the connect request: "${error.message}"`,
        { code, method: "connect" },
      );
      if (isAuthError(error)) {
        return { kind: "rejected", retry: "never", code: "token_rejected", error: protocolError };
      }
      if (detailField(error.details, "expectedProtocol") !== undefined) {
        return {
          kind: "rejected",
          retry: "never",
          code: "incompatible_relay",
          error: protocolError,
        };
      }
      if (detailCode === "AUTH_RATE_LIMITED") {
        const after = positiveInteger(error.retryAfterMs);
        return {
          kind: "rejected",
          retry: "backoff",
          code: "rate_limited",
          error: protocolError,
          ...(after === undefined ? {} : { retryAfterMs: after }),
        };
      }
      return {
        kind: "rejected",
        retry: "backoff",
        code: "handshake_rejected",
        error: protocolError,
      };
    }
    default: {
      const _exhaustive: never = reply;
      return _exhaustive;
    }
  }
}

/** What {@linkcode answerMutualChallenge} needs. */
export interface MutualChallengeInput {
  /** The per-port key from `mutualAuthKey(gatewayToken, port)`. */
  readonly key: CryptoKey;
  /** The port the extension dialled. */
  readonly port: number;
  /** The extension's nonce for this socket (sent in its URL). */
  readonly clientNonce: string;
  /** `payload.nonce` of the challenge. */
  readonly challengeNonce: string;
  /** The manifest version, sent as `client.version`. */
  readonly version: string;
  /** `navigator.userAgent`; omitted from the request when empty. */
  readonly userAgent?: string;
  /** `Date.now()`, used in the request id. */
  readonly now: number;
  /** Returns a number in [0, 1); used for the request id. */
  readonly random: () => number;
}

/** The answer to a challenge in scheme `mutual-v1`. */
export type MutualAnswer =
  /** The relay proved it knows the token: send this `connect` (its `auth.token` is our proof). */
  | { readonly kind: "proven"; readonly request: ConnectRequestFrame }
  /**
   * Send nothing: `not_mutual` when the challenge is not of the scheme (a relay without mutual
   * authentication, or an impostor trying to downgrade), `bad_proof` when the relay's proof does
   * not verify (another gateway token, or an impostor). The caller closes the socket and stops.
   */
  | {
    readonly kind: "refused";
    readonly reason: "not_mutual" | "bad_proof";
    readonly error: RelayProtocolError;
  };

/**
 * Answers a challenge in scheme `mutual-v1` (docs/protocol-extensions.md): checks the relay's
 * proof over the port and both nonces and, only if it verifies, builds the one `connect` request
 * with the extension's proof in `auth.token`. The request carries no gateway token and no relay
 * token, and stays valid under the gateway v3 `ConnectParams` schema (`auth.token` is a string).
 *
 * @param input Key, port, both nonces and the request's version, user agent, time and randomness.
 * @returns `proven` with the request to send, or `refused` with why (send nothing).
 *
 * @example
 * ```ts
 * const answer = await answerMutualChallenge({ key, port: 18792, clientNonce, challengeNonce,
 *   version: "0.1.0", now: Date.now(), random: Math.random });
 * if (answer.kind === "proven") socket.send(encodeExtensionFrame(answer.request));
 * ```
 */
export async function answerMutualChallenge(input: MutualChallengeInput): Promise<MutualAnswer> {
  const parsed = parseMutualChallengeNonce(input.challengeNonce);
  if (parsed === undefined) {
    return {
      kind: "refused",
      reason: "not_mutual",
      error: new RelayProtocolError(
        `Relay at ${
          relayBaseUrl(input.port)
        } did not offer mutual authentication: update the relay, or enable OpenClaw relay compatibility in the extension options`,
        { code: "MUTUAL_AUTH_MISSING", method: "connect" },
      ),
    };
  }
  const transcript = {
    port: input.port,
    clientNonce: input.clientNonce,
    relayNonce: parsed.relayNonce,
  };
  if (!await verifyMutualProof(input.key, "relay", transcript, parsed.proof)) {
    return {
      kind: "refused",
      reason: "bad_proof",
      error: new RelayProtocolError(
        `Relay at ${
          relayBaseUrl(input.port)
        } could not prove that it knows the gateway token: check the token in the extension options, or another program is listening on port ${input.port}`,
        { code: "MUTUAL_AUTH_FAILED", method: "connect" },
      ),
    };
  }
  const proof = await mutualProof(input.key, "extension", transcript);
  return {
    kind: "proven",
    request: buildConnectRequest({
      token: mutualConnectToken(proof),
      version: input.version,
      ...(input.userAgent === undefined ? {} : { userAgent: input.userAgent }),
      now: input.now,
      random: input.random,
      caps: [FRAME_BATCH_CAP],
    }),
  };
}
