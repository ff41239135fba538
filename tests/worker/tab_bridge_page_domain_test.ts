// The extension's own Page.enable on shared tabs (issue 13): the download emulation needs the
// tabs' Page.download* events, which Chrome sends only while Page is enabled, so with a
// download bridge the extension keeps Page enabled whatever clients enable or disable, through
// navigation re-attaches, resets and worker restarts.
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import type { CdpCall, Outcome } from "../../codec/extension_frame.ts";
import type { JsonObject } from "../../codec/json.ts";
import { DownloadBridge } from "../../worker/download_bridge.ts";
import type { Debuggee } from "../../worker/ports.ts";
import { TabBridge } from "../../worker/tab_bridge.ts";
import { TabSessions } from "../../worker/tab_sessions.ts";
import { FakeWindows, globalClock } from "../_fakes/fake_chrome.ts";
import { FakeDebugger } from "../_fakes/fake_debugger.ts";
import { FakeDownloads } from "../_fakes/fake_downloads.ts";
import { FakeRelayLink } from "../_fakes/fake_relay_link.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";

type Clock = ReturnType<typeof FakeTimers.install>;

const ok = (result: JsonObject = {}): Outcome => ({ ok: true, result });

/** A link that also notes, for each announce, whether Page was already enabled on the tab. */
class NotingLink extends FakeRelayLink {
  readonly pageAtAnnounce: boolean[] = [];
  constructor(readonly pageEnabled: () => boolean) {
    super();
  }
  override sendEvent(cdp: CdpCall): boolean {
    if (cdp.method === "Target.attachedToTarget") this.pageAtAnnounce.push(this.pageEnabled());
    return super.sendEvent(cdp);
  }
}

/** Fakes plus a bridge with (or without) a download bridge; `restart()` is a new worker. */
class Harness {
  readonly tabs = new FakeTabs();
  readonly dbg = new FakeDebugger(this.tabs);
  readonly storage = new FakeStorage();
  readonly tabId: number;
  link: NotingLink;
  sessions = new TabSessions(this.storage.session);
  bridge: TabBridge;
  readonly #withDownloads: boolean;
  readonly #unwire: () => void;

  constructor(withDownloads: boolean) {
    this.#withDownloads = withDownloads;
    this.tabId = this.tabs.add({ url: "https://a.test/" }).id;
    this.link = this.#link();
    this.bridge = this.#build();
    const onDetach = (s: Debuggee, r: string) => void this.bridge.handleDebuggerDetach(s, r);
    this.dbg.onDetach.addListener(onDetach);
    this.#unwire = () => this.dbg.onDetach.removeListener(onDetach);
  }

  #link(): NotingLink {
    const link = new NotingLink(() => this.pageEnabled);
    link.ready = true;
    return link;
  }

  #build(): TabBridge {
    const link = this.link;
    return new TabBridge({
      debugger: this.dbg,
      tabs: this.tabs,
      windows: new FakeWindows(this.tabs),
      clock: globalClock(),
      sessions: this.sessions,
      link,
      ...(this.#withDownloads
        ? {
          downloads: new DownloadBridge({
            downloads: new FakeDownloads(),
            sendEvent: (cdp) => void link.sendEvent(cdp),
          }),
        }
        : {}),
    });
  }

  /** Whether Page is enabled on the tab's current debugger session. */
  get pageEnabled(): boolean {
    return this.dbg.isEnabled(this.tabId, "Page");
  }

  command(id: number, method: string, sessionId = "cb-tab-1"): void {
    this.bridge.onCommand(id, { method, sessionId });
  }

  /** Methods sent to the tab's own session since call number `from`. */
  topLevelCalls(from = 0): string[] {
    return this.dbg.calls.slice(from)
      .filter((c) => c.debuggee.sessionId === undefined && c.debuggee.tabId === this.tabId)
      .map((c) => c.method);
  }

  /** A new worker over the same storage and debugger state. */
  async restart(): Promise<void> {
    await this.sessions.flush();
    this.bridge.close();
    this.link = this.#link();
    this.sessions = new TabSessions(this.storage.session);
    this.bridge = this.#build();
    await this.bridge.restore();
    this.bridge.onReady();
  }

  async close(clock: Clock): Promise<void> {
    this.bridge.close();
    this.#unwire();
    await this.sessions.flush();
    await clock.tickAsync(0);
    assert.equal(clock.countTimers(), 0, "timers left after close()");
  }
}

async function withHarness(
  withDownloads: boolean,
  fn: (h: Harness, clock: Clock) => Promise<void>,
): Promise<void> {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const h = new Harness(withDownloads);
    await h.bridge.restore();
    h.bridge.onReady();
    await fn(h, clock);
    await h.close(clock);
  } finally {
    clock.uninstall();
  }
}

Deno.test("TabBridge.attachTab() enables Page on a shared tab before announcing it when downloads are emulated", async (t) => {
  await t.step("with a download bridge", async () => {
    await withHarness(true, async (h, clock) => {
      await h.bridge.attachTab(h.tabId);
      await clock.tickAsync(0);
      assert.deepEqual(h.link.pageAtAnnounce, [true]);
      assert.equal(h.pageEnabled, true);
      assert.deepEqual(h.topLevelCalls(), ["Target.getTargetInfo", "Page.enable"]);
    });
  });
  await t.step("without one, the tab's debugger session is left as clients set it", async () => {
    await withHarness(false, async (h, clock) => {
      await h.bridge.attachTab(h.tabId);
      await clock.tickAsync(0);
      assert.deepEqual(h.link.pageAtAnnounce, [false]);
      assert.deepEqual(h.topLevelCalls(), ["Target.getTargetInfo"]);
    });
  });
});

