/**
 * Test harness for `RelayConnection`: fake ports, fake time, a fake tab side and a scripted
 * relay. Private to `tests/worker/`.
 *
 * @module
 */

import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import type { CdpCall } from "../../codec/extension_frame.ts";
import type { ConnectionClosedError } from "../../worker/errors.ts";
import type { Clock } from "../../worker/ports.ts";
import { RelayConnection, type RelayConnectionOptions } from "../../worker/relay_connection.ts";
import type { ConnectionHooks, ConnectionStatus } from "../../worker/relay_link.ts";
import { FakeRuntime } from "../_fakes/fake_chrome.ts";
import { FakeHttp, type FakeHttpHandler, relayHandler } from "../_fakes/fake_http.ts";
import { type FakeSocket, FakeSocketFactory } from "../_fakes/fake_socket.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { systemClock } from "../../worker/system_clock.ts";

/** The gateway token every harness stores unless told otherwise. */
export const TOKEN = "test-gateway-token";

/** A deterministic stand-in for the HMAC (crypto.subtle resolves outside fake time). */
export function fakeDerive(token: string, port: number): Promise<string> {
  return Promise.resolve(`derived-${token.trim()}-${port}`);
}

/** The challenge of protocol §3.2. */
export const CHALLENGE = {
  type: "event",
  event: "connect.challenge",
  payload: { nonce: "b08424c6-99f6-4a1a-afef-0dc44ac8cb84", ts: 1771662593647 },
} as const;

/** The hello-ok of protocol §3.4 for request `id`. */
export function helloOk(
  id: string,
  policy: Record<string, number> = {
    maxPayload: 268435456,
    maxBufferedBytes: 536870912,
    tickIntervalMs: 5000,
  },
): object {
  return {
    type: "res",
    id,
    ok: true,
    payload: {
      type: "hello-ok",
      protocol: 3,
      server: { version: "0.1.0", connId: "5b0c0000-0000-4000-8000-000000000000" },
      features: { methods: ["connect"], events: ["connect.challenge"] },
      snapshot: {
        presence: [],
        health: {},
        stateVersion: { presence: 0, health: 0 },
        uptimeMs: 5123,
        authMode: "token",
      },
      policy,
    },
  };
}

/** A failed connect response. */
export function connectError(id: string, error: Record<string, unknown>): object {
  return { type: "res", id, ok: false, error };
}

/** The tab side, as far as the connection can see it. */
export class FakeTabSide implements ConnectionHooks {
  /** What `attachedTabCount()` reports. */
  tabs: number;
  /** Attachments the tab side owns; the connection has no way to change them. */
  readonly attachments: number[];
  readyCalls = 0;
  readonly closed: (ConnectionClosedError | undefined)[] = [];
  readonly commands: { id: number; cdp: CdpCall }[] = [];
  readonly statuses: ConnectionStatus[] = [];
  /** Runs inside `onStatus`, to test re-entrant hooks. */
  onStatusHook: ((status: ConnectionStatus) => void) | undefined;

  constructor(tabs: number) {
    this.tabs = tabs;
    this.attachments = Array.from({ length: tabs }, (_, i) => 101 + i);
  }
  onReady(): void {
    this.readyCalls++;
  }
  onCommand(id: number, cdp: CdpCall): void {
    this.commands.push({ id, cdp });
  }
  onClosed(error?: ConnectionClosedError): void {
    this.closed.push(error);
  }
  onStatus(status: ConnectionStatus): void {
    this.statuses.push(status);
    this.onStatusHook?.(status);
  }
  attachedTabCount(): number {
    return this.tabs;
  }
}

/** How a scripted relay behaves on each new socket. */
export type RelayMode =
  /** Project relay: open, challenge at once, hello-ok to a valid connect. */
  | "challenge"
  /** Legacy relay: open, say nothing. */
  | "legacy"
  /** Open, send the challenge, never answer the connect. */
  | "mute"
  /** The upgrade never completes. */
  | "never-open"
  /** Do nothing: the test drives the socket. */
  | "manual";

/** Options of {@linkcode withHarness}. */
export interface HarnessOptions {
  /** Stored gateway token; `null` stores none. */
  readonly token?: string | null;
  /**
   * Stored `openclawRelayCompat`. The scripted relays speak the OpenClaw flow, so the harness
   * opts into it unless a test of scheme `mutual-v1` passes `false` (stores nothing).
   *
   * @default {true}
   */
  readonly openclawRelayCompat?: boolean;
  readonly port?: number;
  readonly tabs?: number;
  readonly http?: FakeHttpHandler;
  readonly relay?: RelayMode;
  readonly connection?: RelayConnectionOptions;
  /** Value returned by `clock.random()`. */
  readonly random?: number | undefined;
}

/** Everything a test can drive or inspect. */
export interface Harness {
  readonly clock: FakeTimers.Clock;
  readonly storage: FakeStorage;
  readonly http: FakeHttp;
  readonly sockets: FakeSocketFactory;
  readonly runtime: FakeRuntime;
  readonly tabs: FakeTabSide;
  readonly conn: RelayConnection;
  /** Epoch ms of each preflight `/extension/status` request (one per attempt). */
  readonly attempts: number[];
  /** Changes the scripted relay for sockets created from now on. */
  relay(mode: RelayMode): void;
  /** Flushes promise jobs without advancing time. */
  settle(): Promise<void>;
  /** Sets `clock.random()`. */
  random: number;
}

