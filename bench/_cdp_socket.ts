/**
 * A minimal CDP client used for both sides of every system benchmark, so the relay path and the
 * direct path pay exactly the same client cost: one `JSON.stringify` per command, one
 * `JSON.parse` per incoming message, and no event log (events go to listeners only).
 *
 * @module
 */

/** An incoming CDP event. */
export interface CdpEvent {
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly sessionId?: string;
}

/** A CDP error reply, as an exception. */
export class CdpReplyError extends Error {
  override readonly name = "CdpReplyError";
}

interface Pending {
  readonly resolve: (frame: Record<string, unknown>) => void;
  readonly reject: (error: Error) => void;
  readonly method: string;
  readonly timeoutMs: number;
  /** `performance.now()` past which the command has failed. */
  readonly deadline: number;
}

/** How often the one deadline sweep looks at the pending commands. */
const SWEEP_MS = 250;

/** One WebSocket speaking CDP. */
export class CdpSocket {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(event: CdpEvent) => void>();
  #nextId = 1;
  /** One timer for every pending command's deadline (no timer per command: see `send`). */
  #sweep: ReturnType<typeof setTimeout> | undefined;
  /** Resolves with the close code and reason once the socket has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Bytes of text received so far. */
  receivedChars = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((resolve) => {
      ws.addEventListener("close", (e) => {
        clearTimeout(this.#sweep);
        this.#sweep = undefined;
        for (const [id, pending] of this.#pending) {
          pending.resolve({ id, error: { message: `socket closed (${e.code})` } });
        }
        this.#pending.clear();
        resolve({ code: e.code, reason: e.reason });
      });
    });
    ws.addEventListener("message", (e) => {
      const text = String(e.data);
      this.receivedChars += text.length;
      const frame = JSON.parse(text) as Record<string, unknown>;
      if (typeof frame.id === "number") {
        const pending = this.#pending.get(frame.id);
        if (pending === undefined) return;
        this.#pending.delete(frame.id);
        if (this.#pending.size === 0) {
          // Nothing left to time: no timer outlives the last reply.
          clearTimeout(this.#sweep);
          this.#sweep = undefined;
        }
        pending.resolve(frame);
      } else if (typeof frame.method === "string") {
        for (const listener of this.#listeners) listener(frame as unknown as CdpEvent);
      }
    });
  }

  /**
   * Opens a socket and waits until it is open.
   *
   * @param url `ws://` address.
   * @returns The open client.
   */
  static async open(url: string): Promise<CdpSocket> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      const onError = () =>
        reject(new Error(`Cannot open CDP socket ${url.replace(/token=[^&]*/, "token=…")}`));
      ws.addEventListener("open", () => {
        ws.removeEventListener("error", onError);
        resolve();
      }, { once: true });
      ws.addEventListener("error", onError, { once: true });
    });
    return new CdpSocket(ws);
  }

  /** Whether the socket is open. */
  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /**
   * Sends a command and resolves with the whole reply frame (result or error).
   *
   * @param method CDP method.
   * @param params CDP params.
   * @param sessionId Flat session id, if any.
   * @param timeoutMs Deadline.
   * @returns The reply frame.
   */
  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#ws.readyState !== WebSocket.OPEN) {
        resolve({ id, error: { message: "socket is not open" } });
        return;
      }
      this.#pending.set(id, {
        resolve,
        reject,
        method,
        timeoutMs,
        deadline: performance.now() + timeoutMs,
      });
      this.#armSweep();
      this.#ws.send(
        JSON.stringify(
          sessionId === undefined ? { id, method, params } : { id, method, params, sessionId },
        ),
      );
    });
  }

  /**
   * Fails commands past their deadline, every {@linkcode SWEEP_MS} while any is pending. A timer
   * per command would cost this process more CPU per command than a relay hop, and this client
   * runs in the relay's process during the benchmarks; real clients (Playwright) keep no timer
   * per CDP message either.
   */
  #armSweep(): void {
    if (this.#sweep !== undefined) return;
    this.#sweep = setTimeout(() => {
      this.#sweep = undefined;
      const now = performance.now();
      for (const [id, pending] of this.#pending) {
        if (pending.deadline > now) continue;
        this.#pending.delete(id);
        pending.reject(new Error(`No reply to ${pending.method} within ${pending.timeoutMs} ms`));
      }
      if (this.#pending.size > 0) this.#armSweep();
    }, SWEEP_MS);
  }

  /**
   * Sends a command and returns its result.
   *
   * @throws {CdpReplyError} On an error reply.
   */
  async call(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    const frame = await this.send(method, params, sessionId, timeoutMs);
    if (frame.error !== undefined) {
      throw new CdpReplyError(`${method} failed: ${JSON.stringify(frame.error)}`);
    }
    return frame.result as Record<string, unknown>;
  }

  /**
   * `Target.setAutoAttach` with flat sessions and no pause: how every benchmark client gets the
   * shared tabs' sessions from a relay.
   */
  async autoAttach(): Promise<void> {
    await this.call("Target.setAutoAttach", {
      autoAttach: true,
      waitForDebuggerOnStart: false,
      flatten: true,
    });
  }

  /**
   * Adds an event listener.
   *
   * @returns A function that removes it.
   */
  onEvent(listener: (event: CdpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Closes the socket and waits for the close. */
  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    if (this.#ws.readyState !== WebSocket.CLOSING) this.#ws.close();
    await this.closed;
  }
}
