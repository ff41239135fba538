/**
 * One timer for many deadlines of the same length: the forwarded commands' `commandTimeoutMs`.
 *
 * A deadline per command through `withDeadline` costs a promise, a `finally`, a closure pair and
 * a `setTimeout`/`clearTimeout` per command. All forwarded commands have the same timeout, so
 * their deadlines fall due in the order they were set; a sweep keeps them in a `Set` (insertion
 * order) and arms one clock timer for the oldest. A settled command only leaves the set; the timer
 * stays armed, and when it fires early for a deadline that already left, it re-arms for the
 * remaining time of the new oldest one (the same idea as the connection's liveness timer). While
 * commands flow, no timer is set or cleared per command.
 *
 * @module
 */

import type { Clock, TimerHandle } from "./ports.ts";

/** One deadline in a {@linkcode DeadlineSweep}. */
export interface Deadline {
  /** When it falls due, on the sweep's clock. */
  readonly due: number;
}

interface Entry extends Deadline {
  readonly onExpire: () => void;
  expired: boolean;
}

/**
 * Deadlines of one fixed length on a {@linkcode Clock}, swept by one timer.
 *
 * @example
 * ```ts
 * import { systemClock } from "./system_clock.ts";
 *
 * const sweep = new DeadlineSweep(systemClock(), 30_000);
 * const deadline = sweep.add(() => console.log("timed out"));
 * // … when the call answers first:
 * if (sweep.settle(deadline)) console.log("answered in time");
 * sweep.close();
 * ```
 */
export class DeadlineSweep {
  readonly #clock: Pick<Clock, "now" | "setTimeout" | "clearTimeout">;
  readonly #ms: number;
  /** Pending deadlines, oldest first. */
  readonly #pending = new Set<Entry>();
  #timer: TimerHandle | undefined;
  #sweeping = false;
  #closed = false;

  /**
   * Creates an empty sweep. It holds no timer until the first {@linkcode add}.
   *
   * @param clock The clock that times the deadlines.
   * @param ms The length of every deadline, in milliseconds; must be positive.
   * @throws {RangeError} If `ms` is not a positive finite number.
   */
  constructor(clock: Pick<Clock, "now" | "setTimeout" | "clearTimeout">, ms: number) {
    if (!(ms > 0) || !Number.isFinite(ms)) {
      throw new RangeError(`Cannot create a deadline sweep: "ms" must be positive, got "${ms}"`);
    }
    this.#clock = clock;
    this.#ms = ms;
  }

  /** Deadlines neither settled nor expired yet. */
  get size(): number {
    return this.#pending.size;
  }

  /** True while the sweep holds a clock timer. */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Starts a deadline of the sweep's length from now. After {@linkcode close} the deadline never
   * expires.
   *
   * @param onExpire Runs once if the deadline passes before {@linkcode settle}.
   * @returns The deadline, to pass to {@linkcode settle}.
   */
  add(onExpire: () => void): Deadline {
    const entry: Entry = { due: this.#clock.now() + this.#ms, onExpire, expired: false };
    if (this.#closed) return entry;
    this.#pending.add(entry);
    if (this.#timer === undefined && !this.#sweeping) this.#arm(this.#ms);
    return entry;
  }

  /**
   * Ends a deadline because its call answered.
   *
   * @param deadline A deadline from {@linkcode add}.
   * @returns False if the deadline already expired (its `onExpire` ran), else true.
   */
  settle(deadline: Deadline): boolean {
    const entry = deadline as Entry;
    return this.#pending.delete(entry) || !entry.expired;
  }

  /** Releases the timer; pending deadlines never expire. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#pending.clear();
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = this.#clock.setTimeout(() => this.#sweep(), ms);
  }

  // Expires what is due, oldest first, then re-arms for the oldest left (also when an
  // `onExpire` threw). Deadlines are added in due order; if the clock stepped back, a later one
  // waits at most until the one before it.
  #sweep(): void {
    this.#timer = undefined;
    this.#sweeping = true;
    const now = this.#clock.now();
    try {
      for (const entry of this.#pending) {
        if (entry.due > now) break;
        this.#pending.delete(entry);
        entry.expired = true;
        entry.onExpire();
      }
    } finally {
      this.#sweeping = false;
      if (!this.#closed && this.#timer === undefined) {
        for (const entry of this.#pending) {
          this.#arm(Math.max(0, entry.due - now));
          break;
        }
      }
    }
  }
}
