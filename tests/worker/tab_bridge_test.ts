import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import type { CdpCall, Outcome } from "../../codec/extension_frame.ts";
import type { JsonObject } from "../../codec/json.ts";
import { noSessionError } from "../../codec/messages.ts";
import { ErrorText } from "../../worker/error_text.ts";
import type { Debuggee } from "../../worker/ports.ts";
import { type RestoreResult, TabBridge } from "../../worker/tab_bridge.ts";
import { TabSessions } from "../../worker/tab_sessions.ts";
import { FakeDebugger } from "../_fakes/fake_debugger.ts";
import { FakeWindows, globalClock } from "../_fakes/fake_chrome.ts";
import { FakeRelayLink } from "../_fakes/fake_relay_link.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";

type Clock = ReturnType<typeof FakeTimers.install>;

/** Fakes plus a bridge wired to their events; `restart()` simulates a worker restart. */
class Harness {
  readonly tabs = new FakeTabs();
  readonly dbg = new FakeDebugger(this.tabs);
  readonly windows = new FakeWindows(this.tabs);
  readonly storage = new FakeStorage();
  link = new FakeRelayLink();
  sessions = new TabSessions(this.storage.session);
  bridge: TabBridge;
  readonly #unwire: () => void;

  constructor() {
    this.bridge = this.#build();
    const onEvent = (s: Debuggee, m: string, p?: JsonObject) =>
      this.bridge.handleDebuggerEvent(s, m, p);
    const onDetach = (s: Debuggee, r: string) => void this.bridge.handleDebuggerDetach(s, r);
    const onRemoved = (id: number) => this.bridge.handleTabRemoved(id);
    const onReplaced = (a: number, r: number) => this.bridge.handleTabReplaced(a, r);
    const onUpdated = (id: number, c: { url?: string; title?: string }) =>
      this.bridge.handleTabUpdated(id, c);
    this.dbg.onEvent.addListener(onEvent);
    this.dbg.onDetach.addListener(onDetach);
    this.tabs.onRemoved.addListener(onRemoved);
    this.tabs.onReplaced.addListener(onReplaced);
    this.tabs.onUpdated.addListener(onUpdated);
    this.#unwire = () => {
      this.dbg.onEvent.removeListener(onEvent);
      this.dbg.onDetach.removeListener(onDetach);
      this.tabs.onRemoved.removeListener(onRemoved);
      this.tabs.onReplaced.removeListener(onReplaced);
      this.tabs.onUpdated.removeListener(onUpdated);
    };
  }

  #build(): TabBridge {
    return new TabBridge({
      debugger: this.dbg,
      tabs: this.tabs,
      windows: this.windows,
      clock: globalClock(),
      sessions: this.sessions,
      link: this.link,
    });
  }

  /** A new worker: new link, table and bridge over the same storage and debugger state. */
  async restart(): Promise<RestoreResult> {
    await this.sessions.flush();
    this.bridge.close();
    this.link = new FakeRelayLink();
    this.sessions = new TabSessions(this.storage.session);
    this.bridge = this.#build();
    return await this.bridge.restore();
  }

  /** Brings the connection up: ready, then the onReady hook. */
  connect(): void {
    this.link.ready = true;
    this.bridge.onReady();
  }

  /** Drops the connection. */
  disconnect(): void {
    this.link.ready = false;
    this.bridge.onClosed();
  }

  command(id: number, method: string, sessionId?: string, params?: JsonObject): void {
    const cdp: CdpCall = {
      method,
      ...(sessionId === undefined ? {} : { sessionId }),
      ...(params === undefined ? {} : { params }),
    };
    this.bridge.onCommand(id, cdp);
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
    await fn(h, clock);
    await h.close(clock);
  } finally {
    clock.uninstall();
  }
}

function attachEvent(sessionId: string, targetId: string, url: string, title = ""): CdpCall {
  return {
    method: "Target.attachedToTarget",
    params: {
      sessionId,
      targetInfo: {
        targetId,
        type: "page",
        title,
        url,
        attached: true,
        canAccessOpener: false,
        browserContextId: "CONTEXT-1",
      },
      waitingForDebugger: false,
    },
  };
}

function detachEvent(sessionId: string, targetId: string, reason: string): CdpCall {
  return { method: "Target.detachedFromTarget", params: { sessionId, targetId, reason } };
}

const ok = (result: JsonObject): Outcome => ({ ok: true, result });
const err = (error: string): Outcome => ({ ok: false, error });

Deno.test("TabBridge.attachTab() announces cb-tab-N with the real target info and answers each command once", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://example.com/", title: "Example" });
    const record = await h.bridge.attachTab(tab.id);
    assert.equal(record.sessionId, "cb-tab-1");
    assert.equal(h.dbg.isAttached(tab.id), true);
    assert.deepEqual(h.link.events, [
      attachEvent("cb-tab-1", "TARGET-1", "https://example.com/", "Example"),
    ]);

    h.dbg.reply("Runtime.evaluate", () => ({ result: { type: "number", value: 2 } }));
    h.command(7, "Runtime.evaluate", "cb-tab-1", { expression: "1+1" });
    h.command(8, "Page.enable", "cb-tab-9");
    h.command(9, "Storage.getCookies");
    await clock.tickAsync(0);
    assert.deepEqual(h.dbg.callsOf("Runtime.evaluate"), [{
      debuggee: { tabId: tab.id },
      method: "Runtime.evaluate",
      params: { expression: "1+1" },
    }]);
    assert.deepEqual(h.link.responsesFor(7), [ok({ result: { type: "number", value: 2 } })]);
    assert.deepEqual(h.link.responsesFor(8), [err(noSessionError("cb-tab-9"))]);
    // Sessionless commands go to the first attached tab.
    assert.deepEqual(h.link.responsesFor(9), [ok({})]);
    assert.deepEqual(h.dbg.callsOf("Storage.getCookies")[0]?.debuggee, { tabId: tab.id });
  });
});

