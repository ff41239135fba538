// Popups of shared tabs: attached at once, announced with openerId, commands held while the
// popup's debugger is not ready, nothing left behind when the popup closes early.
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import type { CdpCall, Outcome } from "../../codec/extension_frame.ts";
import type { JsonObject } from "../../codec/json.ts";
import type { Debuggee, TabInfo } from "../../worker/ports.ts";
import { TabBridge } from "../../worker/tab_bridge.ts";
import { TabSessions } from "../../worker/tab_sessions.ts";
import { FakeDebugger } from "../_fakes/fake_debugger.ts";
import { FakeWindows, globalClock } from "../_fakes/fake_chrome.ts";
import { FakeRelayLink } from "../_fakes/fake_relay_link.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";

type Clock = ReturnType<typeof FakeTimers.install>;

/** Fakes plus a bridge wired to their events, with a switchable `sharePopups` setting. */
class Harness {
  readonly tabs = new FakeTabs();
  readonly dbg = new FakeDebugger(this.tabs);
  readonly storage = new FakeStorage();
  readonly link = new FakeRelayLink();
  readonly sessions = new TabSessions(this.storage.session);
  readonly shared: [number, number][] = [];
  /** Settles once each popup check has finished. */
  readonly created: Promise<void>[] = [];
  sharePopups = true;
  readonly bridge: TabBridge;
  readonly #unwire: () => void;

  constructor() {
    this.bridge = new TabBridge({
      debugger: this.dbg,
      tabs: this.tabs,
      windows: new FakeWindows(this.tabs),
      clock: globalClock(),
      sessions: this.sessions,
      link: this.link,
      sharePopups: () => Promise.resolve(this.sharePopups),
      onShared: (tabId, openerTabId) => this.shared.push([tabId, openerTabId]),
    });
    const onCreated = (tab: TabInfo) => this.created.push(this.bridge.handleTabCreated(tab));
    const onRemoved = (id: number) => this.bridge.handleTabRemoved(id);
    const onDetach = (s: Debuggee, r: string) => void this.bridge.handleDebuggerDetach(s, r);
    this.tabs.onCreated.addListener(onCreated);
    this.tabs.onRemoved.addListener(onRemoved);
    this.dbg.onDetach.addListener(onDetach);
    this.#unwire = () => {
      this.tabs.onCreated.removeListener(onCreated);
      this.tabs.onRemoved.removeListener(onRemoved);
      this.dbg.onDetach.removeListener(onDetach);
    };
  }

  command(id: number, method: string, sessionId: string, params?: JsonObject): void {
    const cdp: CdpCall = params === undefined
      ? { method, sessionId }
      : { method, sessionId, params };
    this.bridge.onCommand(id, cdp);
  }

  async settled(): Promise<void> {
    await Promise.all(this.created);
  }

  async close(clock: Clock): Promise<void> {
    this.bridge.close();
    this.#unwire();
    await this.sessions.flush();
    await clock.tickAsync(0);
    assert.equal(clock.countTimers(), 0, "timers left after close()");
  }
}

async function withHarness(fn: (h: Harness, clock: Clock) => Promise<void>): Promise<void> {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const h = new Harness();
    await h.bridge.restore();
    h.link.ready = true;
    h.bridge.onReady();
    await fn(h, clock);
    await h.close(clock);
  } finally {
    clock.uninstall();
  }
}

/** A shared tab at `https://opener.test/` as `cb-tab-1`. */
async function sharedOpener(h: Harness): Promise<number> {
  const opener = h.tabs.add({ url: "https://opener.test/", title: "Opener" });
  await h.bridge.attachTab(opener.id);
  h.link.clear();
  return opener.id;
}

const ok = (result: JsonObject): Outcome => ({ ok: true, result });

