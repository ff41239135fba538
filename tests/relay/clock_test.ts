import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { systemClock } from "../../relay/clock.ts";

Deno.test("systemClock() delegates to globals installed after it was created", () => {
  const clock = systemClock();
  const fake = FakeTimers.install({ now: 1_000 });
  try {
    assert.equal(clock.now(), 1_000);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 50);
    const cancelled = clock.setTimeout(() => fired.push(-1), 60);
    clock.clearTimeout(cancelled);
    clock.clearTimeout(undefined);
    fake.tick(100);
    assert.deepEqual(fired, [1_050]);
    assert.equal(fake.countTimers(), 0);
  } finally {
    fake.uninstall();
  }
});
