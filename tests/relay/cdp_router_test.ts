import assert from "node:assert/strict";
import type { JsonObject } from "../../codec/json.ts";
import { FakeExtension, targetInfoOf } from "../../harness/fake_extension.ts";
import { announceAndWait, CdpTestClient, startTestRelay, TOKEN } from "./_helpers.ts";

function params(frame: JsonObject): JsonObject {
  return frame.params as JsonObject;
}

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
  await t.step("top-level attaches other than pages and service workers are dropped", async () => {
    ext.announce("cb-tab-5", { targetId: "W1", type: "shared_worker" });
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
  // Page events reach only sessions that enabled Page, as in Chrome.
  await holder.call("Page.enable", {}, "cb-tab-1");

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

const HEX_ID = /^[0-9A-F]{32}$/;

Deno.test("CdpRouter.handleCommand() gives a held target a new alias session", async (t) => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  const t1 = { targetId: "T1", url: "https://one.example/" };
  await announceAndWait(relay, ext, "cb-tab-1", t1);
  await using client = await CdpTestClient.connect(relay);
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  await client.event("Target.attachedToTarget");
  const info1 = targetInfoOf(t1);
  let alias = "";

  await t.step("a second attach at the root announces and returns an alias", async () => {
    const id = client.post("Target.attachToTarget", { targetId: "T1", flatten: true });
    const attach = await client.event("Target.attachedToTarget");
    alias = String(params(attach).sessionId);
    assert.match(alias, HEX_ID);
    assert.deepEqual(attach, {
      method: "Target.attachedToTarget",
      params: { sessionId: alias, targetInfo: info1, waitingForDebugger: false },
    });
    assert.deepEqual(await client.response(id), { id, result: { sessionId: alias } });
  });
  await t.step("commands on the alias run on the tab's session", async () => {
    const reply = await client.call("Runtime.evaluate", { expression: "1+1" }, alias);
    assert.deepEqual(reply, {
      id: reply.id,
      sessionId: alias,
      result: { result: { type: "number", value: 2, description: "2" } },
    });
    const forwarded = await ext.nextCommand("Runtime.evaluate");
    assert.equal(forwarded.sessionId, "cb-tab-1");
    assert.deepEqual((await client.call("Target.getTargetInfo", {}, alias)).result, {
      targetInfo: info1,
    });
  });
  await t.step("events of the tab reach the alias too; child attaches do not", async () => {
    // Page events reach only sessions that enabled Page, as in Chrome.
    await client.call("Page.enable", {}, "cb-tab-1");
    await client.call("Page.enable", {}, alias);
    ext.event("Page.loadEventFired", { timestamp: 1 }, "cb-tab-1");
    ext.event("Target.attachedToTarget", {
      sessionId: "CHILD1",
      targetInfo: { targetId: "IF1", type: "iframe", url: "", title: "", attached: true },
      waitingForDebugger: false,
    }, "cb-tab-1");
    ext.event("Runtime.consoleAPICalled", { type: "log" }, "CHILD1");
    const loaded = [
      await client.event("Page.loadEventFired"),
      await client.event("Page.loadEventFired"),
    ];
    assert.deepEqual(loaded.map((f) => f.sessionId), ["cb-tab-1", alias]);
    assert.equal((await client.event("Target.attachedToTarget")).sessionId, "cb-tab-1");
    assert.equal((await client.event("Runtime.consoleAPICalled")).sessionId, "CHILD1");
    await client.call("Target.getTargets");
    assert.deepEqual(client.events(), []);
  });
  await t.step("an attach on a browser session is announced on that session", async () => {
    const browser = String(
      ((await client.call("Target.attachToBrowserTarget")).result as JsonObject).sessionId,
    );
    await client.event("Target.attachedToTarget");
    const id = client.post("Target.attachToTarget", { targetId: "T1", flatten: true }, browser);
    const attach = await client.event("Target.attachedToTarget");
    const onBrowser = String(params(attach).sessionId);
    assert.deepEqual(attach, {
      method: "Target.attachedToTarget",
      params: { sessionId: onBrowser, targetInfo: info1, waitingForDebugger: false },
      sessionId: browser,
    });
    assert.ok(onBrowser !== alias && onBrowser !== "cb-tab-1");
    assert.deepEqual(await client.response(id), {
      id,
      sessionId: browser,
      result: { sessionId: onBrowser },
    });

    const detachId = client.post("Target.detachFromTarget", { sessionId: onBrowser }, browser);
    const detach = await client.event("Target.detachedFromTarget");
    assert.deepEqual(detach, {
      method: "Target.detachedFromTarget",
      params: { sessionId: onBrowser, targetId: "T1" },
      sessionId: browser,
    });
    assert.deepEqual(await client.response(detachId), {
      id: detachId,
      sessionId: browser,
      result: {},
    });
    // Only the remaining alias gets copies now.
    ext.event("Page.loadEventFired", { timestamp: 2 }, "cb-tab-1");
    await client.event("Page.loadEventFired");
    assert.equal((await client.event("Page.loadEventFired")).sessionId, alias);
    await client.call("Target.getTargets");
    assert.deepEqual(client.events(), []);
  });
  await t.step("a client that does not hold the target still gets the tab's session", async () => {
    await using other = await CdpTestClient.connect(relay);
    const reply = await other.call("Target.attachToTarget", { targetId: "T1", flatten: true });
    assert.deepEqual(reply.result, { sessionId: "cb-tab-1" });
    assert.equal(params(await other.event("Target.attachedToTarget")).sessionId, "cb-tab-1");
  });
});

Deno.test("CdpRouter.handleEvent() ends aliases with their target", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using client = await CdpTestClient.connect(relay);
  const attach = async (sessionId?: string): Promise<string> => {
    const reply = await client.call("Target.attachToTarget", { targetId: "T1" }, sessionId);
    await client.event("Target.attachedToTarget");
    return String((reply.result as JsonObject).sessionId);
  };
  assert.equal(await attach(), "cb-tab-1");
  const atRoot = await attach();
  const browserReply = await client.call("Target.attachToBrowserTarget");
  await client.event("Target.attachedToTarget");
  const browser = String((browserReply.result as JsonObject).sessionId);
  const onBrowser = await attach(browser);
  // Made on the tab's own session: it ends silently with it, as in Chrome.
  const onTab = await attach("cb-tab-1");
  assert.equal(new Set([atRoot, onBrowser, onTab]).size, 3);

  ext.detach("cb-tab-1", "toggle");
  const detaches = [
    await client.event("Target.detachedFromTarget"),
    await client.event("Target.detachedFromTarget"),
    await client.event("Target.detachedFromTarget"),
  ];
  assert.deepEqual(detaches, [
    {
      method: "Target.detachedFromTarget",
      params: { sessionId: "cb-tab-1", targetId: "T1", reason: "toggle" },
    },
    {
      method: "Target.detachedFromTarget",
      params: { sessionId: atRoot, targetId: "T1", reason: "toggle" },
    },
    {
      method: "Target.detachedFromTarget",
      params: { sessionId: onBrowser, targetId: "T1", reason: "toggle" },
      sessionId: browser,
    },
  ]);
  // The browser session lives on.
  assert.equal((await client.call("Browser.getVersion", {}, browser)).sessionId, browser);
  assert.deepEqual(client.events(), []);
});

