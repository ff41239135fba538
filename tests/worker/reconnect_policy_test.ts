import assert from "node:assert/strict";
import {
  backoffDelay,
  DEFAULT_RECONNECT_POLICY,
  reconnectDelay,
  type ReconnectPolicy,
} from "../../worker/reconnect_policy.ts";

const P = DEFAULT_RECONNECT_POLICY;

Deno.test("backoffDelay() follows min(1000 · 2^n, 30000) + random · 1000", () => {
  const table: [number, number, number][] = [
    // n, random, delay
    [0, 0, 1_000],
    [0, 0.999, 1_999],
    [1, 0, 2_000],
    [1, 0.5, 2_500],
    [2, 0, 4_000],
    [3, 0, 8_000],
    [4, 0.5, 16_500],
    [5, 0, 30_000],
    [5, 0.999, 30_999],
    [6, 0, 30_000],
    [50, 0.25, 30_250],
    [2_000, 0, 30_000], // 2^n overflows to Infinity; still capped
  ];
  for (const [n, random, delay] of table) {
    assert.equal(backoffDelay(n, P, () => random), delay, `n=${n} random=${random}`);
  }
});

Deno.test("backoffDelay() falls back to 1000/30000/1000 for non-finite inputs", () => {
  const broken = { baseMs: Number.NaN, maxMs: Number.POSITIVE_INFINITY, jitterMs: -1 };
  assert.equal(backoffDelay(0, broken, () => 0.5), 1_500);
  assert.equal(backoffDelay(10, broken, () => 0), 30_000);
  assert.equal(backoffDelay(Number.NaN, P, () => 0), 1_000);
  assert.equal(backoffDelay(-3, P, () => 0), 1_000);
  assert.equal(backoffDelay(0, P, () => Number.NaN), 1_000);
});

Deno.test("reconnectDelay() does not retry without attached tabs", () => {
  assert.deepEqual(
    reconnectDelay({ tabsAttached: 0, outageMs: 0, slowFailures: 0 }, P, () => 0),
    { kind: "idle" },
  );
});

Deno.test("reconnectDelay() uses the fast curve within the first minute and the slow curve after", () => {
  const table: [number, number, number, { delayMs: number; curve: "fast" | "slow" }][] = [
    // outageMs, slowFailures, random, decision
    [0, 0, 0, { delayMs: 750, curve: "fast" }],
    [30_000, 0, 0.999, { delayMs: 999.75, curve: "fast" }],
    [60_000, 0, 1, { delayMs: 1_000, curve: "fast" }],
    [60_001, 0, 0, { delayMs: 1_000, curve: "slow" }],
    [70_000, 1, 0.5, { delayMs: 2_500, curve: "slow" }],
    [90_000, 4, 0, { delayMs: 16_000, curve: "slow" }],
    [600_000, 9, 0.999, { delayMs: 30_999, curve: "slow" }],
  ];
  for (const [outageMs, slowFailures, random, expected] of table) {
    assert.deepEqual(
      reconnectDelay({ tabsAttached: 1, outageMs, slowFailures }, P, () => random),
      { kind: "retry", ...expected },
      `outage ${outageMs}`,
    );
  }
});

Deno.test("reconnectDelay() waits at least retryAfterMs", () => {
  assert.deepEqual(
    reconnectDelay(
      { tabsAttached: 1, outageMs: 0, slowFailures: 0, retryAfterMs: 5_000 },
      P,
      () => 0,
    ),
    { kind: "retry", delayMs: 5_000, curve: "fast" },
  );
  assert.deepEqual(
    reconnectDelay(
      { tabsAttached: 1, outageMs: 100_000, slowFailures: 5, retryAfterMs: 10 },
      P,
      () => 0,
    ),
    { kind: "retry", delayMs: 30_000, curve: "slow" },
  );
});

/** Simulates an outage against a relay that refuses at once; returns attempt times. */
function simulate(policy: ReconnectPolicy, random: () => number, untilMs: number): number[] {
  const times: number[] = [];
  let now = 0;
  let slowFailures = 0;
  while (now <= untilMs) {
    const decision = reconnectDelay(
      { tabsAttached: 1, outageMs: now, slowFailures },
      policy,
      random,
    );
    if (decision.kind === "idle") break;
    if (decision.curve === "slow") slowFailures++;
    now += decision.delayMs;
    times.push(now);
  }
  return times;
}

Deno.test("reconnectDelay() meets the 1.5 s recovery target for outages up to a minute", () => {
  // Budget: the wait until the next attempt plus 500 ms for the attempt itself on loopback.
  for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
    const times = simulate(P, () => r, 70_000);
    for (let back = 0; back <= 60_000; back += 37) {
      const next = times.find((t) => t >= back);
      assert.ok(next !== undefined && next - back + 500 <= 1_500, `back at ${back}, next ${next}`);
    }
  }
});

Deno.test("reconnectDelay() slows to at most one attempt per 30 s after long outages", () => {
  for (const r of [0, 0.5, 0.999]) {
    const times = simulate(P, () => r, 30 * 60_000);
    const late = times.filter((t) => t > 120_000);
    assert.ok(late.length > 40);
    for (let i = 1; i < late.length; i++) {
      const gap = (late[i] ?? 0) - (late[i - 1] ?? 0);
      assert.ok(gap >= 30_000 && gap < 31_000, `gap ${gap}`);
    }
  }
});