Deno.test("TabBridge.attachTab() keeps the tab attached and asks for a connection when the relay is down", async () => {
  await withHarness(async (h, clock) => {
    const tab = h.tabs.add({ url: "https://example.com/" });
    const record = await h.bridge.attachTab(tab.id);
    assert.equal(h.dbg.isAttached(tab.id), true);
    assert.deepEqual(h.link.connectRequests, ["tab attached"]);
    h.connect();
    await clock.tickAsync(0);
    assert.deepEqual(h.link.events.map((e) => e.params?.sessionId), [record.sessionId]);
  });
});

Deno.test("TabBridge.attachTab() refuses restricted pages without attaching", async () => {
  await withHarness(async (h) => {
    h.connect();
    const tab = h.tabs.add({ url: "chrome://settings/" });
    await assert.rejects(h.bridge.attachTab(tab.id), {
      message:
        'Cannot attach to tab 1 as Chrome does not allow debugging this page: URL is "chrome://settings/"',
    });
    assert.equal(h.dbg.isAttached(tab.id), false);
    assert.equal(h.link.events.length, 0);
  });
});

Deno.test("TabBridge.toggleTab() detaches an attached tab with reason toggle", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    assert.deepEqual(await h.bridge.toggleTab(tab.id), { attached: true, sessionId: "cb-tab-1" });
    assert.deepEqual(await h.bridge.toggleTab(tab.id), { attached: false });
    assert.equal(h.dbg.isAttached(tab.id), false);
    assert.deepEqual(h.link.events.at(-1), detachEvent("cb-tab-1", "TARGET-1", "toggle"));
    // A later attach gets a new id.
    assert.deepEqual(await h.bridge.toggleTab(tab.id), { attached: true, sessionId: "cb-tab-2" });
    await clock.tickAsync(0);
  });
});

Deno.test("TabBridge.onCommand() answers a command whose sendCommand never resolves after the deadline", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://frozen.test/" });
    await h.bridge.attachTab(tab.id);
    h.dbg.hang("Page.navigate");
    h.command(1, "Page.navigate", "cb-tab-1", { url: "https://next.test/" });
    await clock.tickAsync(29_999);
    assert.deepEqual(h.link.responsesFor(1), []);
    await clock.tickAsync(1);
    assert.deepEqual(h.link.responsesFor(1), [
      err(`Cannot complete "Page.navigate" as the tab's debugger did not answer: waited 30000 ms`),
    ]);
    // Nothing pending: no timer left and no second response ever.
    assert.equal(clock.countTimers(), 0);
    await clock.tickAsync(60_000);
    assert.equal(h.link.responsesFor(1).length, 1);
  });
});

Deno.test("TabBridge.onCommand() times every command out on its own deadline with one timer", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://frozen.test/" });
    await h.bridge.attachTab(tab.id);
    await clock.tickAsync(0);
    const before = clock.countTimers();
    h.dbg.hang("Page.navigate");
    const late = err(
      `Cannot complete "Page.navigate" as the tab's debugger did not answer: waited 30000 ms`,
    );
    h.command(1, "Page.navigate", "cb-tab-1", { url: "https://next.test/" });
    await clock.tickAsync(10_000);
    h.command(2, "Page.navigate", "cb-tab-1", { url: "https://next.test/" });
    // Answered at once: its deadline leaves without a timer of its own.
    h.command(3, "Runtime.evaluate", "cb-tab-1", { expression: "1" });
    await clock.tickAsync(10_000);
    h.command(4, "Page.navigate", "cb-tab-1", { url: "https://next.test/" });
    await clock.tickAsync(0);
    assert.equal(clock.countTimers(), before + 1);
    assert.equal(h.link.responsesFor(3).length, 1);
    await clock.tickAsync(9_999);
    assert.deepEqual([1, 2, 4].map((id) => h.link.responsesFor(id).length), [0, 0, 0]);
    await clock.tickAsync(1);
    assert.deepEqual(h.link.responsesFor(1), [late]);
    assert.deepEqual([2, 4].map((id) => h.link.responsesFor(id).length), [0, 0]);
    await clock.tickAsync(9_999);
    assert.deepEqual(h.link.responsesFor(2), []);
    await clock.tickAsync(1);
    assert.deepEqual(h.link.responsesFor(2), [late]);
    await clock.tickAsync(10_000);
    assert.deepEqual(h.link.responsesFor(4), [late]);
    assert.equal(clock.countTimers(), before);
    assert.deepEqual(h.bridge.pendingWork(), { inflight: 0, buffered: 0, reattaching: 0 });
  });
});