Deno.test("CdpRouter.handleCommand() ends aliases made on a detached browser session silently", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using client = await CdpTestClient.connect(relay);
  const browser = String(
    ((await client.call("Target.attachToBrowserTarget")).result as JsonObject).sessionId,
  );
  await client.event("Target.attachedToTarget");
  const reply = await client.call("Target.attachToTarget", { targetId: "T1" }, browser);
  const alias = String((reply.result as JsonObject).sessionId);
  await client.event("Target.attachedToTarget");
  // Enabled, so only the alias's end can keep the tab's Page events from it.
  await client.call("Page.enable", {}, alias);

  await client.call("Target.detachFromTarget", { sessionId: browser });
  const detach = await client.event("Target.detachedFromTarget");
  assert.equal(params(detach).sessionId, browser);
  ext.event("Page.loadEventFired", { timestamp: 1 }, "cb-tab-1");
  await client.call("Target.getTargets");
  assert.deepEqual(client.events(), []);
  // The alias is gone: its id now means nothing to the relay and goes out as it is.
  await client.call("Runtime.evaluate", { expression: "1" }, alias);
  assert.equal((await ext.nextCommand("Runtime.evaluate")).sessionId, alias);
});

Deno.test("CdpRouter.removeClient() counts aliases as uses of the tab's session", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command) => command.method === "BrowserRelay.resetSession" ? "Unknown method" : {},
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  const holder = await CdpTestClient.connect(relay);
  const viaAlias = await CdpTestClient.connect(relay);
  await holder.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  const browser = String(
    ((await viaAlias.call("Target.attachToBrowserTarget")).result as JsonObject).sessionId,
  );
  const reply = await viaAlias.call("Target.attachToTarget", { targetId: "T1" }, browser);
  assert.match(String((reply.result as JsonObject).sessionId), HEX_ID);

  await holder.socket.close();
  await viaAlias.call("Target.getTargets");
  assert.equal(ext.commands.some((c) => c.method === "BrowserRelay.resetSession"), false);
  await viaAlias.socket.close();
  const reset = await ext.nextCommand("BrowserRelay.resetSession");
  assert.equal(reset.sessionId, "cb-tab-1");
});

