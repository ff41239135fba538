/**
 * Wire limits and protocol constants shared by the extension and the relay.
 *
 * @module
 */

/** Default maximum frame size on the relay sockets, in UTF-8 bytes (256 MiB). */
export const MAX_FRAME_BYTES: number = 268_435_456;

/** The smallest `maxFrameBytes` a relay may be configured with (100 MiB). */
export const MIN_MAX_FRAME_BYTES: number = 104_857_600;

/** Maximum size of a frame received before the handshake completes (64 KiB). */
export const PREAUTH_MAX_FRAME_BYTES: number = 65_536;

/** Outbound limit of the extension when the relay sent no `policy.maxPayload` (100 MiB). */
export const DEFAULT_MAX_PAYLOAD: number = 104_857_600;

/** The gateway protocol version this project speaks. */
export const GATEWAY_PROTOCOL: number = 3;

/** Default relay port. */
export const DEFAULT_RELAY_PORT: number = 18_792;

/** Prefix of the HMAC message used to derive the relay token. */
export const RELAY_TOKEN_CONTEXT: string = "openclaw-extension-relay-v1:";

/** HTTP header that carries the relay token. */
export const RELAY_TOKEN_HEADER: string = "x-openclaw-relay-token";

/** `client.id` values allowed by the gateway v3 `ConnectParams` schema. */
export const GATEWAY_CLIENT_IDS: readonly string[] = Object.freeze([
  "webchat-ui",
  "openclaw-control-ui",
  "webchat",
  "cli",
  "gateway-client",
  "openclaw-macos",
  "openclaw-ios",
  "openclaw-android",
  "node-host",
  "test",
  "fingerprint",
  "openclaw-probe",
]);

/** `client.mode` values allowed by the gateway v3 `ConnectParams` schema. */
export const GATEWAY_CLIENT_MODES: readonly string[] = Object.freeze([
  "webchat",
  "cli",
  "ui",
  "backend",
  "node",
  "probe",
  "test",
]);
