import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import type { Ports } from "../../worker/ports.ts";
import { KEEPALIVE_ALARM, RelayClient, type StatusSnapshot } from "../../worker/relay_client.ts";
import type { CheckResult, CheckTarget } from "../../worker/check_connection.ts";
import {
  FakeAction,
  FakeAlarms,
  FakeRuntime,
  FakeWindows,
  globalClock,
} from "../_fakes/fake_chrome.ts";
import { FakeContentSettings } from "../_fakes/fake_content_settings.ts";
import { FakeDebugger } from "../_fakes/fake_debugger.ts";
import { FakeHttp, relayHandler } from "../_fakes/fake_http.ts";
import { type FakeSocket, FakeSocketFactory } from "../_fakes/fake_socket.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";
import { fakeDerive, scriptRelay, TOKEN } from "./_connection_harness.ts";

interface ClientHarness {
  readonly clock: ReturnType<typeof FakeTimers.install>;
  readonly tabs: FakeTabs;
  readonly dbg: FakeDebugger;
  readonly action: FakeAction;
  readonly alarms: FakeAlarms;
  readonly runtime: FakeRuntime;
  readonly storage: FakeStorage;
  readonly sockets: FakeSocketFactory;
  readonly ports: Ports;
  readonly checks: CheckTarget[];
  readonly contentSettings: FakeContentSettings;
  client: RelayClient;
  /** Flushes promise jobs without advancing time. */
  settle(): Promise<void>;
  /** A new client over the same fakes (a worker restart). */
  restart(): Promise<void>;
}

/** The project relay, scripted: open, challenge, hello-ok to the connect request. */
/** The CDP events a socket carried, as `[method, params]`. */
function eventsOn(socket: FakeSocket): { method: string; params: Record<string, unknown> }[] {
  return socket.sentJson.flatMap((frame) => {
    const f = frame as {
      method?: string;
      params?: { method: string; params: Record<string, unknown> };
    };
    return f.method === "forwardCDPEvent" && f.params ? [f.params] : [];
  });
}

async function withClient(
  seed: { readonly session?: Record<string, unknown>; readonly attached?: readonly number[] },
  body: (h: ClientHarness) => Promise<void>,
): Promise<void> {
  const clock = FakeTimers.install({
    now: 1_700_000_000_000,
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date", "performance"],
  });
  try {
    const tabs = new FakeTabs();
    const dbg = new FakeDebugger(tabs);
    const action = new FakeAction();
    const alarms = new FakeAlarms();
    const runtime = new FakeRuntime();
    // Their scripted relay speaks the OpenClaw flow (scheme mutual-v1: relay_connection tests).
    const storage = new FakeStorage({
      local: { gatewayToken: TOKEN, openclawRelayCompat: true },
      ...seed,
    });
    const sockets = new FakeSocketFactory();
    sockets.onCreate = scriptRelay;
    const http = new FakeHttp(relayHandler());
    const checks: CheckTarget[] = [];
    const contentSettings = new FakeContentSettings();
    const ports: Ports = {
      clock: globalClock(),
      storage,
      debugger: dbg,
      tabs,
      windows: new FakeWindows(tabs),
      action,
      alarms,
      runtime,
      socket: sockets.create,
      http: http.get,
      contentSettings,
    };
    const build = () =>
      new RelayClient(ports, {
        connection: { deriveToken: fakeDerive, log: () => {} },
        log: () => {},
        checkConnection: (target) => {
          checks.push(target);
          return Promise.resolve(
            { kind: "ok", url: "http://127.0.0.1:18792", message: "ok" } as unknown as CheckResult,
          );
        },
      });
    const settle = async () => {
      for (let i = 0; i < 10; i++) await clock.tickAsync(0);
    };
    const h: ClientHarness = {
      clock,
      tabs,
      dbg,
      action,
      alarms,
      runtime,
      storage,
      sockets,
      ports,
      checks,
      contentSettings,
      client: build(),
      settle,
      restart: async () => {
        h.client.close();
        await settle();
        h.client = build();
        await h.client.ready;
      },
    };
    await body(h);
    h.client.close();
    await settle();
    assert.equal(clock.countTimers(), 0, "timers left after close()");
    assert.equal(storage.listenerCount, 0, "storage listener left after close()");
  } finally {
    clock.uninstall();
  }
}