Deno.test("a client that goes undoes its overrides on a tab other clients still use", async () => {
  await using relay = await startTestRelay();
  const seen: { method: string; sessionId: string | undefined }[] = [];
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command) => {
      seen.push({ method: command.method, sessionId: command.sessionId });
      return {};
    },
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1", url: "https://one/" });
  await announceAndWait(relay, ext, "cb-tab-2", { targetId: "T2", url: "https://two/" });
  await using stays = await CdpTestClient.connect(relay);
  await stays.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  const leaving = await CdpTestClient.connect(relay);
  await leaving.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  await leaving.call("Target.attachToTarget", { targetId: "T2", flatten: true });
  await leaving.call("Fetch.enable", {}, "cb-tab-1");
  await leaving.call("Fetch.enable", {}, "cb-tab-2");
  seen.length = 0;
  await leaving[Symbol.asyncDispose]();
  // T1 is still used: its override is undone. T2 is no one's: the relay resets it whole.
  const undo = await ext.socket.next((f) =>
    (f.params as JsonObject | undefined)?.method === "BrowserRelay.resetSession"
  );
  assert.ok(undo);
  assert.deepEqual(seen, [
    { method: "Fetch.disable", sessionId: "cb-tab-1" },
    { method: "BrowserRelay.resetSession", sessionId: "cb-tab-2" },
  ]);
});

Deno.test("a client's Domain.disable does not silence another client on the same tab", async () => {
  await using relay = await startTestRelay();
  const seen: string[] = [];
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command) => {
      seen.push(command.method);
      return {};
    },
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1", url: "https://one/" });
  await using a = await CdpTestClient.connect(relay);
  await using b = await CdpTestClient.connect(relay);
  for (const client of [a, b]) {
    await client.call("Target.attachToTarget", { targetId: "T1", flatten: true });
    await client.call("Network.enable", {}, "cb-tab-1");
  }
  assert.deepEqual((await b.call("Network.disable", {}, "cb-tab-1")).result, {});
  assert.deepEqual(seen, ["Network.enable", "Network.enable"]);
  ext.event("Network.requestWillBeSent", { requestId: "R1" }, "cb-tab-1");
  assert.equal(
    ((await a.event("Network.requestWillBeSent")).params as JsonObject).requestId,
    "R1",
  );
  assert.deepEqual((await a.call("Network.disable", {}, "cb-tab-1")).result, {});
  assert.deepEqual(seen, ["Network.enable", "Network.enable", "Network.disable"]);
});

