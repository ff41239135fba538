import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { PopupTracker } from "../../worker/popup_tracker.ts";
import { systemClock } from "../../worker/system_clock.ts";

const clockPort = systemClock();

const SHARED = 10;
const isShared = (tabId: number) => tabId === SHARED;

Deno.test("PopupTracker.shouldProbe() picks tabs a shared tab opened", async (t) => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    await t.step("openerTabId naming a shared tab is enough", () => {
      const tracker = new PopupTracker({ clock: clockPort });
      assert.equal(tracker.shouldProbe({ id: 11, openerTabId: SHARED }, isShared), true);
      tracker.close();
    });
    await t.step(
      "a Page.windowOpen from a shared tab vouches for a tab whose openerTabId is another tab",
      () => {
        const tracker = new PopupTracker({ clock: clockPort });
        tracker.windowOpened(SHARED, "http://a/popup");
        // Chrome's tab-strip opener is the tab that was active, not the real opener.
        assert.equal(
          tracker.shouldProbe({ id: 12, openerTabId: 99, pendingUrl: "http://a/popup" }, isShared),
          true,
        );
        tracker.ready(12);
        assert.equal(tracker.size, 0, "the window open is used up");
        tracker.close();
      },
    );
    await t.step("a window open older than the ttl vouches for nothing", () => {
      const tracker = new PopupTracker({ clock: clockPort, windowOpenTtlMs: 1_000 });
      tracker.windowOpened(SHARED, "http://a/late");
      clock.tick(1_001);
      assert.equal(tracker.shouldProbe({ id: 13, pendingUrl: "http://a/late" }, isShared), false);
      assert.equal(tracker.size, 0);
      tracker.close();
    });
    await t.step("tabs the person opens, and tabs already shared, are left alone", () => {
      const tracker = new PopupTracker({ clock: clockPort });
      assert.equal(tracker.shouldProbe({ id: 14 }, isShared), false);
      assert.equal(tracker.shouldProbe({ id: 15, openerTabId: 3 }, isShared), false);
      assert.equal(tracker.shouldProbe({ id: SHARED, openerTabId: SHARED }, isShared), false);
      assert.equal(tracker.size, 0);
      tracker.close();
    });
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("PopupTracker.isPopupOf() decides by Chrome's openerId, noopener included", () => {
  const tracker = new PopupTracker({ clock: clockPort });
  const shared = new Set(["OPENER"]);
  assert.equal(
    tracker.isPopupOf({ targetId: "P", openerId: "OPENER", canAccessOpener: false }, shared),
    true,
  );
  assert.equal(tracker.isPopupOf({ targetId: "P", openerId: "ELSE" }, shared), false);
  assert.equal(tracker.isPopupOf({ targetId: "P" }, shared), false);
  tracker.close();
});

Deno.test("PopupTracker.hold() holds commands for a popup being attached and runs them in order once ready", async () => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const tracker = new PopupTracker({ clock: clockPort });
    const ran: string[] = [];
    assert.equal(
      await tracker.hold(1, "Page.enable", () => Promise.resolve("not held")),
      "not held",
    );
    tracker.shouldProbe({ id: 11, openerTabId: SHARED }, isShared);
    const first = tracker.hold(
      11,
      "Page.enable",
      () => (ran.push("Page.enable"), Promise.resolve(1)),
    );
    const second = tracker.hold(
      11,
      "Runtime.enable",
      () => (ran.push("Runtime.enable"), Promise.resolve(2)),
    );
    await clock.tickAsync(500);
    assert.deepEqual(ran, []);
    tracker.ready(11);
    assert.deepEqual(await Promise.all([first, second]), [1, 2]);
    assert.deepEqual(ran, ["Page.enable", "Runtime.enable"]);
    assert.equal(tracker.size, 0);
    assert.equal(clock.countTimers(), 0);
    tracker.close();
  } finally {
    clock.uninstall();
  }
});

Deno.test("PopupTracker.tabRemoved() fails commands for a popup closed before it was attached", async () => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const tracker = new PopupTracker({ clock: clockPort });
    tracker.shouldProbe({ id: 11, openerTabId: SHARED }, isShared);
    const held = tracker.hold(11, "Page.navigate", () => Promise.resolve("ran"));
    tracker.tabRemoved(11);
    await assert.rejects(held, {
      name: "Error",
      message: 'Cannot send "Page.navigate" to tab 11 as it closed before it was attached',
    });
    assert.equal(tracker.size, 0);
    assert.equal(clock.countTimers(), 0);
    tracker.close();
  } finally {
    clock.uninstall();
  }
});

Deno.test("PopupTracker.hold() fails a command when the attach takes longer than holdTimeoutMs", async () => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const tracker = new PopupTracker({ clock: clockPort, holdTimeoutMs: 2_000 });
    tracker.shouldProbe({ id: 11, openerTabId: SHARED }, isShared);
    const held = tracker.hold(11, "DOM.getDocument", () => Promise.resolve("ran"));
    const outcome = assert.rejects(held, {
      message: 'Cannot send "DOM.getDocument" to tab 11 as it was not attached within 2000 ms',
    });
    await clock.tickAsync(2_000);
    await outcome;
    tracker.ready(11); // late: nothing left to run
    assert.equal(tracker.size, 0);
    assert.equal(clock.countTimers(), 0);
    tracker.close();
  } finally {
    clock.uninstall();
  }
});

Deno.test("PopupTracker.failed() and close() reject held commands with a reason and clear timers", async () => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const tracker = new PopupTracker({ clock: clockPort });
    tracker.shouldProbe({ id: 11, openerTabId: SHARED }, isShared);
    tracker.shouldProbe({ id: 12, openerTabId: SHARED }, isShared);
    const notPopup = tracker.hold(11, "Page.enable", () => Promise.resolve());
    const stopping = tracker.hold(12, "Page.enable", () => Promise.resolve());
    tracker.failed(11, "it was not opened by a shared tab");
    await assert.rejects(notPopup, {
      message: 'Cannot send "Page.enable" to tab 11 as it was not opened by a shared tab',
    });
    tracker.close();
    tracker.close();
    await assert.rejects(stopping, {
      message: 'Cannot send "Page.enable" to tab 12 as the extension is stopping',
    });
    assert.equal(tracker.shouldProbe({ id: 13, openerTabId: SHARED }, isShared), false);
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});
