/**
 * Time as a port for the relay: every deadline, grace period, ping and idle check reads this
 * clock, so tests drive the relay on fake time while its sockets stay real.
 *
 * @module
 */

/** The relay's clock. Timer handles are opaque: a fake clock may use its own kind. */
export interface Clock {
  /** Milliseconds since an arbitrary epoch; only differences are used. */
  now(): number;
  /** Starts a one-shot timer. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer from `setTimeout`; `undefined` and fired handles are ignored. */
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. It looks the globals up at call time, so fake timers installed after import
 * still drive it (style.md item 17).
 *
 * @returns The clock.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 *
 * const clock = systemClock();
 * const handle = clock.setTimeout(() => console.log("tick"), 1000);
 * clock.clearTimeout(handle);
 * ```
 */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
    clearTimeout: (handle) =>
      globalThis.clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
  };
}
