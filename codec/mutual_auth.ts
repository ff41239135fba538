/**
 * Mutual, nonce-bound authentication between the extension and the relay (scheme `mutual-v1`,
 * docs/protocol-extensions.md "A relay impostor learns nothing"). Both sides hold the gateway
 * token; neither sends it, nor anything derived from it that could be reused: each sends a MAC
 * over a transcript of two fresh nonces (one per side) and the relay port, and the relay goes
 * first, so the extension can check the relay before it says anything of value.
 *
 * ```
 * key        = HMAC-SHA256(key: trim(gatewayToken), "browser-relay-mutual-v1:" + port)
 * transcript = "browser-relay-mutual-v1\n" + role + "\n" + port + "\n" + clientNonce + "\n" + relayNonce
 * proof      = base64url(HMAC-SHA256(key, transcript))      role: "relay" | "extension"
 * ```
 *
 * Pure apart from WebCrypto (`crypto.subtle`, `crypto.getRandomValues` is the caller's), which
 * browsers, MV3 service workers, Deno and Node all provide; `deriveRelayToken` uses it the same
 * way. The extension and the relay import this one copy. The functions belong together (one
 * format), so they share a file, like `limits.ts` and `close_codes.ts`.
 *
 * @module
 */

/**
 * The scheme name: in `/extension/status` `auth`, the `/extension` URL, the challenge nonce and
 * the connect token.
 */
export const MUTUAL_AUTH_SCHEME = "mutual-v1";

/** Domain separation for the key and the transcript (never equal to the relay-token context). */
export const MUTUAL_AUTH_CONTEXT = "browser-relay-mutual-v1";

/** Length of a base64url nonce or proof: 32 bytes, unpadded. */
const TOKEN_CHARS = 43;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Who proves: the relay (in the challenge) or the extension (in `connect`). */
export type MutualRole = "relay" | "extension";

/** What both proofs are bound to. */
export interface MutualTranscript {
  /** The port the extension dialled (and the relay listens on). */
  readonly port: number;
  /** The extension's fresh nonce, sent in the `/extension` URL. */
  readonly clientNonce: string;
  /** The relay's fresh nonce, sent in the challenge. */
  readonly relayNonce: string;
}

function base64url(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += BASE64URL[n >> 18]! + BASE64URL[(n >> 12) & 63]! + BASE64URL[(n >> 6) & 63]! +
      BASE64URL[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += BASE64URL[n >> 18]! + BASE64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += BASE64URL[n >> 18]! + BASE64URL[(n >> 12) & 63]! + BASE64URL[(n >> 6) & 63]!;
  }
  return out;
}

/** Decodes an unpadded base64url text of 32 bytes; `undefined` when malformed. */
function decode32(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!TOKEN_PATTERN.test(text)) return undefined;
  const out = new Uint8Array(32);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of text) {
    value = (value << 6) | BASE64URL.indexOf(char);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  // The last character carries 4 padding bits; a canonical encoding has them all zero.
  return (value & ((1 << bits) - 1)) === 0 ? out : undefined;
}

/**
 * Encodes 32 random bytes as a nonce.
 *
 * @param bytes Exactly 32 bytes from `crypto.getRandomValues`.
 * @returns 43 base64url characters.
 * @throws {RangeError} If `bytes` is not 32 bytes long.
 *
 * @example
 * ```ts
 * import { encodeNonce } from "@browser-relay/codec";
 *
 * const nonce = encodeNonce(crypto.getRandomValues(new Uint8Array(32)));
 * nonce.length; // 43
 * ```
 */
export function encodeNonce(bytes: Uint8Array): string {
  if (bytes.length !== 32) {
    throw new RangeError(
      `Cannot encode nonce as "bytes" must be 32 bytes long: current length is ${bytes.length}`,
    );
  }
  return base64url(bytes);
}

/**
 * True when `text` is a well-formed nonce or proof (43 base64url characters, canonical).
 *
 * @param text The text to check.
 * @returns Whether it decodes to exactly 32 bytes.
 *
 * @example
 * ```ts
 * import { isMutualToken } from "@browser-relay/codec";
 *
 * isMutualToken("A".repeat(43)); // true
 * isMutualToken("not a nonce"); // false
 * ```
 */
