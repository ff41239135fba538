/**
 * In-memory `HttpGet` for unit tests. A handler decides each answer; requests are recorded with
 * their headers. Like `fetch`, a request rejects with the signal's reason when it is aborted.
 *
 * @module
 */

import type { HttpGet } from "../../worker/ports.ts";

/** One recorded request. */
export interface FakeHttpRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** An answer: a response, a network error, or `"hang"` (never answers until aborted). */
export type FakeHttpReply =
  | { readonly status: number; readonly body?: string; readonly contentType?: string }
  | Error
  | "hang";

/** Decides the answer to a request. */
export type FakeHttpHandler = (request: FakeHttpRequest) => FakeHttpReply;

/** A network error as `fetch` reports a refused connection. */
export function connectionRefused(): TypeError {
  return new TypeError("Failed to fetch");
}

/**
 * A handler for a running relay: `/extension/status` answers like the project's relay (or the
 * legacy relay with `legacy: true`), `/json/version` answers 200 for `token` and 401 otherwise.
 */
export function relayHandler(
  options: { readonly token?: string; readonly legacy?: boolean } = {},
): FakeHttpHandler {
  return (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/extension/status") {
      return {
        status: 200,
        contentType: "application/json",
        body: options.legacy
          ? '{"connected":false}'
          : '{"connected":false,"handshake":"connect.challenge","protocol":3}',
      };
    }
    if (path === "/json/version") {
      const presented = request.headers["x-openclaw-relay-token"];
      if (options.token !== undefined && presented !== options.token) {
        return { status: 401, contentType: "text/plain; charset=utf-8", body: "Unauthorized" };
      }
      return {
        status: 200,
        contentType: "application/json",
        body: '{"Browser":"BrowserRelay/0.1.0","Protocol-Version":"1.3"}',
      };
    }
    return { status: 404, body: "not found" };
  };
}

/** A handler for a port nobody listens on. */
export function relayDownHandler(): FakeHttpHandler {
  return () => connectionRefused();
}

/** In-memory {@linkcode HttpGet}. */
export class FakeHttp {
  /** Every request, oldest first. */
  readonly requests: FakeHttpRequest[] = [];
  /** Decides answers; replace it to change the relay's behaviour mid-test. */
  handler: FakeHttpHandler;
  #pending = 0;

  constructor(handler: FakeHttpHandler = relayHandler()) {
    this.handler = handler;
  }

  /** Requests still waiting for an answer. */
  get pending(): number {
    return this.#pending;
  }

  /** The function to pass as the `http` port. */
  readonly get: HttpGet = (url, init) => {
    const request: FakeHttpRequest = { url, headers: { ...init.headers } };
    this.requests.push(request);
    if (init.signal.aborted) return Promise.reject(init.signal.reason);
    const reply = this.handler(request);
    if (reply instanceof Error) return Promise.reject(reply);
    if (reply === "hang") {
      this.#pending++;
      return new Promise((_resolve, reject) => {
        init.signal.addEventListener("abort", () => {
          this.#pending--;
          reject(init.signal.reason);
        }, { once: true });
      });
    }
    return Promise.resolve({
      status: reply.status,
      contentType: reply.contentType ?? "text/plain",
      body: reply.body ?? "",
    });
  };

  /** Forgets recorded requests. */
  reset(): void {
    this.requests.length = 0;
  }
}
