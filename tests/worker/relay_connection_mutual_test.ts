/**
 * `RelayConnection` in scheme `mutual-v1`, its default (issue 14): a relay impostor learns
 * nothing, a proof is bound to its socket and port, and nothing downgrades the extension.
 * WebCrypto resolves outside fake time, so each test awaits the connection's crypto for real
 * through the injected `answerChallenge` before it ticks on.
 */

import assert from "node:assert/strict";
import { deriveRelayToken } from "../../codec/derive_relay_token.ts";
import { mutualAuthKey } from "../../codec/mutual_auth.ts";
import { answerMutualChallenge, type ConnectRequestFrame } from "../../worker/handshake.ts";
import type { RelayConnectionOptions } from "../../worker/relay_connection.ts";
import type { FakeHttpHandler } from "../_fakes/fake_http.ts";
import { FakeMutualRelay, mutualStatusHandler, seededNonce } from "../_fakes/fake_mutual_relay.ts";
import type { FakeSocket } from "../_fakes/fake_socket.ts";
import { CONNECT_PARAMS_SCHEMA } from "./_connect_params_schema.ts";
import { CHALLENGE, type Harness, helloOk, TOKEN, withHarness } from "./_connection_harness.ts";

const PORT = 18792;

/** The real crypto, with its promises exposed so a test can await them. */
class Crypto {
  readonly inFlight: Promise<unknown>[] = [];
  #seed = 1;
  constructor(readonly key: CryptoKey) {}

  static async create(port = PORT): Promise<Crypto> {
    return new Crypto(await mutualAuthKey(TOKEN, port));
  }

  options(): RelayConnectionOptions {
    return {
      mutualKey: () => Promise.resolve(this.key),
      clientNonce: () => seededNonce(this.#seed++),
      answerChallenge: (input) => {
        const answer = answerMutualChallenge(input);
        this.inFlight.push(answer);
        return answer;
      },
    };
  }

  /** Awaits every answer in flight (real time), then lets the connection act on it. */
  async settle(h: Harness): Promise<void> {
    await Promise.allSettled(this.inFlight.splice(0));
    await h.settle();
  }
}

/** Opens the extension's socket and delivers `nonce` as the challenge. */
async function challenge(h: Harness, crypto: Crypto, nonce: string): Promise<FakeSocket> {
  h.conn.requestConnect("user");
  await h.settle();
  const socket = h.sockets.last;
  socket.open();
  socket.receive({ ...CHALLENGE, payload: { nonce, ts: 1 } });
  await crypto.settle(h);
  return socket;
}

/** Opens the extension's socket and delivers `relay`'s real challenge for it. */
async function answeredChallenge(
  h: Harness,
  crypto: Crypto,
  relay: FakeMutualRelay,
): Promise<FakeSocket> {
  h.conn.requestConnect("user");
  await h.settle();
  const socket = h.sockets.last;
  socket.open();
  socket.receive({ ...CHALLENGE, payload: { nonce: await relay.challenge(socket.url), ts: 1 } });
  await crypto.settle(h);
  return socket;
}

function harness(
  crypto: Crypto,
  http: FakeHttpHandler,
  body: (h: Harness) => Promise<void>,
): Promise<void> {
  return withHarness(
    { openclawRelayCompat: false, relay: "manual", http, connection: crypto.options() },
    body,
  );
}

/** Everything that left the extension in `h`: request URLs and headers, socket URLs, frames. */
function everythingSent(h: Harness): string {
  return JSON.stringify([
    h.http.requests,
    h.sockets.sockets.map((socket) => [socket.url, socket.sent]),
  ]);
}

Deno.test("RelayConnection() gives a relay impostor no token, no proof and no readiness", async () => {
  const crypto = await Crypto.create();
  const relayToken = await deriveRelayToken(TOKEN, PORT);
  const impostor = new FakeMutualRelay(PORT, undefined);
  await harness(crypto, mutualStatusHandler(), async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    assert.equal(
      socket.url,
      `ws://127.0.0.1:${PORT}/extension?auth=mutual-v1&nonce=${seededNonce(1)}`,
    );
    socket.open();
    socket.receive({
      ...CHALLENGE,
      payload: { nonce: await impostor.challenge(socket.url), ts: 1 },
    });
    await crypto.settle(h);
    // The impostor's forged proof fails: nothing is sent, the socket is closed, no retry.
    assert.deepEqual(socket.sent, []);
    assert.deepEqual(socket.clientClose, { code: 1008, reason: "relay proof invalid" });
    const status = h.conn.status();
    assert.equal(status.phase, "stopped");
    assert.deepEqual(status.lastError, {
      code: "relay_unproven",
      message:
        `Relay at http://127.0.0.1:${PORT} could not prove that it knows the gateway token: check the token in the extension options, or another program is listening on port ${PORT}`,
    });
    assert.equal(h.tabs.readyCalls, 0);
    // A command from the impostor never reaches the tab side.
    socket.replay({ message: JSON.stringify({ id: 1, method: "forwardCDPCommand", params: {} }) });
    assert.deepEqual(h.tabs.commands, []);
    await h.clock.tickAsync(120_000);
    assert.equal(h.sockets.sockets.length, 1, "stopped: no new attempt by itself");
    // The only things that left the extension: the status request without headers, and the URL
    // with the client nonce. No gateway token, no relay token, no proof.
    assert.deepEqual(h.http.requests, [{
      url: `http://127.0.0.1:${PORT}/extension/status`,
      headers: {},
    }]);
    const sent = everythingSent(h);
    assert.equal(sent.includes(TOKEN), false);
    assert.equal(sent.includes(relayToken), false);
    assert.equal(sent.includes("mutual-v1."), false);
    assert.equal(h.runtime.optionsOpened, 1);
  });
});

