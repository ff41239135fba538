// Worker robustness (issue 9, item 3), at the level of the whole worker: a RelayClient over
// fake ports and fake time, with the relay played by the test on a FakeSocket.
//
// What "sensible" means for duplicate command ids (protocol §4.3: exactly one response per id):
// - a second command with an id that is still in flight on the same socket is not run; the id
//   gets exactly one response, the first command's;
// - an id reused after its response went out is a new command and gets its own response;
// - ids of a socket that closed are forgotten: a new relay process numbers its commands from 1
//   again, and a command of the new socket with the same id runs and gets its own response,
//   never the late result of the dead socket's command.

import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { decodeExtensionFrame } from "../../codec/decode_extension_frame.ts";
import type { JsonObject } from "../../codec/json.ts";
import type { Ports } from "../../worker/ports.ts";
import { RelayClient } from "../../worker/relay_client.ts";
import type { CheckResult } from "../../worker/check_connection.ts";
import {
  FakeAction,
  FakeAlarms,
  FakeRuntime,
  FakeWindows,
  globalClock,
} from "../_fakes/fake_chrome.ts";
import { FakeDebugger } from "../_fakes/fake_debugger.ts";
import { FakeHttp, relayHandler } from "../_fakes/fake_http.ts";
import { type FakeSocket, FakeSocketFactory } from "../_fakes/fake_socket.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";
import { createRng } from "../../harness/rng.ts";
import { CHALLENGE, fakeDerive, helloOk, TOKEN } from "./_connection_harness.ts";

/** How the scripted relay behaves. */
interface RelayScript {
  /** Answer `connect` with hello-ok. */
  hello: boolean;
  /** The hello-ok policy. */
  policy?: Record<string, number>;
}

interface Harness {
  readonly clock: ReturnType<typeof FakeTimers.install>;
  readonly tabs: FakeTabs;
  readonly dbg: FakeDebugger;
  readonly sockets: FakeSocketFactory;
  readonly script: RelayScript;
  readonly client: RelayClient;
  settle(): Promise<void>;
  /** Attaches a new tab through the toolbar path and waits for the ready connection. */
  attach(url?: string): Promise<{ tabId: number; socket: FakeSocket }>;
}

type Frame = { id?: unknown; method?: unknown; result?: unknown; error?: unknown };

function framesOn(socket: FakeSocket): Frame[] {
  return socket.sentJson as Frame[];
}

function responsesFor(socket: FakeSocket, id: number): Frame[] {
  return framesOn(socket).filter((f) => f.id === id && f.method === undefined);
}

function command(id: number, method: string, sessionId?: string, params?: object): object {
  return {
    id,
    method: "forwardCDPCommand",
    params: {
      method,
      ...(sessionId === undefined ? {} : { sessionId }),
      ...(params === undefined ? {} : { params }),
    },
  };
}

async function withWorker(
  script: Partial<RelayScript>,
  body: (h: Harness) => Promise<void>,
): Promise<void> {
  const clock = FakeTimers.install({
    now: 1_700_000_000_000,
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date", "performance"],
  });
  try {
    const tabs = new FakeTabs();
    const dbg = new FakeDebugger(tabs);
    // The scripted relay speaks the OpenClaw flow (scheme mutual-v1: relay_connection tests).
    const storage = new FakeStorage({ local: { gatewayToken: TOKEN, openclawRelayCompat: true } });
    const sockets = new FakeSocketFactory();
    const relay: RelayScript = { hello: true, ...script };
    sockets.onCreate = (socket) => {
      queueMicrotask(() => {
        if (socket.state !== "connecting") return;
        socket.open();
        socket.receive(CHALLENGE);
      });
      socket.onSend = (text) => {
        const frame = JSON.parse(text) as { type?: string; method?: string; id?: string };
        if (
          relay.hello && frame.type === "req" && frame.method === "connect" &&
          typeof frame.id === "string"
        ) {
          const id = frame.id;
          queueMicrotask(() => {
            if (socket.state === "open") socket.receive(helloOk(id, relay.policy));
          });
        }
      };
    };
    const ports: Ports = {
      clock: globalClock(),
      storage,
      debugger: dbg,
      tabs,
      windows: new FakeWindows(tabs),
      action: new FakeAction(),
      alarms: new FakeAlarms(),
      runtime: new FakeRuntime(),
      socket: sockets.create,
      http: new FakeHttp(relayHandler()).get,
    };
    const client = new RelayClient(ports, {
      connection: { deriveToken: fakeDerive, log: () => {} },
      log: () => {},
      checkConnection: () => Promise.resolve({ kind: "ok" } as unknown as CheckResult),
    });
    const settle = async () => {
      for (let i = 0; i < 10; i++) await clock.tickAsync(0);
    };
    const h: Harness = {
      clock,
      tabs,
      dbg,
      sockets,
      script: relay,
      client,
      settle,
      async attach(url = "https://a.test/") {
        await client.ready;
        const tab = tabs.add({ url, title: "A", active: true });
        const result = await client.clickAction(tab);
        assert.equal(result?.attached, true);
        await settle();
        return { tabId: tab.id, socket: sockets.last };
      },
    };
    try {
      await body(h);
    } finally {
      client.close();
      await settle();
    }
    assert.equal(clock.countTimers(), 0, "timers left after close()");
  } finally {
    clock.uninstall();
  }
}