Deno.test("RelayClient() registers every listener in the constructor and removes them on close()", async () => {
  await withClient({}, async (h) => {
    const events = [
      h.action.onClicked,
      h.dbg.onEvent,
      h.dbg.onDetach,
      h.tabs.onCreated,
      h.tabs.onRemoved,
      h.tabs.onReplaced,
      h.tabs.onUpdated,
      h.alarms.onAlarm,
      h.runtime.onMessage,
      h.runtime.onInstalled,
      h.runtime.onStartup,
    ];
    // Synchronously, before any await: the event that woke the worker is not missed.
    assert.deepEqual(events.map((e) => e.size), events.map(() => 1));
    // The connection's settings listener and the client's own (token and tab-group setting).
    assert.equal(h.storage.listenerCount, 2);
    await h.client.ready;
    h.client.close();
    assert.deepEqual(events.map((e) => e.size), events.map(() => 0));
  });
});

Deno.test("RelayClient.clickAction() attaches, connects and announces the tab; commands get one response", async () => {
  await withClient({}, async (h) => {
    await h.client.ready;
    const tab = h.tabs.add({ url: "https://example.com/", title: "Example", active: true });
    const result = await h.client.clickAction(tab);
    assert.deepEqual(result, { attached: true, sessionId: "cb-tab-1" });
    await h.settle();
    assert.equal(h.client.status().connection.phase, "ready");
    const socket = h.sockets.last;
    assert.deepEqual(eventsOn(socket).map((e) => [e.method, e.params.sessionId]), [
      ["Target.attachedToTarget", "cb-tab-1"],
    ]);
    assert.deepEqual(h.action.badgeOf(tab.id)?.text, "ON");

    socket.receive({
      id: 1,
      method: "forwardCDPCommand",
      params: { method: "Runtime.evaluate", sessionId: "cb-tab-1", params: { expression: "1" } },
    });
    await h.settle();
    const responses = socket.sentJson.filter((f) => (f as { id?: unknown }).id === 1);
    assert.deepEqual(responses, [{ id: 1, result: {} }]);

    // A second click detaches.
    assert.deepEqual(await h.client.clickAction(tab), { attached: false });
    assert.equal(h.dbg.isAttached(tab.id), false);
    assert.equal(h.action.badgeOf(tab.id)?.text, "");
  });
});

Deno.test("RelayClient() shares a popup of a shared tab unless sharePopups is false", async (t) => {
  await withClient({}, async (h) => {
    await h.client.ready;
    const opener = h.tabs.add({ url: "https://example.com/", title: "Example", active: true });
    await h.client.clickAction(opener);
    await h.settle();
    await t.step("on by default: attached and announced with openerId", async () => {
      const popup = h.tabs.open(opener.id, { url: "https://popup.example/" });
      await h.settle();
      const attaches = eventsOn(h.sockets.last).filter((e) =>
        e.method === "Target.attachedToTarget"
      );
      assert.deepEqual(attaches.map((e) => e.params.sessionId), ["cb-tab-1", "cb-tab-2"]);
      assert.equal(
        (attaches[1]?.params.targetInfo as Record<string, unknown>).openerId,
        `TARGET-${opener.id}`,
      );
      assert.equal(h.dbg.isAttached(popup.id), true);
      assert.equal(h.action.badgeOf(popup.id)?.text, "ON");
    });
    await t.step("off: the next popup stays unshared", async () => {
      await h.storage.local.set({ sharePopups: false });
      const popup = h.tabs.open(opener.id, { url: "https://popup2.example/" });
      await h.settle();
      assert.equal(h.dbg.isAttached(popup.id), false);
      assert.deepEqual(h.client.status().tabs.map((tab) => tab.sessionId), [
        "cb-tab-1",
        "cb-tab-2",
      ]);
    });
  });
});

