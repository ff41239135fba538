/**
 * Shared helpers of the relay tests: start a relay on a free port, HTTP requests, CDP clients.
 *
 * @module
 */

import FakeTimers from "@sinonjs/fake-timers";
import { request } from "node:http";
import type { JsonObject } from "../../codec/json.ts";
import type { Clock } from "../../relay/clock.ts";
import { type RelayOptions, type RelayServer, startRelay } from "../../relay/server.ts";
import type { FakeExtension, FakeTarget } from "../../harness/fake_extension.ts";
import { TestSocket } from "../../harness/test_socket.ts";

/** The gateway token used by the tests. */
export const TOKEN = "test-gateway-token";

type FakeClock = ReturnType<typeof FakeTimers.createClock>;

/**
 * A fake {@linkcode Clock} for the relay: its timers run only when a test ticks. Sockets stay
 * real; only the relay's deadlines, grace periods, pings and idle checks follow this clock.
 */
export class TestClock implements Clock {
  readonly #fake: FakeClock = FakeTimers.createClock(0);

  now(): number {
    return this.#fake.now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    return this.#fake.setTimeout(callback, ms);
  }

  clearTimeout(handle: unknown): void {
    if (handle !== undefined) {
      this.#fake.clearTimeout(handle as ReturnType<FakeClock["setTimeout"]>);
    }
  }

  /** Advances fake time by `ms`, running every timer that falls due, in order. */
  tick(ms: number): void {
    this.#fake.tick(ms);
  }

  /** Number of timers not yet run or cleared. */
  countTimers(): number {
    return this.#fake.countTimers();
  }
}

/**
 * Starts a silent relay on a free port, on fake time: a {@linkcode TestClock} unless the test
 * passes its own `clock` to tick.
 */
export function startTestRelay(options: Partial<RelayOptions> = {}): Promise<RelayServer> {
  return startRelay({ token: TOKEN, port: 0, clock: new TestClock(), ...options });
}

/**
 * Waits, one event-loop turn at a time (never a timer), until `predicate` holds: for state that
 * a socket event on the relay side changes, such as the extension's close starting the grace
 * period.
 *
 * @throws {Error} If it does not hold within `timeoutMs` of real time (a failure bound only).
 */
export async function until(
  what: string,
  predicate: () => boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) {
      throw new Error(`Condition not reached within ${timeoutMs} ms: ${what}`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** An HTTP response as seen by tests. */
export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * Sends an HTTP request with full control of the headers (including `Host`).
 */
export function http(
  relay: RelayServer,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<HttpReply> {
  return new Promise<HttpReply>((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port: relay.port,
      path,
      method: options.method ?? "GET",
      headers: { connection: "close", ...options.headers },
      agent: false,
    }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      res.on("end", () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: new TextDecoder().decode(concat(chunks)),
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** The token header for HTTP and `/cdp`. */
export function tokenHeader(token: string = TOKEN): Record<string, string> {
  return { "x-openclaw-relay-token": token };
}

/** A CDP client over a {@linkcode TestSocket} with request ids and typed waits. */
export class CdpTestClient implements AsyncDisposable {
  readonly socket: TestSocket;
  #nextId = 0;

  private constructor(socket: TestSocket) {
    this.socket = socket;
  }

  /** Connects to `/cdp` with the token header. */
  static async connect(relay: RelayServer, token: string = TOKEN): Promise<CdpTestClient> {
    const url = `ws://127.0.0.1:${relay.port}/cdp`;
    return new CdpTestClient(await TestSocket.open(url, { headers: tokenHeader(token) }));
  }

  /** Sends a command without waiting; returns its id. */
  post(method: string, params?: JsonObject, sessionId?: string): number {
    const id = ++this.#nextId;
    this.socket.send({
      id,
      method,
      ...(params === undefined ? {} : { params }),
      ...(sessionId === undefined ? {} : { sessionId }),
    });
    return id;
  }

  /** Waits for the response with this id. */
  response(id: number, timeoutMs?: number): Promise<JsonObject> {
    return this.socket.next((f) => f.id === id && f.method === undefined, timeoutMs);
  }

  /** Sends a command and waits for its response frame. */
  call(method: string, params?: JsonObject, sessionId?: string): Promise<JsonObject> {
    return this.response(this.post(method, params, sessionId));
  }

  /** Waits for an event by method. */
  event(method: string, predicate: (f: JsonObject) => boolean = () => true): Promise<JsonObject> {
    return this.socket.next((f) => f.method === method && f.id === undefined && predicate(f));
  }

  /** Events received and not taken yet, by method. */
  events(method?: string): JsonObject[] {
    return this.socket.pending((f) =>
      f.id === undefined && (method === undefined || f.method === method)
    );
  }

  /** Closes the socket. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.socket.close();
  }
}

/**
 * Announces a target from the fake extension and resolves once the relay has cached it, by
 * watching a discovery client for its `Target.targetCreated` (or `targetInfoChanged`).
 */
export async function announceAndWait(
  relay: RelayServer,
  ext: FakeExtension,
  sessionId: string,
  target: FakeTarget,
): Promise<void> {
  await using watcher = await CdpTestClient.connect(relay);
  await watcher.call("Target.setDiscoverTargets", { discover: true });
  ext.announce(sessionId, target);
  await watcher.socket.next((f) =>
    (f.method === "Target.targetCreated" || f.method === "Target.targetInfoChanged") &&
    ((f.params as JsonObject).targetInfo as JsonObject).targetId === target.targetId
  );
}