Deno.test("TabBridge.close() releases the deadline of a command Chrome never answers", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://frozen.test/" });
    await h.bridge.attachTab(tab.id);
    h.dbg.hang("Page.navigate");
    h.command(1, "Page.navigate", "cb-tab-1", { url: "https://next.test/" });
    await clock.tickAsync(0);
    assert.equal(clock.countTimers(), 1);
    assert.deepEqual(h.bridge.pendingWork(), { inflight: 1, buffered: 0, reattaching: 0 });
    h.bridge.close();
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("TabBridge.onCommand() issues pipelined commands in arrival order without waiting", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.dbg.hang("Runtime.evaluate");
    h.command(1, "Runtime.evaluate", "cb-tab-1", { expression: "await next()" });
    h.command(2, "Page.enable", "cb-tab-1");
    h.command(3, "Runtime.runIfWaitingForDebugger", "cb-tab-1");
    assert.deepEqual(h.dbg.calls.slice(-3).map((c) => c.method), [
      "Runtime.evaluate",
      "Page.enable",
      "Runtime.runIfWaitingForDebugger",
    ]);
    await clock.tickAsync(0);
    assert.deepEqual(h.link.responses.map((r) => r.id), [2, 3]);
    await clock.tickAsync(30_000);
    assert.deepEqual(h.link.responses.map((r) => r.id), [2, 3, 1]);
  });
});

Deno.test("TabBridge.handleDebuggerEvent() learns child sessions and routes their commands", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.link.clear();
    const childInfo = {
      targetId: "IFRAME-1",
      type: "iframe",
      title: "",
      url: "https://b.test/",
      attached: true,
    };
    h.dbg.emitEvent({ tabId: tab.id }, "Target.attachedToTarget", {
      sessionId: "CHILD-1",
      targetInfo: childInfo,
      waitingForDebugger: true,
    });
    h.dbg.emitEvent({ tabId: tab.id, sessionId: "CHILD-1" }, "Runtime.consoleAPICalled", {
      type: "log",
    });
    assert.deepEqual(h.link.events, [
      {
        method: "Target.attachedToTarget",
        sessionId: "cb-tab-1",
        params: { sessionId: "CHILD-1", targetInfo: childInfo, waitingForDebugger: true },
      },
      { method: "Runtime.consoleAPICalled", sessionId: "CHILD-1", params: { type: "log" } },
    ]);
    // The relay is ready, so the client resumes the child itself.
    assert.deepEqual(h.dbg.callsOf("Runtime.runIfWaitingForDebugger"), []);

    h.command(1, "Runtime.evaluate", "CHILD-1", { expression: "1" });
    await clock.tickAsync(0);
    assert.deepEqual(h.dbg.callsOf("Runtime.evaluate")[0]?.debuggee, {
      tabId: tab.id,
      sessionId: "CHILD-1",
    });
    assert.deepEqual(h.link.responsesFor(1), [ok({})]);
    await h.sessions.flush();
    const stored = h.storage.session.snapshot()["browserRelay.tabs"] as {
      tabs: { children: unknown[] }[];
    };
    assert.equal(stored.tabs[0]?.children.length, 1);

    h.dbg.emitEvent({ tabId: tab.id }, "Target.detachedFromTarget", {
      sessionId: "CHILD-1",
      targetId: "IFRAME-1",
    });
    h.command(2, "Runtime.evaluate", "CHILD-1", { expression: "1" });
    await clock.tickAsync(0);
    assert.deepEqual(h.link.responsesFor(2), [err(noSessionError("CHILD-1"))]);
  });
});

Deno.test("TabBridge.handleDebuggerEvent() resumes a paused child while the relay is away", async () => {
  await withHarness(async (h, clock) => {
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.dbg.emitEvent({ tabId: tab.id }, "Target.attachedToTarget", {
      sessionId: "W-1",
      targetInfo: { targetId: "WORKER-1", type: "worker", title: "", url: "", attached: true },
      waitingForDebugger: true,
    });
    await clock.tickAsync(0);
    assert.deepEqual(h.dbg.callsOf("Runtime.runIfWaitingForDebugger"), [{
      debuggee: { tabId: tab.id, sessionId: "W-1" },
      method: "Runtime.runIfWaitingForDebugger",
    }]);
  });
});

Deno.test("TabBridge.detachTab() sends parent_detached for children before the tab's detach", async () => {
  await withHarness(async (h) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.dbg.emitEvent({ tabId: tab.id }, "Target.attachedToTarget", {
      sessionId: "CHILD-1",
      targetInfo: { targetId: "IFRAME-1", type: "iframe", title: "", url: "", attached: true },
      waitingForDebugger: false,
    });
    h.link.clear();
    await h.bridge.detachTab(tab.id, "toggle");
    assert.deepEqual(h.link.events, [
      {
        method: "Target.detachedFromTarget",
        sessionId: "cb-tab-1",
        params: { sessionId: "CHILD-1", targetId: "IFRAME-1", reason: "parent_detached" },
      },
      detachEvent("cb-tab-1", "TARGET-1", "toggle"),
    ]);
  });
});

