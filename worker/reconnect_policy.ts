/**
 * The reconnect policy: pure functions from "how many failures, how long has the relay been
 * gone, are tabs waiting" to the next delay. Randomness is injected, so tables are exact.
 *
 * ## The policy
 *
 * 1. **Fast window.** While tabs are attached and the relay has been gone for at most
 *    `fastWindowMs` (60 s), every retry waits `fastDelayMs + random() · fastJitterMs`
 *    (750–1000 ms). A failed attempt against a stopped relay on loopback ends almost at once
 *    (connection refused), so a relay that comes back at any moment in that minute is dialled
 *    again within ~1 s and ready within the 1.5 s target. The jitter keeps several browser
 *    profiles from dialling in lockstep.
 * 2. **Slow curve** (protocol §10). After the fast window, delays follow
 *    `min(baseMs · 2^n, maxMs) + random() · jitterMs`, where `n` counts the failures that
 *    already used this curve: 1–2 s, 2–3 s, 4–5 s, 8–9 s, 16–17 s, then 30–31 s, so a long
 *    outage costs at most one attempt per 30 s.
 * 3. **Reset.** Success (`ready`) and a settings change start a fresh policy: the next outage
 *    gets the fast window again.
 * 4. **No tabs, no loop.** With no tab attached, nothing is retried in the background (the
 *    caller goes idle; the keepalive alarm or a user action starts the next attempt).
 * 5. **Rate limits.** A relay that answers `AUTH_RATE_LIMITED` with `retryAfterMs` is not dialled
 *    before that time: the delay is `max(retryAfterMs, policy delay)`.
 *
 * Non-finite or negative numbers in a policy fall back to the defaults below.
 *
 * @module
 */

/** Numbers of the reconnect policy. */
export interface ReconnectPolicy {
  /**
   * First delay of the slow curve.
   *
   * @default {1000}
   */
  readonly baseMs: number;
  /**
   * Cap of the slow curve, before jitter.
   *
   * @default {30000}
   */
  readonly maxMs: number;
  /**
   * Jitter added to each slow delay: `random() · jitterMs`.
   *
   * @default {1000}
   */
  readonly jitterMs: number;
  /**
   * How long after the relay went away the fast window lasts (only while tabs are attached).
   *
   * @default {60000}
   */
  readonly fastWindowMs: number;
  /**
   * Fixed part of a fast delay.
   *
   * @default {750}
   */
  readonly fastDelayMs: number;
  /**
   * Jitter added to each fast delay: `random() · fastJitterMs`.
   *
   * @default {250}
   */
  readonly fastJitterMs: number;
}

/** The project's reconnect policy. */
export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = Object.freeze({
  baseMs: 1000,
  maxMs: 30_000,
  jitterMs: 1000,
  fastWindowMs: 60_000,
  fastDelayMs: 750,
  fastJitterMs: 250,
});

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

function unit(random: () => number): number {
  const r = random();
  return Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
}

/**
 * The slow curve of protocol §10: `min(baseMs · 2^n, maxMs) + random() · jitterMs`.
 *
 * @param attempt `n`: failures that already used the slow curve (0 for the first slow retry).
 * @param policy Policy numbers; non-finite values fall back to 1000 / 30000 / 1000.
 * @param random Returns a number in [0, 1).
 * @returns The delay in milliseconds.
 *
 * @example
 * ```ts
 * backoffDelay(0, DEFAULT_RECONNECT_POLICY, () => 0); // 1000
 * backoffDelay(4, DEFAULT_RECONNECT_POLICY, () => 0.5); // 16500
 * backoffDelay(9, DEFAULT_RECONNECT_POLICY, () => 0.999); // 30999
 * ```
 */
export function backoffDelay(
  attempt: number,
  policy: Pick<ReconnectPolicy, "baseMs" | "maxMs" | "jitterMs">,
  random: () => number,
): number {
  const base = finiteOr(policy.baseMs, DEFAULT_RECONNECT_POLICY.baseMs);
  const max = finiteOr(policy.maxMs, DEFAULT_RECONNECT_POLICY.maxMs);
  const jitter = finiteOr(policy.jitterMs, DEFAULT_RECONNECT_POLICY.jitterMs);
  const n = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  // 2^n overflows to Infinity for large n; min() still caps it.
  return Math.min(base * 2 ** n, max) + unit(random) * jitter;
}

/** What {@linkcode reconnectDelay} needs to know about the outage. */
export interface ReconnectContext {
  /** Tabs currently attached. */
  readonly tabsAttached: number;
  /** How long the relay has been gone (since the last `ready` ended or the outage began). */
  readonly outageMs: number;
  /** Failures that already used the slow curve in this outage. */
  readonly slowFailures: number;
  /** `retryAfterMs` from an `AUTH_RATE_LIMITED` reply, if any. */
  readonly retryAfterMs?: number;
}

/** The decision of {@linkcode reconnectDelay}. */
export type ReconnectDecision =
  | { readonly kind: "idle" }
  | { readonly kind: "retry"; readonly delayMs: number; readonly curve: "fast" | "slow" };

/**
 * Decides whether and when to retry after a failed attempt or a dropped connection.
 *
 * @param context The outage so far.
 * @param policy Policy numbers.
 * @param random Returns a number in [0, 1).
 * @returns `idle` when no tab is attached; otherwise the delay and the curve it came from (the
 *   caller increments its slow-failure count for `slow`).
 *
 * @example
 * ```ts
 * reconnectDelay({ tabsAttached: 1, outageMs: 5_000, slowFailures: 0 }, DEFAULT_RECONNECT_POLICY, () => 0);
 * // { kind: "retry", delayMs: 750, curve: "fast" }
 * ```
 */
export function reconnectDelay(
  context: ReconnectContext,
  policy: ReconnectPolicy,
  random: () => number,
): ReconnectDecision {
  if (context.tabsAttached <= 0) return { kind: "idle" };
  const window = finiteOr(policy.fastWindowMs, DEFAULT_RECONNECT_POLICY.fastWindowMs);
  const retryAfter = context.retryAfterMs !== undefined && Number.isFinite(context.retryAfterMs)
    ? Math.max(context.retryAfterMs, 0)
    : 0;
  if (context.outageMs <= window) {
    const fast = finiteOr(policy.fastDelayMs, DEFAULT_RECONNECT_POLICY.fastDelayMs) +
      unit(random) * finiteOr(policy.fastJitterMs, DEFAULT_RECONNECT_POLICY.fastJitterMs);
    return { kind: "retry", delayMs: Math.max(fast, retryAfter), curve: "fast" };
  }
  const slow = backoffDelay(context.slowFailures, policy, random);
  return { kind: "retry", delayMs: Math.max(slow, retryAfter), curve: "slow" };
}
