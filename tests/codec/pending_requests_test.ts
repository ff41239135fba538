import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { PendingRequests, type PendingTimers } from "../../mod.ts";

type Clock = ReturnType<typeof FakeTimers.createClock>;

function timersOf(clock: Clock): PendingTimers {
  return {
    schedule: (callback, ms) => clock.setTimeout(callback, ms),
    cancel: (handle) => clock.clearTimeout(handle as ReturnType<Clock["setTimeout"]>),
  };
}

/** A fake peer: records every frame it is asked to send. */
class FakeWire {
  readonly sent: number[] = [];
  failNext: Error | undefined;
  send = (id: number): void => {
    if (this.failNext !== undefined) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    this.sent.push(id);
  };
}

Deno.test("PendingRequests() registers before sending and settles by id", async () => {
  const clock = FakeTimers.createClock(0);
  const pending = new PendingRequests<string>({ timers: timersOf(clock), timeoutMs: 1000 });
  let registered = false;
  const reply = pending.request((id) => {
    registered = pending.has(id);
  });
  assert.equal(registered, true);
  assert.equal(pending.settle(1, "one"), true);
  assert.equal(await reply, "one");
  assert.equal(pending.size, 0);
  assert.equal(clock.countTimers(), 0);
  assert.deepEqual(pending.stats, { settled: 1, timedOut: 0, ignored: 0, rejected: 0 });
});

Deno.test("PendingRequests() takes ids from the injected generator", async () => {
  const clock = FakeTimers.createClock(0);
  const ids = [10, 20];
  const pending = new PendingRequests<number>({
    timers: timersOf(clock),
    nextId: () => ids.shift()!,
  });
  const wire = new FakeWire();
  const a = pending.request(wire.send);
  const b = pending.request(wire.send);
  assert.deepEqual(wire.sent, [10, 20]);
  pending.settle(20, 2);
  pending.settle(10, 1);
  assert.deepEqual(await Promise.all([a, b]), [1, 2]);
  assert.equal(clock.countTimers(), 0);
});

Deno.test("PendingRequests() default ids start at 1 and increase", () => {
  const clock = FakeTimers.createClock(0);
  const pending = new PendingRequests<void>({ timers: timersOf(clock) });
  const wire = new FakeWire();
  const promises = [
    pending.request(wire.send),
    pending.request(wire.send),
    pending.request(wire.send),
  ];
  assert.deepEqual(wire.sent, [1, 2, 3]);
  assert.equal(pending.rejectAll(new Error("closed")), 3);
  return Promise.allSettled(promises).then(() => assert.equal(clock.countTimers(), 0));
});

Deno.test("PendingRequests() rejects at the deadline with the prebuilt error", async () => {
  const clock = FakeTimers.createClock(0);
  const pending = new PendingRequests<string>({ timers: timersOf(clock), timeoutMs: 5000 });
  const wire = new FakeWire();
  const timeoutError = new Error("extension request timeout: Page.navigate");
  const reply = pending.request(wire.send, { timeoutMs: 3000, timeoutError });
  const other = pending.request(wire.send);
  const outcome = reply.then(() => "resolved", (error) => error);
  await clock.tickAsync(2999);
  assert.equal(pending.has(1), true);
  await clock.tickAsync(1);
  assert.equal(await outcome, timeoutError);
  assert.equal(pending.has(1), false);
  assert.equal(pending.size, 1);
  await assert.rejects(Promise.all([other, clock.tickAsync(2000)]), {
    name: "Error",
    message: "Request 2 timed out after 5000 ms",
  });
  assert.equal(clock.countTimers(), 0);
  assert.deepEqual(pending.stats, { settled: 0, timedOut: 2, ignored: 0, rejected: 0 });
});

Deno.test("PendingRequests() counts and ignores a late response", async () => {
  const clock = FakeTimers.createClock(0);
  const pending = new PendingRequests<string>({ timers: timersOf(clock), timeoutMs: 100 });
  const reply = pending.request(new FakeWire().send).catch((error: Error) => error.message);
  await clock.tickAsync(100);
  assert.equal(await reply, "Request 1 timed out after 100 ms");
  assert.equal(pending.settle(1, "late"), false);
  assert.equal(pending.fail(1, new Error("late")), false);
  assert.deepEqual(pending.stats, { settled: 0, timedOut: 1, ignored: 2, rejected: 0 });
  assert.equal(clock.countTimers(), 0);
});

