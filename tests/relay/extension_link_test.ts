import assert from "node:assert/strict";
import { deriveRelayToken } from "../../codec/derive_relay_token.ts";
import type { JsonObject } from "../../codec/json.ts";
import type { RelayServer } from "../../relay/server.ts";
import { connectRequest, FakeExtension } from "../../harness/fake_extension.ts";
import { CdpTestClient, http, startTestRelay, TestClock, TOKEN } from "./_helpers.ts";
import { TestSocket } from "../../harness/test_socket.ts";

async function openExtension(relay: RelayServer): Promise<TestSocket> {
  const token = await deriveRelayToken(TOKEN, relay.port);
  return await TestSocket.open(`ws://127.0.0.1:${relay.port}/extension?token=${token}`);
}

function isChallenge(frame: JsonObject): boolean {
  return frame.type === "event" && frame.event === "connect.challenge";
}

Deno.test("ExtensionLink() sends connect.challenge immediately on open", async () => {
  await using relay = await startTestRelay();
  const socket = await openExtension(relay);
  const challenge = await socket.next();
  assert.equal(challenge.type, "event");
  assert.equal(challenge.event, "connect.challenge");
  const payload = challenge.payload as JsonObject;
  assert.match(
    String(payload.nonce),
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  );
  assert.equal(typeof payload.ts, "number");
  await socket.close();
});

Deno.test("ExtensionLink() answers a valid connect with the exact hello-ok payload", async () => {
  await using relay = await startTestRelay({ pingIntervalMs: 5000 });
  const socket = await openExtension(relay);
  await socket.next(isChallenge);
  socket.send(connectRequest("ext-connect-1-abcdef", TOKEN));
  const res = await socket.next((f) => f.type === "res");
  const payload = res.payload as JsonObject;
  const server = payload.server as JsonObject;
  const snapshot = payload.snapshot as JsonObject;
  assert.match(String(server.connId), /^[0-9a-f-]{36}$/);
  assert.equal(typeof snapshot.uptimeMs, "number");
  assert.deepEqual(res, {
    type: "res",
    id: "ext-connect-1-abcdef",
    ok: true,
    payload: {
      type: "hello-ok",
      protocol: 3,
      server: { version: "0.1.0", connId: server.connId },
      features: { methods: ["connect"], events: ["connect.challenge"] },
      snapshot: {
        presence: [],
        health: {},
        stateVersion: { presence: 0, health: 0 },
        uptimeMs: snapshot.uptimeMs,
        authMode: "token",
      },
      policy: { maxPayload: 268435456, maxBufferedBytes: 536870912, tickIntervalMs: 5000 },
    },
  });
  assert.equal(
    (await http(relay, "/extension/status")).body,
    '{"connected":true,"handshake":"connect.challenge","protocol":3,"auth":["mutual-v1"]}',
  );
  await socket.close();
});

Deno.test("ExtensionLink() accepts the derived relay token in connect.auth", async () => {
  await using relay = await startTestRelay();
  const socket = await openExtension(relay);
  await socket.next(isChallenge);
  socket.send(connectRequest("c1", relay.relayToken));
  const res = await socket.next((f) => f.type === "res");
  assert.equal(res.ok, true);
  await socket.close();
});

