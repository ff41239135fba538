/**
 * Relay token derivation (protocol §2.1).
 *
 * @module
 */

import { RELAY_TOKEN_CONTEXT } from "./limits.ts";

/**
 * Derives the relay token: lowercase hex of HMAC-SHA256 keyed by the trimmed gateway token over
 * `"openclaw-extension-relay-v1:" + port`. Uses WebCrypto, so it runs in browsers, workers,
 * Deno and Node.
 *
 * @param gatewayToken The user's gateway token; it is trimmed first.
 * @param port The relay port the extension dials.
 * @returns 64 lowercase hex characters.
 * @throws {RangeError} If `port` is not an integer between 1 and 65535.
 *
 * @example
 * ```ts
 * import { deriveRelayToken } from "@browser-relay/codec";
 *
 * const token = await deriveRelayToken("test-token", 18792);
 * // "f0f0433d5dfc42ee9066dba0dc2cd4aec533f98215cbaa383fe6868cce0ae21b"
 * ```
 */
export async function deriveRelayToken(gatewayToken: string, port: number): Promise<string> {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RangeError(
      `Cannot derive relay token as "port" must be an integer between 1 and 65535: current value is ${port}`,
    );
  }
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(gatewayToken.trim()),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(RELAY_TOKEN_CONTEXT + port));
  let hex = "";
  for (const byte of new Uint8Array(mac)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
