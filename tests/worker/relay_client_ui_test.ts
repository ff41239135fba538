import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { type Ports, TAB_GROUP_NONE } from "../../worker/ports.ts";
import { RelayClient } from "../../worker/relay_client.ts";
import type { PopupState } from "../../worker/messages.ts";
import {
  FakeAction,
  FakeAlarms,
  FakeRuntime,
  FakeWindows,
  globalClock,
} from "../_fakes/fake_chrome.ts";
import { FakeDebugger } from "../_fakes/fake_debugger.ts";
import { FakeHttp, relayHandler } from "../_fakes/fake_http.ts";
import { FakeSocketFactory } from "../_fakes/fake_socket.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { FakeTabGroups } from "../_fakes/fake_tab_groups.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";
import { FakeCommands, FakePages } from "../_fakes/fake_ui.ts";
import { deriveRelayToken } from "../../codec/derive_relay_token.ts";
import { fakeDerive, scriptRelay, TOKEN } from "./_connection_harness.ts";

interface Harness {
  readonly tabs: FakeTabs;
  readonly dbg: FakeDebugger;
  readonly groups: FakeTabGroups;
  readonly commands: FakeCommands;
  readonly pages: FakePages;
  readonly runtime: FakeRuntime;
  readonly storage: FakeStorage;
  readonly action: FakeAction;
  client: RelayClient;
  settle(): Promise<void>;
  /** Advances fake time by `ms`, running what falls due. */
  tick(ms: number): Promise<void>;
  restart(): Promise<void>;
}

async function withUi(
  local: Record<string, unknown>,
  body: (h: Harness) => Promise<void>,
): Promise<void> {
  const clock = FakeTimers.install({
    now: 1_700_000_000_000,
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date", "performance"],
  });
  try {
    const tabs = new FakeTabs();
    const dbg = new FakeDebugger(tabs);
    const groups = new FakeTabGroups(tabs);
    const commands = new FakeCommands();
    const pages = new FakePages();
    const runtime = new FakeRuntime();
    // The scripted relay speaks the OpenClaw flow (scheme mutual-v1: relay_connection tests).
    const storage = new FakeStorage({
      local: { openclawRelayCompat: true, ...local },
    });
    const action = new FakeAction();
    const sockets = new FakeSocketFactory();
    sockets.onCreate = scriptRelay;
    const ports: Ports = {
      clock: globalClock(),
      storage,
      debugger: dbg,
      tabs,
      windows: new FakeWindows(tabs),
      action,
      alarms: new FakeAlarms(),
      runtime,
      socket: sockets.create,
      http: new FakeHttp(relayHandler()).get,
      tabGroups: groups,
      commands,
      pages,
    };
    const build = () =>
      new RelayClient(ports, {
        connection: { deriveToken: fakeDerive, log: () => {} },
        log: () => {},
      });
    const settle = async () => {
      for (let i = 0; i < 20; i++) await clock.tickAsync(0);
    };
    const h: Harness = {
      tabs,
      dbg,
      groups,
      commands,
      pages,
      runtime,
      storage,
      action,
      client: build(),
      settle,
      tick: async (ms) => {
        await clock.tickAsync(ms);
      },
      restart: async () => {
        h.client.close();
        await settle();
        h.client = build();
        await h.client.ready;
        await settle();
      },
    };
    await h.client.ready;
    await body(h);
    h.client.close();
    await settle();
    assert.equal(clock.countTimers(), 0, "timers left after close()");
    assert.equal(storage.listenerCount, 0, "storage listener left after close()");
    assert.equal(groups.onTabGrouped.size + commands.onCommand.size, 0, "listeners left");
  } finally {
    clock.uninstall();
  }
}

Deno.test("RelayClient.share() before a token is saved attaches nothing and opens the setup page", async () => {
  await withUi({}, async (h) => {
    const tab = h.tabs.add({ url: "https://a.test/", active: true });
    const reply = await h.runtime.send({ type: "share", tabId: tab.id });
    assert.deepEqual(reply, {
      ok: false,
      reason: "not_configured",
      message: "Nothing was shared: finish the setup first (the relay's token is missing)",
    });
    assert.equal(await h.client.clickAction(tab), undefined);
    await h.settle();
    assert.equal(h.dbg.isAttached(tab.id), false);
    assert.deepEqual(h.pages.opened, ["share", "share"]);
    assert.deepEqual(h.groups.all(), []);
    const state = await h.runtime.send({ type: "state", tabId: tab.id }) as PopupState;
    assert.equal(state.summary.action, "setup");
    assert.equal(state.configured, false);
  });
});

