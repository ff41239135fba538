import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { systemClock } from "../../worker/system_clock.ts";

Deno.test("systemClock() delegates to globals installed after it was created", async () => {
  const clock = systemClock();
  const fake = FakeTimers.install({ now: 5_000, toFake: ["setTimeout", "clearTimeout", "Date"] });
  try {
    assert.equal(clock.now(), 5_000);
    let fired = 0;
    clock.setTimeout(() => fired++, 100);
    const cancelled = clock.setTimeout(() => fired += 10, 100);
    clock.clearTimeout(cancelled);
    clock.clearTimeout(undefined);
    await fake.tickAsync(100);
    assert.equal(fired, 1);
    assert.equal(fake.countTimers(), 0);
    const r = clock.random();
    assert.ok(r >= 0 && r < 1);
  } finally {
    fake.uninstall();
  }
});
