/**
 * What one phase (or step) of the relay connection owns: its Clock timers, its deadlines, its
 * in-flight awaits and any other cleanup. `release()` frees all of it at once, so leaving a phase
 * is one call, and nothing a released scope owned can fire afterwards.
 *
 * @module
 */

import pTimeout from "p-timeout";
import type { Clock, TimerHandle } from "./ports.ts";

/** Thrown by {@linkcode PhaseScope.prototype.alive} when the scope was released while waiting. */
export class ScopeReleasedError extends Error {
  /**
   * @param options Standard error options.
   */
  constructor(options?: ErrorOptions) {
    super("Phase ended while waiting", options);
    this.name = "ScopeReleasedError";
  }
}

/** Clock-driven timers for p-timeout, which types them as the global overloads. */
function clockTimers(
  clock: Pick<Clock, "setTimeout" | "clearTimeout">,
): { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout } {
  const set = (callback: () => void, ms?: number) => clock.setTimeout(callback, ms ?? 0);
  const clear = (handle?: ReturnType<typeof setTimeout>) => clock.clearTimeout(handle);
  return {
    setTimeout: set as unknown as typeof setTimeout,
    clearTimeout: clear as unknown as typeof clearTimeout,
  };
}

/**
 * Timers, deadlines, awaits and cleanups owned by one phase. Everything registered on a released
 * scope is refused at once (a timer is not started, a cleanup runs immediately), so code that
 * sets up a phase never needs to ask whether the phase is still current.
 *
 * @example
 * ```ts
 * const scope = new PhaseScope(clock);
 * scope.timer(750, () => retry());
 * scope.release(); // the timer is cleared; retry() never runs
 * ```
 */
export class PhaseScope {
  readonly #clock: Pick<Clock, "setTimeout" | "clearTimeout">;
  readonly #timers = new Set<TimerHandle>();
  #cleanups: (() => void)[] = [];
  #controller: AbortController | undefined;
  #released = false;

  /**
   * @param clock The clock every timer of this scope runs on.
   */
  constructor(clock: Pick<Clock, "setTimeout" | "clearTimeout">) {
    this.#clock = clock;
  }

  /** True once {@linkcode release} ran. */
  get released(): boolean {
    return this.#released;
  }

  /** Aborted when the scope is released; made on first use. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#released) this.#controller.abort();
    return this.#controller.signal;
  }

  /**
   * Runs `callback` after `ms` unless the scope is released first.
   *
   * @param ms Delay in milliseconds.
   * @param callback What to run.
   */
  timer(ms: number, callback: () => void): void {
    if (this.#released) return;
    const handle = this.#clock.setTimeout(() => {
      this.#timers.delete(handle);
      callback();
    }, ms);
    this.#timers.add(handle);
  }

  /**
   * A p-timeout deadline: `onExpire` runs after `ms` unless the scope is released first. `error`
   * is built by the caller before the deadline starts, so its stack points at the caller.
   *
   * @param ms Deadline in milliseconds.
   * @param error The error p-timeout rejects with.
   * @param onExpire What to run on expiry.
   */
  deadline(ms: number, error: Error, onExpire: () => void): void {
    if (this.#released) return;
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const timed = pTimeout(gate, {
      milliseconds: ms,
      message: error,
      customTimers: clockTimers(this.#clock),
    });
    timed.then(undefined, (reason: unknown) => {
      if (reason === error && !this.#released) onExpire();
    });
    this.own(() => {
      timed.clear();
      open();
    });
  }

  /**
   * Waits for `promise` on behalf of this scope.
   *
   * @param promise The work.
   * @returns Its value, or its rejection, while the scope is alive.
   * @throws {ScopeReleasedError} If the scope was released before `promise` settled, whatever
   *   it settled with.
   */
  async alive<T>(promise: Promise<T>): Promise<T> {
    let value: T;
    try {
      value = await promise;
    } catch (error) {
      if (this.#released) throw new ScopeReleasedError({ cause: error });
      throw error;
    }
    if (this.#released) throw new ScopeReleasedError();
    return value;
  }

  /**
   * Registers a cleanup that runs on release; on a released scope it runs at once.
   *
   * @param cleanup What to run.
   */
  own(cleanup: () => void): void {
    if (this.#released) cleanup();
    else this.#cleanups.push(cleanup);
  }

  /** Same as {@linkcode release}. */
  [Symbol.dispose](): void {
    this.release();
  }

  /** Clears every timer, aborts the signal and runs the cleanups. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const handle of this.#timers) this.#clock.clearTimeout(handle);
    this.#timers.clear();
    this.#controller?.abort();
    const cleanups = this.#cleanups;
    this.#cleanups = [];
    for (const cleanup of cleanups) cleanup();
  }
}
