/**
 * The relay's side of scheme `mutual-v1` (issue 14, docs/protocol-extensions.md): real sockets,
 * the relay's deadlines on a fake clock.
 */

import assert from "node:assert/strict";
import { deriveRelayToken } from "../../codec/derive_relay_token.ts";
import type { JsonObject } from "../../codec/json.ts";
import {
  encodeNonce,
  mutualAuthKey,
  mutualConnectToken,
  mutualProof,
  mutualSocketUrl,
  parseMutualChallengeNonce,
  verifyMutualProof,
} from "../../codec/mutual_auth.ts";
import type { RelayServer } from "../../relay/server.ts";
import { connectRequest, FakeExtension } from "../../harness/fake_extension.ts";
import { TestSocket } from "../../harness/test_socket.ts";
import { CdpTestClient, http, startTestRelay, TestClock, TOKEN } from "./_helpers.ts";

function nonce(seed: number): string {
  return encodeNonce(Uint8Array.from({ length: 32 }, (_, i) => (seed * 7 + i) & 0xff));
}

function isChallenge(frame: JsonObject): boolean {
  return frame.type === "event" && frame.event === "connect.challenge";
}

interface Opened {
  readonly socket: TestSocket;
  readonly clientNonce: string;
  readonly relayNonce: string;
  readonly relayProof: string;
}

/** Opens a tokenless `mutual-v1` socket and reads the relay's challenge. */
async function openMutual(relay: RelayServer, clientNonce = nonce(1)): Promise<Opened> {
  const socket = await TestSocket.open(mutualSocketUrl(relay.port, clientNonce));
  const challenge = await socket.next(isChallenge);
  const parsed = parseMutualChallengeNonce(String((challenge.payload as JsonObject).nonce));
  assert.ok(parsed, "the challenge nonce is of scheme mutual-v1");
  return { socket, clientNonce, relayNonce: parsed.relayNonce, relayProof: parsed.proof };
}

/** The extension's proof for `opened`, with the key of `token` and `port`. */
async function extensionToken(
  opened: Opened,
  port: number,
  token = TOKEN,
  keyPort = port,
): Promise<string> {
  const key = await mutualAuthKey(token, keyPort);
  const proof = await mutualProof(key, "extension", {
    port,
    clientNonce: opened.clientNonce,
    relayNonce: opened.relayNonce,
  });
  return mutualConnectToken(proof);
}

const MISMATCH = {
  type: "res",
  id: "ext-connect-1-000000",
  ok: false,
  error: {
    code: "INVALID_REQUEST",
    message: "unauthorized: mutual-v1 proof mismatch",
    details: { code: "AUTH_TOKEN_MISMATCH", authReason: "token_mismatch" },
  },
};

/** Sends `connect` with `token` and expects the mismatch reply and close 1008. */
async function expectMismatch(relay: RelayServer, opened: Opened, token: string): Promise<void> {
  opened.socket.send(connectRequest("ext-connect-1-000000", token));
  assert.deepEqual(await opened.socket.next((f) => f.type === "res"), MISMATCH);
  assert.deepEqual(await opened.socket.waitClosed(), {
    code: 1008,
    reason: "unauthorized: mutual-v1 proof mismatch",
  });
  assert.equal(relay.stats().extensionConnected, false);
}

