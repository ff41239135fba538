/**
 * The HTTP preflight that starts every connect attempt (protocol §2.3). A browser `WebSocket`
 * sees a rejected upgrade only as close 1006, so the token is checked here, over HTTP, where a
 * 401 is visible.
 *
 * @module
 */

import pTimeout, { TimeoutError } from "p-timeout";
import { RELAY_TOKEN_HEADER } from "../codec/limits.ts";
import type { Clock, HttpGet } from "./ports.ts";
import { isJsonObject } from "../codec/is_json_object.ts";

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
  /** The derived relay token, sent as the `x-openclaw-relay-token` header on `/json/version`. */
  readonly relayToken: string;
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
  | { readonly kind: "token_rejected"; readonly message: string };

type Answer =
  | { readonly kind: "response"; readonly status: number; readonly body: string }
  | { readonly kind: "failed"; readonly cause: string };

/**
 * Clock-driven timers for p-timeout, which types them as the global overloads.
 *
 * @param clock The clock.
 * @returns Timers that delegate to `clock`.
 */
export function clockTimers(
  clock: Pick<Clock, "setTimeout" | "clearTimeout">,
): { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout } {
  const set = (callback: () => void, ms?: number) => clock.setTimeout(callback, ms ?? 0);
  const clear = (handle?: ReturnType<typeof setTimeout>) => clock.clearTimeout(handle);
  return {
    setTimeout: set as unknown as typeof setTimeout,
    clearTimeout: clear as unknown as typeof clearTimeout,
  };
}

async function get(
  ports: PreflightPorts,
  url: string,
  headers: Record<string, string> | undefined,
  timeoutMs: number,
  outer: AbortSignal | undefined,
): Promise<Answer> {
  outer?.throwIfAborted();
  const controller = new AbortController();
  const timeoutError = new TimeoutError(`No answer from ${url} within ${timeoutMs} ms`);
  const request = ports.http(
    url,
    headers ? { headers, signal: controller.signal } : {
      signal: controller.signal,
    },
  );
  const timed = pTimeout(request, {
    milliseconds: timeoutMs,
    message: timeoutError,
    customTimers: clockTimers(ports.clock),
    ...(outer ? { signal: outer } : {}),
  });
  // Cleared synchronously on abort: p-timeout clears its own timer only a microtask later,
  // and an aborted attempt must not leave a timer behind even for that long.
  const onAbort = () => {
    timed.clear();
    controller.abort(outer?.reason);
  };
  outer?.addEventListener("abort", onAbort, { once: true });
  try {
    const response = await timed;
    return { kind: "response", status: response.status, body: response.body };
  } catch (error) {
    if (outer?.aborted) throw outer.reason;
    if (error === timeoutError) {
      controller.abort(error);
      return { kind: "failed", cause: `timed out after ${timeoutMs} ms` };
    }
    return { kind: "failed", cause: error instanceof Error ? error.message : String(error) };
  } finally {
    timed.clear();
    outer?.removeEventListener("abort", onAbort);
  }
}

function announcesChallenge(body: string): boolean {
  try {
    const json: unknown = JSON.parse(body);
    return isJsonObject(json) && json["handshake"] === "connect.challenge";
  } catch {
    return false;
  }
}

/**
 * Runs the two preflight requests in order: `GET /extension/status` without credentials, then
 * `GET /json/version` with the relay token header, each with its own deadline.
 *
 * @param target Port and derived relay token.
 * @param ports HTTP and clock.
 * @param options Deadline and abort signal.
 * @returns `ok` (with whether a challenge is announced), `unreachable` or `token_rejected`.
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
  const base = `http://127.0.0.1:${target.port}`;
  const status = await get(ports, `${base}/extension/status`, undefined, timeoutMs, options.signal);
  if (status.kind === "failed") {
    return {
      kind: "unreachable",
      message: `Relay server not reachable at ${base} (${status.cause})`,
    };
  }
  const version = await get(
    ports,
    `${base}/json/version`,
    { [RELAY_TOKEN_HEADER]: target.relayToken },
    timeoutMs,
    options.signal,
  );
  if (version.kind === "failed") {
    return {
      kind: "unreachable",
      message: `Relay server not reachable at ${base} (${version.cause})`,
    };
  }
  if (version.status === 401) {
    return {
      kind: "token_rejected",
      message:
        `Relay at ${base} rejected the gateway token (HTTP 401): enter the token the relay printed at start in the extension options`,
    };
  }
  return { kind: "ok", expectsChallenge: announcesChallenge(status.body) };
}