Deno.test("TabBridge.handleTabCreated() attaches a popup of a shared tab at once and announces it with openerId", async () => {
  await withHarness(async (h, clock) => {
    const openerTabId = await sharedOpener(h);
    const popup = h.tabs.open(openerTabId, { url: "https://popup.test/", title: "Popup" });
    await h.settled();
    await clock.tickAsync(0);
    assert.equal(h.dbg.isAttached(popup.id), true);
    assert.deepEqual(h.link.events, [{
      method: "Target.attachedToTarget",
      params: {
        sessionId: "cb-tab-2",
        targetInfo: {
          targetId: `TARGET-${popup.id}`,
          type: "page",
          title: "Popup",
          url: "https://popup.test/",
          attached: true,
          openerId: `TARGET-${openerTabId}`,
          canAccessOpener: false,
          browserContextId: "CONTEXT-1",
        },
        waitingForDebugger: false,
      },
    }]);
    assert.deepEqual(h.shared, [[popup.id, openerTabId]]);
    assert.deepEqual(h.bridge.tabs().map((t) => [t.tabId, t.sessionId]), [
      [openerTabId, "cb-tab-1"],
      [popup.id, "cb-tab-2"],
    ]);

    h.command(1, "Runtime.evaluate", "cb-tab-2", { expression: "1" });
    await clock.tickAsync(0);
    assert.deepEqual(h.dbg.callsOf("Runtime.evaluate")[0]?.debuggee, { tabId: popup.id });
    assert.deepEqual(h.link.responsesFor(1), [ok({})]);

    await t2(h, clock, popup.id);
  });
});

/** A popup of a popup is shared too: its opener is a shared tab. */
async function t2(h: Harness, clock: Clock, openerTabId: number): Promise<void> {
  h.link.clear();
  const nested = h.tabs.open(openerTabId, { url: "https://nested.test/" });
  await h.settled();
  await clock.tickAsync(0);
  assert.deepEqual(h.link.events.map((e) => e.params?.sessionId), ["cb-tab-3"]);
  assert.equal(
    (h.link.events[0]?.params?.targetInfo as JsonObject).openerId,
    `TARGET-${openerTabId}`,
  );
  assert.deepEqual(h.shared.at(-1), [nested.id, openerTabId]);
}

Deno.test("TabBridge.handleTabCreated() leaves tabs alone whose opener is not shared", async (t) => {
  await withHarness(async (h, clock) => {
    const openerTabId = await sharedOpener(h);
    await t.step("no opener, or an opener that is not shared: never attached", async () => {
      const other = h.tabs.add({ url: "https://other.test/" });
      const plain = h.tabs.add({ url: "https://plain.test/" });
      h.tabs.onCreated.emit({ ...plain });
      const child = h.tabs.open(other.id, { url: "https://child.test/" });
      await h.settled();
      await clock.tickAsync(0);
      assert.deepEqual(h.dbg.attachedTabs(), [openerTabId]);
      assert.equal(h.dbg.calls.some((c) => c.debuggee.tabId === child.id), false);
      assert.deepEqual(h.link.events, []);
    });
    await t.step("the setting is off: the popup is not attached", async () => {
      h.sharePopups = false;
      h.tabs.open(openerTabId, { url: "https://popup.test/" });
      await h.settled();
      await clock.tickAsync(0);
      assert.deepEqual(h.dbg.attachedTabs(), [openerTabId]);
      assert.deepEqual(h.link.events, []);
      assert.deepEqual(h.shared, []);
    });
  });
});

Deno.test("TabBridge.handleTabCreated() detaches again, announcing nothing, when Chrome names an unshared opener", async () => {
  await withHarness(async (h, clock) => {
    const openerTabId = await sharedOpener(h);
    // openerTabId is the tab that was active, not the real opener: the target info decides.
    const popup = h.tabs.add({ url: "https://popup.test/", openerTabId });
    h.dbg.setOpenerId(popup.id, "TARGET-unshared");
    h.tabs.onCreated.emit({ ...popup });
    await h.settled();
    await clock.tickAsync(0);
    assert.deepEqual(h.dbg.attachedTabs(), [openerTabId]);
    assert.equal(h.link.events.length, 0);
    assert.equal(h.bridge.attachedTabCount(), 1);
    assert.deepEqual(h.shared, []);

    // A tab without openerId (e.g. one Target.createTarget opened) is not a popup either, and
    // an explicit attach of it still works.
    const created = h.tabs.add({ url: "https://created.test/", openerTabId });
    h.dbg.setOpenerId(created.id, "");
    h.tabs.onCreated.emit({ ...created });
    const record = await h.bridge.attachTab(created.id);
    await h.settled();
    assert.equal(record.sessionId, "cb-tab-2");
    assert.equal(h.dbg.isAttached(created.id), true);
    assert.deepEqual(h.link.events.map((e) => e.params?.sessionId), ["cb-tab-2"]);
  });
});

