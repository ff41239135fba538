/**
 * Frame batches on `/extension` (docs/protocol-extensions.md, "Frame batches"), relay side:
 * offered only when asked, each frame of an inbound batch handled in order, and one turn's
 * outbound frames sent as one message.
 */

import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { WebSocket } from "ws";
import { deriveRelayToken } from "../../codec/derive_relay_token.ts";
import { FRAME_BATCH_CAP } from "../../codec/frame_batch.ts";
import type { JsonObject } from "../../codec/json.ts";
import { connectRequest, targetInfoOf } from "../../harness/fake_extension.ts";
import { TestSocket } from "../../harness/test_socket.ts";
import { ExtensionLink } from "../../relay/extension_link.ts";
import type { RelayServer } from "../../relay/server.ts";
import { CdpTestClient, startTestRelay, TestClock, TOKEN } from "./_helpers.ts";

/** Opens `/extension`, answers the challenge with `caps`, and returns the socket and policy. */
async function handshake(
  relay: RelayServer,
  caps: readonly string[],
): Promise<{ socket: TestSocket; policy: JsonObject; raw: string[] }> {
  const token = await deriveRelayToken(TOKEN, relay.port);
  const socket = await TestSocket.open(`ws://127.0.0.1:${relay.port}/extension?token=${token}`);
  const raw: string[] = [];
  socket.ws.on("message", (data: Buffer) => raw.push(data.toString()));
  await socket.next((f) => f.type === "event" && f.event === "connect.challenge");
  socket.send(connectRequest("ext-connect-1-abcdef", TOKEN, undefined, caps));
  const res = await socket.next((f) => f.type === "res");
  return { socket, policy: (res.payload as JsonObject).policy as JsonObject, raw };
}

function attached(sessionId: string, targetId: string): JsonObject {
  return {
    method: "forwardCDPEvent",
    params: {
      method: "Target.attachedToTarget",
      params: {
        sessionId,
        targetInfo: targetInfoOf({ targetId, url: `https://example.com/${targetId}` }),
        waitingForDebugger: false,
      },
    },
  };
}

Deno.test("ExtensionLink() offers maxBatchFrames only to an extension that asks for frame-batch-v1", async () => {
  await using relay = await startTestRelay({ pingIntervalMs: 5000 });
  const asked = await handshake(relay, [FRAME_BATCH_CAP]);
  assert.deepEqual(asked.policy, {
    maxPayload: 268435456,
    maxBufferedBytes: 536870912,
    tickIntervalMs: 5000,
    maxBatchFrames: 64,
  });
  await asked.socket.close();
  const other = await handshake(relay, ["something-else"]);
  assert.equal("maxBatchFrames" in other.policy, false);
  await other.socket.close();
});

Deno.test("ExtensionLink() offers no batches when the relay's maxBatchFrames is 1", async () => {
  await using relay = await startTestRelay({ maxBatchFrames: 1 });
  const asked = await handshake(relay, [FRAME_BATCH_CAP]);
  assert.equal("maxBatchFrames" in asked.policy, false);
  await asked.socket.close();
});

Deno.test("startRelay() refuses a maxBatchFrames that is not positive", async () => {
  await assert.rejects(
    () => startTestRelay({ maxBatchFrames: 0 }),
    /"maxBatchFrames" must be a positive number/,
  );
});

Deno.test("ExtensionLink() handles every frame of an inbound batch, in order", async () => {
  await using relay = await startTestRelay();
  const { socket } = await handshake(relay, [FRAME_BATCH_CAP]);
  await using watcher = await CdpTestClient.connect(relay);
  await watcher.call("Target.setDiscoverTargets", { discover: true });
  socket.send(JSON.stringify([attached("cb-tab-1", "T1"), attached("cb-tab-2", "T2")]));
  const first = await watcher.socket.next((f) => f.method === "Target.targetCreated");
  const second = await watcher.socket.next((f) => f.method === "Target.targetCreated");
  assert.deepEqual(
    [first, second].map((f) => ((f.params as JsonObject).targetInfo as JsonObject).targetId),
    ["T1", "T2"],
  );
  // A response and an event in one batch: the client gets its reply and the event.
  await watcher.call("Target.setAutoAttach", {
    autoAttach: true,
    waitForDebuggerOnStart: false,
    flatten: true,
  });
  const reply = watcher.call("Runtime.evaluate", { expression: "1" }, "cb-tab-1");
  const command = await socket.next((f) => f.method === "forwardCDPCommand");
  socket.send(JSON.stringify([
    { id: command.id, result: { result: { type: "number", value: 1, description: "1" } } },
    {
      method: "forwardCDPEvent",
      params: {
        sessionId: "cb-tab-1",
        method: "Runtime.consoleAPICalled",
        params: { type: "log", args: [], executionContextId: 1, timestamp: 1 },
      },
    },
  ]));
  assert.deepEqual((await reply).result, {
    result: { type: "number", value: 1, description: "1" },
  });
  await socket.close();
});

