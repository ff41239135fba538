/**
 * The HTTP preflight that starts every connect attempt (protocol §2.3). A browser `WebSocket`
 * sees a rejected upgrade only as close 1006, so the token is checked here, over HTTP, where a
 * 401 is visible.
 *
 * In scheme `mutual-v1` (no `relayToken` in the target) the preflight sends no credential at all:
 * it only reads `/extension/status`, and the token is proven inside the handshake, after the relay
 * proved itself (codec/mutual_auth.ts).
 *
 * @module
 */

import { RELAY_TOKEN_HEADER } from "../codec/limits.ts";
import { getWithDeadline, type HttpOutcome } from "./get_with_deadline.ts";
import type { Clock, HttpGet } from "./ports.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import { relayBaseUrl } from "./settings.ts";
import { MUTUAL_AUTH_SCHEME } from "../codec/mutual_auth.ts";

/** The ports the preflight uses. */
export interface PreflightPorts {
  readonly http: HttpGet;
  readonly clock: Pick<Clock, "setTimeout" | "clearTimeout">;
}

/** Options of {@linkcode preflight}. */
export interface PreflightOptions {
  /**
   * Deadline of each of the two requests, in milliseconds.
   *
   * @default {2000}
   */
  readonly timeoutMs?: number;
  /** Aborts both requests and clears their deadlines at once. */
  readonly signal?: AbortSignal;
}

/** What to probe. */
export interface PreflightTarget {
  /** Relay port on 127.0.0.1. */
  readonly port: number;
  /**
   * The derived relay token, sent as the `x-openclaw-relay-token` header on `/json/version`
   * (OpenClaw compatibility). Absent in scheme `mutual-v1`: then `/json/version` is not asked and
   * no credential leaves the extension.
   */
  readonly relayToken?: string;
}

/** How the preflight ended. */
export type PreflightResult =
  | {
    readonly kind: "ok";
    /** `/extension/status` announced `"handshake":"connect.challenge"`: expect a challenge. */
    readonly expectsChallenge: boolean;
  }
  /** No HTTP answer (network error or deadline): retryable. */
  | { readonly kind: "unreachable"; readonly message: string }
  /** `/json/version` answered 401: not retried until settings change. */
  | { readonly kind: "token_rejected"; readonly message: string }
  /**
   * Scheme `mutual-v1` only: `/extension/status` does not list `"mutual-v1"` in `auth`. Not
   * retried; the extension never falls back to sending a token by itself.
   */
  | { readonly kind: "mutual_unsupported"; readonly message: string };

function unreachable(
  base: string,
  outcome: Exclude<HttpOutcome, { kind: "response" }>,
): PreflightResult {
  const cause = outcome.kind === "timeout"
    ? `timed out after ${outcome.timeoutMs} ms`
    : outcome.cause;
  return { kind: "unreachable", message: `Relay server not reachable at ${base} (${cause})` };
}

function statusOf(body: string): { challenge: boolean; mutual: boolean } {
  try {
    const json: unknown = JSON.parse(body);
    if (!isJsonObject(json)) return { challenge: false, mutual: false };
    const auth = json["auth"];
    return {
      challenge: json["handshake"] === "connect.challenge",
      mutual: Array.isArray(auth) && auth.includes(MUTUAL_AUTH_SCHEME),
    };
  } catch {
    return { challenge: false, mutual: false };
  }
}

/**
 * Runs the two preflight requests in order: `GET /extension/status` without credentials, then
 * `GET /json/version` with the relay token header, each with its own deadline. Without a relay
 * token (scheme `mutual-v1`) only the first request is made.
 *
 * @param target Port and derived relay token.
 * @param ports HTTP and clock.
 * @param options Deadline and abort signal.
 * @returns `ok` (with whether a challenge is announced), `unreachable`, `token_rejected` or (scheme
 *   `mutual-v1`) `mutual_unsupported`.
 * @throws The signal's reason when `options.signal` aborts.
 *
 * @example
 * ```ts
 * const result = await preflight({ port: 18792, relayToken: "…" }, { http, clock });
 * if (result.kind === "token_rejected") console.log(result.message);
 * ```
 */
export async function preflight(
  target: PreflightTarget,
  ports: PreflightPorts,
  options: PreflightOptions = {},
): Promise<PreflightResult> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const base = relayBaseUrl(target.port);
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  const status = await getWithDeadline(ports, `${base}/extension/status`, {
    timeoutMs,
    ...signal,
  });
  if (status.kind !== "response") return unreachable(base, status);
  const announced = statusOf(status.body);
  if (target.relayToken === undefined) {
    // mutual-v1: what the status says only chooses the error message; the proof decides.
    if (announced.mutual) return { kind: "ok", expectsChallenge: true };
    return {
      kind: "mutual_unsupported",
      message:
        `Relay at ${base} does not offer mutual authentication: update the relay, or enable OpenClaw relay compatibility in the extension options`,
    };
  }
  const version = await getWithDeadline(ports, `${base}/json/version`, {
    headers: { [RELAY_TOKEN_HEADER]: target.relayToken },
    timeoutMs,
    ...signal,
  });
  if (version.kind !== "response") return unreachable(base, version);
  if (version.status === 401) {
    return {
      kind: "token_rejected",
      message:
        `Relay at ${base} rejected the gateway token (HTTP 401): enter the token the relay printed at start in the extension options`,
    };
  }
  return { kind: "ok", expectsChallenge: announced.challenge };
}