Deno.test("TabBridge.onReady() re-announces every tab once with the same ids; a failing tab blocks no other", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const a = h.tabs.add({ url: "https://a.test/", title: "A" });
    const b = h.tabs.add({ url: "https://b.test/", title: "B" });
    const c = h.tabs.add({ url: "https://c.test/", title: "C" });
    for (const tab of [a, b, c]) await h.bridge.attachTab(tab.id);

    h.disconnect();
    // Tab A freezes (getTargetInfo never answers); tab B answers with an error but stays ours.
    h.dbg.reply("Target.getTargetInfo", (debuggee) => {
      if (debuggee.tabId === a.id) return new Promise<JsonObject>(() => {});
      if (debuggee.tabId === b.id) throw new Error("Internal error");
      return {
        targetInfo: { targetId: "TARGET-3", type: "page", title: "C2", url: "https://c.test/2" },
      };
    });
    h.link.clear();
    h.connect();
    await clock.tickAsync(0);
    // Nothing was detached, and B and C did not wait for A.
    assert.deepEqual(h.dbg.attachedTabs(), [a.id, b.id, c.id]);
    assert.deepEqual(h.link.events.map((e) => e.params?.sessionId).sort(), [
      "cb-tab-2",
      "cb-tab-3",
    ]);
    assert.deepEqual(
      h.link.events.find((e) => e.params?.sessionId === "cb-tab-3"),
      {
        method: "Target.attachedToTarget",
        params: {
          sessionId: "cb-tab-3",
          targetInfo: {
            targetId: "TARGET-3",
            type: "page",
            title: "C2",
            url: "https://c.test/2",
            attached: true,
          },
          waitingForDebugger: false,
        },
      },
    );
    await clock.tickAsync(10_000);
    // A falls back to its cached info after the 10 s deadline.
    assert.deepEqual(h.link.events.map((e) => e.params?.sessionId).sort(), [
      "cb-tab-1",
      "cb-tab-2",
      "cb-tab-3",
    ]);
    assert.deepEqual(
      h.link.events.find((e) => e.params?.sessionId === "cb-tab-1"),
      attachEvent("cb-tab-1", "TARGET-1", "https://a.test/", "A"),
    );
    // A second ready on the same connection announces nothing twice.
    h.bridge.onReady();
    await clock.tickAsync(10_000);
    const perSession = new Map<string, number>();
    for (const e of h.link.eventsOf("Target.attachedToTarget")) {
      const id = String(e.params?.sessionId);
      perSession.set(id, (perSession.get(id) ?? 0) + 1);
    }
    assert.deepEqual([...perSession.values()], [1, 1, 1]);
    assert.deepEqual(h.link.eventsOf("Target.detachedFromTarget"), []);
  });
});

Deno.test("TabBridge.restore() keeps attached tabs, re-attaches lost ones, announces closed ones and continues the counter", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const kept = h.tabs.add({ url: "https://kept.test/" });
    const lost = h.tabs.add({ url: "https://lost.test/" });
    const closed = h.tabs.add({ url: "https://closed.test/" });
    for (const tab of [kept, lost, closed]) await h.bridge.attachTab(tab.id);
    h.command(1, "Network.enable", "cb-tab-2");
    await clock.tickAsync(0);

    // The worker dies; meanwhile Chrome loses one debugger and one tab closes.
    h.dbg.lose(lost.id);
    h.tabs.drop(closed.id);
    const callsBefore = h.dbg.calls.length;
    await h.restart();
    await clock.tickAsync(0);
    assert.deepEqual(h.dbg.attachedTabs().sort(), [kept.id, lost.id]);
    // The lost tab got its recorded state back.
    assert.deepEqual(
      h.dbg.calls.slice(callsBefore).filter((c) => c.method === "Network.enable"),
      [{ debuggee: { tabId: lost.id }, method: "Network.enable" }],
    );
    assert.deepEqual(h.bridge.tabs().map((t) => [t.tabId, t.sessionId, t.state]), [
      [kept.id, "cb-tab-1", "attached"],
      [lost.id, "cb-tab-2", "attached"],
    ]);

    h.connect();
    await clock.tickAsync(0);
    assert.deepEqual(h.link.events, [
      detachEvent("cb-tab-3", "TARGET-3", "tab_closed"),
      attachEvent("cb-tab-1", "TARGET-1", "https://kept.test/"),
      attachEvent("cb-tab-2", "TARGET-2", "https://lost.test/"),
    ]);
    const next = h.tabs.add({ url: "https://next.test/" });
    assert.equal((await h.bridge.attachTab(next.id)).sessionId, "cb-tab-4");
  });
});

Deno.test("TabBridge.restore() detaches a tab it holds that a junk table forgot, and leaves other clients' tabs", async (t) => {
  const junk: [string, unknown][] = [
    ["a string", "not a table"],
    ["an object of the wrong shape", { tabs: "cb-tab-1", counter: "1" }],
    ["records of the wrong shape", { tabs: [{ tabId: "1", sessionId: 1 }], counter: 1 }],
  ];
  for (const [label, value] of junk) {
    await t.step(label, async () => {
      await withHarness(async (h, clock) => {
        h.connect();
        const ours = h.tabs.add({ url: "https://ours.test/" });
        const devtools = h.tabs.add({ url: "https://devtools.test/" });
        await h.bridge.attachTab(ours.id);
        h.dbg.attachElsewhere(devtools.id);
        await h.sessions.flush();
        // The worker stops with junk where its table was.
        await h.storage.session.set({ "browserRelay.tabs": value });
        const result = await h.restart();
        await clock.tickAsync(0);
        assert.deepEqual(result, { orphans: [ours.id, devtools.id], released: [ours.id] });
        assert.deepEqual(h.dbg.attachedTabs(), []);
        assert.deepEqual(h.bridge.tabs(), []);
        // Nothing is relayed for the released tab, and a click shares it again cleanly.
        h.connect();
        await clock.tickAsync(0);
        assert.deepEqual(h.link.events, []);
        const record = await h.bridge.attachTab(ours.id);
        assert.equal(h.dbg.isAttached(ours.id), true);
        assert.deepEqual(h.link.events, [
          attachEvent(record.sessionId, "TARGET-1", "https://ours.test/"),
        ]);
      });
    });
  }
});