export function isMutualToken(text: string): boolean {
  return decode32(text) !== undefined;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RangeError(
      `Cannot derive mutual authentication key as "port" must be an integer between 1 and 65535: current value is ${port}`,
    );
  }
}

/**
 * Derives the per-port MAC key from the gateway token. It differs from the relay token of
 * protocol §2.1, so a relay token sent in OpenClaw compatibility mode cannot forge proofs.
 *
 * @param gatewayToken The gateway token; trimmed first.
 * @param port The relay port.
 * @returns A non-extractable HMAC-SHA256 key for signing and verifying.
 * @throws {RangeError} If `port` is not an integer between 1 and 65535.
 *
 * @example
 * ```ts
 * import { mutualAuthKey } from "@browser-relay/codec";
 *
 * const key = await mutualAuthKey("test-token", 18792);
 * ```
 */
export async function mutualAuthKey(gatewayToken: string, port: number): Promise<CryptoKey> {
  checkPort(port);
  const encoder = new TextEncoder();
  const outer = await crypto.subtle.importKey(
    "raw",
    encoder.encode(gatewayToken.trim()),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const raw = await crypto.subtle.sign(
    "HMAC",
    outer,
    encoder.encode(`${MUTUAL_AUTH_CONTEXT}:${port}`),
  );
  return await crypto.subtle.importKey(
    "raw",
    raw,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

function transcriptBytes(role: MutualRole, transcript: MutualTranscript): Uint8Array<ArrayBuffer> {
  const text = [
    MUTUAL_AUTH_CONTEXT,
    role,
    String(transcript.port),
    transcript.clientNonce,
    transcript.relayNonce,
  ].join("\n");
  return new TextEncoder().encode(text);
}

/**
 * Computes the proof of `role` over the transcript.
 *
 * @param key From {@linkcode mutualAuthKey}.
 * @param role Who proves.
 * @param transcript Port and both nonces.
 * @returns 43 base64url characters.
 *
 * @example
 * ```ts
 * import { encodeNonce, mutualAuthKey, mutualProof } from "@browser-relay/codec";
 *
 * const key = await mutualAuthKey("test-token", 18792);
 * const clientNonce = encodeNonce(crypto.getRandomValues(new Uint8Array(32)));
 * const relayNonce = encodeNonce(crypto.getRandomValues(new Uint8Array(32)));
 * const proof = await mutualProof(key, "extension", { port: 18792, clientNonce, relayNonce });
 * ```
 */
export async function mutualProof(
  key: CryptoKey,
  role: MutualRole,
  transcript: MutualTranscript,
): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, transcriptBytes(role, transcript));
  return base64url(new Uint8Array(mac));
}

/**
 * Checks a proof in constant time (WebCrypto `verify`). A malformed proof is simply false.
 *
 * @param key From {@linkcode mutualAuthKey}.
 * @param role Who claims to have proved.
 * @param transcript Port and both nonces, as the verifier saw them.
 * @param proof The received proof.
 * @returns Whether `proof` is the MAC of `role` over `transcript`.
 *
 * @example
 * ```ts
 * import { mutualAuthKey, mutualProof, verifyMutualProof } from "@browser-relay/codec";
 *
 * const key = await mutualAuthKey("test-token", 18792);
 * const transcript = { port: 18792, clientNonce: "A".repeat(43), relayNonce: "B".repeat(43) };
 * const proof = await mutualProof(key, "relay", transcript);
 * await verifyMutualProof(key, "relay", transcript, proof); // true
 * await verifyMutualProof(key, "extension", transcript, proof); // false: the role is bound
 * ```
 */
export async function verifyMutualProof(
  key: CryptoKey,
  role: MutualRole,
  transcript: MutualTranscript,
  proof: string,
): Promise<boolean> {
  const mac = decode32(proof);
  if (mac === undefined) return false;
  return await crypto.subtle.verify("HMAC", key, mac, transcriptBytes(role, transcript));
}

/**
 * The relay's challenge nonce in scheme `mutual-v1`: `mutual-v1.<relayNonce>.<relay proof>`. It
 * is an opaque string to the gateway v3 schema, so the challenge frame keeps its shape.
 *
 * @param relayNonce The relay's fresh nonce.
 * @param proof The relay's proof over the transcript.
 * @returns The value of `payload.nonce` in `connect.challenge`.
 *
 * @example
 * ```ts
 * import { mutualChallengeNonce } from "@browser-relay/codec";
 *
 * mutualChallengeNonce("A".repeat(43), "B".repeat(43)); // "mutual-v1.AAA…A.BBB…B"
 * ```
 */
export function mutualChallengeNonce(relayNonce: string, proof: string): string {
  return `${MUTUAL_AUTH_SCHEME}.${relayNonce}.${proof}`;
}

/**
 * Splits a challenge nonce of scheme `mutual-v1`.
 *
 * @param nonce `payload.nonce` of the challenge.
 * @returns The relay nonce and proof, or `undefined` when the nonce is not of this scheme (a plain
 *   UUID from a relay without mutual authentication, or garbage).
 *
 * @example
 * ```ts
 * import { parseMutualChallengeNonce } from "@browser-relay/codec";
 *
 * parseMutualChallengeNonce(`mutual-v1.${"A".repeat(43)}.${"B".repeat(43)}`);
 * // { relayNonce: "AAA…A", proof: "BBB…B" }
 * parseMutualChallengeNonce("b08424c6-99f6-4a1a-afef-0dc44ac8cb84"); // undefined
 * ```
 */
export function parseMutualChallengeNonce(
  nonce: string,
): { readonly relayNonce: string; readonly proof: string } | undefined {
  const prefix = `${MUTUAL_AUTH_SCHEME}.`;
  if (nonce.length !== prefix.length + 2 * TOKEN_CHARS + 1 || !nonce.startsWith(prefix)) {
    return undefined;
  }
  const relayNonce = nonce.slice(prefix.length, prefix.length + TOKEN_CHARS);
  const dot = nonce[prefix.length + TOKEN_CHARS];
  const proof = nonce.slice(prefix.length + TOKEN_CHARS + 1);
  if (dot !== "." || !isMutualToken(relayNonce) || !isMutualToken(proof)) return undefined;
  return { relayNonce, proof };
}

/**
 * The extension's proof as `auth.token` of the `connect` request: `mutual-v1.<proof>`. The prefix
 * tells the relay it is a proof, never a gateway token.
 *
 * @param proof The extension's proof.
 * @returns The `auth.token` string.
 *
 * @example
 * ```ts
 * import { mutualConnectToken } from "@browser-relay/codec";
 *
 * mutualConnectToken("B".repeat(43)); // "mutual-v1.BBB…B"
 * ```
 */
export function mutualConnectToken(proof: string): string {
  return `${MUTUAL_AUTH_SCHEME}.${proof}`;
}

/**
 * The relay's reading of `auth.token` in scheme `mutual-v1`: the proof after the `mutual-v1.`
 * prefix. Anything else (a gateway token, a relay token, a malformed proof) is not a proof.
 *
 * @param token `auth.token` of the `connect` request, as received.
 * @returns The proof, or `undefined` when `token` is not `mutual-v1.<43 base64url characters>`.
 *
 * @example
 * ```ts
 * import { parseMutualConnectToken } from "@browser-relay/codec";
 *
 * parseMutualConnectToken(`mutual-v1.${"B".repeat(43)}`); // "BBB…B"
 * parseMutualConnectToken("my-gateway-token"); // undefined
 * ```
 */
export function parseMutualConnectToken(token: string): string | undefined {
  const prefix = `${MUTUAL_AUTH_SCHEME}.`;
  if (!token.startsWith(prefix)) return undefined;
  const proof = token.slice(prefix.length);
  return isMutualToken(proof) ? proof : undefined;
}

/**
 * The `/extension` socket URL in scheme `mutual-v1`: it carries the client nonce and no token.
 *
 * @param port The relay port on 127.0.0.1.
 * @param clientNonce The extension's fresh nonce.
 * @returns `ws://127.0.0.1:<port>/extension?auth=mutual-v1&nonce=<clientNonce>`.
 *
 * @example
 * ```ts
 * import { mutualSocketUrl } from "@browser-relay/codec";
 *
 * mutualSocketUrl(18792, "A".repeat(43));
 * // "ws://127.0.0.1:18792/extension?auth=mutual-v1&nonce=AAA…A"
 * ```
 */
export function mutualSocketUrl(port: number, clientNonce: string): string {
  return `ws://127.0.0.1:${port}/extension?auth=${MUTUAL_AUTH_SCHEME}&nonce=${clientNonce}`;
}
