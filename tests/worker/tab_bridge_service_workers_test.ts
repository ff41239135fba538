// The bridge with service workers of shared origins: attached when a tab of their origin is
// shared, reached by their own relay session, and detached when the last such tab stops.
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import type { JsonObject } from "../../codec/json.ts";
import { noSessionError } from "../../codec/messages.ts";
import type { Debuggee } from "../../worker/ports.ts";
import { TabBridge } from "../../worker/tab_bridge.ts";
import { TabSessions } from "../../worker/tab_sessions.ts";
import { FakeDebugger } from "../_fakes/fake_debugger.ts";
import { FakeWindows, globalClock } from "../_fakes/fake_chrome.ts";
import { FakeRelayLink } from "../_fakes/fake_relay_link.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";

type Clock = ReturnType<typeof FakeTimers.install>;

async function withBridge(
  fn: (
    h: { tabs: FakeTabs; dbg: FakeDebugger; link: FakeRelayLink; bridge: TabBridge },
    clock: Clock,
  ) => Promise<void>,
): Promise<void> {
  const clock = FakeTimers.install({ now: 0 });
  const tabs = new FakeTabs();
  const dbg = new FakeDebugger(tabs);
  const link = new FakeRelayLink();
  const sessions = new TabSessions(new FakeStorage().session);
  const bridge = new TabBridge({
    debugger: dbg,
    tabs,
    windows: new FakeWindows(tabs),
    clock: globalClock(),
    sessions,
    link,
  });
  const onEvent = (s: Debuggee, m: string, p?: JsonObject) => bridge.handleDebuggerEvent(s, m, p);
  const onDetach = (s: Debuggee, r: string) => void bridge.handleDebuggerDetach(s, r);
  dbg.onEvent.addListener(onEvent);
  dbg.onDetach.addListener(onDetach);
  try {
    await bridge.restore();
    link.ready = true;
    bridge.onReady();
    await fn({ tabs, dbg, link, bridge }, clock);
    bridge.close();
    await sessions.flush();
    await clock.tickAsync(0);
    assert.equal(clock.countTimers(), 0, "timers left after close()");
  } finally {
    dbg.onEvent.removeListener(onEvent);
    dbg.onDetach.removeListener(onDetach);
    clock.uninstall();
  }
}

Deno.test("TabBridge.attachTab() attaches the service workers of the shared tab's origin", async (t) => {
  await withBridge(async ({ tabs, dbg, link, bridge }, clock) => {
    dbg.addWorker("SW1", "https://shop.example/sw.js");
    dbg.addWorker("SW2", "https://other.example/sw.js");
    const tab = tabs.add({ url: "https://shop.example/cart" });
    await bridge.attachTab(tab.id);
    await clock.tickAsync(0);

    await t.step("announced at the top level as service_worker; other origins never", () => {
      const announced = link.eventsOf("Target.attachedToTarget").map((e) => {
        const info = e.params?.targetInfo as JsonObject;
        return [e.params?.sessionId, info.type, info.targetId];
      });
      assert.deepEqual(announced, [
        ["cb-tab-1", "page", "TARGET-1"],
        ["cb-sw-SW1", "service_worker", "SW1"],
      ]);
      assert.equal(dbg.isTargetAttached("SW2"), false);
      assert.deepEqual(bridge.serviceWorkerTargets().map((i) => i.targetId), ["SW1"]);
    });

    await t.step("a command on its session goes to the worker and gets one reply", async () => {
      dbg.reply("Runtime.evaluate", (target) => ({
        result: { type: "string", value: String(target.targetId) },
      }));
      bridge.onCommand(7, {
        method: "Runtime.evaluate",
        sessionId: "cb-sw-SW1",
        params: { expression: "1" },
      });
      await clock.tickAsync(0);
      assert.deepEqual(link.responsesFor(7), [
        { ok: true, result: { result: { type: "string", value: "SW1" } } },
      ]);
      assert.deepEqual(dbg.callsOf("Runtime.evaluate").map((c) => c.debuggee), [
        { targetId: "SW1" },
      ]);
    });

    await t.step(
      "Runtime.enable is prepared as for a tab: disable, then enable at once, nothing held",
      async () => {
        dbg.calls.length = 0;
        bridge.onCommand(9, { method: "Runtime.enable", sessionId: "cb-sw-SW1" });
        bridge.onCommand(10, { method: "Runtime.evaluate", sessionId: "cb-sw-SW1" });
        await clock.tickAsync(0);
        assert.deepEqual(dbg.calls.map((c) => [c.method, c.debuggee]), [
          ["Runtime.disable", { targetId: "SW1" }],
          ["Runtime.enable", { targetId: "SW1" }],
          ["Runtime.evaluate", { targetId: "SW1" }],
        ]);
        assert.equal(link.responsesFor(9).length, 1);
        assert.equal(link.responsesFor(10).length, 1);
      },
    );

    await t.step("its events come back under its session", () => {
      link.clear();
      dbg.emitEvent({ targetId: "SW1" }, "Runtime.consoleAPICalled", { type: "log" });
      assert.deepEqual(link.events, [{
        method: "Runtime.consoleAPICalled",
        params: { type: "log" },
        sessionId: "cb-sw-SW1",
      }]);
    });

    await t.step(
      "a worker that starts later is attached when the page's session reports it",
      async () => {
        link.clear();
        dbg.addWorker("SW3", "https://shop.example/late.js");
        dbg.emitEvent({ tabId: tab.id }, "Target.attachedToTarget", {
          sessionId: "CHILD-SW3",
          targetInfo: {
            targetId: "SW3",
            type: "service_worker",
            url: "https://shop.example/late.js",
          },
          waitingForDebugger: false,
        });
        await clock.tickAsync(0);
        // The page's own child attach goes on as is; the worker's top-level target follows.
        assert.deepEqual(
          link.eventsOf("Target.attachedToTarget").map((e) => [e.sessionId, e.params?.sessionId]),
          [["cb-tab-1", "CHILD-SW3"], [undefined, "cb-sw-SW3"]],
        );
      },
    );

    await t.step("stopping the last tab of the origin detaches them", async () => {
      link.clear();
      await bridge.detachTab(tab.id, "toggle");
      await clock.tickAsync(0);
      const detached = link.eventsOf("Target.detachedFromTarget")
        .filter((e) => e.sessionId === undefined).map((e) => e.params?.sessionId);
      assert.deepEqual(detached, ["cb-tab-1", "cb-sw-SW1", "cb-sw-SW3"]);
      assert.equal(dbg.isTargetAttached("SW1"), false);
      assert.equal(dbg.isTargetAttached("SW3"), false);
      bridge.onCommand(8, { method: "Runtime.evaluate", sessionId: "cb-sw-SW1" });
      assert.deepEqual(link.responsesFor(8), [{ ok: false, error: noSessionError("cb-sw-SW1") }]);
    });
  });
});
