import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { PhaseScope, ScopeReleasedError } from "../../worker/phase_scope.ts";
import { systemClock } from "../../worker/system_clock.ts";

async function withClock(body: (clock: FakeTimers.Clock) => Promise<void>): Promise<void> {
  const clock = FakeTimers.install({ now: 0, toFake: ["setTimeout", "clearTimeout", "Date"] });
  try {
    await body(clock);
    assert.equal(clock.countTimers(), 0, "timers left");
  } finally {
    clock.uninstall();
  }
}

Deno.test("PhaseScope.timer() fires once while the scope lives and never after release()", async () => {
  await withClock(async (clock) => {
    const scope = new PhaseScope(systemClock());
    const fired: string[] = [];
    scope.timer(100, () => fired.push("a"));
    scope.timer(200, () => fired.push("b"));
    assert.equal(clock.countTimers(), 2);
    await clock.tickAsync(100);
    assert.deepEqual(fired, ["a"]);
    assert.equal(clock.countTimers(), 1);
    scope.release();
    assert.equal(clock.countTimers(), 0);
    await clock.tickAsync(1_000);
    assert.deepEqual(fired, ["a"]);
    // A released scope refuses new timers instead of leaking them.
    scope.timer(10, () => fired.push("c"));
    assert.equal(clock.countTimers(), 0);
    await clock.tickAsync(100);
    assert.deepEqual(fired, ["a"]);
  });
});

Deno.test("PhaseScope.deadline() expires with its prebuilt error and is cleared by release()", async (t) => {
  await t.step("expires", async () => {
    await withClock(async (clock) => {
      const scope = new PhaseScope(systemClock());
      let expired = 0;
      scope.deadline(500, new Error("Too slow"), () => expired++);
      await clock.tickAsync(499);
      assert.equal(expired, 0);
      await clock.tickAsync(1);
      assert.equal(expired, 1);
      scope.release();
    });
  });
  await t.step("released first", async () => {
    await withClock(async (clock) => {
      const scope = new PhaseScope(systemClock());
      let expired = 0;
      scope.deadline(500, new Error("Too slow"), () => expired++);
      assert.equal(clock.countTimers(), 1);
      scope.release();
      assert.equal(clock.countTimers(), 0);
      await clock.tickAsync(1_000);
      assert.equal(expired, 0);
    });
  });
});

Deno.test("PhaseScope.alive() passes values and errors through until release(), then throws ScopeReleasedError", async () => {
  const scope = new PhaseScope(systemClock());
  assert.equal(await scope.alive(Promise.resolve(7)), 7);
  await assert.rejects(scope.alive(Promise.reject(new TypeError("Bad"))), {
    name: "TypeError",
    message: "Bad",
  });
  let resolve: (value: number) => void = () => {};
  const pending = scope.alive(new Promise<number>((r) => (resolve = r)));
  let reject: (error: Error) => void = () => {};
  const failing = scope.alive(new Promise<number>((_, r) => (reject = r)));
  scope.release();
  resolve(8);
  reject(new TypeError("Aborted"));
  await assert.rejects(pending, {
    name: "ScopeReleasedError",
    message: "Phase ended while waiting",
  });
  await assert.rejects(failing, (error: unknown) => {
    assert.ok(error instanceof ScopeReleasedError);
    assert.ok(error.cause instanceof TypeError);
    return true;
  });
});

Deno.test("PhaseScope.release() aborts the signal, runs cleanups once and is idempotent", () => {
  const scope = new PhaseScope(systemClock());
  const signal = scope.signal;
  const ran: string[] = [];
  scope.own(() => ran.push("first"));
  scope.own(() => ran.push("second"));
  assert.equal(signal.aborted, false);
  scope.release();
  scope.release();
  assert.equal(signal.aborted, true);
  assert.equal(scope.released, true);
  assert.deepEqual(ran, ["first", "second"]);
  // Owned after release: runs at once, so nothing waits for a release that already happened.
  scope.own(() => ran.push("late"));
  assert.deepEqual(ran, ["first", "second", "late"]);
  assert.equal(new PhaseScope(systemClock()).signal.aborted, false);
});

Deno.test("PhaseScope[Symbol.dispose]() releases the scope at the end of a using block", async () => {
  await withClock(async (clock) => {
    const fired: number[] = [];
    {
      using scope = new PhaseScope(systemClock());
      scope.timer(10, () => fired.push(1));
      assert.equal(clock.countTimers(), 1);
    }
    assert.equal(clock.countTimers(), 0);
    await clock.tickAsync(100);
    assert.deepEqual(fired, []);
  });
});