Deno.test("RelayClient() releases the debugger a junk tab table forgot and turns its badge off", async () => {
  await withClient({}, async (h) => {
    await h.client.ready;
    const tab = h.tabs.add({ url: "https://example.com/", title: "Example", active: true });
    await h.client.clickAction(tab);
    await h.settle();
    assert.equal(h.action.badgeOf(tab.id)?.text, "ON");
    // Junk in the persisted table, then a worker stop: Chrome keeps the debugger and the badge.
    h.client.close();
    await h.settle();
    await h.storage.session.set({ "browserRelay.tabs": "junk" });
    h.client = new RelayClient(h.ports, {
      connection: { deriveToken: fakeDerive, log: () => {} },
      log: () => {},
    });
    await h.client.ready;
    await h.settle();
    assert.equal(h.dbg.isAttached(tab.id), false);
    assert.equal(h.action.badgeOf(tab.id)?.text, "");
    assert.deepEqual(h.client.status().tabs, []);
    // A click shares the tab again instead of failing with "Another debugger is already attached".
    const again = await h.client.clickAction(tab);
    assert.equal(again?.attached, true);
    await h.settle();
    assert.equal(h.action.badgeOf(tab.id)?.text, "ON");
  });
});

Deno.test("RelayClient() hands a relayed command to chrome.debugger in the same task once restored", async () => {
  await withClient({}, async (h) => {
    await h.client.ready;
    const tab = h.tabs.add({ url: "https://example.com/", title: "Example", active: true });
    await h.client.clickAction(tab);
    await h.settle();
    const socket = h.sockets.last;
    socket.receive({
      id: 7,
      method: "forwardCDPCommand",
      params: { method: "Runtime.evaluate", sessionId: "cb-tab-1", params: { expression: "1" } },
    });
    // No promise hop between the socket and the debugger: the call is made before any await.
    assert.deepEqual(h.dbg.callsOf("Runtime.evaluate").map((c) => c.params), [{ expression: "1" }]);
    await h.settle();
    const responses = socket.sentJson.filter((f) => (f as { id?: unknown }).id === 7);
    assert.deepEqual(responses, [{ id: 7, result: {} }]);
  });
});

Deno.test("RelayClient.clickAction() shows ! with the reason when Chrome refuses the attach", async () => {
  await withClient({}, async (h) => {
    const tab = h.tabs.add({ url: "chrome://settings/", active: true });
    assert.equal(await h.client.clickAction(tab), undefined);
    const badge = h.action.badgeOf(tab.id);
    assert.equal(badge?.text, "!");
    assert.equal(
      badge?.title,
      "Browser Relay: Chrome does not let extensions share this page",
    );
  });
});

Deno.test("RelayClient() re-announces every tab once with the same ids after a relay drop", async () => {
  await withClient({}, async (h) => {
    const a = h.tabs.add({ url: "https://a.test/" });
    const b = h.tabs.add({ url: "https://b.test/" });
    await h.client.toggleTab(a.id);
    await h.client.toggleTab(b.id);
    await h.settle();
    const first = h.sockets.last;
    first.drop(1006, "");
    await h.settle();
    assert.deepEqual(h.dbg.attachedTabs(), [a.id, b.id]);
    await h.clock.tickAsync(2_000);
    await h.settle();
    const second = h.sockets.last;
    assert.notEqual(second, first);
    assert.equal(h.client.status().connection.phase, "ready");
    assert.deepEqual(eventsOn(second).map((e) => [e.method, e.params.sessionId]), [
      ["Target.attachedToTarget", "cb-tab-1"],
      ["Target.attachedToTarget", "cb-tab-2"],
    ]);
  });
});

Deno.test("RelayClient() handles events that woke the worker only after restoring the tab table", async () => {
  await withClient({}, async (h) => {
    const a = h.tabs.add({ url: "https://a.test/" });
    const b = h.tabs.add({ url: "https://b.test/" });
    await h.client.toggleTab(a.id);
    await h.client.toggleTab(b.id);
    await h.settle();
    h.client.close();
    await h.settle();

    // The worker restarts because tab A was closed: the event arrives during construction.
    h.client = new RelayClient(h.ports, {
      connection: { deriveToken: fakeDerive, log: () => {} },
      log: () => {},
    });
    void h.tabs.remove(a.id);
    h.dbg.emitEvent({ tabId: b.id }, "Target.attachedToTarget", {
      sessionId: "CHILD-1",
      targetInfo: { targetId: "IFRAME-1", type: "iframe", title: "", url: "", attached: true },
      waitingForDebugger: false,
    });
    await h.settle();
    const status: StatusSnapshot = h.client.status();
    assert.deepEqual(status.tabs.map((t) => [t.tabId, t.sessionId, t.state]), [
      [b.id, "cb-tab-2", "attached"],
    ]);
    assert.equal(status.connection.phase, "ready");
    assert.deepEqual(eventsOn(h.sockets.last).map((e) => [e.method, e.params.sessionId]), [
      ["Target.detachedFromTarget", "cb-tab-1"],
      ["Target.attachedToTarget", "cb-tab-2"],
    ]);
    // The child learned from the early event routes to tab B.
    h.sockets.last.receive({
      id: 1,
      method: "forwardCDPCommand",
      params: { method: "DOM.enable", sessionId: "CHILD-1" },
    });
    await h.settle();
    assert.deepEqual(h.dbg.callsOf("DOM.enable").map((c) => c.debuggee), [
      { tabId: b.id, sessionId: "CHILD-1" },
    ]);
  });
});

