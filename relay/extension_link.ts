/**
 * One `/extension` socket on the relay side: the handshake (protocol §3.8), pings and the
 * idle timeout (§4.1), and decoding of frames after hello-ok (§4.5).
 *
 * @module
 */

import type { WebSocket } from "ws";
import { CloseCode, CloseReason, truncateCloseReason } from "../codec/close_codes.ts";
import { decodeExtensionFrame } from "../codec/decode_extension_frame.ts";
import {
  decodeFrameBatch,
  FRAME_BATCH_CAP,
  FrameBatcher,
  isFrameBatch,
} from "../codec/frame_batch.ts";
import { validateExtensionFrame } from "../codec/validate_extension_frame.ts";
import { encodeExtensionFrame } from "../codec/encode_extension_frame.ts";
import type { ConnectParams, ExtensionFrame } from "../codec/extension_frame.ts";
import { formatIssues } from "../codec/format_issues.ts";
import type { DecodeResult } from "../codec/issue.ts";
import type { JsonObject } from "../codec/json.ts";
import { GATEWAY_PROTOCOL, PREAUTH_MAX_FRAME_BYTES } from "../codec/limits.ts";
import {
  mutualChallengeNonce,
  mutualProof,
  type MutualTranscript,
  parseMutualConnectToken,
  verifyMutualProof,
} from "../codec/mutual_auth.ts";
import { receiveLimit } from "./receive_limit.ts";
import { ErrorText } from "./error_text.ts";
import { utf8ByteLength } from "../codec/utf8_byte_length.ts";
import type { Clock } from "./clock.ts";

/**
 * Scheme `mutual-v1` for one socket (docs/protocol-extensions.md): the relay proves that it knows
 * the gateway token in its challenge, and accepts `connect` only with the extension's proof over
 * the same transcript. The socket arrived without a token, so it is unauthenticated until then.
 */
export interface MutualLinkAuth extends MutualTranscript {
  /** `mutualAuthKey(gatewayToken, port)` of the relay. */
  readonly key: CryptoKey;
}

/** Options of {@linkcode ExtensionLink}. */
export interface ExtensionLinkOptions {
  /** Legacy mode: no challenge, relay frames accepted at once. */
  readonly legacy: boolean;
  /** Time source of the handshake deadline, pings and the idle check. */
  readonly clock: Clock;
  /** Called before each frame is sent, e.g. to batch the writes of one turn. */
  readonly beforeSend?: () => void;
  /** Deadline for a valid `connect`, from open. */
  readonly handshakeTimeoutMs: number;
  /** Interval of `ping` frames once ready. */
  readonly pingIntervalMs: number;
  /** Silence after which the socket is closed with 4000. */
  readonly idleTimeoutMs: number;
  /** Frame limit after hello-ok. */
  readonly maxFrameBytes: number;
  /**
   * Frames per batch offered in hello-ok to an extension whose `connect.caps` lists
   * `frame-batch-v1`; 1 offers nothing.
   *
   * @default {1}
   */
  readonly maxBatchFrames?: number;
  /** Relay version reported in hello-ok. */
  readonly version: string;
  /** Milliseconds since the relay started, for `snapshot.uptimeMs`. */
  readonly uptimeMs: () => number;
  /** Tells whether the `auth.token` of `connect` is accepted (raw or derived). */
  readonly verifyToken: (token: string) => boolean;
  /**
   * Scheme `mutual-v1` for this socket; `verifyToken` is then never asked: only a proof over this
   * socket's nonces opens it.
   *
   * @default {undefined (the token flow of protocol §3.8)}
   */
  readonly mutual?: MutualLinkAuth;
  /**
   * Scheme `mutual-v1`: called once the extension's proof verified, before hello-ok. `false`
   * refuses the socket (another extension is connected).
   *
   * @default {() => true}
   */
  readonly onProven?: (link: ExtensionLink) => boolean;
  /** Called once when the link becomes ready (hello-ok sent, or in `start()` in legacy mode). */
  readonly onReady: (link: ExtensionLink) => void;
  /** Called for every frame after ready, decoded with `maxFrameBytes`. */
  readonly onFrame: (link: ExtensionLink, result: DecodeResult<ExtensionFrame>) => void;
  /** Called once when the link ends, whether the relay or the peer closed it. */
  readonly onClose: (link: ExtensionLink) => void;
  /** Log sink. */
  readonly log: (line: string) => void;
}