/** Parses the connect request the client sent on `socket`. */
export function connectRequestOf(socket: FakeSocket): { id: string; params: unknown } {
  const first = socket.sentJson[0] as {
    type?: string;
    method?: string;
    id?: string;
    params?: unknown;
  };
  assert.equal(first?.type, "req");
  assert.equal(first?.method, "connect");
  assert.equal(typeof first?.id, "string");
  return { id: first.id as string, params: first.params };
}

/**
 * Installs fake time, builds the connection over fakes, runs `body`, then closes the connection
 * and asserts that no timer is left (style.md item 19).
 */
export async function withHarness(
  options: HarnessOptions,
  body: (h: Harness) => Promise<void>,
): Promise<void> {
  const clock = FakeTimers.install({
    now: 1_700_000_000_000,
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date", "performance"],
  });
  try {
    const local: Record<string, unknown> = {};
    if (options.token !== null) local.gatewayToken = options.token ?? TOKEN;
    if (options.port !== undefined) local.relayPort = options.port;
    if (options.openclawRelayCompat ?? true) local.openclawRelayCompat = true;
    const storage = new FakeStorage({ local });
    const attempts: number[] = [];
    const http = new FakeHttp();
    const base = options.http ?? relayHandler();
    http.handler = base;
    const wrap = http.get;
    const sockets = new FakeSocketFactory();
    const runtime = new FakeRuntime();
    const tabs = new FakeTabSide(options.tabs ?? 1);
    const state = { random: options.random ?? 0, mode: options.relay ?? "challenge" as RelayMode };
    const portClock: Clock = { ...systemClock(), random: () => state.random };
    sockets.onCreate = (socket) => script(socket, state.mode);
    const conn = new RelayConnection(
      {
        clock: portClock,
        storage,
        socket: sockets.create,
        http: (url, init) => {
          if (url.endsWith("/extension/status")) attempts.push(Date.now());
          return wrap(url, init);
        },
        runtime,
      },
      tabs,
      { deriveToken: fakeDerive, log: () => {}, ...options.connection },
    );
    const h: Harness = {
      clock,
      storage,
      http,
      sockets,
      runtime,
      tabs,
      conn,
      attempts,
      relay: (mode) => {
        state.mode = mode;
      },
      settle: async () => {
        for (let i = 0; i < 5; i++) await clock.tickAsync(0);
      },
      get random() {
        return state.random;
      },
      set random(value: number) {
        state.random = value;
      },
    };
    await body(h);
    conn.close();
    assert.equal(clock.countTimers(), 0, "timers left after close()");
    assert.equal(storage.listenerCount, 0, "storage listener left after close()");
    await h.settle();
    assert.equal(clock.countTimers(), 0, "timers left after close() settled");
  } finally {
    clock.uninstall();
  }
}

function script(socket: FakeSocket, mode: RelayMode): void {
  if (mode === "manual" || mode === "never-open") return;
  queueMicrotask(() => {
    if (socket.state !== "connecting") return;
    socket.open();
    if (mode === "challenge" || mode === "mute") socket.receive(CHALLENGE);
  });
  if (mode !== "challenge") return;
  socket.onSend = (text) => {
    const frame = JSON.parse(text) as { type?: string; method?: string; id?: string };
    if (frame.type === "req" && frame.method === "connect" && typeof frame.id === "string") {
      const id = frame.id;
      queueMicrotask(() => {
        if (socket.state === "open") socket.receive(helloOk(id));
      });
    }
  };
}

/** Ticks in small steps until `predicate` holds; returns the elapsed fake ms. */
export async function tickUntil(
  h: Harness,
  predicate: () => boolean,
  limitMs: number,
  stepMs = 10,
): Promise<number> {
  const start = Date.now();
  await h.settle();
  while (!predicate()) {
    if (Date.now() - start >= limitMs) {
      throw new Error(`Condition not met within ${limitMs} ms`);
    }
    await h.clock.tickAsync(stepMs);
  }
  return Date.now() - start;
}

/** Connects with the scripted relay and waits until ready. */
export async function connectReady(h: Harness): Promise<FakeSocket> {
  h.conn.requestConnect("user");
  await tickUntil(h, () => h.conn.isReady(), 1_000, 1);
  return h.sockets.last;
}

/**
 * Scripts a relay on a fake socket for the client tests: it opens, sends the challenge and
 * answers `connect` with hello-ok (the token flow).
 */
export function scriptRelay(socket: FakeSocket): void {
  queueMicrotask(() => {
    if (socket.state !== "connecting") return;
    socket.open();
    socket.receive(CHALLENGE);
  });
  socket.onSend = (text) => {
    const frame = JSON.parse(text) as { type?: string; method?: string; id?: string };
    if (frame.type === "req" && frame.method === "connect" && typeof frame.id === "string") {
      const id = frame.id;
      queueMicrotask(() => {
        if (socket.state === "open") socket.receive(helloOk(id));
      });
    }
  };
}
