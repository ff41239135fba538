// Relay fuzz (issue 9, item 2): malformed and hostile frames on /extension (before and after the
// handshake) and on /cdp. The relay stays up, a well-behaved client keeps getting its answers,
// and the relay's pending, held, client and target counts come back down. Seeded: a failure
// prints the seed, and FUZZ_SEED=N replays it. Loops are bounded; everything is on loopback.

import assert from "node:assert/strict";
import { decodeCdpFrame } from "../../codec/decode_cdp_frame.ts";
import { decodeExtensionFrame } from "../../codec/decode_extension_frame.ts";
import type { JsonObject } from "../../codec/json.ts";
import { createRng } from "../../harness/rng.ts";
import { generateInput } from "../../harness/fuzz.ts";
import { connectRequest, FakeExtension, plausibleReply } from "../../harness/fake_extension.ts";
import { announceAndWait, CdpTestClient, http, startTestRelay, TOKEN } from "./_helpers.ts";
import { TestSocket } from "../../harness/test_socket.ts";

const seed = Number(Deno.env.get("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 32));
const replay = `(seed ${seed}; replay with FUZZ_SEED=${seed})`;

const DEEP = "[".repeat(100_000) + "]".repeat(100_000);

function send(socket: TestSocket, input: string | Uint8Array): void {
  // A Uint8Array goes out as a binary frame.
  socket.ws.send(input);
}

/** The bystander's probe: a forwarded command with a checkable answer. */
async function probe(bystander: CdpTestClient, what: string): Promise<void> {
  const reply = await bystander.call("Runtime.evaluate", { expression: "20+22" }, "cb-tab-1");
  assert.deepEqual(
    reply.result,
    { result: { type: "number", value: 42, description: "42" } },
    `bystander after ${what} ${replay}`,
  );
  const local = await bystander.call("Browser.getVersion");
  assert.equal((local.result as JsonObject).protocolVersion, "1.3", `after ${what} ${replay}`);
  // Nothing but its own replies and events ever reaches the bystander.
  const foreign = bystander.socket.pending((f) => f.id !== undefined);
  assert.deepEqual(foreign, [], `foreign replies after ${what} ${replay}`);
}

Deno.test("startRelay() survives hostile /extension frames before the handshake", async () => {
  await using relay = await startTestRelay();
  await using bystander = await CdpTestClient.connect(relay);
  const url = `ws://127.0.0.1:${relay.port}/extension?token=${relay.relayToken}`;
  const crafted: (string | Uint8Array)[] = [
    new Uint8Array([0x7b, 0x7d]),
    "x".repeat(70_000),
    DEEP,
    '{"type":"req","id":"c1","method":"connect","params":' + DEEP.slice(0, 60_000) + "}",
    '{"__proto__":{"polluted":true},"type":"req","id":"c2","method":"connect","params":{}}',
    '{"type":"req","id":1e400,"method":"connect","params":{}}',
    '{"type":"req","id":"c3","method":"status","params":{}}',
    '{"type":"res","id":"c4","ok":true,"payload":{}}',
    '{"id":1,"method":"forwardCDPCommand","params":{"method":"Runtime.evaluate"}}',
    '{"id":1,"result":{}}',
    '{"method":"pong"}',
    JSON.stringify(connectRequest("c5", "wrong-token")),
    JSON.stringify({ ...connectRequest("c6", TOKEN), params: { minProtocol: 1, maxProtocol: 2 } }),
    "",
  ];
  const rng = createRng(seed);
  for (let i = 0; i < 80; i++) {
    const input = i < crafted.length ? crafted[i]! : generateInput(rng).input;
    const where = `pre-handshake input ${i} ${replay}`;
    const socket = await TestSocket.open(url);
    await socket.next((f) => f.type === "event" && f.event === "connect.challenge");
    send(socket, input);
    const outcome = await Promise.race([
      socket.waitClosed(),
      socket.next((f) => f.type === "res" && f.ok === true).then(() => "hello-ok" as const),
    ]);
    if (outcome === "hello-ok") {
      // Only a valid connect with the right token gets here; the relay may hold only one.
      await socket.close();
    } else {
      assert.ok([1002, 1008, 1009].includes(outcome.code), `${where}: ${outcome.code}`);
      assert.ok(new TextEncoder().encode(outcome.reason).length <= 123, where);
    }
    await socket.close();
    const version = await bystander.call("Browser.getVersion");
    assert.ok(version.result !== undefined, where);
  }
  assert.equal((await http(relay, "/")).status, 200);
  // Every hostile socket is gone; a real extension is still welcome.
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  assert.equal(relay.stats().extensionConnected, true);
  assert.equal(relay.stats().clients, 1);
  assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
  void ext;
});

Deno.test("startRelay() survives hostile /extension frames after the handshake", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using bystander = await CdpTestClient.connect(relay);
  await bystander.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  await probe(bystander, "setup");

  // A command of the bystander in flight while the extension floods: it still gets one reply.
  const held = Promise.withResolvers<void>();
  ext.handler = (command, fake) =>
    command.params?.expression === "slow"
      ? held.promise.then(() => ({ slow: true }))
      : plausibleReply(command, fake);
  const slowId = bystander.post("Runtime.evaluate", { expression: "slow" }, "cb-tab-1");
  await ext.nextCommand((c) => c.params?.expression === "slow");

  const rng = createRng(seed);
  const crafted: (string | Uint8Array)[] = [
    DEEP,
    '{"method":"forwardCDPEvent","params":{"method":"X","params":' + DEEP + "}}",
    '{"id":1e400,"result":{}}',
    '{"id":9007199254740993,"error":"x"}',
    '{"id":-1,"result":{}}',
    '{"id":1.5,"error":"x"}',
    '{"id":999999999,"result":[]}',
    '{"__proto__":{"polluted":true},"method":"forwardCDPEvent","params":{"method":"Y"}}',
    '{"method":"forwardCDPEvent","params":{"method":"Runtime.consoleAPICalled","sessionId":"nope","params":{}}}',
    '{"type":"req","id":"again","method":"connect","params":{}}',
    new Uint8Array(1024).fill(0xff),
  ];
  for (let round = 0; round < 2; round++) {
    for (const input of crafted) send(ext.socket, input);
    // A flood of responses to ids the relay never sent, or already settled.
    for (let i = 0; i < 10_000; i++) {
      send(ext.socket, `{"id":${1_000_000_000 + i},"result":{}}`);
    }
    for (let i = 0; i < 1_500; i++) {
      const { input } = generateInput(rng);
      // Well-formed responses would settle the bystander's own command: a hostile extension
      // can always answer a command it was sent, so only malformed ones are fuzzed here.
      if (typeof input === "string") {
        const decoded = decodeExtensionFrame(input);
        if (decoded.ok && decoded.frame.kind === "response") continue;
        if (!decoded.ok && typeof decoded.id === "number") continue;
      }
      send(ext.socket, input);
    }
    await probe(bystander, `round ${round}`);
    const stats = relay.stats();
    assert.equal(stats.extensionConnected, true, `round ${round} ${replay}`);
    assert.equal(stats.pendingCommands, 1, `only the slow command is pending ${replay}`);
    assert.equal(stats.heldCommands, 0);
    assert.ok(stats.targets <= 4, `targets bounded: ${stats.targets} ${replay}`);
  }
  held.resolve();
  const reply = await bystander.response(slowId);
  assert.deepEqual(reply.result, { slow: true });
  assert.equal(relay.stats().pendingCommands, 0);
  assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
});

Deno.test("startRelay() survives hostile /cdp clients", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using bystander = await CdpTestClient.connect(relay);
  await bystander.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  await using hostile = await CdpTestClient.connect(relay);

  const inputs: (string | Uint8Array)[] = [
    '{"id":-1,"method":"Runtime.evaluate"}',
    '{"id":1.5,"method":"Runtime.evaluate"}',
    '{"id":"7","method":"Runtime.evaluate"}',
    '{"id":null,"method":"Runtime.evaluate"}',
    '{"id":1e400,"method":"Runtime.evaluate"}',
    '{"id":1e400,"method":7}',
    '{"id":9007199254740993,"method":"Runtime.evaluate"}',
    '{"id":5,"method":"Runtime.evaluate","params":' + DEEP + "}",
    '{"id":6,"method":"Runtime.evaluate","sessionId":"no-such-session"}',
    '{"id":6,"method":"Runtime.evaluate","sessionId":"no-such-session"}',
    '{"id":8,"method":"Target.attachToTarget","params":{"targetId":"nope"}}',
    '{"id":9,"method":"Target.getTargetInfo","params":{"targetId":"__proto__"}}',
    '{"__proto__":{"polluted":true},"id":10,"method":"Target.getTargets"}',
    '{"id":11,"result":{}}',
    '{"method":"Target.attachedToTarget","params":{}}',
    new Uint8Array([0x7b, 0x22, 0x69, 0x64]),
    DEEP,
  ];
  // A flood of commands for sessions nobody has, and of duplicate ids.
  for (let i = 0; i < 2_000; i++) {
    inputs.push(`{"id":${100 + (i % 50)},"method":"Page.enable","sessionId":"ghost-${i}"}`);
  }
  const rng = createRng(seed);
  for (let i = 0; i < 3_000; i++) inputs.push(generateInput(rng).input);

  // The oracle: each decodable command gets exactly one reply, and so does a malformed frame
  // whose id can be echoed; everything else gets none.
  let expected = 0;
  for (const input of inputs) {
    if (typeof input !== "string") continue;
    const decoded = decodeCdpFrame(input);
    if (decoded.ok ? decoded.frame.kind === "command" : Number.isFinite(decoded.id)) expected++;
  }
  for (const input of inputs) send(hostile.socket, input);
  await probe(bystander, "the /cdp flood");
  const replies = () => hostile.socket.received.filter((f) => f.method === undefined).length;
  // Event-driven: resolves on the frame that brings the count to `expected`.
  await hostile.socket.next(() => replies() >= expected, 20_000).catch(() => {});
  assert.equal(replies(), expected, `replies to the hostile client ${replay}`);
  // One more forwarded round trip: no late extra reply shows up behind it.
  hostile.socket.send({
    id: 999_999_999,
    method: "Runtime.evaluate",
    params: { expression: "1+1" },
    sessionId: "cb-tab-1",
  });
  const sentinel = await hostile.socket.next((f) => f.id === 999_999_999);
  assert.deepEqual(sentinel.result, { result: { type: "number", value: 2, description: "2" } });
  assert.equal(replies(), expected + 1, `no extra replies ${replay}`);
  for (const frame of hostile.socket.received.filter((f) => f.method === undefined)) {
    assert.equal(typeof frame.id, "number", `every reply has a numeric id ${replay}`);
  }
  const stats = relay.stats();
  assert.equal(stats.pendingCommands, 0);
  assert.equal(stats.heldCommands, 0);
  assert.equal(stats.clients, 2);
  assert.equal(stats.extensionConnected, true);
  assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
});