function byteLength(data: Uint8Array | string): number {
  return typeof data === "string" ? utf8ByteLength(data) : data.byteLength;
}

/**
 * The relay side of one extension socket. It ends exactly once: `close()` runs the close
 * handler at once, because the socket's own close event may come much later (a dead peer never
 * answers the close frame) and the relay must start its grace period and accept a replacement
 * socket without waiting.
 */
export class ExtensionLink {
  readonly #ws: WebSocket;
  readonly #options: ExtensionLinkOptions;
  // One phase instead of ready/closed flags; an ended link remembers whether it was ready.
  #phase:
    | { readonly name: "handshaking" }
    // mutual-v1: a connect with a well-formed proof arrived and is being verified.
    | { readonly name: "verifying" }
    | { readonly name: "ready" }
    | { readonly name: "ended"; readonly wasReady: boolean } = { name: "handshaking" };
  #userAgent: string | undefined;
  #handshakeTimer: unknown;
  #pingTimer: unknown;
  #idleTimer: unknown;
  #lastInboundAt = 0;
  /** Frame batches, once agreed in hello-ok; until then every frame goes out alone. */
  #batcher: FrameBatcher | undefined;

  /**
   * Takes over an upgraded socket. Nothing is sent and no callback runs before `start()`, so
   * the owner can store the link first: a legacy link is ready as soon as it starts.
   *
   * @param ws The upgraded socket; it already has an `error` listener.
   * @param options Clock, timers, limits and callbacks.
   */
  constructor(ws: WebSocket, options: ExtensionLinkOptions) {
    this.#ws = ws;
    this.#options = options;
  }

  /** Starts the handshake (a challenge), or in legacy mode becomes ready at once. */
  start(): void {
    const ws = this.#ws;
    ws.on("message", (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.on("close", () => this.#finish());
    if (this.#options.legacy) {
      this.#becomeReady();
      return;
    }
    const clock = this.#options.clock;
    this.#handshakeTimer = clock.setTimeout(() => {
      this.#handshakeTimer = undefined;
      this.close(CloseCode.PolicyViolation, CloseReason.HandshakeTimeout);
    }, this.#options.handshakeTimeoutMs);
    const mutual = this.#options.mutual;
    if (mutual !== undefined) {
      void this.#sendMutualChallenge(mutual);
      return;
    }
    this.#sendFrame({
      kind: "connect_challenge",
      nonce: crypto.randomUUID(),
      ts: clock.now(),
    });
  }