Deno.test("RelayClient() answers the options page's status, detachAll and checkConnection messages", async () => {
  await withClient({}, async (h) => {
    const tab = h.tabs.add({ url: "https://a.test/", title: "A" });
    await h.client.toggleTab(tab.id);
    await h.settle();
    const status = await h.runtime.send({ type: "status" }) as StatusSnapshot;
    assert.equal(status.connection.phase, "ready");
    assert.deepEqual(status.tabs, [{
      tabId: tab.id,
      sessionId: "cb-tab-1",
      title: "A",
      url: "https://a.test/",
      state: "attached",
    }]);

    assert.deepEqual(await h.runtime.send({ type: "checkConnection", port: 9999, token: "t" }), {
      kind: "ok",
      url: "http://127.0.0.1:18792",
      message: "ok",
    });
    assert.deepEqual(h.checks, [{ port: 9999, token: "t" }]);
    assert.deepEqual(await h.runtime.send({ type: "checkConnection", port: "x" }), {
      error: 'Cannot check the connection as "port" must be a number and "token" a string',
    });

    assert.deepEqual(await h.runtime.send({ type: "detachAll" }), { ok: true });
    assert.equal(h.dbg.isAttached(tab.id), false);
    assert.deepEqual((await h.runtime.send({ type: "status" }) as StatusSnapshot).tabs, []);
    assert.equal(await h.runtime.send({ type: "unknown" }), undefined);
  });
});

Deno.test("RelayClient.ensureKeepaliveAlarm() creates relay-keepalive every 0.5 min once", async () => {
  await withClient({}, async (h) => {
    await h.client.ensureKeepaliveAlarm();
    await h.client.ensureKeepaliveAlarm();
    assert.deepEqual([...h.alarms.alarms], [[KEEPALIVE_ALARM, { periodInMinutes: 0.5 }]]);
  });
});

Deno.test("RelayClient() opens the options page on first install only", async () => {
  await withClient({}, async (h) => {
    h.runtime.onInstalled.emit({ reason: "update" });
    await h.settle();
    assert.equal(h.runtime.optionsOpened, 0);
    h.runtime.onInstalled.emit({ reason: "install" });
    await h.settle();
    assert.equal(h.runtime.optionsOpened, 1);
  });
});

Deno.test("RelayClient() applies the relay's content settings and clears them when a link opens or closes", async () => {
  await withClient({}, async (h) => {
    const PATTERN = "https://example.com:443/*";
    // A rule left by a relay that went away while the worker was not running.
    await h.contentSettings.set("notifications", PATTERN, "allow");
    await h.client.ready;
    const tab = h.tabs.add({ url: "https://example.com/", title: "Example", active: true });
    await h.client.clickAction(tab);
    await h.settle();
    assert.deepEqual(h.contentSettings.snapshot(), {}, "cleared when the link opened");
    const socket = h.sockets.last;
    socket.receive({
      id: 7,
      method: "forwardCDPCommand",
      params: {
        method: "BrowserRelay.setContentSettings",
        params: { type: "location", rules: [{ pattern: PATTERN, setting: "allow" }] },
      },
    });
    await h.settle();
    assert.deepEqual(socket.sentJson.filter((f) => (f as { id?: unknown }).id === 7), [
      { id: 7, result: {} },
    ]);
    assert.deepEqual(h.contentSettings.snapshot(), { location: { [PATTERN]: "allow" } });
    socket.drop();
    await h.settle();
    assert.deepEqual(h.contentSettings.snapshot(), {}, "cleared when the link closed");
  });
});