Deno.test("TabBridge.restore() never probes tabs with Runtime.evaluate", async () => {
  await withHarness(async (h, clock) => {
    const tab = h.tabs.add({ url: "https://busy.test/" });
    await h.bridge.attachTab(tab.id);
    h.dbg.hang("Runtime.evaluate");
    h.dbg.hang("Target.getTargetInfo");
    await h.restart();
    assert.deepEqual(h.bridge.tabs().map((t) => t.state), ["attached"]);
    assert.deepEqual(h.dbg.callsOf("Runtime.evaluate"), []);
    h.connect();
    await clock.tickAsync(10_000);
    // Busy tab: announced from the cache, never dropped.
    assert.deepEqual(h.link.events, [attachEvent("cb-tab-1", "TARGET-1", "https://busy.test/")]);
  });
});

Deno.test("TabBridge.handleTabReplaced() moves the session to the new tab and announces the new target", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.link.clear();
    const added = h.tabs.replace(tab.id);
    await clock.tickAsync(0);
    assert.deepEqual(h.bridge.tabs().map((t) => [t.tabId, t.sessionId, t.targetId, t.state]), [
      [added, "cb-tab-1", `TARGET-${added}`, "attached"],
    ]);
    assert.deepEqual(h.link.events, [
      detachEvent("cb-tab-1", "TARGET-1", "navigation-reattach"),
      attachEvent("cb-tab-1", `TARGET-${added}`, "https://a.test/"),
    ]);
    h.command(1, "Page.reload", "cb-tab-1");
    await clock.tickAsync(0);
    assert.deepEqual(h.dbg.callsOf("Page.reload")[0]?.debuggee, { tabId: added });
    assert.deepEqual(h.link.responsesFor(1), [ok({})]);
  });
});

Deno.test("TabBridge.handleTabRemoved() announces tab_closed and forgets the session", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const a = h.tabs.add({ url: "https://a.test/" });
    const b = h.tabs.add({ url: "https://b.test/" });
    await h.bridge.attachTab(a.id);
    await h.bridge.attachTab(b.id);
    h.link.clear();
    await h.tabs.remove(a.id);
    assert.deepEqual(h.link.events, [detachEvent("cb-tab-1", "TARGET-1", "tab_closed")]);
    h.command(1, "Page.enable", "cb-tab-1");
    await clock.tickAsync(0);
    assert.deepEqual(h.link.responsesFor(1), [err(noSessionError("cb-tab-1"))]);
    assert.equal(h.bridge.attachedTabCount(), 1);
    await h.sessions.flush();
    const stored = h.storage.session.snapshot()["browserRelay.tabs"] as { tabs: unknown[] };
    assert.equal(stored.tabs.length, 1);
  });
});

Deno.test("TabBridge.onCommand() emulates Target.closeTarget and refuses to close the last tab", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const only = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(only.id);
    h.command(1, "Target.closeTarget", undefined, { targetId: "TARGET-1" });
    await clock.tickAsync(0);
    assert.deepEqual(h.link.responsesFor(1), [err(ErrorText.CannotCloseLastTab)]);
    assert.equal(h.tabs.has(only.id), true);

    const other = h.tabs.add({ url: "https://b.test/" });
    h.command(2, "Target.closeTarget", undefined, { targetId: "TARGET-1" });
    await clock.tickAsync(0);
    assert.deepEqual(h.link.responsesFor(2), [ok({ success: true })]);
    assert.equal(h.tabs.has(only.id), false);
    assert.deepEqual(h.link.events.at(-1), detachEvent("cb-tab-1", "TARGET-1", "tab_closed"));

    h.command(3, "Target.closeTarget", undefined, { targetId: "NOPE" });
    await clock.tickAsync(0);
    assert.deepEqual(h.link.responsesFor(3), [ok({ success: false })]);
    assert.equal(h.tabs.has(other.id), true);
  });
});