Deno.test("RelayConnection() proves itself to a relay that knows the token and becomes ready", async () => {
  const crypto = await Crypto.create();
  const relayToken = await deriveRelayToken(TOKEN, PORT);
  const relay = new FakeMutualRelay(PORT, TOKEN);
  await harness(crypto, mutualStatusHandler(), async (h) => {
    const socket = await answeredChallenge(h, crypto, relay);
    assert.equal(socket.sent.length, 1);
    const request = JSON.parse(socket.sent[0]!) as {
      id: string;
      params: ConnectRequestFrame["params"];
    };
    // Valid under the gateway v3 ConnectParams schema; the proof is the string auth.token.
    assert.equal(CONNECT_PARAMS_SCHEMA.safeParse(request.params).success, true);
    assert.match(request.params.auth?.token ?? "", /^mutual-v1\.[A-Za-z0-9_-]{43}$/);
    assert.equal(
      await relay.accept({ kind: "connect_request", ...request }, socket.sent[0]!),
      true,
    );
    socket.receive(helloOk(request.id));
    await h.settle();
    assert.equal(h.conn.isReady(), true);
    assert.equal(h.tabs.readyCalls, 1);
    const sent = everythingSent(h);
    assert.equal(sent.includes(TOKEN), false);
    assert.equal(sent.includes(relayToken), false);
    // A recorded proof is bound to its socket: it fails against the next challenge.
    const next = new URL(socket.url);
    next.searchParams.set("nonce", seededNonce(50));
    await relay.challenge(next.toString());
    assert.equal(
      await relay.accept({ kind: "connect_request", ...request }, socket.sent[0]!),
      false,
    );
  });
});

Deno.test("RelayConnection() refuses a real relay's proof made for another port", async () => {
  // A man in the middle on PORT forwards to the real relay on another port: that relay's proof
  // is bound to its own port, so the extension that dialled PORT sends nothing.
  const crypto = await Crypto.create();
  const elsewhere = new FakeMutualRelay(PORT + 1, TOKEN);
  await harness(crypto, mutualStatusHandler(), async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    socket.open();
    socket.receive({
      ...CHALLENGE,
      payload: { nonce: await elsewhere.challenge(socket.url), ts: 1 },
    });
    await crypto.settle(h);
    assert.deepEqual(socket.sent, []);
    assert.equal(h.conn.status().lastError?.code, "relay_unproven");
  });
});