Deno.test("TabBridge.onCommand() keeps Page enabled when a client disables it on a tab's session", async (t) => {
  await t.step("a tab's own session: {} and Page stays enabled", async () => {
    await withHarness(true, async (h, clock) => {
      await h.bridge.attachTab(h.tabId);
      h.command(1, "Page.enable");
      h.command(2, "Page.disable");
      await clock.tickAsync(0);
      assert.deepEqual(h.link.responses, [{ id: 1, outcome: ok() }, { id: 2, outcome: ok() }]);
      assert.deepEqual(h.dbg.callsOf("Page.disable"), []);
      assert.equal(h.pageEnabled, true);
      // Chrome answered (in order) an idempotent Page.enable in its place.
      assert.deepEqual(h.topLevelCalls().slice(-2), ["Page.enable", "Page.enable"]);
      // The client's own Page.enable left the replay log with its disable.
      assert.deepEqual(h.sessions.byTab(h.tabId)?.replay, []);
    });
  });
  await t.step("a child session's Page.disable still goes to Chrome", async () => {
    await withHarness(true, async (h, clock) => {
      await h.bridge.attachTab(h.tabId);
      h.bridge.handleDebuggerEvent({ tabId: h.tabId }, "Target.attachedToTarget", {
        sessionId: "CHILD-1",
        targetInfo: { targetId: "IF-1", type: "iframe" },
        waitingForDebugger: false,
      });
      h.command(1, "Page.disable", "CHILD-1");
      await clock.tickAsync(0);
      assert.deepEqual(h.link.responses, [{ id: 1, outcome: ok() }]);
      assert.deepEqual(h.dbg.callsOf("Page.disable").map((c) => c.debuggee), [{
        tabId: h.tabId,
        sessionId: "CHILD-1",
      }]);
      assert.equal(h.pageEnabled, true);
    });
  });
  await t.step("without a download bridge it goes to Chrome", async () => {
    await withHarness(false, async (h, clock) => {
      await h.bridge.attachTab(h.tabId);
      h.command(1, "Page.enable");
      h.command(2, "Page.disable");
      await clock.tickAsync(0);
      assert.deepEqual(h.link.responses, [{ id: 1, outcome: ok() }, { id: 2, outcome: ok() }]);
      assert.equal(h.dbg.callsOf("Page.disable").length, 1);
      assert.equal(h.pageEnabled, false);
    });
  });
  await t.step("right after a Runtime.enable it keeps arrival order", async () => {
    await withHarness(true, async (h, clock) => {
      await h.bridge.attachTab(h.tabId);
      h.command(1, "Runtime.enable");
      h.command(2, "Page.disable");
      await clock.tickAsync(0);
      assert.deepEqual(h.link.responses.map((r) => r.id), [1, 2]);
      assert.equal(h.pageEnabled, true);
    });
  });
});

Deno.test("TabBridge.handleDebuggerDetach() enables Page again on the re-attached session before anything else", async (t) => {
  await t.step("same target: before the replay and the buffered commands", async () => {
    await withHarness(true, async (h, clock) => {
      await h.bridge.attachTab(h.tabId);
      h.command(1, "Network.enable");
      h.command(2, "Page.disable");
      await clock.tickAsync(0);
      h.dbg.emitDetach(h.tabId, "target_closed");
      await clock.tickAsync(0);
      h.command(3, "Runtime.evaluate");
      const from = h.dbg.calls.length;
      await clock.tickAsync(200);
      assert.equal(h.pageEnabled, true);
      assert.deepEqual(h.topLevelCalls(from), [
        "Page.enable",
        "Target.getTargetInfo",
        "Network.enable",
        "Runtime.evaluate",
      ]);
      assert.deepEqual(h.link.responses.map((r) => r.id), [1, 2, 3]);
      // Silent resume: nothing announced again.
      assert.deepEqual(h.link.pageAtAnnounce, [true]);
    });
  });
  await t.step("a new target: enabled before the new announce, with no replay", async () => {
    await withHarness(true, async (h, clock) => {
      await h.bridge.attachTab(h.tabId);
      h.dbg.setTargetId(h.tabId, "TARGET-NEW");
      h.dbg.emitDetach(h.tabId, "target_closed");
      await clock.tickAsync(200);
      assert.equal(h.pageEnabled, true);
      assert.deepEqual(h.link.pageAtAnnounce, [true, true]);
      assert.deepEqual(h.link.eventsOf("Target.detachedFromTarget").map((e) => e.params), [{
        sessionId: "cb-tab-1",
        targetId: `TARGET-${h.tabId}`,
        reason: "navigation-reattach",
      }]);
    });
  });
});

Deno.test("TabBridge.onCommand() enables Page again after BrowserRelay.resetSession", async () => {
  await withHarness(true, async (h, clock) => {
    await h.bridge.attachTab(h.tabId);
    h.command(1, "BrowserRelay.resetSession");
    await clock.tickAsync(0);
    assert.deepEqual(h.link.responses, [{ id: 1, outcome: ok() }]);
    assert.equal(h.dbg.isAttached(h.tabId), true);
    assert.equal(h.pageEnabled, true);
    assert.equal(h.dbg.callsOf("Page.enable").length, 2);
  });
});

Deno.test("TabBridge.restore() enables Page on a tab whose debugger was lost while the worker was stopped", async () => {
  await withHarness(true, async (h, clock) => {
    await h.bridge.attachTab(h.tabId);
    h.dbg.lose(h.tabId);
    assert.equal(h.pageEnabled, false);
    await h.restart();
    await clock.tickAsync(0);
    assert.equal(h.dbg.isAttached(h.tabId), true);
    assert.equal(h.pageEnabled, true);
  });
});