Deno.test("TabBridge.handleDebuggerDetach() re-attaches a live tab after target_closed and flushes buffered commands", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    let scriptId = 0;
    h.dbg.reply("Page.addScriptToEvaluateOnNewDocument", () => ({ identifier: `S${++scriptId}` }));
    h.command(1, "Network.enable", "cb-tab-1");
    h.command(2, "Page.addScriptToEvaluateOnNewDocument", "cb-tab-1", { source: "1" });
    await clock.tickAsync(0);
    h.link.clear();

    h.dbg.emitDetach(tab.id, "target_closed");
    await clock.tickAsync(0);
    assert.deepEqual(h.bridge.tabs().map((t) => t.state), ["reattaching"]);
    h.command(3, "Runtime.evaluate", "cb-tab-1", { expression: "a" });
    h.command(4, "Runtime.evaluate", "cb-tab-1", { expression: "b" });
    await clock.tickAsync(199);
    assert.equal(h.link.responses.length, 0);
    assert.equal(h.dbg.isAttached(tab.id), false);
    await clock.tickAsync(1);
    assert.equal(h.dbg.isAttached(tab.id), true);
    // Replayed state, then the buffered commands, in order; nothing announced.
    const afterDetach = h.dbg.calls.slice(-5).map((c) => c.method);
    assert.deepEqual(afterDetach, [
      "Target.getTargetInfo",
      "Network.enable",
      "Page.addScriptToEvaluateOnNewDocument",
      "Runtime.evaluate",
      "Runtime.evaluate",
    ]);
    assert.deepEqual(h.dbg.callsOf("Runtime.evaluate").map((c) => c.params?.expression), [
      "a",
      "b",
    ]);
    assert.deepEqual(h.link.responses.map((r) => r.id), [3, 4]);
    assert.equal(h.link.events.length, 0);
    assert.deepEqual(h.bridge.tabs().map((t) => [t.sessionId, t.state]), [[
      "cb-tab-1",
      "attached",
    ]]);
    // The client's script id maps to the replayed one.
    h.command(5, "Page.removeScriptToEvaluateOnNewDocument", "cb-tab-1", { identifier: "S1" });
    await clock.tickAsync(0);
    assert.deepEqual(h.dbg.callsOf("Page.removeScriptToEvaluateOnNewDocument")[0]?.params, {
      identifier: "S2",
    });
  });
});

Deno.test("TabBridge.handleDebuggerDetach() fails buffered commands after 5 s and reports reattach_failed", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.link.clear();
    h.dbg.scriptAttach(tab.id, "fail", "fail", "fail", "fail", "fail");
    h.dbg.emitDetach(tab.id, "target_closed");
    await clock.tickAsync(0);
    h.command(1, "Page.navigate", "cb-tab-1", { url: "https://b.test/" });
    await clock.tickAsync(4_999);
    assert.equal(h.link.responses.length, 0);
    await clock.tickAsync(1);
    assert.deepEqual(h.link.responsesFor(1), [
      err('Cannot run "Page.navigate" as tab 1 is re-attaching its debugger: waited 5000 ms'),
    ]);
    h.command(2, "Page.reload", "cb-tab-1");
    await clock.tickAsync(7_700 - 5_000);
    assert.deepEqual(h.link.events, [detachEvent("cb-tab-1", "TARGET-1", "reattach_failed")]);
    assert.deepEqual(h.link.responsesFor(2), [
      err('Cannot run "Page.reload" as tab 1 was detached: reason is "reattach_failed"'),
    ]);
    assert.equal(h.bridge.attachedTabCount(), 0);
  });
});

Deno.test("TabBridge.handleDebuggerDetach() buffers at most 50 commands per tab", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.dbg.emitDetach(tab.id, "target_closed");
    await clock.tickAsync(0);
    for (let id = 1; id <= 51; id++) {
      h.command(id, "Runtime.evaluate", "cb-tab-1", { expression: "1" });
    }
    assert.deepEqual(h.link.responsesFor(51), [
      err(
        'Cannot run "Runtime.evaluate" as tab 1 is re-attaching its debugger: 50 commands already wait',
      ),
    ]);
    await clock.tickAsync(200);
    assert.equal(h.link.responses.length, 51);
    assert.ok(h.link.responses.slice(1).every((r) => r.outcome.ok));
  });
});

Deno.test("TabBridge.handleDebuggerDetach() announces a changed target after navigation with the same session id", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.link.clear();
    h.dbg.setTargetId(tab.id, "TARGET-NEW");
    h.dbg.emitDetach(tab.id, "target_closed");
    await clock.tickAsync(200);
    assert.deepEqual(h.link.events, [
      detachEvent("cb-tab-1", "TARGET-1", "navigation-reattach"),
      attachEvent("cb-tab-1", "TARGET-NEW", "https://a.test/"),
    ]);
  });
});

Deno.test("TabBridge.handleDebuggerDetach() detaches everything on canceled_by_user and never re-attaches", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const a = h.tabs.add({ url: "https://a.test/" });
    const b = h.tabs.add({ url: "https://b.test/" });
    await h.bridge.attachTab(a.id);
    await h.bridge.attachTab(b.id);
    h.link.clear();
    h.dbg.emitDetach(a.id, "canceled_by_user");
    h.dbg.emitDetach(b.id, "canceled_by_user");
    await clock.tickAsync(10_000);
    assert.deepEqual(h.link.events, [
      detachEvent("cb-tab-1", "TARGET-1", "canceled_by_user"),
      detachEvent("cb-tab-2", "TARGET-2", "canceled_by_user"),
    ]);
    assert.deepEqual(h.dbg.attachedTabs(), []);
    assert.equal(h.bridge.attachedTabCount(), 0);
  });
});

Deno.test("TabBridge.handleDebuggerDetach() drops a tab that navigated to a restricted URL", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.link.clear();
    h.tabs.navigate(tab.id, { url: "chrome://extensions/" });
    h.link.clear();
    h.dbg.emitDetach(tab.id, "target_closed");
    await clock.tickAsync(10_000);
    assert.deepEqual(h.link.events, [detachEvent("cb-tab-1", "TARGET-1", "target_closed")]);
    assert.equal(h.dbg.isAttached(tab.id), false);
  });
});

