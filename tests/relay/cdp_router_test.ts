import assert from "node:assert/strict";
import type { JsonObject } from "../../codec/json.ts";
import { FakeExtension, targetInfoOf } from "./_fake_extension.ts";
import { announceAndWait, CdpTestClient, startTestRelay, TOKEN } from "./_helpers.ts";

const UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.7000.1 Safari/537.36";

function params(frame: JsonObject): JsonObject {
  return frame.params as JsonObject;
}

Deno.test("CdpRouter.handleCommand() answers Browser.* locally", async (t) => {
  await using relay = await startTestRelay();
  await using client = await CdpTestClient.connect(relay);
  await t.step("getVersion falls back without a userAgent", async () => {
    assert.deepEqual(await client.call("Browser.getVersion"), {
      id: 1,
      result: {
        protocolVersion: "1.3",
        product: "Chrome/Browser-Relay",
        revision: "0",
        userAgent: "Browser-Relay",
        jsVersion: "V8",
      },
    });
  });
  await t.step("getVersion reports the extension's Chrome", async () => {
    await using _ext = await FakeExtension.connect({ url: relay.url, token: TOKEN, userAgent: UA });
    const reply = await client.call("Browser.getVersion");
    assert.deepEqual(reply.result, {
      protocolVersion: "1.3",
      product: "Chrome/156.0.7000.1",
      revision: "0",
      userAgent: UA,
      jsVersion: "V8",
    });
  });
  await t.step("setDownloadBehavior and close are no-ops, other methods unsupported", async () => {
    assert.deepEqual(
      (await client.call("Browser.setDownloadBehavior", { behavior: "allowAndName" })).result,
      {},
    );
    assert.deepEqual((await client.call("Browser.close")).result, {});
    const crash = await client.call("Browser.crash");
    assert.deepEqual(crash.error, {
      code: -32000,
      message: "Browser.crash is not supported by Browser Relay",
    });
  });
  await t.step("answers even without an extension", async () => {
    assert.deepEqual((await client.call("Target.getBrowserContexts")).result, {
      browserContextIds: [],
    });
    const reply = await client.call("Target.createBrowserContext");
    assert.equal(
      (reply.error as JsonObject).message,
      "Target.createBrowserContext is not supported by Browser Relay",
    );
  });
});

Deno.test("CdpRouter.handleCommand() answers Target.* from the cache", async (t) => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  const t1 = { targetId: "T1", title: "One", url: "https://one.example/" };
  await announceAndWait(relay, ext, "cb-tab-1", t1);
  await using client = await CdpTestClient.connect(relay);
  const info1 = targetInfoOf(t1);

  await t.step("getTargets lists cached pages", async () => {
    assert.deepEqual((await client.call("Target.getTargets")).result, { targetInfos: [info1] });
  });
  await t.step("getTargetInfo without params is the browser target", async () => {
    const reply = await client.call("Target.getTargetInfo");
    const info = (reply.result as JsonObject).targetInfo as JsonObject;
    assert.match(String(info.targetId), /^[0-9A-F]{32}$/);
    assert.deepEqual(info, {
      targetId: info.targetId,
      type: "browser",
      title: "",
      url: "",
      attached: true,
      canAccessOpener: false,
    });
    const again = await client.call("Target.getTargetInfo");
    assert.deepEqual(again.result, reply.result);
  });
  await t.step("getTargetInfo by targetId or top-level session", async () => {
    assert.deepEqual((await client.call("Target.getTargetInfo", { targetId: "T1" })).result, {
      targetInfo: info1,
    });
    const bySession = await client.call("Target.getTargetInfo", {}, "cb-tab-1");
    assert.deepEqual(bySession, {
      id: bySession.id,
      sessionId: "cb-tab-1",
      result: { targetInfo: info1 },
    });
    const unknown = await client.call("Target.getTargetInfo", { targetId: "NOPE" });
    assert.deepEqual(unknown.error, { code: -32000, message: "No target with given id found" });
  });
  await t.step("attachToTarget attaches once and returns the relay session", async () => {
    const missing = await client.call("Target.attachToTarget", {});
    assert.deepEqual(missing.error, { code: -32000, message: "targetId required" });
    const unknown = await client.call("Target.attachToTarget", { targetId: "NOPE" });
    assert.deepEqual(unknown.error, { code: -32000, message: "No target with given id found" });
    const id = client.post("Target.attachToTarget", { targetId: "T1", flatten: true });
    const attach = await client.event("Target.attachedToTarget");
    assert.deepEqual(params(attach), {
      sessionId: "cb-tab-1",
      targetInfo: info1,
      waitingForDebugger: false,
    });
    assert.deepEqual((await client.response(id)).result, { sessionId: "cb-tab-1" });
    // The attach event came before the response.
    assert.ok(
      client.socket.received.indexOf(attach) < client.socket.received.findIndex((f) => f.id === id),
    );
    await client.call("Target.attachToTarget", { targetId: "T1", flatten: true });
    assert.equal(client.events("Target.attachedToTarget").length, 0);
  });
  await t.step("detachFromTarget on a top-level session is a no-op", async () => {
    assert.deepEqual(
      (await client.call("Target.detachFromTarget", { sessionId: "cb-tab-1" })).result,
      {},
    );
    assert.equal(ext.commands.filter((c) => c.method === "Target.detachFromTarget").length, 0);
  });
});