  /**
   * Sends the challenge of scheme `mutual-v1` once the relay's proof is computed (WebCrypto is
   * asynchronous). The handshake deadline already runs; a socket that ended meanwhile gets nothing.
   */
  async #sendMutualChallenge(mutual: MutualLinkAuth): Promise<void> {
    let proof: string;
    try {
      proof = await mutualProof(mutual.key, "relay", mutual);
    } catch (error) {
      this.#options.log(`Cannot compute the relay proof: ${String(error)}`);
      this.close(CloseCode.InternalError, CloseReason.GatewayConnectFailed);
      return;
    }
    if (this.#phase.name !== "handshaking") return;
    this.#sendFrame({
      kind: "connect_challenge",
      nonce: mutualChallengeNonce(mutual.relayNonce, proof),
      ts: this.#options.clock.now(),
    });
  }

  /** Whether hello-ok was sent (or legacy readiness) and the link has not ended. */
  get ready(): boolean {
    return this.#phase.name === "ready" && this.#ws.readyState === this.#ws.OPEN;
  }

  /** Whether the link ever became ready, even if it has ended since. */
  get wasReady(): boolean {
    return this.#phase.name === "ready" || (this.#phase.name === "ended" && this.#phase.wasReady);
  }

  /** Whether the link has ended. */
  get closed(): boolean {
    return this.#phase.name === "ended";
  }

  /** The `userAgent` from `connect`, if any. */
  get userAgent(): string | undefined {
    return this.#userAgent;
  }

  /** The underlying socket. */
  get socket(): WebSocket {
    return this.#ws;
  }

  /**
   * Sends a frame if the socket is open.
   *
   * @param frame The frame to encode and send.
   * @returns `true` if the frame was handed to the socket.
   */
  send(frame: ExtensionFrame): boolean {
    return this.#sendFrame(frame);
  }

  /**
   * Closes the socket with a code and reason, and ends the link at once.
   *
   * @param code Close code from `CloseCode`.
   * @param reason Close reason; truncated to fit a close frame.
   */
  close(code: number, reason: string): void {
    // What was sent before the close goes out before the close frame.
    this.#batcher?.flush();
    if (this.#ws.readyState === this.#ws.OPEN || this.#ws.readyState === this.#ws.CONNECTING) {
      this.#ws.close(code, truncateCloseReason(reason));
    }
    this.#finish();
  }

  /** Destroys the socket without a close handshake, and ends the link. */
  terminate(): void {
    this.#ws.terminate();
    this.#finish();
  }

  #sendFrame(frame: ExtensionFrame): boolean {
    if (this.#ws.readyState !== this.#ws.OPEN) return false;
    const text = encodeExtensionFrame(frame);
    if (this.#batcher !== undefined) this.#batcher.push(text);
    else this.#sendText(text);
    return true;
  }

  #sendText(text: string): void {
    // A batch is flushed at the end of the turn; the socket may have ended meanwhile.
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    this.#options.beforeSend?.();
    this.#ws.send(text);
  }

  #finish(): void {
    if (this.#phase.name === "ended") return;
    this.#phase = { name: "ended", wasReady: this.#phase.name === "ready" };
    this.#batcher?.discard();
    const clock = this.#options.clock;
    clock.clearTimeout(this.#handshakeTimer);
    clock.clearTimeout(this.#pingTimer);
    clock.clearTimeout(this.#idleTimer);
    this.#handshakeTimer = undefined;
    this.#pingTimer = undefined;
    this.#idleTimer = undefined;
    this.#options.onClose(this);
  }

  #becomeReady(): void {
    this.#phase = { name: "ready" };
    // The socket was upgraded with the 64 KiB pre-handshake limit (server.ts); an
    // authenticated extension may send frames up to maxFrameBytes.
    receiveLimit(this.#ws, this.#options.maxFrameBytes);
    this.#armPing();
    this.#touch();
    this.#options.onReady(this);
  }

  // A one-shot timer re-armed after each ping: the clock has no interval timers.
  #armPing(): void {
    this.#pingTimer = this.#options.clock.setTimeout(() => {
      this.#pingTimer = undefined;
      if (this.#phase.name !== "ready") return;
      this.#sendFrame({ kind: "ping" });
      this.#armPing();
    }, this.#options.pingIntervalMs);
  }

  // Records inbound traffic. One idle timer re-arms itself for the remaining time instead of
  // being cancelled and re-created on every frame (about 2 µs per frame at flood rates).
  #touch(): void {
    this.#lastInboundAt = this.#options.clock.now();
    if (this.#idleTimer === undefined) this.#armIdle(this.#options.idleTimeoutMs);
  }

  #armIdle(ms: number): void {
    this.#idleTimer = this.#options.clock.setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#phase.name === "ended") return;
      const idle = this.#options.clock.now() - this.#lastInboundAt;
      if (idle >= this.#options.idleTimeoutMs) {
        this.close(CloseCode.HeartbeatTimeout, CloseReason.HeartbeatTimeout);
      } else {
        this.#armIdle(this.#options.idleTimeoutMs - idle);
      }
    }, ms);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    // Frames from a replaced or closed link are dropped (§4.5 step 1).
    if (this.#phase.name === "ended") return;
    if (this.#phase.name === "handshaking") {
      this.#onHandshakeMessage(data, isBinary);
      return;
    }
    if (this.#phase.name === "verifying") {
      // Nothing may follow `connect` before hello-ok.
      this.close(
        byteLength(data) > PREAUTH_MAX_FRAME_BYTES
          ? CloseCode.MessageTooBig
          : CloseCode.PolicyViolation,
        byteLength(data) > PREAUTH_MAX_FRAME_BYTES
          ? CloseReason.PreauthPayloadTooLarge
          : CloseReason.InvalidRequestFrame,
      );
      return;
    }
    this.#touch();
    if (isBinary) return;
    const maxBytes = this.#options.maxFrameBytes;
    if (this.#batcher !== undefined && isFrameBatch(data)) {
      this.#onBatch(data, maxBytes);
      return;
    }
    this.#options.onFrame(this, decodeExtensionFrame(data, { maxBytes }));
  }

  /** A frame batch: each element is one frame, handled in order as if it came alone. */
  #onBatch(data: Buffer, maxBytes: number): void {
    const batch = decodeFrameBatch(data, { maxBytes });
    if (!batch.ok) {
      this.#options.onFrame(this, batch);
      return;
    }
    for (const value of batch.frame) {
      if (this.#phase.name !== "ready") return; // a frame of the batch ended the link
      this.#options.onFrame(this, validateExtensionFrame(value));
    }
  }

  #onHandshakeMessage(data: Buffer, isBinary: boolean): void {
    if (byteLength(data) > PREAUTH_MAX_FRAME_BYTES) {
      this.close(CloseCode.MessageTooBig, CloseReason.PreauthPayloadTooLarge);
      return;
    }
    if (isBinary) {
      this.close(CloseCode.PolicyViolation, CloseReason.InvalidRequestFrame);
      return;
    }
    const result = decodeExtensionFrame(data, { maxBytes: PREAUTH_MAX_FRAME_BYTES });
    if (!result.ok) {
      // A request whose only problems are inside `params` is a connect with schema errors;
      // anything else is not a request frame at all.
      const schemaOnly = typeof result.id === "string" &&
        result.issues.every((issue) => issue.path[0] === "params");
      if (schemaOnly && typeof result.id === "string") {
        this.#reject(
          result.id,
          `invalid connect params: ${formatIssues(result.issues)}`,
          CloseCode.PolicyViolation,
        );
      } else {
        this.close(CloseCode.PolicyViolation, CloseReason.InvalidRequestFrame);
      }
      return;
    }
    const frame = result.frame;
    if (frame.kind === "gateway_request") {
      this.#reject(frame.id, CloseReason.FirstRequestMustBeConnect, CloseCode.PolicyViolation);
      return;
    }
    if (frame.kind !== "connect_request") {
      this.close(CloseCode.PolicyViolation, CloseReason.InvalidRequestFrame);
      return;
    }
    this.#onConnect(frame.id, frame.params);
  }

  #onConnect(id: string, params: ConnectParams): void {
    if (params.maxProtocol < GATEWAY_PROTOCOL || params.minProtocol > GATEWAY_PROTOCOL) {
      this.#reject(id, ErrorText.ProtocolMismatch, CloseCode.ProtocolError, {
        expectedProtocol: GATEWAY_PROTOCOL,
      });
      return;
    }
    const token = params.auth?.token?.trim() ?? "";
    const mutual = this.#options.mutual;
    if (mutual !== undefined && token !== "") {
      this.#onMutualConnect(id, params, mutual, token);
      return;
    }
    if (token === "") {
      this.#reject(id, ErrorText.UnauthorizedTokenMissing, CloseCode.PolicyViolation, {
        code: "AUTH_TOKEN_MISSING",
        authReason: "token_missing",
      });
      return;
    }
    if (!this.#options.verifyToken(token)) {
      this.#reject(id, ErrorText.UnauthorizedTokenMismatch, CloseCode.PolicyViolation, {
        code: "AUTH_TOKEN_MISMATCH",
        authReason: "token_mismatch",
      });
      return;
    }
    this.#accept(id, params);
  }

  /**
   * Scheme `mutual-v1`: `auth.token` must be `mutual-v1.<proof>` over this socket's transcript.
   * A gateway or relay token is a mismatch here, so a token never opens this path. The
   * transcript lives only in this link, and the link ends or becomes ready after this one
   * `connect`, so each relay nonce is used once.
   */
  #onMutualConnect(id: string, params: ConnectParams, mutual: MutualLinkAuth, token: string): void {
    const proof = parseMutualConnectToken(token);
    if (proof === undefined) {
      this.#rejectProof(id);
      return;
    }
    this.#phase = { name: "verifying" };
    verifyMutualProof(mutual.key, "extension", mutual, proof).then(
      (ok) => this.#onVerified(id, params, ok),
      () => this.#onVerified(id, params, false),
    );
  }

  #onVerified(id: string, params: ConnectParams, ok: boolean): void {
    if (this.#phase.name !== "verifying") return; // ended meanwhile (deadline, close)
    if (!ok) {
      this.#rejectProof(id);
      return;
    }
    if (!(this.#options.onProven?.(this) ?? true)) {
      this.#reject(id, ErrorText.ExtensionAlreadyConnected, CloseCode.PolicyViolation);
      return;
    }
    this.#accept(id, params);
  }

  #rejectProof(id: string): void {
    this.#reject(id, ErrorText.UnauthorizedProofMismatch, CloseCode.PolicyViolation, {
      code: "AUTH_TOKEN_MISMATCH",
      authReason: "token_mismatch",
    });
  }

  /** Sends hello-ok and becomes ready. */
  #accept(id: string, params: ConnectParams): void {
    this.#options.clock.clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    if (params.userAgent !== undefined && params.userAgent !== "") {
      this.#userAgent = params.userAgent;
    }
    const maxPayload = this.#options.maxFrameBytes;
    const maxBatchFrames = this.#options.maxBatchFrames ?? 1;
    const batching = maxBatchFrames > 1 && (params.caps?.includes(FRAME_BATCH_CAP) ?? false);
    this.#sendFrame({
      kind: "hello_ok",
      id,
      hello: {
        type: "hello-ok",
        protocol: GATEWAY_PROTOCOL,
        server: { version: this.#options.version, connId: crypto.randomUUID() },
        features: { methods: ["connect"], events: ["connect.challenge"] },
        snapshot: {
          presence: [],
          health: {},
          stateVersion: { presence: 0, health: 0 },
          uptimeMs: Math.round(this.#options.uptimeMs()),
          authMode: "token",
        },
        policy: {
          maxPayload,
          maxBufferedBytes: maxPayload * 2,
          tickIntervalMs: this.#options.pingIntervalMs,
          ...(batching ? { maxBatchFrames } : {}),
        },
      },
    });
    if (batching) {
      this.#batcher = new FrameBatcher((text) => this.#sendText(text), {
        maxFrames: maxBatchFrames,
      });
    }
    this.#becomeReady();
  }

  /** Sends a failed `res`, then closes with the message as reason (§3.8). */
  #reject(id: string, message: string, code: number, details?: JsonObject): void {
    this.#sendFrame({
      kind: "gateway_error",
      id,
      error: {
        code: "INVALID_REQUEST",
        message,
        ...(details === undefined ? {} : { details }),
      },
    });
    const reason = code === CloseCode.ProtocolError ? CloseReason.ProtocolMismatch : message;
    this.close(code, truncateCloseReason(reason, 120));
  }
}
