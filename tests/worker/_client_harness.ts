/**
 * Test harnesses for `RelayClient` and the user actions it wires: fake ports, fake time and a
 * scripted relay. Private to `tests/worker/`.
 *
 * @module
 */

import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import type { Ports } from "../../worker/ports.ts";
import { RelayClient } from "../../worker/relay_client.ts";
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
import { FakeTabGroups } from "../_fakes/fake_tab_groups.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";
import { FakeCommands, FakePages } from "../_fakes/fake_ui.ts";
import { fakeDerive, scriptRelay, TOKEN } from "./_connection_harness.ts";

type InstalledClock = ReturnType<typeof FakeTimers.install>;

/** Fake time at the harnesses' start. */
function installClock(): InstalledClock {
  return FakeTimers.install({
    now: 1_700_000_000_000,
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date", "performance"],
  });
}

/** The fakes behind the ports every client harness has. */
interface CoreFakes {
  readonly tabs: FakeTabs;
  readonly dbg: FakeDebugger;
  readonly action: FakeAction;
  readonly alarms: FakeAlarms;
  readonly runtime: FakeRuntime;
  readonly sockets: FakeSocketFactory;
  readonly http: FakeHttp;
}

/** The core fakes, with the relay scripted (it speaks the OpenClaw flow). */
function coreFakes(): CoreFakes {
  const tabs = new FakeTabs();
  const sockets = new FakeSocketFactory();
  sockets.onCreate = scriptRelay;
  return {
    tabs,
    dbg: new FakeDebugger(tabs),
    action: new FakeAction(),
    alarms: new FakeAlarms(),
    runtime: new FakeRuntime(),
    sockets,
    http: new FakeHttp(relayHandler()),
  };
}

/** The ports every client harness has, over the core fakes and `storage`. */
function corePorts(fakes: CoreFakes, storage: FakeStorage): Ports {
  return {
    clock: globalClock(),
    storage,
    debugger: fakes.dbg,
    tabs: fakes.tabs,
    windows: new FakeWindows(fakes.tabs),
    action: fakes.action,
    alarms: fakes.alarms,
    runtime: fakes.runtime,
    socket: fakes.sockets.create,
    http: fakes.http.get,
  };
}

/** A client with quiet logs and the deterministic token derivation. */
function quietClient(
  ports: Ports,
  checkConnection?: (target: CheckTarget) => Promise<CheckResult>,
): RelayClient {
  return new RelayClient(ports, {
    connection: { deriveToken: fakeDerive, log: () => {} },
    log: () => {},
    ...(checkConnection === undefined ? {} : { checkConnection }),
  });
}

/** Flushes promise jobs `rounds` times without advancing time. */
async function flush(clock: InstalledClock, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) await clock.tickAsync(0);
}

/** Closes the client and checks it left no timer and no storage listener. */
async function closeAndCheck(
  client: RelayClient,
  clock: InstalledClock,
  storage: FakeStorage,
  settle: () => Promise<void>,
): Promise<void> {
  client.close();
  await settle();
  assert.equal(clock.countTimers(), 0, "timers left after close()");
  assert.equal(storage.listenerCount, 0, "storage listener left after close()");
}

/** A {@linkcode RelayClient} over fakes, as `withClient` builds it. */
export interface ClientHarness {
  readonly clock: InstalledClock;
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

/** The CDP events a socket carried, as `[method, params]`. */
export function eventsOn(
  socket: FakeSocket,
): { method: string; params: Record<string, unknown> }[] {
  return socket.sentJson.flatMap((frame) => {
    const f = frame as {
      method?: string;
      params?: { method: string; params: Record<string, unknown> };
    };
    return f.method === "forwardCDPEvent" && f.params ? [f.params] : [];
  });
}

/**
 * Runs `body` with a client over fakes (a saved token, content settings; no tab groups, shortcut
 * or setup page) in fake time; afterwards closes it and checks it left no timer or listener.
 */
export async function withClient(
  seed: { readonly session?: Record<string, unknown>; readonly attached?: readonly number[] },
  body: (h: ClientHarness) => Promise<void>,
): Promise<void> {
  const clock = installClock();
  try {
    const fakes = coreFakes();
    // Their scripted relay speaks the OpenClaw flow (scheme mutual-v1: relay_connection tests).
    const storage = new FakeStorage({
      local: { gatewayToken: TOKEN, openclawRelayCompat: true },
      ...seed,
    });
    const checks: CheckTarget[] = [];
    const contentSettings = new FakeContentSettings();
    const ports: Ports = { ...corePorts(fakes, storage), contentSettings };
    const build = () =>
      quietClient(ports, (target) => {
        checks.push(target);
        return Promise.resolve(
          { kind: "ok", url: "http://127.0.0.1:18792", message: "ok" } as unknown as CheckResult,
        );
      });
    const settle = () => flush(clock, 10);
    const h: ClientHarness = {
      clock,
      tabs: fakes.tabs,
      dbg: fakes.dbg,
      action: fakes.action,
      alarms: fakes.alarms,
      runtime: fakes.runtime,
      storage,
      sockets: fakes.sockets,
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
    await closeAndCheck(h.client, clock, storage, settle);
  } finally {
    clock.uninstall();
  }
}

/** A {@linkcode RelayClient} with the UI ports, as `withUi` builds it. */
export interface UiHarness {
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

/**
 * Runs `body` with a ready client over fakes that include tab groups, a shortcut and the setup
 * page, with `local` as the saved settings, in fake time; afterwards closes it and checks it
 * left no timer or listener.
 */
export async function withUi(
  local: Record<string, unknown>,
  body: (h: UiHarness) => Promise<void>,
): Promise<void> {
  const clock = installClock();
  try {
    const fakes = coreFakes();
    const groups = new FakeTabGroups(fakes.tabs);
    const commands = new FakeCommands();
    const pages = new FakePages();
    // The scripted relay speaks the OpenClaw flow (scheme mutual-v1: relay_connection tests).
    const storage = new FakeStorage({
      local: { openclawRelayCompat: true, ...local },
    });
    const ports: Ports = { ...corePorts(fakes, storage), tabGroups: groups, commands, pages };
    const build = () => quietClient(ports);
    const settle = () => flush(clock, 20);
    const h: UiHarness = {
      tabs: fakes.tabs,
      dbg: fakes.dbg,
      groups,
      commands,
      pages,
      runtime: fakes.runtime,
      storage,
      action: fakes.action,
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
    await closeAndCheck(h.client, clock, storage, settle);
    assert.equal(groups.onTabGrouped.size + commands.onCommand.size, 0, "listeners left");
  } finally {
    clock.uninstall();
  }
}