Deno.test("CdpRouter.handleCommand() auto-attaches and discovers cached targets", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await announceAndWait(relay, ext, "cb-tab-2", { targetId: "T2" });
  await using client = await CdpTestClient.connect(relay);
  const discover = await client.call("Target.setDiscoverTargets", { discover: true, filter: [{}] });
  assert.deepEqual(discover.result, {});
  assert.deepEqual(
    client.events("Target.targetCreated").map((f) => (params(f).targetInfo as JsonObject).targetId),
    ["T1", "T2"],
  );
  const auto = await client.call("Target.setAutoAttach", {
    autoAttach: true,
    waitForDebuggerOnStart: true,
    flatten: true,
  });
  assert.deepEqual(auto.result, {});
  assert.deepEqual(
    client.events("Target.attachedToTarget").map((f) => params(f).sessionId),
    ["cb-tab-1", "cb-tab-2"],
  );
  // A second root setAutoAttach delivers nothing new.
  const before = client.socket.received.length;
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  assert.equal(client.socket.received.length, before + 1);
  // A session-scoped setAutoAttach is forwarded to the extension.
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true }, "cb-tab-1");
  const forwarded = ext.commands.find((c) => c.method === "Target.setAutoAttach");
  assert.deepEqual(forwarded, {
    id: forwarded?.id,
    method: "Target.setAutoAttach",
    params: { autoAttach: true, flatten: true },
    sessionId: "cb-tab-1",
  });
});

Deno.test("CdpRouter.handleEvent() never delivers a duplicate attach (§5.3)", async (t) => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await using client = await CdpTestClient.connect(relay);
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  await client.call("Target.setDiscoverTargets", { discover: true });
  ext.announce("cb-tab-1", { targetId: "T1", title: "One" });
  await client.event("Target.targetCreated");
  await client.event("Target.attachedToTarget");

  await t.step("a re-announce is silent; a title change is a targetInfoChanged", async () => {
    ext.announce("cb-tab-1", { targetId: "T1", title: "One" });
    ext.announce("cb-tab-1", { targetId: "T1", title: "Renamed" });
    const changed = await client.event("Target.targetInfoChanged");
    assert.equal((params(changed).targetInfo as JsonObject).title, "Renamed");
    await client.call("Target.getTargets");
    assert.equal(client.events("Target.attachedToTarget").length, 0);
    assert.equal(client.events("Target.targetCreated").length, 0);
    assert.equal(client.events("Target.targetInfoChanged").length, 0);
  });
  await t.step("same session, new target: the old detach comes first", async () => {
    ext.announce("cb-tab-1", { targetId: "T1b" });
    const detach = await client.event("Target.detachedFromTarget");
    assert.deepEqual(params(detach), { sessionId: "cb-tab-1", targetId: "T1" });
    const attach = await client.event("Target.attachedToTarget");
    assert.equal((params(attach).targetInfo as JsonObject).targetId, "T1b");
    assert.ok(client.socket.received.indexOf(detach) < client.socket.received.indexOf(attach));
  });
  await t.step("new session for a held target: the old session's detach comes first", async () => {
    ext.announce("cb-tab-9", { targetId: "T1b" });
    const detach = await client.event("Target.detachedFromTarget");
    assert.deepEqual(params(detach), { sessionId: "cb-tab-1", targetId: "T1b" });
    const attach = await client.event("Target.attachedToTarget");
    assert.equal(params(attach).sessionId, "cb-tab-9");
    const targets = (await client.call("Target.getTargets")).result as JsonObject;
    assert.deepEqual(
      (targets.targetInfos as JsonObject[]).map((info) => info.targetId),
      ["T1b"],
    );
  });
  await t.step("non-page top-level attaches are dropped", async () => {
    ext.announce("cb-tab-5", { targetId: "W1", type: "service_worker" });
    await client.call("Target.getTargets");
    assert.equal(client.events("Target.attachedToTarget").length, 0);
  });
});