Deno.test("startRelay() proves itself in a mutual-v1 challenge and accepts the extension's proof", async () => {
  await using relay = await startTestRelay();
  const opened = await openMutual(relay);
  // The relay's proof is bound to this port and both nonces.
  const key = await mutualAuthKey(TOKEN, relay.port);
  assert.equal(
    await verifyMutualProof(key, "relay", {
      port: relay.port,
      clientNonce: opened.clientNonce,
      relayNonce: opened.relayNonce,
    }, opened.relayProof),
    true,
  );
  assert.notEqual(opened.relayNonce, opened.clientNonce);
  opened.socket.send(
    connectRequest("ext-connect-1-000000", await extensionToken(opened, relay.port), "UA/1"),
  );
  const hello = await opened.socket.next((f) => f.type === "res");
  assert.equal(hello.ok, true);
  assert.equal((hello.payload as JsonObject).type, "hello-ok");
  assert.equal(relay.stats().extensionConnected, true);
  // The socket is now the extension: its events reach CDP clients.
  await using client = await CdpTestClient.connect(relay);
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  opened.socket.send({
    method: "forwardCDPEvent",
    params: {
      method: "Target.attachedToTarget",
      params: {
        sessionId: "cb-tab-1",
        targetInfo: { targetId: "T1", type: "page", title: "", url: "about:blank" },
        waitingForDebugger: false,
      },
    },
  });
  const attached = await client.event("Target.attachedToTarget");
  assert.equal((attached.params as JsonObject).sessionId, "cb-tab-1");
  await opened.socket.close();
});

Deno.test("startRelay() refuses every token in place of a mutual-v1 proof", async (t) => {
  await using relay = await startTestRelay();
  await t.step("the raw gateway token", async () => {
    await expectMismatch(relay, await openMutual(relay), TOKEN);
  });
  await t.step("the derived relay token", async () => {
    await expectMismatch(relay, await openMutual(relay), await deriveRelayToken(TOKEN, relay.port));
  });
  await t.step("a bare proof without the mutual-v1. prefix", async () => {
    const opened = await openMutual(relay);
    const token = await extensionToken(opened, relay.port);
    await expectMismatch(relay, opened, token.slice("mutual-v1.".length));
  });
  await t.step("the relay's own proof reflected back", async () => {
    const opened = await openMutual(relay);
    await expectMismatch(relay, opened, mutualConnectToken(opened.relayProof));
  });
  await t.step("a proof made with another gateway token", async () => {
    const opened = await openMutual(relay);
    await expectMismatch(relay, opened, await extensionToken(opened, relay.port, "other-token"));
  });
});

Deno.test("startRelay() uses each relay nonce once: a recorded proof does not open another socket", async () => {
  await using relay = await startTestRelay();
  const first = await openMutual(relay);
  const recorded = await extensionToken(first, relay.port);
  await first.socket.close();
  // Same client nonce, as a replaying impostor would send: the relay still picks a fresh Nr.
  const second = await openMutual(relay, first.clientNonce);
  assert.notEqual(second.relayNonce, first.relayNonce);
  await expectMismatch(relay, second, recorded);
});

Deno.test("startRelay() refuses a proof made for another port", async () => {
  await using relay = await startTestRelay();
  const opened = await openMutual(relay);
  const other = relay.port === 65_535 ? relay.port - 1 : relay.port + 1;
  await expectMismatch(relay, opened, await extensionToken(opened, relay.port, TOKEN, other));
});

Deno.test("startRelay() refuses a tokenless /extension upgrade without a well-formed nonce", async (t) => {
  await using relay = await startTestRelay();
  const base = `ws://127.0.0.1:${relay.port}/extension`;
  for (
    const query of [
      "?auth=mutual-v1",
      "?auth=mutual-v1&nonce=",
      `?auth=mutual-v1&nonce=${nonce(1)}=`,
      `?auth=mutual-v1&nonce=${nonce(1).slice(1)}`,
      `?auth=mutual-v2&nonce=${nonce(1)}`,
      `?nonce=${nonce(1)}`,
    ]
  ) {
    await t.step(query, async () => {
      assert.deepEqual(await TestSocket.rejection(base + query), {
        status: 401,
        body: "Unauthorized",
      });
    });
  }
  await t.step("/cdp never takes the mutual-v1 path", async () => {
    assert.deepEqual(
      await TestSocket.rejection(
        `ws://127.0.0.1:${relay.port}/cdp?auth=mutual-v1&nonce=${nonce(1)}`,
      ),
      { status: 401, body: "Unauthorized" },
    );
  });
});