Deno.test("a second client's Runtime.enable announces the contexts to it alone", async () => {
  await using relay = await startTestRelay();
  const sent: string[] = [];
  const context = { id: 7, uniqueId: "u7", origin: "https://one", name: "", auxData: {} };
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command, fake) => {
      sent.push(command.method);
      if (command.method === "Runtime.enable") {
        fake.event("Runtime.executionContextCreated", { context }, "cb-tab-1");
      }
      return {};
    },
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1", url: "https://one/" });
  await using a = await CdpTestClient.connect(relay);
  await using b = await CdpTestClient.connect(relay);
  await a.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  await b.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  await a.call("Runtime.enable", {}, "cb-tab-1");
  await a.event("Runtime.executionContextCreated");
  await b.event("Runtime.executionContextCreated"); // b holds the tab: it sees a's events
  assert.deepEqual((await b.call("Runtime.enable", {}, "cb-tab-1")).result, {});
  const replayed = await b.event("Runtime.executionContextCreated");
  assert.deepEqual(replayed.params, { context });
  assert.equal(replayed.sessionId, "cb-tab-1");
  assert.deepEqual(sent, ["Runtime.enable", "Runtime.getIsolateId"]);
  // a got nothing new: its next frame is the reply to its next command.
  assert.deepEqual((await a.call("Runtime.evaluate", { expression: "1" }, "cb-tab-1")).result, {});
  assert.deepEqual(a.events("Runtime.executionContextCreated"), []);
});

Deno.test("a client that turns on auto-attach late hears of the existing children", async () => {
  await using relay = await startTestRelay();
  const child = {
    sessionId: "CHILD1",
    targetInfo: { targetId: "F1", type: "iframe", url: "https://frame/" },
    waitingForDebugger: true,
  };
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command, fake) => {
      if (command.method === "Target.setAutoAttach" && command.params?.autoAttach === true) {
        if (!attached) fake.event("Target.attachedToTarget", child, "cb-tab-1");
        attached = true;
      }
      return {};
    },
  });
  let attached = false;
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1", url: "https://one/" });
  await using a = await CdpTestClient.connect(relay);
  await a.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  await a.call("Target.setAutoAttach", { autoAttach: true, flatten: true }, "cb-tab-1");
  assert.equal(
    ((await a.event("Target.attachedToTarget", (f) => f.sessionId === "cb-tab-1"))
      .params as JsonObject).sessionId,
    "CHILD1",
  );
  await using b = await CdpTestClient.connect(relay);
  await b.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  const id = b.post("Target.setAutoAttach", { autoAttach: true, flatten: true }, "cb-tab-1");
  const late = await b.event("Target.attachedToTarget", (f) => f.sessionId === "cb-tab-1");
  assert.deepEqual(late.params, { ...child, waitingForDebugger: false });
  assert.deepEqual((await b.response(id)).result, {});
  // a already knew the child: nothing new for it, and b hears of it only once.
  await b.call("Target.setAutoAttach", { autoAttach: true, flatten: true }, "cb-tab-1");
  await a.call("Target.setAutoAttach", { autoAttach: true, flatten: true }, "cb-tab-1");
  const children = (c: CdpTestClient) =>
    c.events("Target.attachedToTarget").filter((f) => f.sessionId === "cb-tab-1");
  assert.deepEqual(children(a), []);
  assert.deepEqual(children(b), []);
});

Deno.test("after a tab's session is reset, no client hears of its old children or contexts", async () => {
  await using relay = await startTestRelay();
  const child = { sessionId: "OLD", targetInfo: { targetId: "F1", type: "iframe" } };
  const sent: string[] = [];
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command, fake) => {
      sent.push(command.method);
      if (command.method === "Target.setAutoAttach" && sent.length === 1) {
        fake.event("Target.attachedToTarget", child, "cb-tab-1");
      }
      return {};
    },
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1", url: "https://one/" });
  const a = await CdpTestClient.connect(relay);
  await a.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  await a.call("Target.setAutoAttach", { autoAttach: true, flatten: true }, "cb-tab-1");
  await a.event("Target.attachedToTarget", (f) => f.sessionId === "cb-tab-1");
  await a[Symbol.asyncDispose]();
  await ext.socket.next((f) =>
    (f.params as JsonObject | undefined)?.method === "BrowserRelay.resetSession"
  );
  await using b = await CdpTestClient.connect(relay);
  await b.call("Target.attachToTarget", { targetId: "T1", flatten: true });
  await b.call("Target.setAutoAttach", { autoAttach: true, flatten: true }, "cb-tab-1");
  assert.deepEqual(
    b.events("Target.attachedToTarget").filter((f) => f.sessionId === "cb-tab-1"),
    [],
  );
});