Deno.test("TabBridge.onCommand() emulates Target.createTarget: inactive tab, attach announced before the answer", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const first = h.tabs.add({ url: "https://a.test/", active: true });
    await h.bridge.attachTab(first.id);
    h.link.clear();
    h.windows.lastFocused = 1;
    h.command(1, "Target.createTarget", undefined, { url: "https://new.test/" });
    await clock.tickAsync(99);
    assert.equal(h.link.events.length, 0);
    await clock.tickAsync(1);
    const created = h.tabs.all().at(-1);
    assert.equal(created?.url, "https://new.test/");
    assert.equal(created?.active, false);
    assert.equal(created?.windowId, 1);
    assert.deepEqual(h.link.events, [
      attachEvent("cb-tab-2", `TARGET-${created?.id}`, "https://new.test/"),
    ]);
    assert.deepEqual(h.link.responsesFor(1), [ok({ targetId: `TARGET-${created?.id}` })]);

    h.command(2, "Target.createTarget", undefined, { newWindow: true });
    await clock.tickAsync(100);
    const windowed = h.tabs.all().at(-1);
    assert.equal(windowed?.url, "about:blank");
    assert.notEqual(windowed?.windowId, 1);
    assert.deepEqual(h.link.responsesFor(2), [ok({ targetId: `TARGET-${windowed?.id}` })]);
  });
});

Deno.test("TabBridge.onCommand() emulates Target.activateTarget: focus the window, then the tab", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const a = h.tabs.add({ url: "https://a.test/", windowId: 7 });
    await h.bridge.attachTab(a.id);
    h.command(1, "Target.activateTarget", undefined, { targetId: "TARGET-1" });
    h.command(2, "Target.activateTarget", undefined, { targetId: "UNKNOWN" });
    await clock.tickAsync(0);
    assert.deepEqual(h.windows.focused, [7]);
    assert.equal(h.tabs.peek(a.id)?.active, true);
    assert.deepEqual(h.link.responsesFor(1), [ok({})]);
    assert.deepEqual(h.link.responsesFor(2), [ok({})]);
  });
});

Deno.test("TabBridge.onCommand() turns Runtime.enable into disable then enable on the same debuggee", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.dbg.emitEvent({ tabId: tab.id }, "Target.attachedToTarget", {
      sessionId: "CHILD-1",
      targetInfo: { targetId: "IFRAME-1", type: "iframe", title: "", url: "", attached: true },
      waitingForDebugger: false,
    });
    const start = h.dbg.calls.length;
    h.command(1, "Runtime.enable", "CHILD-1", { maxScriptsCacheSize: 1 });
    h.command(2, "Runtime.evaluate", "CHILD-1", { expression: "1" });
    assert.deepEqual(h.dbg.calls.slice(start), [
      { debuggee: { tabId: tab.id, sessionId: "CHILD-1" }, method: "Runtime.disable" },
      {
        debuggee: { tabId: tab.id, sessionId: "CHILD-1" },
        method: "Runtime.enable",
        params: { maxScriptsCacheSize: 1 },
      },
      {
        debuggee: { tabId: tab.id, sessionId: "CHILD-1" },
        method: "Runtime.evaluate",
        params: { expression: "1" },
      },
    ]);
    await clock.tickAsync(0);
    assert.deepEqual(h.link.responses.map((r) => r.id), [1, 2]);
  });
});

Deno.test("TabBridge.onCommand() holds nothing behind Runtime.enable: Playwright's utility-world script reaches Chrome in the same turn", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/frames" });
    await h.bridge.attachTab(tab.id);
    // A tab whose Runtime.disable never answers: the client's commands still go out at once.
    h.dbg.hang("Runtime.disable");
    const start = h.dbg.calls.length;
    // What Playwright pipelines for a page it attaches to (FrameSession._initialize).
    h.command(1, "Page.getFrameTree", "cb-tab-1");
    h.command(2, "Runtime.enable", "cb-tab-1", {});
    h.command(3, "Page.addScriptToEvaluateOnNewDocument", "cb-tab-1", {
      source: "",
      worldName: "__playwright_utility_world__",
    });
    h.command(4, "Runtime.runIfWaitingForDebugger", "cb-tab-1");
    assert.deepEqual(h.dbg.calls.slice(start).map((c) => [c.debuggee, c.method]), [
      [{ tabId: tab.id }, "Page.getFrameTree"],
      [{ tabId: tab.id }, "Runtime.disable"],
      [{ tabId: tab.id }, "Runtime.enable"],
      [{ tabId: tab.id }, "Page.addScriptToEvaluateOnNewDocument"],
      [{ tabId: tab.id }, "Runtime.runIfWaitingForDebugger"],
    ]);
    await clock.tickAsync(0);
    assert.deepEqual(h.link.responses.map((r) => r.id).sort(), [1, 2, 3, 4]);
    assert.equal(h.bridge.pendingWork().inflight, 0);
  });
});