Deno.test("RelayClient() opens the setup page on first install", async () => {
  await withUi({}, async (h) => {
    h.runtime.onInstalled.emit({ reason: "update" });
    h.runtime.onInstalled.emit({ reason: "install" });
    await h.settle();
    assert.deepEqual(h.pages.opened, [undefined]);
    assert.equal(h.runtime.optionsOpened, 0);
  });
});

Deno.test("RelayClient() keyboard shortcut toggles the current tab", async () => {
  await withUi({ gatewayToken: TOKEN }, async (h) => {
    const tab = h.tabs.add({ url: "https://a.test/", active: true });
    h.commands.onCommand.emit("toggle-sharing", { ...tab });
    await h.settle();
    assert.equal(h.dbg.isAttached(tab.id), true);
    h.commands.onCommand.emit("something-else", { ...tab });
    h.commands.onCommand.emit("toggle-sharing", undefined); // no tab: the active one
    await h.settle();
    assert.equal(h.dbg.isAttached(tab.id), false);
  });
});

Deno.test("RelayClient() groups shared tabs and stops a tab the person drags out", async () => {
  await withUi({ gatewayToken: TOKEN }, async (h) => {
    const a = h.tabs.add({ url: "https://a.test/", title: "A" });
    const b = h.tabs.add({ url: "https://b.test/", title: "B" });
    assert.deepEqual(await h.runtime.send({ type: "share", tabId: a.id }), {
      ok: true,
      shared: true,
    });
    await h.runtime.send({ type: "share", tabId: b.id });
    await h.settle();
    const [group, ...more] = h.groups.all();
    assert.deepEqual(more, []);
    assert.deepEqual(h.groups.members(group?.id ?? -1), [a.id, b.id]);

    h.groups.drag(a.id, TAB_GROUP_NONE);
    await h.settle();
    await h.tick(250); // the grace a closing tab gets to disappear
    await h.settle();
    assert.equal(h.dbg.isAttached(a.id), false);
    assert.deepEqual(h.client.status().tabs.map((t) => t.tabId), [b.id]);

    // A worker restart keeps the one group; stopping the last tab removes it.
    await h.restart();
    assert.equal(h.groups.all().length, 1);
    assert.deepEqual(await h.runtime.send({ type: "stop", tabId: b.id }), {
      ok: true,
      shared: false,
    });
    await h.settle();
    assert.deepEqual(h.groups.all(), []);
  });
});

Deno.test("RelayClient() turning the group setting off ungroups without stopping", async () => {
  await withUi({ gatewayToken: TOKEN }, async (h) => {
    const a = h.tabs.add({ url: "https://a.test/" });
    await h.runtime.send({ type: "share", tabId: a.id });
    await h.settle();
    assert.equal(h.groups.all().length, 1);
    await h.storage.local.set({ useTabGroups: false });
    await h.settle();
    assert.deepEqual(h.groups.all(), []);
    assert.equal(h.dbg.isAttached(a.id), true);
  });
});

Deno.test("RelayClient() answers the popup's state, stopAll and endpoints", async () => {
  await withUi({ gatewayToken: TOKEN, relayPort: 18792 }, async (h) => {
    const a = h.tabs.add({ url: "https://a.test/x", title: "A", active: true });
    const own = h.tabs.add({ url: "https://b.test/", title: "B" });
    h.groups.personGroup([own.id], "Work", "blue");
    await h.runtime.send({ type: "share", tabId: a.id });
    await h.runtime.send({ type: "share", tabId: own.id });
    await h.settle();
    const state = await h.runtime.send({ type: "state", tabId: a.id }) as PopupState;
    assert.deepEqual(state.current, {
      tabId: a.id,
      title: "A",
      origin: "https://a.test",
      shared: true,
      shareable: true,
    });
    assert.deepEqual(state.summary.text, "Connected to the relay on port 18792");
    assert.equal(state.shortcut, "Alt+Shift+R");
    assert.deepEqual(state.tabs.map((t) => [t.tabId, t.origin, t.placement]), [
      [a.id, "https://a.test", { kind: "group" }],
      [own.id, "https://b.test", { kind: "own_group", title: "Work" }],
    ]);
    const endpoints = await h.runtime.send({ type: "endpoints" }) as { cdpUrl: string };
    assert.equal(
      endpoints.cdpUrl,
      `http://127.0.0.1:18792/?token=${await deriveRelayToken(TOKEN, 18792)}`,
    );
    assert.deepEqual(await h.runtime.send({ type: "stopAll" }), { ok: true });
    await h.settle();
    assert.deepEqual(h.client.status().tabs, []);
    assert.deepEqual(await h.runtime.send({ type: "share" }), {
      error: 'Cannot read "share" as "tabId" must be a tab id: current value is undefined',
    });
  });
});
