/**
 * Request checks of the relay (protocol §2.2, §8): token verification in constant time, the
 * Host check against DNS rebinding, the loopback peer check and the Origin check.
 *
 * @module
 */

import { deriveRelayToken } from "../codec/derive_relay_token.ts";

/** Options of {@linkcode createTokenVerifier}. */
export interface TokenVerifierOptions {
  /**
   * Whether the raw gateway token is accepted besides the derived relay token.
   *
   * @default {true}
   */
  readonly acceptRawGatewayToken?: boolean;
}

/** Checks presented tokens against the relay's accepted tokens. */
export interface TokenVerifier {
  /** The derived relay token for the relay's port (§2.1). */
  readonly relayToken: string;
  /**
   * Tells whether a presented token is accepted. The value is trimmed first and compared in
   * constant time against every accepted token.
   */
  verify(presented: string | null | undefined): boolean;
  /** Tells whether `presented` (trimmed) equals the raw gateway token, in constant time. */
  isGatewayToken(presented: string | null | undefined): boolean;
}

/**
 * Builds the token verifier of a relay listening on `port`.
 *
 * @param gatewayToken The user's gateway token; trimmed, must not be empty.
 * @param port The port the relay listens on.
 * @param options Whether the raw gateway token is accepted.
 * @returns A verifier accepting the derived token and, by default, the raw token.
 * @throws {TypeError} If the gateway token is empty after trimming.
 */
export async function createTokenVerifier(
  gatewayToken: string,
  port: number,
  options: TokenVerifierOptions = {},
): Promise<TokenVerifier> {
  const raw = gatewayToken.trim();
  if (raw === "") {
    throw new TypeError('Cannot start relay as "token" is empty: a gateway token is required');
  }
  const relayToken = await deriveRelayToken(raw, port);
  const acceptRaw = options.acceptRawGatewayToken ?? true;
  const encoder = new TextEncoder();
  const relayBytes = encoder.encode(relayToken);
  const rawBytes = encoder.encode(raw);
  return {
    relayToken,
    verify(presented) {
      if (typeof presented !== "string") return false;
      const bytes = encoder.encode(presented.trim());
      if (bytes.length === 0) return false;
      // Both comparisons always run, so timing does not reveal which token matched.
      const derivedOk = timingSafeEqual(bytes, relayBytes);
      const rawOk = timingSafeEqual(bytes, rawBytes);
      return derivedOk || (acceptRaw && rawOk);
    },
    isGatewayToken(presented) {
      if (typeof presented !== "string") return false;
      return timingSafeEqual(encoder.encode(presented.trim()), rawBytes);
    },
  };
}

/**
 * Compares two byte strings in time that depends only on their lengths.
 *
 * @param a First value.
 * @param b Second value.
 * @returns `true` when both hold the same bytes.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const length = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

const LOOPBACK_NAMES: ReadonlySet<string> = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Splits the hostname off a `Host` header value (`name`, `name:port`, `[v6]` or `[v6]:port`).
 *
 * @param host The header value.
 * @returns The lower-cased hostname, with brackets kept for IPv6, or `undefined` if malformed.
 */
export function hostnameOf(host: string): string | undefined {
  const value = host.trim().toLowerCase();
  if (value === "") return undefined;
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    if (end < 0) return undefined;
    const rest = value.slice(end + 1);
    if (rest !== "" && !/^:\d{1,5}$/.test(rest)) return undefined;
    return value.slice(0, end + 1);
  }
  const match = /^([^:]+)(?::\d{1,5})?$/.exec(value);
  return match?.[1];
}

/**
 * The Host check (§8.3): `Host` must name a loopback host, with or without a port, or the
 * configured bind host when it is not a loopback address.
 *
 * @param host The `Host` header, if any.
 * @param bindHost The address the relay is bound to.
 * @returns `true` when the header is acceptable.
 */
export function isAllowedHost(host: string | undefined, bindHost: string): boolean {
  if (host === undefined) return false;
  const name = hostnameOf(host);
  if (name === undefined) return false;
  if (LOOPBACK_NAMES.has(name)) return true;
  const bind = bindHost.toLowerCase();
  if (isLoopbackAddress(bind)) return false;
  return name === bind || name === `[${bind}]`;
}

/**
 * Tells whether an IP address is a loopback address (127.0.0.0/8, `::1`, or IPv4-mapped
 * loopback).
 *
 * @param address A peer or bind address.
 * @returns `true` for loopback addresses.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const value = address.toLowerCase().replace(/^\[|\]$/g, "");
  if (value === "::1" || value === "localhost") return true;
  const v4 = value.startsWith("::ffff:") ? value.slice("::ffff:".length) : value;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * The Origin check (§8.4): a present `Origin` must be a `chrome-extension://` origin.
 *
 * @param origin The `Origin` header, if any.
 * @returns `true` when the header is absent or names an extension.
 */
export function isAllowedOrigin(origin: string | undefined): boolean {
  return origin === undefined || origin.startsWith("chrome-extension://");
}

/**
 * Replaces the value of every `token` query parameter in a URL or path, for logging (§8.8).
 * A parameter counts as `token` when its name decodes to `token` the way `URLSearchParams`
 * decodes it (percent escapes, `+`), which is how the relay reads the token: `?%74oken=` is
 * accepted as the token, so it is redacted too.
 *
 * @param url A URL or request path.
 * @returns The same text with each such value replaced by `<redacted>`.
 */
export function redactToken(url: string): string {
  const query = url.indexOf("?");
  if (query < 0) return url;
  const fragment = url.indexOf("#", query);
  const end = fragment < 0 ? url.length : fragment;
  const pairs = url.slice(query + 1, end).split("&").map((pair) => {
    const equals = pair.indexOf("=");
    const rawName = equals < 0 ? pair : pair.slice(0, equals);
    const name = new URLSearchParams(`${rawName}=`).keys().next().value;
    return name?.toLowerCase() === "token" ? `${rawName}=<redacted>` : pair;
  });
  return `${url.slice(0, query + 1)}${pairs.join("&")}${url.slice(end)}`;
}