Deno.test("RelayConnection() never downgrades to the OpenClaw flow by itself", async (t) => {
  const crypto = await Crypto.create();
  const relayToken = await deriveRelayToken(TOKEN, PORT);
  await t.step("a status without mutual-v1 stops before any socket", async () => {
    await harness(crypto, mutualStatusHandler(false), async (h) => {
      h.conn.requestConnect("user");
      await h.settle();
      assert.equal(h.sockets.sockets.length, 0);
      assert.deepEqual(h.conn.status().lastError, {
        code: "incompatible_relay",
        message:
          `Relay at http://127.0.0.1:${PORT} does not offer mutual authentication: update the relay, or enable OpenClaw relay compatibility in the extension options`,
      });
      assert.equal(h.conn.status().phase, "stopped");
      // Asking again gives the same answer: never the token flow.
      h.conn.requestConnect("user");
      await h.settle();
      assert.equal(h.sockets.sockets.length, 0);
      assert.equal(everythingSent(h).includes(relayToken), false);
    });
  });
  await t.step("a plain challenge nonce is refused and nothing is sent", async () => {
    await harness(crypto, mutualStatusHandler(), async (h) => {
      const socket = await challenge(h, crypto, CHALLENGE.payload.nonce);
      assert.deepEqual(socket.sent, []);
      assert.deepEqual(socket.clientClose, { code: 1008, reason: "mutual authentication missing" });
      assert.equal(h.conn.status().lastError?.code, "incompatible_relay");
      assert.equal(h.conn.status().phase, "stopped");
    });
  });
  await t.step("relay frames instead of a challenge never make it legacy-ready", async () => {
    await harness(crypto, mutualStatusHandler(), async (h) => {
      h.conn.requestConnect("user");
      await h.settle();
      const socket = h.sockets.last;
      socket.open();
      await h.clock.tickAsync(1_000); // past the 500 ms legacy grace of the OpenClaw flow
      assert.equal(h.conn.isReady(), false);
      socket.receive({ id: 1, method: "forwardCDPCommand", params: { method: "Page.enable" } });
      await h.settle();
      assert.deepEqual(h.tabs.commands, []);
      assert.equal(h.conn.isReady(), false);
      assert.deepEqual(socket.clientClose, {
        code: 1008,
        reason: "unexpected frame before hello-ok",
      });
      assert.deepEqual(socket.sent, []);
    });
  });
  await t.step("the next attempt after a refusal is mutual-v1 again", async () => {
    await harness(crypto, mutualStatusHandler(), async (h) => {
      await challenge(h, crypto, CHALLENGE.payload.nonce);
      h.conn.requestConnect("user");
      await h.settle();
      assert.equal(h.sockets.sockets.length, 2);
      assert.match(h.sockets.last.url, /\/extension\?auth=mutual-v1&nonce=[A-Za-z0-9_-]{43}$/);
      assert.equal(everythingSent(h).includes(relayToken), false);
    });
  });
});

Deno.test("RelayConnection() uses the OpenClaw flow only when openclawRelayCompat is set", async () => {
  const crypto = await Crypto.create();
  await withHarness({ openclawRelayCompat: true, connection: crypto.options() }, async (h) => {
    h.conn.requestConnect("user");
    await h.clock.tickAsync(10);
    assert.equal(h.conn.isReady(), true);
    assert.match(h.sockets.last.url, /\/extension\?token=derived-/);
    assert.equal(crypto.inFlight.length, 0);
  });
});

Deno.test("RelayConnection() drops a challenge answer that arrives after the handshake deadline", async () => {
  const crypto = await Crypto.create();
  const relay = new FakeMutualRelay(PORT, TOKEN);
  let release: (() => void) | undefined;
  const slow: RelayConnectionOptions = {
    ...crypto.options(),
    // Holds the (real) answer back until the test releases it.
    answerChallenge: async (input) => {
      const answer = await answerMutualChallenge(input);
      await new Promise<void>((resolve) => release = resolve);
      return answer;
    },
    handshakeTimeoutMs: 100,
  };
  await withHarness(
    { openclawRelayCompat: false, relay: "manual", http: mutualStatusHandler(), connection: slow },
    async (h) => {
      h.conn.requestConnect("user");
      await h.settle();
      const socket = h.sockets.last;
      socket.open();
      socket.receive({
        ...CHALLENGE,
        payload: { nonce: await relay.challenge(socket.url), ts: 1 },
      });
      await h.clock.tickAsync(100);
      assert.equal(h.conn.status().lastError?.code, "handshake_timeout");
      while (release === undefined) await new Promise((resolve) => setImmediate(resolve));
      release();
      await h.settle();
      assert.deepEqual(socket.sent, [], "the late answer was not sent");
    },
  );
});

/** A ready mutual-v1 connection whose relay answered with `policy`. */
async function readyWith(
  h: Harness,
  crypto: Crypto,
  relay: FakeMutualRelay,
  policy: Record<string, number>,
): Promise<{ socket: FakeSocket; caps: unknown }> {
  const socket = await answeredChallenge(h, crypto, relay);
  const request = JSON.parse(socket.sent[0]!) as { id: string; params: { caps?: unknown } };
  socket.receive(helloOk(request.id, policy));
  await h.settle();
  assert.equal(h.conn.isReady(), true);
  return { socket, caps: request.params.caps };
}

