/**
 * One HTTP GET with a deadline on the Clock port, shared by the connect preflight and the
 * options page's connection check. Fake timers drive it; it never uses `AbortSignal.timeout()`.
 *
 * @module
 */

import type { Clock, HttpGet } from "./ports.ts";

/** The ports a deadline-bound GET uses. */
export interface GetWithDeadlinePorts {
  readonly http: HttpGet;
  readonly clock: Pick<Clock, "setTimeout" | "clearTimeout">;
}

/** Options of {@linkcode getWithDeadline}. */
export interface GetWithDeadlineOptions {
  /** Request headers. */
  readonly headers?: Record<string, string>;
  /** Deadline in milliseconds. */
  readonly timeoutMs: number;
  /** Aborts the request and clears its deadline at once; the call then rejects with the reason. */
  readonly signal?: AbortSignal;
}

/** How one HTTP request ended. */
export type HttpOutcome =
  | {
    readonly kind: "response";
    readonly status: number;
    readonly contentType: string;
    readonly body: string;
  }
  | { readonly kind: "network_error"; readonly cause: string }
  | { readonly kind: "timeout"; readonly timeoutMs: number };

function describeCause(error: unknown): string {
  if (error instanceof Error) return error.message === "" ? error.name : error.message;
  return String(error);
}

/**
 * Sends one GET and settles once: with the response, a network error, or the deadline (which
 * also aborts the request). The timer and the abort listener are released on every path.
 *
 * @param ports HTTP and clock.
 * @param url The URL.
 * @param options Headers, deadline and abort signal.
 * @returns The outcome; never rejects except with `options.signal`'s reason.
 */
export function getWithDeadline(
  ports: GetWithDeadlinePorts,
  url: string,
  options: GetWithDeadlineOptions,
): Promise<HttpOutcome> {
  const { signal, timeoutMs } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const controller = new AbortController();
  return new Promise<HttpOutcome>((resolve, reject) => {
    let settled = false;
    let handle: ReturnType<Clock["setTimeout"]> | undefined = undefined;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      ports.clock.clearTimeout(handle);
      signal?.removeEventListener("abort", onAbort);
      return true;
    };
    // Cleared synchronously: an aborted attempt must not leave a timer behind for a microtask.
    const onAbort = () => {
      if (!finish()) return;
      controller.abort(signal?.reason);
      reject(signal?.reason);
    };
    handle = ports.clock.setTimeout(() => {
      if (!finish()) return;
      // Resolve first: the aborted request rejects later and is absorbed below.
      resolve({ kind: "timeout", timeoutMs });
      controller.abort();
    }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    let request: ReturnType<HttpGet>;
    try {
      request = ports.http(url, { headers: options.headers ?? {}, signal: controller.signal });
    } catch (error) {
      request = Promise.reject(error);
    }
    request.then(
      (response) => {
        if (!finish()) return;
        resolve({
          kind: "response",
          status: response.status,
          contentType: response.contentType,
          body: response.body,
        });
      },
      (error: unknown) => {
        if (finish()) resolve({ kind: "network_error", cause: describeCause(error) });
      },
    );
  });
}