Deno.test("TabBridge.handleTabCreated() shares a shared page's popup when Chrome names another tab as its opener", async () => {
  await withHarness(async (h, clock) => {
    const openerTabId = await sharedOpener(h);
    const active = h.tabs.add({ url: "https://active.test/" });
    // Chrome names the tab that was active, not the shared page that called window.open.
    h.bridge.handleDebuggerEvent({ tabId: openerTabId }, "Page.windowOpen", {
      url: "https://popup.test/",
    });
    const popup = h.tabs.add({ url: "https://popup.test/", openerTabId: active.id });
    h.dbg.setOpenerId(popup.id, `TARGET-${openerTabId}`);
    h.tabs.onCreated.emit({ ...popup });
    await h.settled();
    await clock.tickAsync(0);
    assert.equal(h.dbg.isAttached(popup.id), true);
    const attaches = h.link.events.filter((e) => e.method === "Target.attachedToTarget");
    assert.deepEqual(attaches.map((e) => e.params?.sessionId), ["cb-tab-2"]);
    // Long after the window.open, a tab the unshared tab opens is no candidate.
    h.link.clear();
    await clock.tickAsync(5_001);
    const later = h.tabs.open(active.id, { url: "https://later.test/" });
    await h.settled();
    await clock.tickAsync(0);
    assert.equal(h.dbg.calls.some((c) => c.debuggee.tabId === later.id), false);
    assert.deepEqual(h.link.events, []);
  });
});

Deno.test("TabBridge.handleTabCreated() never announces a popup closed during its attach", async () => {
  await withHarness(async (h, clock) => {
    const openerTabId = await sharedOpener(h);
    let release: (() => void) | undefined;
    h.dbg.reply("Target.getTargetInfo", (target) => {
      const info = {
        targetInfo: {
          targetId: `TARGET-${target.tabId}`,
          type: "page",
          url: "https://popup.test/",
          openerId: `TARGET-${openerTabId}`,
        },
      };
      return new Promise<JsonObject>((resolve) => release = () => resolve(info));
    });
    const popup = h.tabs.open(openerTabId, { url: "https://popup.test/" });
    await clock.tickAsync(0);
    assert.equal(h.dbg.isAttached(popup.id), true);
    assert.equal(h.bridge.pendingWork().inflight, 0);

    await h.tabs.remove(popup.id);
    release?.();
    await h.settled();
    await clock.tickAsync(0);
    assert.deepEqual(h.link.events, []);
    assert.equal(h.bridge.attachedTabCount(), 1);
    assert.deepEqual(h.bridge.tabs().map((t) => t.tabId), [openerTabId]);
    assert.deepEqual(h.shared, []);
    await h.sessions.flush();
    const stored = await h.storage.session.get(["browserRelay.tabs"]);
    assert.ok(JSON.stringify(stored).includes(`"tabId":${openerTabId}`));
    assert.equal(JSON.stringify(stored).includes(`"tabId":${popup.id}`), false);
  });
});

Deno.test("TabBridge.handleTabCreated() holds a popup's commands while its first navigation re-attaches", async () => {
  await withHarness(async (h, clock) => {
    const openerTabId = await sharedOpener(h);
    const popup = h.tabs.open(openerTabId, { url: "about:blank" });
    await h.settled();
    await clock.tickAsync(0);
    h.link.clear();

    // window.open(url): the popup leaves about:blank for another process at once.
    h.dbg.emitDetach(popup.id, "target_closed");
    await clock.tickAsync(0);
    h.command(1, "Page.enable", "cb-tab-2");
    h.command(2, "Runtime.evaluate", "cb-tab-2", { expression: "location.href" });
    await clock.tickAsync(0);
    assert.equal(h.link.responses.length, 0);
    await clock.tickAsync(200);
    assert.equal(h.dbg.isAttached(popup.id), true);
    assert.deepEqual(h.link.responses.map((r) => [r.id, r.outcome.ok]), [[1, true], [2, true]]);
    assert.deepEqual(
      h.dbg.calls.filter((c) => c.debuggee.tabId === popup.id).slice(-2).map((c) => c.method),
      ["Page.enable", "Runtime.evaluate"],
    );
    assert.equal(h.link.events.length, 0);
  });
});
