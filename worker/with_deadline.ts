/**
 * The one deadline for every `chrome.*` call the worker awaits, on the {@linkcode Clock} port so
 * fake time drives it (style.md items 16 and 17).
 *
 * @module
 */

import pTimeout, { type ClearablePromise, TimeoutError } from "p-timeout";
import type { Clock, TimerHandle } from "./ports.ts";

export { TimeoutError };

/**
 * The bounded call. `clear()` releases the deadline's timer at once (the promise then settles
 * only with the call): a cheaper way than an abort signal to release many deadlines on close.
 */
export type DeadlinePromise<T> = ClearablePromise<T>;

/** Options of {@linkcode withDeadline}. */
export interface WithDeadlineOptions {
  /** Deadline in milliseconds; must be positive. */
  readonly milliseconds: number;
  /**
   * The rejection when the deadline passes. Pass the error itself (built when the call starts,
   * so its stack points at the caller), or a function that builds it only on a timeout: the
   * forwarded-command path uses that to avoid one `Error` (and its stack capture) per command.
   */
  readonly error: TimeoutError | (() => TimeoutError);
  /**
   * Rejects at once with the signal's reason and clears the deadline. Costs an abort listener
   * per call; a hot path keeps the returned promises and calls `clear()` instead.
   */
  readonly signal?: AbortSignal;
}

type Timers = NonNullable<Parameters<typeof pTimeout>[1]["customTimers"]>;

/** p-timeout's timer pair over the clock, which it calls with `this` undefined. */
function timersOf(clock: Pick<Clock, "setTimeout" | "clearTimeout">): Timers {
  return {
    setTimeout: ((callback: () => void, ms: number) => clock.setTimeout(callback, ms)) as Timers[
      "setTimeout"
    ],
    clearTimeout: ((handle: TimerHandle | undefined) => clock.clearTimeout(handle)) as Timers[
      "clearTimeout"
    ],
  };
}

/**
 * Settles like `promise`, or rejects with `options.error` after `options.milliseconds` on the
 * clock, whichever comes first. The timer and the abort listener are released on every path.
 *
 * @param clock The clock whose `setTimeout`/`clearTimeout` time the deadline.
 * @param promise The call to bound.
 * @param options Deadline, its error and an abort signal.
 * @returns The call's result, with `clear()` to release the deadline early.
 * @throws {TimeoutError} When the deadline passes first.
 *
 * @example Bound a debugger call
 * ```ts
 * const result = await withDeadline(clock, debuggerPort.sendCommand({ tabId }, "Page.enable"), {
 *   milliseconds: 10_000,
 *   error: new TimeoutError('Cannot complete "Page.enable" as Chrome did not answer: waited 10000 ms'),
 * });
 * ```
 */
export function withDeadline<T>(
  clock: Pick<Clock, "setTimeout" | "clearTimeout">,
  promise: PromiseLike<T>,
  options: WithDeadlineOptions,
): DeadlinePromise<T> {
  const { error } = options;
  return pTimeout(promise, {
    milliseconds: options.milliseconds,
    customTimers: timersOf(clock),
    ...(typeof error === "function"
      ? {
        fallback: () => {
          throw error();
        },
      }
      : { message: error }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}