Deno.test("CdpRouter.handleEvent() keeps the cache current", async (t) => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await using client = await CdpTestClient.connect(relay);
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  ext.announce("cb-tab-1", { targetId: "T1", title: "One" });
  ext.announce("cb-tab-2", { targetId: "T2" });
  await client.event("Target.attachedToTarget");
  await client.event("Target.attachedToTarget");
  const targetIds = async () =>
    (((await client.call("Target.getTargets")).result as JsonObject).targetInfos as JsonObject[])
      .map((info) => `${info.targetId}:${info.title}`);

  await t.step("targetInfoChanged merges into the cache and reaches holders", async () => {
    ext.event("Target.targetInfoChanged", {
      targetInfo: { targetId: "T1", type: "page", title: "New", url: "https://new.example/" },
    });
    const changed = await client.event("Target.targetInfoChanged");
    assert.equal((params(changed).targetInfo as JsonObject).browserContextId, "CTX1");
    assert.deepEqual(await targetIds(), ["T1:New", "T2:"]);
  });
  await t.step("targetDestroyed removes the target and detaches its holders", async () => {
    ext.event("Target.targetDestroyed", { targetId: "T2" });
    const detach = await client.event("Target.detachedFromTarget");
    assert.deepEqual(params(detach), { sessionId: "cb-tab-2", targetId: "T2" });
    assert.deepEqual(await targetIds(), ["T1:New"]);
  });
  await t.step("a top-level detach by session passes the reason and adds targetId", async () => {
    ext.event("Target.detachedFromTarget", { sessionId: "cb-tab-1", reason: "toggle" });
    const detach = await client.event("Target.detachedFromTarget");
    assert.deepEqual(params(detach), { sessionId: "cb-tab-1", targetId: "T1", reason: "toggle" });
    assert.deepEqual(await targetIds(), []);
  });
});

Deno.test("CdpRouter.handleEvent() routes session events to holders only", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await using holder = await CdpTestClient.connect(relay);
  await using other = await CdpTestClient.connect(relay);
  await holder.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  ext.announce("cb-tab-1", { targetId: "T1" });
  await holder.event("Target.attachedToTarget");

  ext.event("Page.loadEventFired", { timestamp: 1 }, "cb-tab-1");
  // A child attach links the child to its tab; its events follow the tab's holders.
  ext.event("Target.attachedToTarget", {
    sessionId: "CHILD1",
    targetInfo: { targetId: "IF1", type: "iframe", url: "", title: "", attached: true },
    waitingForDebugger: true,
  }, "cb-tab-1");
  ext.event("Runtime.consoleAPICalled", { type: "log" }, "CHILD1");
  ext.event("Custom.unknownSession", {}, "ELSEWHERE");
  ext.event("Target.detachedFromTarget", { sessionId: "CHILD1", reason: "parent_detached" });

  const loaded = await holder.event("Page.loadEventFired");
  assert.deepEqual(loaded, {
    method: "Page.loadEventFired",
    params: { timestamp: 1 },
    sessionId: "cb-tab-1",
  });
  const child = await holder.event("Target.attachedToTarget");
  assert.equal(child.sessionId, "cb-tab-1");
  assert.equal((await holder.event("Runtime.consoleAPICalled")).sessionId, "CHILD1");
  await holder.event("Custom.unknownSession");
  const childDetach = await holder.event("Target.detachedFromTarget");
  assert.deepEqual(childDetach, {
    method: "Target.detachedFromTarget",
    params: { sessionId: "CHILD1", reason: "parent_detached" },
    sessionId: "cb-tab-1",
  });
  // The other client only sees the event for the unknown session.
  await other.event("Custom.unknownSession");
  await other.call("Target.getTargets");
  assert.deepEqual(other.events(), []);
});

Deno.test("CdpRouter.prune() drops targets the extension reports gone", async (t) => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: () => "No target with given id found",
  });
  await using client = await CdpTestClient.connect(relay);
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  ext.announce("cb-tab-1", { targetId: "T1" });
  ext.announce("cb-tab-2", { targetId: "T2" });
  await client.event("Target.attachedToTarget");
  await client.event("Target.attachedToTarget");

  await t.step("by the command's top-level session", async () => {
    const reply = await client.call("Page.navigate", { url: "about:blank" }, "cb-tab-1");
    assert.deepEqual(reply.error, { code: -32000, message: "No target with given id found" });
    const detach = await client.event("Target.detachedFromTarget");
    assert.deepEqual(params(detach), { sessionId: "cb-tab-1", targetId: "T1" });
  });
  await t.step("by params.targetId", async () => {
    await client.call("Target.activateTarget", { targetId: "T2" });
    const detach = await client.event("Target.detachedFromTarget");
    assert.deepEqual(params(detach), { sessionId: "cb-tab-2", targetId: "T2" });
    assert.equal(relay.stats().targets, 0);
  });
});