Deno.test("TabBridge.handleDebuggerEvent() keeps a context event behind the reply to Page.getFrameTree sent before Runtime.enable", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/frames" });
    await h.bridge.attachTab(tab.id);
    let answerTree: (result: JsonObject) => void = () => {};
    h.dbg.reply("Page.getFrameTree", () => new Promise((resolve) => (answerTree = resolve)));
    h.link.clear();
    h.command(1, "Page.getFrameTree", "cb-tab-1");
    h.command(2, "Runtime.enable", "cb-tab-1");
    await clock.tickAsync(0);
    // chrome.debugger hands the worker the enable's context event before the earlier reply.
    const context = { context: { id: 1, auxData: { frameId: "F1", isDefault: true } } };
    h.dbg.emitEvent({ tabId: tab.id }, "Runtime.executionContextCreated", context);
    h.dbg.emitEvent({ tabId: tab.id }, "Page.lifecycleEvent", { name: "load" });
    assert.deepEqual(h.link.wire, ["response 2", "event Page.lifecycleEvent"]);
    answerTree({ frameTree: { frame: { id: "F1" } } });
    await clock.tickAsync(0);
    assert.deepEqual(h.link.wire, [
      "response 2",
      "event Page.lifecycleEvent",
      "response 1",
      "event Runtime.executionContextCreated",
    ]);
    assert.deepEqual(h.link.eventsOf("Runtime.executionContextCreated"), [
      { method: "Runtime.executionContextCreated", params: context, sessionId: "cb-tab-1" },
    ]);
    // Released: later context events go straight through.
    h.dbg.emitEvent({ tabId: tab.id }, "Runtime.executionContextDestroyed", {
      executionContextId: 1,
    });
    assert.equal(h.link.wire.at(-1), "event Runtime.executionContextDestroyed");
  });
});

Deno.test("TabBridge.handleDebuggerEvent() holds no context event when nothing was pending before Runtime.enable", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.command(1, "Page.getFrameTree", "cb-tab-1");
    await clock.tickAsync(0);
    h.link.clear();
    h.dbg.hang("Runtime.enable");
    h.command(2, "Runtime.enable", "cb-tab-1");
    h.dbg.emitEvent({ tabId: tab.id }, "Runtime.executionContextCreated", { context: { id: 1 } });
    assert.deepEqual(h.link.wire, ["event Runtime.executionContextCreated"]);
  });
});

Deno.test("TabBridge.onCommand() answers Runtime.enable with its own outcome whatever Runtime.disable did", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.dbg.reply("Runtime.disable", () => {
      throw new Error("Runtime.disable refused");
    });
    h.command(1, "Runtime.enable", "cb-tab-1");
    await clock.tickAsync(0);
    assert.deepEqual(h.link.responsesFor(1), [ok({})]);
    h.dbg.reply("Runtime.enable", () => {
      throw new Error("Runtime.enable refused");
    });
    h.command(2, "Runtime.enable", "cb-tab-1");
    await clock.tickAsync(0);
    assert.deepEqual(h.link.responsesFor(2), [{ ok: false, error: "Runtime.enable refused" }]);
  });
});

Deno.test("TabBridge.onCommand() resets a session with BrowserRelay.resetSession and announces nothing", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.command(1, "Fetch.enable", "cb-tab-1");
    await clock.tickAsync(0);
    h.link.clear();
    h.command(2, "BrowserRelay.resetSession", "cb-tab-1");
    h.command(3, "Page.enable", "cb-tab-1");
    await clock.tickAsync(0);
    assert.deepEqual(
      h.link.responses.map((r) => [r.id, r.outcome]).sort(),
      [[2, ok({})], [3, ok({})]],
    );
    assert.equal(h.link.events.length, 0);
    assert.equal(h.dbg.isAttached(tab.id), true);
    // Nothing of the departed client is replayed after a later navigation.
    h.dbg.emitDetach(tab.id, "target_closed");
    await clock.tickAsync(200);
    assert.equal(h.dbg.callsOf("Fetch.enable").length, 1);
    assert.equal(h.dbg.callsOf("Page.enable").length, 2);
  });
});

Deno.test("TabBridge.handleTabUpdated() sends targetInfoChanged for a new title or URL", async () => {
  await withHarness(async (h) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/", title: "A" });
    await h.bridge.attachTab(tab.id);
    h.link.clear();
    h.tabs.navigate(tab.id, { title: "A2" });
    assert.deepEqual(h.link.events, [{
      method: "Target.targetInfoChanged",
      params: {
        targetInfo: {
          targetId: "TARGET-1",
          type: "page",
          title: "A2",
          url: "https://a.test/",
          attached: true,
          canAccessOpener: false,
          browserContextId: "CONTEXT-1",
        },
      },
    }]);
    assert.equal(h.bridge.tabs()[0]?.title, "A2");
  });
});

Deno.test("TabBridge.handleTabRemoved() ends a running re-attach loop and fails its buffered commands", async () => {
  await withHarness(async (h, clock) => {
    h.connect();
    const tab = h.tabs.add({ url: "https://a.test/" });
    await h.bridge.attachTab(tab.id);
    h.link.clear();
    h.dbg.emitDetach(tab.id, "target_closed");
    await clock.tickAsync(0);
    h.command(1, "Page.reload", "cb-tab-1");
    await h.tabs.remove(tab.id);
    await clock.tickAsync(10_000);
    assert.deepEqual(h.link.events, [detachEvent("cb-tab-1", "TARGET-1", "tab_closed")]);
    assert.deepEqual(h.link.responsesFor(1), [
      err('Cannot run "Page.reload" as tab 1 was detached: reason is "tab_closed"'),
    ]);
    assert.equal(h.bridge.attachedTabCount(), 0);
  });
});
