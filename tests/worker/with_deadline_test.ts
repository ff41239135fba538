import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { TimeoutError, withDeadline } from "../../worker/with_deadline.ts";
import { globalClock } from "../_fakes/fake_chrome.ts";

async function withClock(fn: (clock: ReturnType<typeof FakeTimers.install>) => Promise<void>) {
  const clock = FakeTimers.install({ now: 0 });
  try {
    await fn(clock);
    assert.equal(clock.countTimers(), 0, "timers left");
  } finally {
    clock.uninstall();
  }
}

Deno.test("withDeadline() settles like the call and clears its timer", async () => {
  await withClock(async () => {
    assert.equal(
      await withDeadline(globalClock(), Promise.resolve(7), {
        milliseconds: 100,
        error: new TimeoutError("late"),
      }),
      7,
    );
    await assert.rejects(
      withDeadline(globalClock(), Promise.reject(new RangeError("no")), {
        milliseconds: 100,
        error: new TimeoutError("late"),
      }),
      { name: "RangeError", message: "no" },
    );
  });
});

Deno.test("withDeadline() rejects with the prebuilt error when the clock passes the deadline", async () => {
  await withClock(async (clock) => {
    const error = new TimeoutError("Cannot complete tabs.get as Chrome did not answer");
    const call = withDeadline(globalClock(), new Promise(() => {}), { milliseconds: 100, error });
    const settled = call.catch((reason: unknown) => reason);
    await clock.tickAsync(99);
    await clock.tickAsync(1);
    assert.equal(await settled, error);
  });
});

Deno.test("withDeadline() builds a lazy error only on a timeout", async () => {
  await withClock(async (clock) => {
    let built = 0;
    const error = () => {
      built++;
      return new TimeoutError(
        'Cannot complete "Page.reload" as the tab\'s debugger did not answer',
      );
    };
    await withDeadline(globalClock(), Promise.resolve({}), { milliseconds: 100, error });
    assert.equal(built, 0);
    const call = withDeadline(globalClock(), new Promise(() => {}), { milliseconds: 100, error });
    const settled = call.catch((reason: unknown) => reason);
    await clock.tickAsync(100);
    assert.equal(built, 1);
    assert.ok(await settled instanceof TimeoutError);
  });
});

Deno.test("withDeadline() rejects at once with the signal's reason and clears the timer", async () => {
  await withClock(async () => {
    const controller = new AbortController();
    const call = withDeadline(globalClock(), new Promise(() => {}), {
      milliseconds: 100,
      error: new TimeoutError("late"),
      signal: controller.signal,
    });
    const reason = new Error("Cannot complete the command as the worker is shutting down");
    controller.abort(reason);
    await assert.rejects(call, reason);
  });
});
