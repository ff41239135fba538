import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import type { CdpCall } from "../../codec/extension_frame.ts";
import { RuntimeEventHold } from "../../worker/runtime_event_hold.ts";
import { globalClock } from "../_fakes/fake_chrome.ts";

type Timers = ReturnType<typeof FakeTimers.install>;

function withHold(
  fn: (hold: RuntimeEventHold, sent: CdpCall[], timers: Timers) => void,
): void {
  const timers = FakeTimers.install({ now: 0 });
  try {
    const sent: CdpCall[] = [];
    const hold = new RuntimeEventHold(globalClock(), {
      send: (event) => sent.push(event),
      maxHoldMs: 1000,
    });
    fn(hold, sent, timers);
    hold.close();
    assert.equal(timers.countTimers(), 0, "timers left after close()");
  } finally {
    timers.uninstall();
  }
}

const created = (id: number, sessionId = "cb-tab-1"): CdpCall => ({
  method: "Runtime.executionContextCreated",
  params: { context: { id } },
  sessionId,
});

Deno.test("RuntimeEventHold holds a session's Runtime events until the earlier commands are answered", () => {
  withHold((hold, sent) => {
    const getFrameTree = {};
    const logEnable = {};
    hold.enabled("cb-tab-1", [getFrameTree, logEnable]);
    assert.equal(hold.event(created(1)), true);
    assert.equal(hold.event({ method: "Page.frameAttached", sessionId: "cb-tab-1" }), false);
    assert.equal(hold.event(created(1, "CHILD-1")), false, "another session is not held");
    assert.equal(hold.event(created(2)), true);
    hold.answered("cb-tab-1", getFrameTree);
    assert.deepEqual(sent, []);
    hold.answered("cb-tab-1", logEnable);
    assert.deepEqual(sent, [created(1), created(2)]);
    assert.equal(hold.active, false);
    assert.equal(hold.event(created(3)), false, "released: later events pass");
  });
});

Deno.test("RuntimeEventHold holds nothing when no earlier command is unanswered", () => {
  withHold((hold) => {
    hold.enabled("cb-tab-1", []);
    assert.equal(hold.active, false);
    assert.equal(hold.event(created(1)), false);
  });
});

Deno.test("RuntimeEventHold ignores replies of other commands and sessions", () => {
  withHold((hold, sent) => {
    const getFrameTree = {};
    hold.enabled("cb-tab-1", [getFrameTree]);
    hold.event(created(1));
    hold.answered("cb-tab-1", {});
    hold.answered("CHILD-1", getFrameTree);
    hold.answered(undefined, getFrameTree);
    assert.deepEqual(sent, []);
    hold.answered("cb-tab-1", getFrameTree);
    assert.deepEqual(sent, [created(1)]);
  });
});

Deno.test("RuntimeEventHold releases after maxHoldMs when an earlier command stays unanswered", () => {
  withHold((hold, sent, timers) => {
    const slowEvaluate = {};
    hold.enabled("cb-tab-1", [slowEvaluate]);
    hold.event(created(1));
    timers.tick(999);
    assert.deepEqual(sent, []);
    timers.tick(1);
    assert.deepEqual(sent, [created(1)]);
    assert.equal(hold.active, false);
    hold.answered("cb-tab-1", slowEvaluate);
    assert.deepEqual(sent, [created(1)], "nothing is sent twice");
  });
});

Deno.test("RuntimeEventHold extends a running hold with a second Runtime.enable", () => {
  withHold((hold, sent) => {
    const first = {};
    const second = {};
    hold.enabled("cb-tab-1", [first]);
    hold.event(created(1));
    hold.enabled("cb-tab-1", [second]);
    hold.answered("cb-tab-1", first);
    assert.deepEqual(sent, []);
    hold.event(created(2));
    hold.answered("cb-tab-1", second);
    assert.deepEqual(sent, [created(1), created(2)]);
  });
});

Deno.test("RuntimeEventHold.close() drops held events and sends nothing later", () => {
  withHold((hold, sent, timers) => {
    const getFrameTree = {};
    hold.enabled("cb-tab-1", [getFrameTree]);
    hold.event(created(1));
    hold.close();
    timers.tick(2000);
    hold.answered("cb-tab-1", getFrameTree);
    assert.deepEqual(sent, []);
  });
});

Deno.test("RuntimeEventHold rejects a maxHoldMs that is not positive and finite", () => {
  for (const maxHoldMs of [0, -1, Infinity, NaN]) {
    assert.throws(
      () => new RuntimeEventHold(globalClock(), { send: () => {}, maxHoldMs }),
      RangeError,
    );
  }
});
