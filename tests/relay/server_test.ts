import assert from "node:assert/strict";
import type { JsonObject } from "../../codec/json.ts";
import { startRelay } from "../../relay/server.ts";
import { FakeExtension } from "../../harness/fake_extension.ts";
import {
  announceAndWait,
  CdpTestClient,
  http,
  startTestRelay,
  TestClock,
  TOKEN,
  tokenHeader,
  until,
} from "./_helpers.ts";
import { TestSocket } from "../../harness/test_socket.ts";

function errorOf(frame: JsonObject): JsonObject | undefined {
  return frame.error as JsonObject | undefined;
}

Deno.test("startRelay() refuses to start without a token or with bad options", async () => {
  await assert.rejects(() => startRelay({ token: "  ", port: 0 }), {
    name: "TypeError",
    message: 'Cannot start relay as "token" is empty: a gateway token is required',
  });
  await assert.rejects(() => startRelay({ token: TOKEN, port: 0, maxFrameBytes: 1024 }), {
    name: "RangeError",
    message:
      'Cannot start relay as "maxFrameBytes" must be at least 104857600: current value is 1024',
  });
  await assert.rejects(() => startRelay({ token: TOKEN, port: 70000 }), {
    name: "RangeError",
    message: 'Cannot start relay as "port" must be between 0 and 65535: current value is 70000',
  });
});

Deno.test("startRelay() reports its address, relay token and stats", async () => {
  await using relay = await startTestRelay();
  assert.ok(relay.port > 0);
  assert.equal(relay.url, `http://127.0.0.1:${relay.port}`);
  assert.match(relay.relayToken, /^[0-9a-f]{64}$/);
  assert.deepEqual(relay.stats(), {
    pendingCommands: 0,
    heldCommands: 0,
    clients: 0,
    targets: 0,
    extensionConnected: false,
    inGracePeriod: false,
    downloads: 0,
  });
});

Deno.test("startRelay() allows one extension socket at a time", async () => {
  await using relay = await startTestRelay();
  await using _ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await assert.rejects(
    () => FakeExtension.connect({ url: relay.url, token: TOKEN }),
    { status: 409, body: "Extension already connected" },
  );
});

Deno.test("startRelay() replaces a closing extension socket at once", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({
    clock,
    pingIntervalMs: 5,
    extensionIdleTimeoutMs: 30,
  });
  // The first extension stops reading: the relay's idle close never completes on its side.
  const stale = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  stale.autoPong = false;
  stale.socket.ws.pause();
  // The relay gives up on it (no longer ready) at the idle timeout; reconnect immediately.
  clock.tick(30);
  assert.equal(relay.stats().extensionConnected, false);
  await using fresh = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  assert.equal(relay.stats().extensionConnected, true);
  stale.socket.ws.resume();
  await stale.socket.waitClosed();
  fresh.autoPong = true;
});

Deno.test("startRelay() replaces an extension socket whose close handshake is pending", async () => {
  await using relay = await startTestRelay();
  const stale = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  // Send a close frame and stop reading: the relay sees the socket as closing, not closed.
  stale.socket.ws.close(1000);
  stale.socket.ws.pause();
  await using fresh = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  assert.equal(relay.stats().extensionConnected, true);
  stale.socket.ws.resume();
  await stale.socket.waitClosed();
  assert.equal(fresh.socket.ws.readyState, fresh.socket.ws.OPEN);
});