Deno.test("startRelay() in legacy mode offers no mutual-v1 and keeps its token check", async () => {
  await using relay = await startTestRelay({ legacy: true });
  assert.equal((await http(relay, "/extension/status")).body, '{"connected":false}');
  assert.deepEqual(await TestSocket.rejection(mutualSocketUrl(relay.port, nonce(1))), {
    status: 401,
    body: "Unauthorized",
  });
  await using _ext = await FakeExtension.connect({ url: relay.url, token: TOKEN, legacy: true });
  assert.equal(relay.stats().extensionConnected, true);
});

Deno.test("ExtensionLink() closes a mutual-v1 socket that sends no connect at the handshake deadline", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({ clock, handshakeTimeoutMs: 60 });
  const opened = await openMutual(relay);
  clock.tick(59);
  assert.equal(opened.socket.ws.readyState, opened.socket.ws.OPEN);
  clock.tick(1);
  assert.deepEqual(await opened.socket.waitClosed(), { code: 1008, reason: "handshake timeout" });
  assert.equal(opened.socket.received.length, 1);
});

Deno.test("ExtensionLink() applies the 64 KiB pre-handshake limit to a mutual-v1 socket", async () => {
  await using relay = await startTestRelay();
  const opened = await openMutual(relay);
  opened.socket.send("x".repeat(64 * 1024 + 1));
  assert.deepEqual(await opened.socket.waitClosed(), {
    code: 1009,
    reason: "preauth payload too large",
  });
});

Deno.test("ExtensionChannel() never lets an unproven mutual-v1 socket hold or replace the extension", async () => {
  await using relay = await startTestRelay();
  // An unproven socket does not block the token extension.
  const unproven = await openMutual(relay);
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  assert.equal(relay.stats().extensionConnected, true);
  // A proof that arrives while the extension is connected is refused; the extension stays.
  unproven.socket.send(
    connectRequest("ext-connect-2-000000", await extensionToken(unproven, relay.port)),
  );
  assert.deepEqual(await unproven.socket.next((f) => f.type === "res"), {
    type: "res",
    id: "ext-connect-2-000000",
    ok: false,
    error: { code: "INVALID_REQUEST", message: "Extension already connected" },
  });
  assert.deepEqual(await unproven.socket.waitClosed(), {
    code: 1008,
    reason: "Extension already connected",
  });
  assert.equal(relay.stats().extensionConnected, true);
  assert.equal(ext.socket.ws.readyState, ext.socket.ws.OPEN);
  // A new mutual-v1 upgrade is refused with 409, as a token upgrade would be.
  assert.deepEqual(await TestSocket.rejection(mutualSocketUrl(relay.port, nonce(2))), {
    status: 409,
    body: "Extension already connected",
  });
});

Deno.test("startRelay() close() ends unproven mutual-v1 sockets", async () => {
  const relay = await startTestRelay();
  const opened = await openMutual(relay);
  await relay.close();
  assert.deepEqual(await opened.socket.waitClosed(), { code: 1001, reason: "server stopping" });
});

Deno.test("handleHttpRequest() proves the relay in /extension/status for a client nonce", async () => {
  await using relay = await startTestRelay();
  const clientNonce = nonce(3);
  const reply = await http(relay, `/extension/status?auth=mutual-v1&nonce=${clientNonce}`);
  const body = JSON.parse(reply.body) as JsonObject;
  assert.equal(body.browser, "BrowserRelay/0.1.0");
  assert.equal(body.protocolVersion, "1.3");
  const parsed = parseMutualChallengeNonce(String(body.proof));
  assert.ok(parsed);
  const key = await mutualAuthKey(TOKEN, relay.port);
  assert.equal(
    await verifyMutualProof(key, "relay", {
      port: relay.port,
      clientNonce,
      relayNonce: parsed.relayNonce,
    }, parsed.proof),
    true,
  );
  // A malformed nonce gets the plain status, without a proof.
  const plain = await http(relay, "/extension/status?auth=mutual-v1&nonce=short");
  assert.deepEqual(JSON.parse(plain.body), {
    connected: false,
    handshake: "connect.challenge",
    protocol: 3,
    auth: ["mutual-v1"],
  });
});
