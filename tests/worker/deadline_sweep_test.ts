import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { DeadlineSweep } from "../../worker/deadline_sweep.ts";
import { globalClock } from "../_fakes/fake_chrome.ts";

type Clock = ReturnType<typeof FakeTimers.install>;

function withClock(fn: (clock: Clock) => void): void {
  const clock = FakeTimers.install({ now: 0 });
  try {
    fn(clock);
    assert.equal(clock.countTimers(), 0, "timers left");
  } finally {
    clock.uninstall();
  }
}

Deno.test("DeadlineSweep expires a deadline exactly after its length, once", () => {
  withClock((clock) => {
    const sweep = new DeadlineSweep(globalClock(), 100);
    const expired: string[] = [];
    const deadline = sweep.add(() => expired.push("a"));
    assert.equal(deadline.due, 100);
    clock.tick(99);
    assert.deepEqual(expired, []);
    clock.tick(1);
    assert.deepEqual(expired, ["a"]);
    assert.equal(sweep.size, 0);
    // The late answer is recognised as late.
    assert.equal(sweep.settle(deadline), false);
    clock.tick(1_000);
    assert.deepEqual(expired, ["a"]);
  });
});

Deno.test("DeadlineSweep keeps one timer for many deadlines and re-arms for the oldest left", () => {
  withClock((clock) => {
    const sweep = new DeadlineSweep(globalClock(), 100);
    const expired: string[] = [];
    const a = sweep.add(() => expired.push("a"));
    clock.tick(10);
    sweep.add(() => expired.push("b"));
    clock.tick(10);
    sweep.add(() => expired.push("c"));
    assert.equal(clock.countTimers(), 1);
    assert.equal(sweep.settle(a), true);
    // The timer still fires at 100, finds "a" gone and re-arms for "b" at 110.
    clock.tick(80);
    assert.deepEqual(expired, []);
    assert.equal(clock.countTimers(), 1);
    clock.tick(9);
    assert.deepEqual(expired, []);
    clock.tick(1);
    assert.deepEqual(expired, ["b"]);
    clock.tick(10);
    assert.deepEqual(expired, ["b", "c"]);
    assert.equal(sweep.armed, false);
  });
});

Deno.test("DeadlineSweep sets no timer per deadline while one is armed", () => {
  withClock((clock) => {
    const sweep = new DeadlineSweep(globalClock(), 100);
    for (let i = 0; i < 50; i++) {
      const deadline = sweep.add(() => assert.fail("a settled deadline expired"));
      clock.tick(1);
      assert.equal(sweep.settle(deadline), true);
    }
    assert.equal(clock.countTimers(), 1);
    assert.equal(sweep.size, 0);
    // Nothing pending when the timer fires: it is not re-armed.
    clock.tick(100);
    assert.equal(sweep.armed, false);
  });
});

Deno.test("DeadlineSweep expires deadlines due at the same time in the order they were added", () => {
  withClock((clock) => {
    const sweep = new DeadlineSweep(globalClock(), 50);
    const expired: number[] = [];
    for (let i = 0; i < 3; i++) sweep.add(() => expired.push(i));
    clock.tick(50);
    assert.deepEqual(expired, [0, 1, 2]);
  });
});

Deno.test("DeadlineSweep arms a single timer for a deadline added by an expiring one", () => {
  withClock((clock) => {
    const sweep = new DeadlineSweep(globalClock(), 100);
    const expired: string[] = [];
    sweep.add(() => {
      expired.push("a");
      sweep.add(() => expired.push("b"));
    });
    clock.tick(100);
    assert.deepEqual(expired, ["a"]);
    assert.equal(clock.countTimers(), 1);
    clock.tick(100);
    assert.deepEqual(expired, ["a", "b"]);
  });
});

Deno.test("DeadlineSweep still expires the next deadline after an expiring one threw", () => {
  withClock((clock) => {
    const sweep = new DeadlineSweep(globalClock(), 100);
    const expired: string[] = [];
    sweep.add(() => {
      throw new Error("boom");
    });
    sweep.add(() => expired.push("b"));
    assert.throws(() => clock.tick(100), { message: "boom" });
    assert.deepEqual(expired, []);
    // Re-armed for the next turn (a zero delay set during a tick runs 1 ms later on fake time).
    clock.tick(1);
    assert.deepEqual(expired, ["b"]);
  });
});

Deno.test("DeadlineSweep.close() releases the timer; pending deadlines never expire", () => {
  withClock((clock) => {
    const sweep = new DeadlineSweep(globalClock(), 100);
    const deadline = sweep.add(() => assert.fail("expired after close()"));
    sweep.close();
    assert.equal(clock.countTimers(), 0);
    // An answer after close is not late: the caller still handles it.
    assert.equal(sweep.settle(deadline), true);
    const after = sweep.add(() => assert.fail("expired after close()"));
    assert.equal(clock.countTimers(), 0);
    clock.tick(1_000);
    assert.equal(sweep.settle(after), true);
    sweep.close();
  });
});

Deno.test("DeadlineSweep rejects a length that is not positive", () => {
  for (const ms of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => new DeadlineSweep(globalClock(), ms), {
      name: "RangeError",
      message: `Cannot create a deadline sweep: "ms" must be positive, got "${ms}"`,
    });
  }
});