Deno.test("startRelay() forwards commands and relays results and errors", async (t) => {
  const clock = new TestClock();
  await using relay = await startTestRelay({ clock, commandTimeoutMs: 50 });
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using client = await CdpTestClient.connect(relay);

  await t.step("the command goes out as forwardCDPCommand with a relay-wide id", async () => {
    const reply = await client.call("Runtime.evaluate", { expression: "2*3" }, "cb-tab-1");
    assert.deepEqual(reply, {
      id: 1,
      sessionId: "cb-tab-1",
      result: { result: { type: "number", value: 6, description: "6" } },
    });
    const frame = ext.socket.received.find((f) => f.method === "forwardCDPCommand");
    assert.deepEqual(frame, {
      id: 1,
      method: "forwardCDPCommand",
      params: { method: "Runtime.evaluate", sessionId: "cb-tab-1", params: { expression: "2*3" } },
    });
    await client.call("Network.enable");
    const last = ext.socket.received.findLast((f) => f.method === "forwardCDPCommand");
    assert.deepEqual(last, {
      id: 2,
      method: "forwardCDPCommand",
      params: { method: "Network.enable" },
    });
  });
  await t.step("an error string reaches the client as -32000", async () => {
    ext.handler = () => "Cannot navigate to invalid URL";
    const reply = await client.call("Page.navigate", { url: "x" }, "cb-tab-1");
    assert.deepEqual(reply, {
      id: reply.id,
      sessionId: "cb-tab-1",
      error: { code: -32000, message: "Cannot navigate to invalid URL" },
    });
  });
  await t.step("a malformed error is a failure, never a success", async () => {
    for (const bad of [{ error: 42 }, { error: "" }, { result: "text" }]) {
      ext.handler = (command, fake) => {
        fake.socket.send({ id: command.id, ...bad });
        return undefined;
      };
      const reply = await client.call("Page.reload", {}, "cb-tab-1");
      assert.deepEqual(errorOf(reply), { code: -32000, message: "malformed error from extension" });
    }
  });
  await t.step(
    "no reply within commandTimeoutMs is a timeout; the late reply is ignored",
    async () => {
      ext.handler = () => undefined;
      const id = client.post("Page.captureScreenshot", {}, "cb-tab-1");
      await ext.nextCommand("Page.captureScreenshot");
      clock.tick(49);
      assert.equal(relay.stats().pendingCommands, 1);
      clock.tick(1);
      const reply = await client.response(id);
      assert.deepEqual(errorOf(reply), {
        code: -32000,
        message: "extension request timeout: Page.captureScreenshot",
      });
      const late = ext.commands.at(-1);
      ext.respond(late?.id ?? 0, { data: "late" });
      ext.socket.send({ id: 999_999, result: {} });
      ext.handler = undefined;
      const next = await client.call("Page.enable", {}, "cb-tab-1");
      assert.deepEqual(next.result, {});
      assert.equal(client.socket.pending((f) => f.id === reply.id).length, 0);
      assert.equal(relay.stats().pendingCommands, 0);
    },
  );
});

Deno.test("startRelay() answers Extension not connected when no extension ever came", async () => {
  await using relay = await startTestRelay();
  await using client = await CdpTestClient.connect(relay);
  const reply = await client.call("Runtime.evaluate", { expression: "1" });
  assert.deepEqual(errorOf(reply), { code: -32000, message: "Extension not connected" });
});

Deno.test("startRelay() keeps targets and clients through the grace period", async (t) => {
  await using relay = await startTestRelay({ reconnectGraceMs: 5000 });
  const ext1 = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await using client = await CdpTestClient.connect(relay);
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  ext1.announce("cb-tab-1", { targetId: "T1" });
  await client.event("Target.attachedToTarget");

  await t.step("an in-flight command fails with extension disconnected", async () => {
    ext1.handler = () => undefined;
    const id = client.post("Page.printToPDF", {}, "cb-tab-1");
    await ext1.nextCommand("Page.printToPDF");
    await ext1.close();
    const reply = await client.response(id);
    assert.deepEqual(errorOf(reply), { code: -32000, message: "extension disconnected" });
    assert.equal(relay.stats().inGracePeriod, true);
  });
  await t.step("targets stay cached and listed", async () => {
    const list = await http(relay, "/json/list", { headers: tokenHeader() });
    assert.deepEqual(JSON.parse(list.body).map((e: JsonObject) => e.id), ["T1"]);
    const version = JSON.parse(
      (await http(relay, "/json/version", { headers: tokenHeader() })).body,
    );
    assert.equal(typeof version.webSocketDebuggerUrl, "string");
  });
  await t.step("commands during the gap are held and delivered in order on return", async () => {
    const a = client.post("Runtime.evaluate", { expression: "1+1" }, "cb-tab-1");
    const b = client.post("Runtime.evaluate", { expression: "2+2" }, "cb-tab-1");
    await client.call("Target.getTargets"); // processed after a and b
    assert.equal(relay.stats().heldCommands, 2);
    await using ext2 = await FakeExtension.connect({
      url: relay.url,
      token: TOKEN,
      attached: { "cb-tab-1": { targetId: "T1" } },
    });
    assert.deepEqual((await client.response(a)).result, {
      result: { type: "number", value: 2, description: "2" },
    });
    assert.deepEqual((await client.response(b)).result, {
      result: { type: "number", value: 4, description: "4" },
    });
    const evaluated = ext2.commands.filter((c) => c.method === "Runtime.evaluate");
    assert.deepEqual(evaluated.map((c) => c.params?.expression), ["1+1", "2+2"]);
    // The in-flight command was never re-sent, and ids keep counting relay-wide.
    assert.equal(ext2.commands.some((c) => c.method === "Page.printToPDF"), false);
    assert.ok(evaluated.every((c) => c.id > 1));
    // The re-announce was silent.
    await client.call("Target.getTargets");
    assert.equal(client.events("Target.attachedToTarget").length, 0);
    assert.equal(relay.stats().inGracePeriod, false);
  });
});

