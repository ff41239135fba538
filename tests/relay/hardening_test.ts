/**
 * Regression tests for the relay defects of issue 14 (2, 3, 4 and 6) and the same class as 3 for a
 * `Target.*` command naming another target: each failed on the relay
 * before its fix.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { JsonObject } from "../../codec/json.ts";
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

function params(frame: JsonObject): JsonObject {
  return frame.params as JsonObject;
}

Deno.test("CdpRouter.handleCommand() tears down a chain of browser sessions and caps them per client", async () => {
  // The default cap is MAX_CLIENT_SESSIONS (relay/limits.ts); a small one keeps the test short.
  // A 20 000-deep chain is torn down in tests/relay/client_sessions_test.ts.
  const MAX_CLIENT_SESSIONS = 300;
  await using relay = await startTestRelay({ maxClientSessions: MAX_CLIENT_SESSIONS });
  await using client = await CdpTestClient.connect(relay);
  // A chain: each browser session is made on the previous one. Replies come in order, so the
  // session of step i is known once reply i has arrived; pipeline by reading ahead.
  const root = await client.call("Target.attachToBrowserTarget");
  let parent = (root.result as JsonObject).sessionId as string;
  const rootId = parent;
  for (let i = 1; i < MAX_CLIENT_SESSIONS; i++) {
    const reply = await client.call("Target.attachToBrowserTarget", {}, parent);
    parent = (reply.result as JsonObject).sessionId as string;
  }
  const over = await client.call("Target.attachToBrowserTarget", {}, parent);
  assert.deepEqual(over.error, {
    code: -32000,
    message:
      `Cannot attach as a client may hold at most ${MAX_CLIENT_SESSIONS} relay-made sessions: current count is ${MAX_CLIENT_SESSIONS}`,
  });
  // Ending the root ends the whole chain, silently below the root, and the relay stays up.
  const id = client.post("Target.detachFromTarget", { sessionId: rootId });
  const detached = await client.event(
    "Target.detachedFromTarget",
    (f) => params(f).sessionId === rootId,
  );
  assert.equal(detached.sessionId, undefined);
  assert.deepEqual((await client.response(id)).result, {});
  const again = await client.call("Target.attachToBrowserTarget");
  assert.match(String((again.result as JsonObject).sessionId), /^[0-9A-F]{32}$/);
  const gone = await client.call("Runtime.evaluate", {}, parent);
  // The ended session is unknown again: forwarded as is, and with no extension that fails.
  assert.deepEqual(gone.error, { code: -32000, message: "Extension not connected" });
});

Deno.test("CdpRouter.prune() never drops a live target for an error on an unknown session", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command) =>
      command.sessionId === "BOGUS" ? `No session with given id: ${command.sessionId}` : {},
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using holder = await CdpTestClient.connect(relay);
  await holder.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  await using attacker = await CdpTestClient.connect(relay);
  const reply = await attacker.call(
    "Runtime.evaluate",
    { expression: "1", targetId: "T1" },
    "BOGUS",
  );
  assert.deepEqual(reply.error, { code: -32000, message: "No session with given id: BOGUS" });
  // The holder still has its tab: a round trip after the error shows no detach arrived.
  await holder.call("Target.getTargets");
  assert.deepEqual(holder.events("Target.detachedFromTarget"), []);
  const list = await http(relay, "/json/list", { headers: tokenHeader() });
  assert.deepEqual(JSON.parse(list.body).map((e: JsonObject) => e.id), ["T1"]);
  assert.equal(relay.stats().targets, 1);
});

Deno.test("CdpRouter.prune() never drops the session a Target command was sent on for an error about the target it names", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command) =>
      command.method === "Target.activateTarget" ? "No target with given id found" : {},
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using holder = await CdpTestClient.connect(relay);
  const { sessionId } =
    (await holder.call("Target.attachToTarget", { targetId: "T1", flatten: true }))
      .result as { sessionId: string };
  const reply = await holder.call("Target.activateTarget", { targetId: "GONE" }, sessionId);
  assert.deepEqual(reply.error, { code: -32000, message: "No target with given id found" });
  await holder.call("Target.getTargets");
  assert.deepEqual(holder.events("Target.detachedFromTarget"), []);
  assert.equal(relay.stats().targets, 1);
});

Deno.test("CdpRouter.handleCommand() never forwards relay-private methods from /cdp", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using client = await CdpTestClient.connect(relay);
  const browser = await client.call("Target.attachToBrowserTarget");
  const browserSession = (browser.result as JsonObject).sessionId as string;
  for (const sessionId of ["cb-tab-1", undefined, browserSession]) {
    const reply = await client.call("BrowserRelay.resetSession", {}, sessionId);
    assert.deepEqual(reply.error, {
      code: -32000,
      message:
        'Cannot call "BrowserRelay.resetSession" as relay-private methods are not accepted from CDP clients',
    });
  }
  await client.call("Runtime.evaluate", { expression: "1" }, "cb-tab-1");
  assert.deepEqual(ext.commands.map((c) => c.method), ["Runtime.evaluate"]);
});

Deno.test("startRelay() in legacy mode sends held commands when the extension reconnects", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({ clock, legacy: true });
  const first = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    legacy: true,
    attached: { "cb-tab-1": { targetId: "T1" } },
  });
  await using client = await CdpTestClient.connect(relay);
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  await client.event("Target.attachedToTarget");
  await first.close();
  await until("grace period", () => relay.stats().inGracePeriod);
  const id = client.post("Runtime.evaluate", { expression: "1+1" }, "cb-tab-1");
  await until("held command", () => relay.stats().heldCommands === 1);
  await using second = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    legacy: true,
    attached: { "cb-tab-1": { targetId: "T1" } },
  });
  assert.deepEqual((await client.response(id)).result, {
    result: { type: "number", value: 2, description: "2" },
  });
  assert.equal(relay.stats().inGracePeriod, false);
  assert.equal(relay.stats().extensionConnected, true);
  // Past the end of the grace period (20 s), short of the idle timeout (30 s): the client and
  // the target are still there.
  clock.tick(25_000);
  const list = await http(relay, "/json/list", { headers: tokenHeader() });
  assert.deepEqual(JSON.parse(list.body).map((e: JsonObject) => e.id), ["T1"]);
  assert.equal(client.socket.ws.readyState, client.socket.ws.OPEN);
  assert.equal(second.commands.length, 1);
});
