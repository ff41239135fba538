import assert from "node:assert/strict";
import { MemorySettle } from "../../relay/memory_settle.ts";
import { TestClock } from "./_helpers.ts";

Deno.test("MemorySettle() collects once after the last large frame of a burst", () => {
  const clock = new TestClock();
  const collected: number[] = [];
  const settle = new MemorySettle({
    clock,
    thresholdBytes: 1_000,
    delayMs: 1_000,
    collect: () => collected.push(clock.now()),
  });
  settle.note(999);
  assert.equal(clock.countTimers(), 0, "small frames arm nothing");
  settle.note(5_000);
  clock.tick(600);
  settle.note(5_000);
  clock.tick(999);
  assert.deepEqual(collected, []);
  clock.tick(1);
  assert.deepEqual(collected, [1_600]);
  assert.equal(settle.collections, 1);
  assert.equal(clock.countTimers(), 0);
});

Deno.test("MemorySettle() does nothing without gc() and after close()", () => {
  const clock = new TestClock();
  const without = new MemorySettle({
    clock,
    thresholdBytes: 1,
    delayMs: 10,
    collect: undefined,
  });
  without.note(100);
  assert.equal(clock.countTimers(), 0);
  const collected: number[] = [];
  const closed = new MemorySettle({
    clock,
    thresholdBytes: 1,
    delayMs: 10,
    collect: () => collected.push(1),
  });
  closed.note(100);
  closed.close();
  closed.close();
  closed.note(100);
  clock.tick(100);
  assert.deepEqual(collected, []);
  assert.equal(clock.countTimers(), 0);
});

Deno.test("MemorySettle.exposedGc() finds gc() only when the runtime exposes it", () => {
  const exposed = typeof Reflect.get(globalThis, "gc") === "function";
  assert.equal(MemorySettle.exposedGc() !== undefined, exposed);
});