/** Hostile frames a broken or malicious relay might send on a ready connection. */
function hostileFrames(): string[] {
  const deep = "[".repeat(50_000) + "]".repeat(50_000);
  return [
    "",
    "not json",
    "{",
    "null",
    "42",
    '"forwardCDPCommand"',
    "[]",
    '[{"id":1,"method":"forwardCDPCommand"}]',
    "{}",
    deep,
    '{"a":' + deep + "}",
    '{"id":900001}',
    '{"id":900002,"result":{}}',
    '{"id":900003,"error":"x"}',
    '{"method":"forwardCDPEvent","params":{"method":"X","params":{}}}',
    '{"method":"pong"}',
    '{"method":"unknownMethod","params":{}}',
    '{"type":"res","id":"nope","ok":true,"payload":{}}',
    '{"type":"event","event":"connect.challenge","payload":{"nonce":"n","ts":1}}',
    '{"type":"req","id":"r","method":"connect","params":{}}',
    '{"__proto__":{"polluted":true},"method":"ping"}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"id":"900004","method":"forwardCDPCommand","params":{"method":"Runtime.evaluate"}}',
    '{"id":1e400,"method":"forwardCDPCommand","params":{"method":"Runtime.evaluate"}}',
    '{"id":9007199254740993,"method":"forwardCDPCommand","params":{"method":"Runtime.evaluate"}}',
    '{"id":-5,"method":"forwardCDPCommand","params":{"method":"Runtime.evaluate"}}',
    '{"id":1.5,"method":"forwardCDPCommand","params":{"method":"Runtime.evaluate"}}',
    '{"id":900005,"method":"forwardCDPCommand"}',
    '{"id":900006,"method":"forwardCDPCommand","params":{}}',
    '{"id":900007,"method":"forwardCDPCommand","params":{"method":7}}',
    '{"id":900008,"method":"forwardCDPCommand","params":{"method":"Runtime.evaluate","params":[]}}',
    '{"id":900009,"method":"forwardCDPCommand","params":{"method":"Runtime.evaluate","sessionId":5}}',
    '{"id":900010,"method":"forwardCDPCommand","params":{"method":"\ud800"}}',
    `{"id":900011,"method":"forwardCDPCommand","params":{"method":"${"x".repeat(1_000_000)}"}}`,
    '{"method":"forwardCDPCommand","params":{"method":"Runtime.evaluate"}}',
  ];
}

/** A JSON object with `method: "forwardCDPCommand"` and no gateway `type` (§4.5). */
function isCommandShape(input: string): boolean {
  try {
    const value: unknown = JSON.parse(input);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
    const frame = value as { type?: unknown; method?: unknown };
    return typeof frame.type !== "string" && frame.method === "forwardCDPCommand";
  } catch {
    return false;
  }
}

