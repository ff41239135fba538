/**
 * The production {@linkcode Clock}.
 *
 * @module
 */

import type { Clock } from "./ports.ts";

/**
 * A clock that looks the globals up at call time, so fake timers installed after import still
 * drive it (style.md item 17).
 *
 * @returns The clock.
 *
 * @example
 * ```ts
 * const clock = systemClock();
 * const handle = clock.setTimeout(() => console.log("tick"), 1000);
 * clock.clearTimeout(handle);
 * ```
 */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
    clearTimeout: (handle) => globalThis.clearTimeout(handle),
    random: () => Math.random(),
  };
}