Deno.test("ExtensionLink() ignores a batch from an extension that did not agree to batches", async () => {
  await using relay = await startTestRelay();
  const { socket } = await handshake(relay, []);
  await using watcher = await CdpTestClient.connect(relay);
  await watcher.call("Target.setDiscoverTargets", { discover: true });
  socket.send(JSON.stringify([attached("cb-tab-1", "T1")]));
  socket.send(JSON.stringify(attached("cb-tab-2", "T2")));
  const created = await watcher.socket.next((f) => f.method === "Target.targetCreated");
  assert.equal(((created.params as JsonObject).targetInfo as JsonObject).targetId, "T2");
  assert.equal(watcher.socket.pending((f) => f.method === "Target.targetCreated").length, 0);
  await socket.close();
});

/** The part of a `ws` socket that `ExtensionLink` uses, recording what it sends. */
class RecordingSocket extends EventEmitter {
  readonly OPEN = 1;
  readonly CONNECTING = 0;
  readyState = 1;
  readonly sent: string[] = [];
  send(text: string): void {
    this.sent.push(text);
  }
  close(): void {
    this.readyState = 3;
  }
  terminate(): void {
    this.readyState = 3;
  }
}

function recordingLink(): { ws: RecordingSocket; link: ExtensionLink; ready: Promise<void> } {
  const ws = new RecordingSocket();
  const ready = Promise.withResolvers<void>();
  const link = new ExtensionLink(ws as unknown as WebSocket, {
    legacy: false,
    clock: new TestClock(),
    handshakeTimeoutMs: 10_000,
    pingIntervalMs: 5_000,
    idleTimeoutMs: 30_000,
    maxFrameBytes: 268435456,
    maxBatchFrames: 64,
    version: "0.1.0",
    uptimeMs: () => 0,
    verifyToken: (token) => token === TOKEN,
    onReady: () => ready.resolve(),
    onFrame: () => {},
    onClose: () => {},
    log: () => {},
  });
  link.start();
  const connect = connectRequest("ext-connect-1-abcdef", TOKEN, undefined, [FRAME_BATCH_CAP]);
  ws.emit("message", Buffer.from(JSON.stringify(connect)), false);
  return { ws, link, ready: ready.promise };
}

Deno.test("ExtensionLink.send() sends the frames of one turn as one batch once agreed", async () => {
  const { ws, link, ready } = recordingLink();
  await ready;
  assert.equal(ws.sent.length, 2, "challenge and hello-ok, each alone");
  const command = (id: number) => ({
    kind: "command" as const,
    id,
    cdp: { method: "Runtime.evaluate", sessionId: "cb-tab-1", params: { expression: "1" } },
  });
  assert.equal(link.send(command(1)), true);
  assert.equal(link.send(command(2)), true);
  assert.equal(link.send({ kind: "ping" }), true);
  assert.equal(ws.sent.length, 2, "nothing leaves before the turn ends");
  await Promise.resolve();
  assert.equal(ws.sent.length, 3);
  assert.deepEqual(JSON.parse(ws.sent[2]!), [
    {
      id: 1,
      method: "forwardCDPCommand",
      params: { method: "Runtime.evaluate", sessionId: "cb-tab-1", params: { expression: "1" } },
    },
    {
      id: 2,
      method: "forwardCDPCommand",
      params: { method: "Runtime.evaluate", sessionId: "cb-tab-1", params: { expression: "1" } },
    },
    { method: "ping" },
  ]);
  // One frame in a turn goes out as itself.
  link.send(command(3));
  await Promise.resolve();
  assert.equal(ws.sent[3]!.startsWith("{"), true);
  link.close(1000, "done");
});

Deno.test("ExtensionLink.close() sends the queued frames before closing", async () => {
  const { ws, link, ready } = recordingLink();
  await ready;
  link.send({ kind: "ping" });
  link.send({ kind: "ping" });
  link.close(1000, "done");
  assert.deepEqual(ws.sent.slice(2), ['[{"method":"ping"},{"method":"ping"}]']);
  assert.equal(link.closed, true);
});