/** Seeded byte-level mutations of a valid command frame with id `id`. */
function mutatedCommand(rng: ReturnType<typeof createRng>, id: number): string {
  const text = JSON.stringify(
    command(id, "Runtime.evaluate", "cb-tab-1", { expression: "1+1", returnByValue: true }),
  );
  const at = rng.int(text.length + 1);
  switch (rng.int(5)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + text.slice(at + 1 + rng.int(6));
    case 2:
      return text.slice(0, at) + rng.pick(['"', "{", "}", "[", "]", ",", ":", "\\", "\ud800"]) +
        text.slice(at);
    case 3:
      return text.slice(0, at) + String.fromCharCode(rng.int(0x10000)) + text.slice(at + 1);
    default:
      return text.replace(`"id":${id}`, `"id":${rng.pick(['"x"', "null", "[]", "{}", "-1"])}`);
  }
}

Deno.test("RelayClient() ignores malformed relay frames and answers only decodable commands", async () => {
  const seed = Number(Deno.env.get("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 32));
  await withWorker({}, async (h) => {
    const { socket } = await h.attach();
    const inputs = hostileFrames();
    const rng = createRng(seed);
    for (let i = 0; i < 1_500; i++) inputs.push(mutatedCommand(rng, 1_000 + i));
    for (const [index, input] of inputs.entries()) {
      const where = `input ${index} (seed ${seed}): ${input.slice(0, 120)}`;
      const callsBefore = h.dbg.calls.length;
      const sentBefore = socket.sent.length;
      socket.receive(input);
      await h.settle();
      assert.equal(h.client.status().connection.phase, "ready", where);
      assert.equal(h.sockets.sockets.length, 1, `reconnected after ${where}`);
      const sent = framesOn(socket).slice(sentBefore);
      const decoded = decodeExtensionFrame(input);
      if (decoded.ok && decoded.frame.kind === "command") {
        // A valid command: it ran and got exactly one response.
        assert.deepEqual(sent.map((f) => f.id), [decoded.frame.id], where);
        continue;
      }
      assert.equal(h.dbg.calls.length, callsBefore, `chrome.debugger called for ${where}`);
      if (decoded.ok && decoded.frame.kind === "ping") {
        assert.deepEqual(sent, [{ method: "pong" }], where);
      } else if (!decoded.ok && Number.isFinite(decoded.id) && isCommandShape(input)) {
        // A malformed command with a readable id still gets its one (error) response. An id
        // that cannot be echoed (1e400) gets none: `{"id":null}` would itself be malformed.
        assert.equal(sent.length, 1, where);
        assert.equal(sent[0]?.id, decoded.id, where);
        assert.match(String(sent[0]?.error), /^Invalid forwardCDPCommand: /, where);
      } else {
        assert.deepEqual(sent, [], where);
      }
    }
    assert.deepEqual(h.client.pendingWork(), { inflight: 0, buffered: 0, reattaching: 0 });
    assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
  });
});

Deno.test("RelayClient() runs no command before hello-ok", async (t) => {
  await t.step(
    "a command while awaiting hello-ok closes 1008 and never reaches chrome.debugger",
    async () => {
      await withWorker({ hello: false }, async (h) => {
        const { tabId, socket } = await h.attach();
        assert.equal(h.client.status().connection.phase, "handshaking");
        const connect = framesOn(socket).find((f) => (f as { type?: string }).type === "req");
        assert.ok(connect !== undefined);
        const callsBefore = h.dbg.calls.length;
        // Frames that must not complete the handshake: a wrong id, another challenge, a gateway
        // event, a ping (ignored while awaiting hello-ok).
        socket.receive(helloOk("some-other-id"));
        socket.receive(CHALLENGE);
        socket.receive({ type: "event", event: "tick", payload: {} });
        socket.receive({ method: "ping" });
        await h.settle();
        assert.equal(h.client.status().connection.phase, "handshaking");
        assert.equal(framesOn(socket).length, 1, "nothing but the one connect before hello-ok");
        socket.receive(command(1, "Runtime.evaluate", "cb-tab-1", { expression: "1" }));
        await h.settle();
        assert.equal(h.dbg.calls.length, callsBefore);
        assert.deepEqual(socket.clientClose, {
          code: 1008,
          reason: "unexpected frame before hello-ok",
        });
        assert.deepEqual(responsesFor(socket, 1), []);
        assert.equal(h.dbg.isAttached(tabId), true, "the tab stays attached");
      });
    },
  );
  await t.step("a command before the expected challenge closes 1008 and never runs", async () => {
    await withWorker({ hello: false }, async (h) => {
      // This relay opens but sends no challenge; the preflight announced one.
      h.sockets.onCreate = (socket) => queueMicrotask(() => socket.open());
      const { socket } = await h.attach();
      assert.equal(h.client.status().connection.phase, "handshaking");
      const callsBefore = h.dbg.calls.length;
      socket.receive(command(7, "Page.navigate", "cb-tab-1", { url: "https://evil.test/" }));
      await h.settle();
      assert.equal(h.dbg.calls.length, callsBefore);
      assert.deepEqual(socket.sentJson, []);
      assert.deepEqual(socket.clientClose, {
        code: 1008,
        reason: "unexpected frame before hello-ok",
      });
    });
  });
  await t.step("after hello-ok the same command runs", async () => {
    await withWorker({ hello: false }, async (h) => {
      const { socket } = await h.attach();
      const connect = framesOn(socket).find((f) => (f as { type?: string }).type === "req") as {
        id: string;
      };
      socket.receive(helloOk(connect.id));
      await h.settle();
      assert.equal(h.client.status().connection.phase, "ready");
      socket.receive(command(1, "Runtime.evaluate", "cb-tab-1", { expression: "1" }));
      await h.settle();
      assert.equal(h.dbg.callsOf("Runtime.evaluate").length, 1);
      assert.deepEqual(responsesFor(socket, 1), [{ id: 1, result: {} }]);
    });
  });
});

Deno.test("RelayClient() answers each command id exactly once", async (t) => {
  await t.step("a duplicate of an id in flight is not run; the id gets one response", async () => {
    await withWorker({}, async (h) => {
      const { socket } = await h.attach();
      const gate = Promise.withResolvers<JsonObject>();
      h.dbg.reply("Runtime.evaluate", () => gate.promise);
      socket.receive(command(5, "Runtime.evaluate", "cb-tab-1", { expression: "first" }));
      socket.receive(command(5, "Runtime.evaluate", "cb-tab-1", { expression: "second" }));
      await h.settle();
      assert.deepEqual(h.dbg.callsOf("Runtime.evaluate").map((c) => c.params?.expression), [
        "first",
      ]);
      gate.resolve({});
      await h.settle();
      assert.deepEqual(responsesFor(socket, 5), [{ id: 5, result: {} }]);
    });
  });
  await t.step("an id reused after its response is a new command", async () => {
    await withWorker({}, async (h) => {
      const { socket } = await h.attach();
      socket.receive(command(6, "Runtime.evaluate", "cb-tab-1", { expression: "a" }));
      await h.settle();
      socket.receive(command(6, "Runtime.evaluate", "cb-tab-1", { expression: "b" }));
      await h.settle();
      assert.equal(h.dbg.callsOf("Runtime.evaluate").length, 2);
      assert.deepEqual(responsesFor(socket, 6), [{ id: 6, result: {} }, { id: 6, result: {} }]);
    });
  });
  await t.step("a new relay reusing an id of a dead socket gets its own answer", async () => {
    await withWorker({}, async (h) => {
      const { socket: first } = await h.attach();
      const slow = Promise.withResolvers<JsonObject>();
      h.dbg.reply(
        "Runtime.evaluate",
        (_debuggee, params) =>
          params?.expression === "old" ? slow.promise : { result: { value: "new" } },
      );
      first.receive(command(1, "Runtime.evaluate", "cb-tab-1", { expression: "old" }));
      await h.settle();
      // The relay restarts: a new process numbers its commands from 1 again.
      first.drop(1001, "server stopping");
      await h.clock.tickAsync(2_000);
      await h.settle();
      const second = h.sockets.last;
      assert.notEqual(second, first);
      assert.equal(h.client.status().connection.phase, "ready");
      second.receive(command(1, "Runtime.evaluate", "cb-tab-1", { expression: "new" }));
      await h.settle();
      assert.deepEqual(responsesFor(second, 1), [{ id: 1, result: { result: { value: "new" } } }]);
      // The dead socket's command finishes late: its result goes nowhere.
      slow.resolve({ result: { value: "old" } });
      await h.settle();
      assert.deepEqual(responsesFor(second, 1), [{ id: 1, result: { result: { value: "new" } } }]);
      assert.deepEqual(responsesFor(first, 1), []);
      assert.deepEqual(h.client.pendingWork(), { inflight: 0, buffered: 0, reattaching: 0 });
    });
  });
});

Deno.test("RelayClient() caps its own buffers", async (t) => {
  await t.step(
    "at most 50 commands wait for a navigation re-attach; the rest fail at once",
    async () => {
      await withWorker({}, async (h) => {
        const { tabId, socket } = await h.attach();
        h.dbg.emitDetach(tabId, "target_closed");
        await h.settle();
        for (let id = 1; id <= 60; id++) {
          socket.receive(command(id, "Runtime.evaluate", "cb-tab-1", { expression: `${id}` }));
        }
        await h.settle();
        assert.deepEqual(h.client.pendingWork(), { inflight: 50, buffered: 50, reattaching: 1 });
        for (let id = 51; id <= 60; id++) {
          assert.deepEqual(responsesFor(socket, id), [{
            id,
            error:
              `Cannot run "Runtime.evaluate" as tab ${tabId} is re-attaching its debugger: 50 commands already wait`,
          }]);
        }
        await h.clock.tickAsync(200);
        await h.settle();
        for (let id = 1; id <= 50; id++) {
          assert.deepEqual(responsesFor(socket, id), [{ id, result: {} }], `command ${id}`);
        }
        assert.deepEqual(h.client.pendingWork(), { inflight: 0, buffered: 0, reattaching: 0 });
      });
    },
  );
  await t.step("a frozen tab frees its commands after 30 s", async () => {
    await withWorker({}, async (h) => {
      const { socket } = await h.attach();
      h.dbg.hang("Runtime.evaluate");
      for (let id = 1; id <= 100; id++) {
        socket.receive(command(id, "Runtime.evaluate", "cb-tab-1", { expression: "1" }));
      }
      await h.settle();
      assert.equal(h.client.pendingWork().inflight, 100);
      // The relay keeps pinging, so the liveness window never closes the connection.
      for (let elapsed = 0; elapsed < 30_000; elapsed += 5_000) {
        socket.receive({ method: "ping" });
        await h.clock.tickAsync(5_000);
      }
      await h.settle();
      assert.equal(h.sockets.sockets.length, 1);
      assert.equal(h.client.pendingWork().inflight, 0);
      for (let id = 1; id <= 100; id++) assert.equal(responsesFor(socket, id).length, 1);
    });
  });
  await t.step("no outbound frame exceeds the relay's maxPayload", async () => {
    const maxPayload = 4_096;
    await withWorker({
      policy: { maxPayload, maxBufferedBytes: 1 << 20, tickIntervalMs: 5000 },
    }, async (h) => {
      const { tabId, socket } = await h.attach();
      const big = "x".repeat(10_000);
      h.dbg.reply("Runtime.evaluate", () => ({ result: { value: big } }));
      socket.receive(command(1, "Runtime.evaluate", "cb-tab-1", { expression: "big" }));
      h.dbg.emitEvent({ tabId }, "Runtime.consoleAPICalled", { args: [{ value: big }] });
      h.dbg.emitEvent({ tabId }, "Runtime.consoleAPICalled", { args: [{ value: "small" }] });
      await h.settle();
      for (const text of socket.sent) {
        assert.ok(new TextEncoder().encode(text).length <= maxPayload, text.slice(0, 80));
      }
      const [response] = responsesFor(socket, 1);
      assert.match(String(response?.error), /^frame too large: \d+ bytes exceeds maxPayload 4096$/);
      const events = framesOn(socket).filter((f) => f.method === "forwardCDPEvent");
      assert.equal(
        events.filter((f) => JSON.stringify(f).includes("consoleAPICalled")).length,
        1,
        "only the small event went out",
      );
      assert.equal(h.client.status().connection.phase, "ready");
    });
  });
});
