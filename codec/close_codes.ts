/**
 * The one table of WebSocket close codes and reasons used by the extension and the relay.
 *
 * @module
 */

/**
 * WebSocket close codes used by the protocol. Codes 4000–4999 belong to this project.
 *
 * @example Close a socket after a handshake timeout
 * ```ts
 * import { CloseCode, CloseReason } from "@browser-relay/codec";
 *
 * const close = (code: number, reason: string) => console.log(code, reason);
 * close(CloseCode.PolicyViolation, CloseReason.HandshakeTimeout);
 * ```
 */
export const CloseCode: {
  readonly Normal: 1000;
  readonly GoingAway: 1001;
  readonly ProtocolError: 1002;
  readonly Abnormal: 1006;
  readonly PolicyViolation: 1008;
  readonly MessageTooBig: 1009;
  readonly InternalError: 1011;
  readonly HeartbeatTimeout: 4000;
  readonly SendBufferOverflow: 4001;
} = Object.freeze({
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  Abnormal: 1006,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
  HeartbeatTimeout: 4000,
  SendBufferOverflow: 4001,
});

/** A close code named in {@linkcode CloseCode}. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Exact close-frame reason texts.
 *
 * @example
 * ```ts
 * import { CloseReason } from "@browser-relay/codec";
 *
 * console.log(CloseReason.ServerStopping); // "server stopping"
 * ```
 */
export const CloseReason: {
  readonly SettingsChanged: "settings changed";
  readonly ServerStopping: "server stopping";
  readonly ProtocolMismatch: "protocol mismatch";
  readonly HandshakeTimeout: "handshake timeout";
  readonly GatewayConnectFailed: "gateway connect failed";
  readonly UnexpectedFrameBeforeHello: "unexpected frame before hello-ok";
  readonly LateChallenge: "late connect.challenge";
  readonly InvalidRequestFrame: "invalid request frame";
  readonly FirstRequestMustBeConnect: "invalid handshake: first request must be connect";
  readonly PreauthPayloadTooLarge: "preauth payload too large";
  readonly MessageTooBig: "message too big";
  readonly ExtensionDisconnected: "extension disconnected";
  readonly HeartbeatTimeout: "heartbeat timeout";
  readonly SendBufferOverflow: "send buffer overflow";
  readonly RelayProofInvalid: "relay proof invalid";
  readonly MutualAuthMissing: "mutual authentication missing";
} = Object.freeze({
  SettingsChanged: "settings changed",
  ServerStopping: "server stopping",
  ProtocolMismatch: "protocol mismatch",
  HandshakeTimeout: "handshake timeout",
  GatewayConnectFailed: "gateway connect failed",
  UnexpectedFrameBeforeHello: "unexpected frame before hello-ok",
  LateChallenge: "late connect.challenge",
  InvalidRequestFrame: "invalid request frame",
  FirstRequestMustBeConnect: "invalid handshake: first request must be connect",
  PreauthPayloadTooLarge: "preauth payload too large",
  MessageTooBig: "message too big",
  ExtensionDisconnected: "extension disconnected",
  HeartbeatTimeout: "heartbeat timeout",
  SendBufferOverflow: "send buffer overflow",
  RelayProofInvalid: "relay proof invalid",
  MutualAuthMissing: "mutual authentication missing",
});

const CODES: ReadonlySet<number> = new Set(Object.values(CloseCode));

/**
 * Tells whether a number is one of the close codes in {@linkcode CloseCode}.
 *
 * @param value The value to test.
 * @returns `true` when `value` is a known close code.
 *
 * @example
 * ```ts
 * import { isCloseCode } from "@browser-relay/codec";
 *
 * isCloseCode(4000); // true
 * isCloseCode(4999); // false
 * ```
 */
export function isCloseCode(value: unknown): value is CloseCode {
  return typeof value === "number" && CODES.has(value);
}

/**
 * Truncates a close reason to the 123-byte limit of a close frame (or a smaller `maxBytes`)
 * without splitting a UTF-8 sequence.
 *
 * @param reason The reason text.
 * @param maxBytes Maximum UTF-8 bytes, 123 by default.
 * @returns The reason, shortened when needed.
 *
 * @example
 * ```ts
 * import { truncateCloseReason } from "@browser-relay/codec";
 *
 * truncateCloseReason("x".repeat(200), 120).length; // 120
 * ```
 */
export function truncateCloseReason(reason: string, maxBytes = 123): string {
  let bytes = 0;
  let end = 0;
  for (const ch of reason) {
    const cp = ch.codePointAt(0) ?? 0;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += ch.length;
  }
  return reason.slice(0, end);
}
