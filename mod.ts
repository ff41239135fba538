/**
 * Browser Relay codec: a zero-dependency frame codec and validator for the Browser Relay
 * protocol (OpenClaw-compatible), covering the `/extension` relay frames, the gateway-style
 * handshake frames and standard CDP frames on `/cdp`, plus relay token derivation, the `mutual-v1`
 * nonce-bound proofs of the handshake, the close-code table and an id-indexed pending-request map. Runs unchanged in browsers, MV3 service workers,
 * Deno and Node.
 *
 * @example Decode and encode a relay frame
 * ```ts
 * import { decodeExtensionFrame, encodeExtensionFrame } from "@browser-relay/codec";
 *
 * const result = decodeExtensionFrame('{"id":7,"method":"forwardCDPCommand","params":{"method":"Runtime.evaluate"}}');
 * if (result.ok && result.frame.kind === "command") {
 *   const reply = encodeExtensionFrame({
 *     kind: "response",
 *     id: result.frame.id,
 *     outcome: { ok: true, result: {} },
 *   });
 *   console.log(reply); // {"id":7,"result":{}}
 * } else if (!result.ok) {
 *   console.log(result.issues[0].code);
 * }
 * ```
 *
 * @module
 */

export type { JsonObject, JsonValue } from "./codec/json.ts";
export type { DecodeResult, Issue, IssueCode, Issues } from "./codec/issue.ts";
export type {
  CdpCall,
  ConnectAuth,
  ConnectClient,
  ConnectDevice,
  ConnectParams,
  ExtensionFrame,
  ExtensionFrameKind,
  GatewayError,
  GatewayFrame,
  HelloOk,
  HelloPolicy,
  Outcome,
} from "./codec/extension_frame.ts";
export type { CdpError, CdpFrame, CdpFrameKind, CdpOutcome } from "./codec/cdp_frame.ts";
export {
  decodeExtensionFrame,
  type DecodeExtensionFrameOptions,
} from "./codec/decode_extension_frame.ts";
export { validateExtensionFrame } from "./codec/validate_extension_frame.ts";
export { encodeExtensionFrame } from "./codec/encode_extension_frame.ts";
export {
  decodeFrameBatch,
  type DecodeFrameBatchOptions,
  DEFAULT_MAX_BATCH_FRAMES,
  encodeFrameBatch,
  FRAME_BATCH_CAP,
  FrameBatcher,
  type FrameBatcherOptions,
  isFrameBatch,
  MAX_BATCHED_FRAME_CHARS,
} from "./codec/frame_batch.ts";
export { decodeCdpFrame, type DecodeCdpFrameOptions } from "./codec/decode_cdp_frame.ts";
export { validateCdpFrame } from "./codec/validate_cdp_frame.ts";
export { encodeCdpFrame } from "./codec/encode_cdp_frame.ts";
export { formatIssues } from "./codec/format_issues.ts";
export { isJsonObject } from "./codec/is_json_object.ts";
export { utf8ByteLength } from "./codec/utf8_byte_length.ts";
export { deriveRelayToken } from "./codec/derive_relay_token.ts";
export { CloseCode, CloseReason, isCloseCode, truncateCloseReason } from "./codec/close_codes.ts";
export { isTargetGoneError, noSessionError, TARGET_GONE_FRAGMENTS } from "./codec/messages.ts";
export {
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_RELAY_PORT,
  GATEWAY_CLIENT_IDS,
  GATEWAY_CLIENT_MODES,
  GATEWAY_PROTOCOL,
  MAX_FRAME_BYTES,
  MIN_MAX_FRAME_BYTES,
  PREAUTH_MAX_FRAME_BYTES,
  RELAY_TOKEN_CONTEXT,
  RELAY_TOKEN_HEADER,
} from "./codec/limits.ts";
export {
  encodeNonce,
  isMutualToken,
  MUTUAL_AUTH_CONTEXT,
  MUTUAL_AUTH_SCHEME,
  mutualAuthKey,
  mutualChallengeNonce,
  mutualConnectToken,
  mutualProof,
  type MutualRole,
  mutualSocketUrl,
  type MutualTranscript,
  parseMutualChallengeNonce,
  parseMutualConnectToken,
  verifyMutualProof,
} from "./codec/mutual_auth.ts";
export {
  type PendingRequestOptions,
  PendingRequests,
  type PendingRequestsOptions,
  type PendingRequestsStats,
  type PendingTimers,
} from "./codec/pending_requests.ts";