Deno.test("startRelay() fails a held command after commandReconnectWaitMs", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({
    clock,
    reconnectGraceMs: 5000,
    commandReconnectWaitMs: 20,
  });
  const ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using client = await CdpTestClient.connect(relay);
  await ext.close();
  await until("grace period", () => relay.stats().inGracePeriod);
  const id = client.post("Page.reload", {}, "cb-tab-1");
  await client.call("Target.getTargets"); // processed after the held command
  assert.equal(relay.stats().heldCommands, 1);
  clock.tick(20);
  const reply = await client.response(id);
  assert.deepEqual(errorOf(reply), { code: -32000, message: "Extension not connected" });
  assert.equal(client.socket.ws.readyState, client.socket.ws.OPEN);
  assert.equal(relay.stats().targets, 1);
});

Deno.test("startRelay() closes clients with 1011 and clears targets after the grace period", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({ clock, reconnectGraceMs: 60 });
  const ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  const client = await CdpTestClient.connect(relay);
  await ext.close();
  await until("grace period", () => relay.stats().inGracePeriod);
  const held = client.post("Runtime.evaluate", { expression: "1" }, "cb-tab-1");
  await until("held command", () => relay.stats().heldCommands === 1);
  clock.tick(59);
  assert.equal(relay.stats().targets, 1);
  clock.tick(1);
  assert.deepEqual(errorOf(await client.response(held)), {
    code: -32000,
    message: "Extension not connected",
  });
  assert.deepEqual(await client.socket.waitClosed(), {
    code: 1011,
    reason: "extension disconnected",
  });
  assert.equal(relay.stats().targets, 0);
  const version = JSON.parse((await http(relay, "/json/version", { headers: tokenHeader() })).body);
  assert.equal(version.webSocketDebuggerUrl, undefined);
});

Deno.test("startRelay() sends BrowserRelay.resetSession when the last holder leaves", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command) => command.method === "BrowserRelay.resetSession" ? "Unknown method" : {},
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  const a = await CdpTestClient.connect(relay);
  const b = await CdpTestClient.connect(relay);
  await a.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  await b.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  await a.socket.close();
  await b.call("Target.getTargets");
  assert.equal(ext.commands.some((c) => c.method === "BrowserRelay.resetSession"), false);
  await b.socket.close();
  const reset = await ext.nextCommand("BrowserRelay.resetSession");
  assert.deepEqual(reset, {
    id: reset.id,
    method: "BrowserRelay.resetSession",
    sessionId: "cb-tab-1",
  });
});

Deno.test("startRelay() survives bad input from clients and the extension", async (t) => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using client = await CdpTestClient.connect(relay);
  await using bystander = await CdpTestClient.connect(relay);

  await t.step("client frames with a readable id get one error reply", async () => {
    client.socket.send({ id: 41, method: 7 });
    const reply = await client.socket.next((f) => f.id === 41);
    assert.deepEqual(reply, {
      id: 41,
      error: {
        code: -32000,
        message: "Invalid CDP command: at /method: expected string, received number",
      },
    });
  });
  await t.step("other malformed client input is ignored", async () => {
    client.socket.send("not json");
    client.socket.send("[1,2]");
    client.socket.send({ method: "Runtime.evaluate" });
    client.socket.send({ id: "x", method: "Runtime.evaluate" });
    client.socket.ws.send(new Uint8Array([1, 2, 3]));
    const reply = await client.call("Target.getTargets");
    assert.ok(reply.result !== undefined);
    assert.deepEqual(client.socket.pending(), []);
  });
  await t.step("malformed extension frames are ignored", async () => {
    ext.socket.send("garbage");
    ext.socket.send({ method: "forwardCDPEvent", params: {} });
    ext.socket.send({ id: 123456, result: {} });
    ext.socket.send({ type: "req", id: "again", method: "connect", params: {} });
    ext.socket.ws.send(new Uint8Array([0xff]));
    ext.socket.send({ method: "somethingElse" });
    const reply = await client.call("Runtime.evaluate", { expression: "1+2" }, "cb-tab-1");
    assert.deepEqual(reply.result, { result: { type: "number", value: 3, description: "3" } });
  });
  await t.step("other clients are unaffected", async () => {
    const reply = await bystander.call("Runtime.evaluate", { expression: "5" }, "cb-tab-1");
    assert.deepEqual(reply.result, { result: { type: "number", value: 5, description: "5" } });
    assert.equal(relay.stats().extensionConnected, true);
  });
});