Deno.test("ExtensionLink() rejects bad handshakes per §3.8", async (t) => {
  await using relay = await startTestRelay();

  async function attempt(frame: JsonObject | string) {
    const socket = await openExtension(relay);
    await socket.next(isChallenge);
    socket.send(frame);
    const close = await socket.waitClosed();
    const res = socket.pending((f) => f.type === "res")[0];
    return { close, res };
  }

  await t.step("a frame over 64 KiB closes with 1009", async () => {
    const { close, res } = await attempt("x".repeat(65_537));
    assert.deepEqual(close, { code: 1009, reason: "preauth payload too large" });
    assert.equal(res, undefined);
  });
  await t.step("a frame of exactly 64 KiB is only judged by content", async () => {
    const { close } = await attempt(" ".repeat(65_536 - 2) + "{}");
    assert.deepEqual(close, { code: 1008, reason: "invalid request frame" });
  });
  await t.step("non-JSON closes with 1008 and no res", async () => {
    const { close, res } = await attempt("not json");
    assert.deepEqual(close, { code: 1008, reason: "invalid request frame" });
    assert.equal(res, undefined);
  });
  await t.step("a relay frame before connect closes with 1008", async () => {
    const { close, res } = await attempt({ method: "pong" });
    assert.deepEqual(close, { code: 1008, reason: "invalid request frame" });
    assert.equal(res, undefined);
  });
  await t.step("a request other than connect gets a res, then 1008", async () => {
    const { close, res } = await attempt({ type: "req", id: "r1", method: "health" });
    const reason = "invalid handshake: first request must be connect";
    assert.deepEqual(res, {
      type: "res",
      id: "r1",
      ok: false,
      error: { code: "INVALID_REQUEST", message: reason },
    });
    assert.deepEqual(close, { code: 1008, reason });
  });
  await t.step(
    "schema errors get invalid connect params and a reason of at most 120 bytes",
    async () => {
      const frame = connectRequest("r2", TOKEN);
      const params = frame.params as JsonObject;
      const { close, res } = await attempt({
        ...frame,
        params: {
          ...params,
          nonce: "n",
          client: { ...(params.client as JsonObject), id: "chrome-relay-extension".repeat(5) },
        },
      });
      const error = (res as JsonObject).error as JsonObject;
      assert.equal(error.code, "INVALID_REQUEST");
      assert.match(String(error.message), /^invalid connect params: /);
      assert.match(String(error.message), /nonce/);
      assert.equal(close.code, 1008);
      assert.ok(new TextEncoder().encode(close.reason).length <= 120);
      assert.ok(String(error.message).startsWith(close.reason));
    },
  );
  await t.step("a protocol range without 3 gets protocol mismatch and 1002", async () => {
    const frame = connectRequest("r3", TOKEN);
    const { close, res } = await attempt({
      ...frame,
      params: { ...(frame.params as JsonObject), minProtocol: 1, maxProtocol: 2 },
    });
    assert.deepEqual(res, {
      type: "res",
      id: "r3",
      ok: false,
      error: {
        code: "INVALID_REQUEST",
        message: "protocol mismatch",
        details: { expectedProtocol: 3 },
      },
    });
    assert.deepEqual(close, { code: 1002, reason: "protocol mismatch" });
  });
  await t.step("a missing token gets AUTH_TOKEN_MISSING", async () => {
    const frame = connectRequest("r4", TOKEN);
    const { close, res } = await attempt({
      ...frame,
      params: { ...(frame.params as JsonObject), auth: {} },
    });
    assert.deepEqual(res, {
      type: "res",
      id: "r4",
      ok: false,
      error: {
        code: "INVALID_REQUEST",
        message: "unauthorized: gateway token missing",
        details: { code: "AUTH_TOKEN_MISSING", authReason: "token_missing" },
      },
    });
    assert.deepEqual(close, { code: 1008, reason: "unauthorized: gateway token missing" });
  });
  await t.step("a wrong token gets AUTH_TOKEN_MISMATCH", async () => {
    const { close, res } = await attempt(connectRequest("r5", "wrong-token"));
    assert.deepEqual(res, {
      type: "res",
      id: "r5",
      ok: false,
      error: {
        code: "INVALID_REQUEST",
        message: "unauthorized: gateway token mismatch",
        details: { code: "AUTH_TOKEN_MISMATCH", authReason: "token_mismatch" },
      },
    });
    assert.deepEqual(close, { code: 1008, reason: "unauthorized: gateway token mismatch" });
  });
  assert.equal(
    (await http(relay, "/extension/status")).body,
    '{"connected":false,"handshake":"connect.challenge","protocol":3,"auth":["mutual-v1"]}',
  );
});

Deno.test("ExtensionLink() closes with handshake timeout and sends no ping before hello-ok", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({ clock, handshakeTimeoutMs: 60, pingIntervalMs: 5 });
  const socket = await openExtension(relay);
  await socket.next(isChallenge);
  clock.tick(59);
  assert.equal(socket.ws.readyState, socket.ws.OPEN);
  clock.tick(1);
  const close = await socket.waitClosed();
  assert.deepEqual(close, { code: 1008, reason: "handshake timeout" });
  assert.equal(socket.received.length, 1);
  assert.ok(isChallenge(socket.received[0] as JsonObject));
});

Deno.test("ExtensionLink() pings after hello-ok and stays open while pongs arrive", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({
    clock,
    pingIntervalMs: 5,
    extensionIdleTimeoutMs: 40,
  });
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await using client = await CdpTestClient.connect(relay);
  // 12 pings take 60 ms, well past the 40 ms idle timeout: pongs keep it alive.
  for (let i = 0; i < 12; i++) {
    clock.tick(5);
    await ext.socket.next((f) => f.method === "ping");
    // The pong went out before this event on the same socket: once a client sees the event,
    // the relay has read the pong.
    ext.event("Test.barrier", { round: i });
    await client.event("Test.barrier", (f) => (f.params as JsonObject).round === i);
  }
  assert.equal(ext.socket.ws.readyState, ext.socket.ws.OPEN);
  assert.equal(relay.stats().extensionConnected, true);
});

Deno.test("ExtensionLink() closes a silent extension with 4000 heartbeat timeout", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({
    clock,
    pingIntervalMs: 10,
    extensionIdleTimeoutMs: 40,
  });
  const ext = await FakeExtension.connect({ url: relay.url, token: TOKEN, autoPong: false });
  clock.tick(39);
  assert.equal(relay.stats().extensionConnected, true);
  clock.tick(1);
  const close = await ext.socket.waitClosed();
  assert.deepEqual(close, { code: 4000, reason: "heartbeat timeout" });
  assert.equal(relay.stats().extensionConnected, false);
});

Deno.test("ExtensionLink() in legacy mode sends no challenge and accepts relay frames at once", async () => {
  await using relay = await startTestRelay({ legacy: true });
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN, legacy: true });
  ext.announce("cb-tab-1", { targetId: "T1", url: "https://example.com/" });
  await using client = await CdpTestClient.connect(relay);
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  const attach = await client.event("Target.attachedToTarget");
  assert.equal((attach.params as JsonObject).sessionId, "cb-tab-1");
  const reply = await client.call("Runtime.evaluate", { expression: "1+1" }, "cb-tab-1");
  assert.deepEqual(reply.result, { result: { type: "number", value: 2, description: "2" } });
  assert.equal(ext.socket.pending(isChallenge).length, 0);
  assert.equal((await http(relay, "/extension/status")).body, '{"connected":true}');
});
