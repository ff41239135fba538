/**
 * An id-indexed table of requests awaiting a reply, each owning its deadline.
 *
 * @module
 */

/**
 * Timer functions injected into {@linkcode PendingRequests}. The codec never touches global
 * timers itself, so it runs unchanged in every runtime and under fake clocks.
 */
export interface PendingTimers {
  /** Starts a one-shot timer and returns its handle. */
  readonly schedule: (callback: () => void, ms: number) => unknown;
  /** Cancels a timer started by `schedule`. */
  readonly cancel: (handle: unknown) => void;
}

/** Options of {@linkcode PendingRequests}. */
export interface PendingRequestsOptions {
  /** Timer functions, e.g. `{ schedule: (f, ms) => setTimeout(f, ms), cancel: (h) => clearTimeout(h) }`. */
  readonly timers: PendingTimers;
  /**
   * Deadline of each request in milliseconds, unless the request sets its own.
   *
   * @default {30000}
   */
  readonly timeoutMs?: number;
  /**
   * Produces request ids.
   *
   * @default {a counter starting at 1}
   */
  readonly nextId?: () => number;
}

/** Options of {@linkcode PendingRequests.prototype.request}. */
export interface PendingRequestOptions {
  /** Deadline for this request; overrides the table's `timeoutMs`. */
  readonly timeoutMs?: number;
  /**
   * Error to reject with when the deadline passes. Build it before sending, so its stack points
   * at the caller.
   *
   * @default {an Error saying which id timed out}
   */
  readonly timeoutError?: Error;
}

/** Counters kept by {@linkcode PendingRequests}. */
export interface PendingRequestsStats {
  /** Requests settled by a reply. */
  readonly settled: number;
  /** Requests that reached their deadline. */
  readonly timedOut: number;
  /** Replies for ids that were unknown or already settled (late). */
  readonly ignored: number;
  /** Requests rejected by `rejectAll`. */
  readonly rejected: number;
}

interface Entry<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
  readonly timer: unknown;
}

/**
 * Id-indexed pending requests. Each entry registers before its frame is sent, owns a deadline
 * timer, and is removed on reply, deadline or {@linkcode PendingRequests.prototype.rejectAll};
 * no timer outlives its entry. Lookups are O(1).
 *
 * @typeParam T The reply type.
 *
 * @example
 * ```ts
 * import { PendingRequests } from "@browser-relay/codec";
 *
 * const pending = new PendingRequests<string>({
 *   timers: { schedule: (f, ms) => setTimeout(f, ms), cancel: (h) => clearTimeout(h as number) },
 *   timeoutMs: 1000,
 * });
 * const reply = pending.request((id) => pending.settle(id, `reply to ${id}`));
 * console.log(await reply); // "reply to 1"
 * ```
 */
export class PendingRequests<T> {
  readonly #entries = new Map<number, Entry<T>>();
  readonly #timers: PendingTimers;
  readonly #timeoutMs: number;
  readonly #nextId: () => number;
  #settled = 0;
  #timedOut = 0;
  #ignored = 0;
  #rejected = 0;

  /**
   * Creates an empty table.
   *
   * @param options Timers, default deadline and id generator.
   * @throws {RangeError} If `timeoutMs` is not a positive finite number.
   */
  constructor(options: PendingRequestsOptions) {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new RangeError(
        `Cannot create PendingRequests as "timeoutMs" must be a positive number: current value is ${timeoutMs}`,
      );
    }
    this.#timers = options.timers;
    this.#timeoutMs = timeoutMs;
    let counter = 0;
    this.#nextId = options.nextId ?? (() => ++counter);
  }

  /** Number of requests awaiting a reply. */
  get size(): number {
    return this.#entries.size;
  }

  /** Counters of settled, timed-out, ignored and rejected requests. */
  get stats(): PendingRequestsStats {
    return {
      settled: this.#settled,
      timedOut: this.#timedOut,
      ignored: this.#ignored,
      rejected: this.#rejected,
    };
  }

  /**
   * Registers a request, then calls `send` with its id. If `send` throws synchronously, the
   * entry is removed and the returned promise rejects with that error.
   *
   * @param send Writes the request frame for the given id.
   * @param options Per-request deadline and timeout error.
   * @returns The reply passed to {@linkcode PendingRequests.prototype.settle}.
   */
  request(send: (id: number) => void, options: PendingRequestOptions = {}): Promise<T> {
    const id = this.#nextId();
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const timeoutError = options.timeoutError ??
      new Error(`Request ${id} timed out after ${timeoutMs} ms`);
    const promise = new Promise<T>((resolve, reject) => {
      const timer = this.#timers.schedule(() => {
        if (this.#entries.delete(id)) {
          this.#timedOut++;
          reject(timeoutError);
        }
      }, timeoutMs);
      this.#entries.set(id, { resolve, reject, timer });
    });
    try {
      send(id);
    } catch (error) {
      this.#remove(id)?.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return promise;
  }

  /**
   * Tells whether `id` awaits a reply.
   *
   * @param id A request id.
   * @returns `true` while the request is pending.
   */
  has(id: number): boolean {
    return this.#entries.has(id);
  }

  /**
   * Resolves the request with `id`. Unknown and late ids are counted and ignored.
   *
   * @param id The request id.
   * @param value The reply.
   * @returns `true` when a pending request was settled.
   */
  settle(id: number, value: T): boolean {
    const entry = this.#remove(id);
    if (entry === undefined) {
      this.#ignored++;
      return false;
    }
    this.#settled++;
    entry.resolve(value);
    return true;
  }

  /**
   * Rejects the request with `id`. Unknown and late ids are counted and ignored.
   *
   * @param id The request id.
   * @param error The rejection.
   * @returns `true` when a pending request was rejected.
   */
  fail(id: number, error: Error): boolean {
    const entry = this.#remove(id);
    if (entry === undefined) {
      this.#ignored++;
      return false;
    }
    this.#settled++;
    entry.reject(error);
    return true;
  }

  /**
   * Rejects every pending request with `error` and clears their timers, e.g. on close.
   *
   * @param error The rejection, shared by all entries.
   * @returns The number of requests rejected.
   */
  rejectAll(error: Error): number {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) {
      this.#timers.cancel(entry.timer);
      this.#rejected++;
      entry.reject(error);
    }
    return entries.length;
  }

  #remove(id: number): Entry<T> | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    this.#entries.delete(id);
    this.#timers.cancel(entry.timer);
    return entry;
  }
}
