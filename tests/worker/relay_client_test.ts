import assert from "node:assert/strict";
import { KEEPALIVE_ALARM, RelayClient, type StatusSnapshot } from "../../worker/relay_client.ts";
import { eventsOn, withClient } from "./_client_harness.ts";
import { fakeDerive } from "./_connection_harness.ts";

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