Deno.test("PendingRequests() counts and ignores an unknown id", () => {
  const clock = FakeTimers.createClock(0);
  const pending = new PendingRequests<string>({ timers: timersOf(clock) });
  assert.equal(pending.settle(42, "x"), false);
  assert.equal(pending.size, 0);
  assert.deepEqual(pending.stats, { settled: 0, timedOut: 0, ignored: 1, rejected: 0 });
});

Deno.test("PendingRequests() rejects and removes the entry when send throws synchronously", async () => {
  const clock = FakeTimers.createClock(0);
  const pending = new PendingRequests<string>({ timers: timersOf(clock) });
  const wire = new FakeWire();
  const sendError = new TypeError("socket is closed");
  wire.failNext = sendError;
  await assert.rejects(pending.request(wire.send), sendError);
  assert.equal(pending.size, 0);
  assert.equal(pending.has(1), false);
  assert.equal(clock.countTimers(), 0);
  assert.deepEqual(wire.sent, []);
});

Deno.test("PendingRequests() wraps a non-Error thrown by send", async () => {
  const clock = FakeTimers.createClock(0);
  const pending = new PendingRequests<string>({ timers: timersOf(clock) });
  await assert.rejects(
    pending.request(() => {
      throw "nope";
    }),
    { name: "Error", message: "nope" },
  );
  assert.equal(clock.countTimers(), 0);
});

Deno.test("PendingRequests() fail() rejects one entry and clears its timer", async () => {
  const clock = FakeTimers.createClock(0);
  const pending = new PendingRequests<string>({ timers: timersOf(clock) });
  const reply = pending.request(new FakeWire().send);
  const error = new Error("No session with given id: x");
  assert.equal(pending.fail(1, error), true);
  await assert.rejects(reply, error);
  assert.equal(clock.countTimers(), 0);
});

Deno.test("PendingRequests() rejectAll() leaves no entry and no timer behind", async () => {
  const clock = FakeTimers.createClock(0);
  const pending = new PendingRequests<string>({ timers: timersOf(clock), timeoutMs: 1000 });
  const wire = new FakeWire();
  const replies = [
    pending.request(wire.send),
    pending.request(wire.send),
    pending.request(wire.send),
  ];
  assert.equal(clock.countTimers(), 3);
  const closed = new Error("extension disconnected");
  assert.equal(pending.rejectAll(closed), 3);
  const outcomes = await Promise.allSettled(replies);
  assert.deepEqual(outcomes, replies.map(() => ({ status: "rejected", reason: closed })));
  assert.equal(pending.size, 0);
  assert.equal(clock.countTimers(), 0);
  await clock.tickAsync(5000);
  assert.equal(pending.settle(1, "late"), false);
  assert.deepEqual(pending.stats, { settled: 0, timedOut: 0, ignored: 1, rejected: 3 });
  assert.equal(pending.rejectAll(closed), 0);
});

Deno.test("PendingRequests() works with globally installed fake timers", async () => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const pending = new PendingRequests<string>({
      timers: {
        schedule: (callback, ms) => globalThis.setTimeout(callback, ms),
        cancel: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
      },
      timeoutMs: 50,
    });
    const reply = pending.request(new FakeWire().send).catch((error: Error) => error.message);
    await clock.tickAsync(50);
    assert.equal(await reply, "Request 1 timed out after 50 ms");
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("PendingRequests() rejects a non-positive timeoutMs", () => {
  const clock = FakeTimers.createClock(0);
  for (const timeoutMs of [0, -1, Number.POSITIVE_INFINITY, Number.NaN]) {
    assert.throws(() => new PendingRequests({ timers: timersOf(clock), timeoutMs }), {
      name: "RangeError",
      message:
        `Cannot create PendingRequests as "timeoutMs" must be a positive number: current value is ${timeoutMs}`,
    });
  }
});