Deno.test("startRelay() close() fails pending commands and closes sockets with 1001", async () => {
  const relay = await startTestRelay();
  const ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: () => undefined,
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  const client = await CdpTestClient.connect(relay);
  const id = client.post("Page.reload", {}, "cb-tab-1");
  await ext.nextCommand("Page.reload");
  const closing = relay.close();
  assert.deepEqual(errorOf(await client.response(id)), {
    code: -32000,
    message: "server stopping",
  });
  assert.deepEqual(await client.socket.waitClosed(), { code: 1001, reason: "server stopping" });
  assert.deepEqual(await ext.socket.waitClosed(), { code: 1001, reason: "server stopping" });
  await closing;
  await relay.close();
});

Deno.test("startRelay() passes 100 MiB frames both ways and closes over-limit ones with 1009", async () => {
  const size = 100 * 1024 * 1024;
  await using relay = await startTestRelay({ maxFrameBytes: 104_857_600 + 4096 });
  const big = "A".repeat(size);
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command) =>
      command.method === "Page.captureScreenshot"
        ? { data: big }
        : { length: String(command.params?.data ?? "").length },
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using client = await CdpTestClient.connect(relay);
  // Generous deadlines: 100 MiB through JSON on a shared 2-core machine takes seconds.
  const shot = await client.response(client.post("Page.captureScreenshot", {}, "cb-tab-1"), 60_000);
  assert.equal(((shot.result as JsonObject).data as string).length, size);
  const upload = await client.response(
    client.post("DOM.setFileInputFiles", { data: big }, "cb-tab-1"),
    60_000,
  );
  assert.deepEqual(upload.result, { length: size });
  // One byte over the limit costs that socket only.
  const over = await TestSocket.open(`ws://127.0.0.1:${relay.port}/cdp`, {
    headers: tokenHeader(),
  });
  over.send("B".repeat(104_857_600 + 4097));
  assert.deepEqual(await over.waitClosed(60_000), { code: 1009, reason: "message too big" });
  assert.deepEqual((await client.call("Target.getTargets")).id, 3);
});

Deno.test("startRelay() keeps a reply ahead of the events the extension sent after it", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    attached: { "cb-tab-1": { targetId: "T1", url: "https://example.com/" } },
  });
  await using client = await CdpTestClient.connect(relay);
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  await client.event("Target.attachedToTarget");
  for (let i = 0; i < 20; i++) {
    const id = client.post("Runtime.enable", {}, "cb-tab-1");
    const created = await client.event("Runtime.executionContextCreated");
    const reply = await client.response(id);
    const frames = client.socket.received;
    assert.ok(frames.indexOf(reply) < frames.indexOf(created), `round ${i}`);
  }
  assert.equal(ext.commands.length, 20);
});

Deno.test("startRelay() close() answers the commands a client sent just before the stop", async () => {
  const relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  const client = await CdpTestClient.connect(relay);
  await client.call("Target.getTargets");
  // Sent, but not yet read by the relay when the stop begins.
  const ids = Array.from(
    { length: 20 },
    (_, i) => client.post("Runtime.evaluate", { expression: `${i}` }, "cb-tab-1"),
  );
  const closing = relay.close();
  for (const id of ids) {
    assert.deepEqual(errorOf(await client.response(id)), {
      code: -32000,
      message: "server stopping",
    });
  }
  assert.deepEqual(await client.socket.waitClosed(), { code: 1001, reason: "server stopping" });
  await closing;
});