const POLICY = { maxPayload: 268435456, maxBufferedBytes: 536870912, tickIntervalMs: 5000 };

const command = (id: number, expression: string) => ({
  id,
  method: "forwardCDPCommand",
  params: { method: "Runtime.evaluate", sessionId: "cb-tab-1", params: { expression } },
});

Deno.test("RelayConnection() batches frames with a relay that agreed to frame-batch-v1", async () => {
  const crypto = await Crypto.create();
  const relay = new FakeMutualRelay(PORT, TOKEN);
  await harness(crypto, mutualStatusHandler(), async (h) => {
    const { socket, caps } = await readyWith(h, crypto, relay, { ...POLICY, maxBatchFrames: 64 });
    assert.deepEqual(caps, ["frame-batch-v1"]);
    const before = socket.sent.length;
    // One inbound batch: two commands, a malformed command and a ping, handled in order.
    socket.receive(JSON.stringify([
      command(1, "1"),
      command(2, "2"),
      { id: 3, method: "forwardCDPCommand", params: {} },
      { method: "ping" },
    ]));
    assert.deepEqual(h.tabs.commands.map((c) => [c.id, c.cdp.params?.expression]), [
      [1, "1"],
      [2, "2"],
    ]);
    // Answers of one turn leave as one batch, in the order they were given.
    assert.equal(h.conn.sendResponse(2, { ok: true, result: { two: 2 } }), true);
    assert.equal(h.conn.sendResponse(1, { ok: false, error: "boom" }), true);
    assert.equal(socket.sent.length, before, "nothing leaves before the turn ends");
    await h.settle();
    assert.equal(socket.sent.length, before + 1);
    const batch = JSON.parse(socket.sent.at(-1)!) as Record<string, unknown>[];
    assert.equal(batch.length, 4);
    assert.equal(batch[0]!.id, 3);
    assert.match(String(batch[0]!.error), /^Invalid forwardCDPCommand: /);
    assert.deepEqual(batch.slice(1), [
      { method: "pong" },
      { id: 2, result: { two: 2 } },
      { id: 1, error: "boom" },
    ]);
    // One frame in a turn goes out as itself; a command id is answered once only.
    socket.receive(command(4, "4"));
    assert.equal(h.conn.sendResponse(4, { ok: true, result: {} }), true);
    assert.equal(h.conn.sendResponse(4, { ok: true, result: {} }), false);
    await h.settle();
    assert.equal(socket.sent.at(-1), '{"id":4,"result":{}}');
  });
});

/** Two commands answered in one turn leave as two messages, each the frame itself. */
function assertAnsweredAlone(h: Harness, socket: FakeSocket): void {
  socket.receive(command(1, "1"));
  socket.receive(command(2, "2"));
  const before = socket.sent.length;
  h.conn.sendResponse(1, { ok: true, result: {} });
  h.conn.sendResponse(2, { ok: true, result: {} });
  assert.deepEqual(socket.sent.slice(before), ['{"id":1,"result":{}}', '{"id":2,"result":{}}']);
}

Deno.test("RelayConnection() sends every frame alone when hello-ok offers no batches", async () => {
  const crypto = await Crypto.create();
  const relay = new FakeMutualRelay(PORT, TOKEN);
  await harness(crypto, mutualStatusHandler(), async (h) => {
    const { socket } = await readyWith(h, crypto, relay, POLICY);
    assertAnsweredAlone(h, socket);
    // A batch from a relay that did not offer batches is not a frame: ignored.
    socket.receive(JSON.stringify([command(3, "3")]));
    assert.equal(h.tabs.commands.length, 2);
  });
});

Deno.test("RelayConnection() never batches in the OpenClaw flow, even if the relay offers it", async () => {
  await withHarness({ openclawRelayCompat: true, relay: "manual" }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    socket.open();
    socket.receive(CHALLENGE);
    await h.settle();
    const request = JSON.parse(socket.sent[0]!) as { id: string; params: { caps?: unknown } };
    assert.deepEqual(request.params.caps, []);
    socket.receive(helloOk(request.id, { ...POLICY, maxBatchFrames: 64 }));
    await h.settle();
    assert.equal(h.conn.isReady(), true);
    assertAnsweredAlone(h, socket);
  });
});
