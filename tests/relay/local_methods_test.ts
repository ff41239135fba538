import assert from "node:assert/strict";
import type { JsonObject } from "../../codec/json.ts";
import { FakeExtension, targetInfoOf } from "../../harness/fake_extension.ts";
import { announceAndWait, CdpTestClient, startTestRelay, TOKEN } from "./_helpers.ts";

const UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.7000.1 Safari/537.36";

const HEX_ID = /^[0-9A-F]{32}$/;

function params(frame: JsonObject): JsonObject {
  return frame.params as JsonObject;
}

Deno.test("LocalMethods.answer() answers Browser.* locally", async (t) => {
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
  await t.step("setDownloadBehavior is a no-op, other methods unsupported", async () => {
    // The download emulation (download_emulation_test.ts) answers it: `default` needs no folder.
    assert.deepEqual(
      (await client.call("Browser.setDownloadBehavior", { behavior: "default" })).result,
      {},
    );
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
      "Cannot create a browser context through Browser Relay as an extension cannot create " +
        "browser contexts: use the default context (browser.contexts()[0] in Playwright, " +
        "browser.defaultBrowserContext() in Puppeteer)",
    );
  });
  await t.step("close answers and disconnects a client that opened no tab", async () => {
    await using closing = await CdpTestClient.connect(relay);
    assert.deepEqual((await closing.call("Browser.close")).result, {});
    assert.equal((await closing.socket.closed).code, 1000);
    // Other clients stay.
    assert.ok((await client.call("Browser.getVersion")).result);
  });
});

Deno.test("Browser.close closes only the tabs the client created, then disconnects it", async () => {
  await using relay = await startTestRelay();
  const closed: string[] = [];
  let next = 0;
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command, fake) => {
      const targetId = command.params?.targetId;
      switch (command.method) {
        case "Target.createTarget": {
          const id = `NEW${++next}`;
          fake.announce(`cb-tab-new-${next}`, { targetId: id, url: "about:blank" });
          return { targetId: id };
        }
        case "Target.closeTarget":
          if (typeof targetId === "string") {
            closed.push(targetId);
            if (targetId === "NEW2") return "Cannot close the last tab";
            fake.event("Target.targetDestroyed", { targetId });
          }
          return { success: true };
        default:
          return {};
      }
    },
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "MINE", url: "https://person/" });
  await using a = await CdpTestClient.connect(relay);
  await using b = await CdpTestClient.connect(relay);
  assert.deepEqual((await a.call("Target.createTarget", { url: "about:blank" })).result, {
    targetId: "NEW1",
  });
  assert.deepEqual((await b.call("Target.createTarget", { url: "about:blank" })).result, {
    targetId: "NEW2",
  });
  assert.deepEqual((await a.call("Target.createTarget", { url: "about:blank" })).result, {
    targetId: "NEW3",
  });
  // NEW3 is closed by the client itself first: Browser.close does not close it again.
  assert.deepEqual((await a.call("Target.closeTarget", { targetId: "NEW3" })).result, {
    success: true,
  });
  assert.deepEqual((await a.call("Browser.close")).result, {});
  assert.equal((await a.socket.closed).code, 1000);
  assert.deepEqual(closed, ["NEW3", "NEW1"]);
  // b's tab, the person's tab and b itself are untouched; a failing close still answers.
  const targets = (await b.call("Target.getTargets")).result as { targetInfos: JsonObject[] };
  assert.deepEqual(targets.targetInfos.map((info) => info.targetId), ["MINE", "NEW2"]);
  assert.deepEqual((await b.call("Browser.close")).result, {});
  assert.deepEqual(closed, ["NEW3", "NEW1", "NEW2"]);
  assert.equal((await b.socket.closed).code, 1000);
});

Deno.test("LocalMethods.answer() answers Target.* from the cache", async (t) => {
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
  await t.step("attachToTarget delivers the relay session once, then aliases", async () => {
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
    // The client holds the target now: a second attach gets a new session, as in Chrome.
    const again = await client.call("Target.attachToTarget", { targetId: "T1", flatten: true });
    const alias = (again.result as JsonObject).sessionId;
    assert.notEqual(alias, "cb-tab-1");
    assert.equal(params(await client.event("Target.attachedToTarget")).sessionId, alias);
  });
  await t.step("detachFromTarget on a top-level session is a no-op", async () => {
    assert.deepEqual(
      (await client.call("Target.detachFromTarget", { sessionId: "cb-tab-1" })).result,
      {},
    );
    assert.equal(ext.commands.filter((c) => c.method === "Target.detachFromTarget").length, 0);
  });
});

Deno.test("LocalMethods.answer() auto-attaches and discovers cached targets", async () => {
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

Deno.test("LocalMethods.answer() opens browser sessions (Target.attachToBrowserTarget)", async (t) => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN, userAgent: UA });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  await using client = await CdpTestClient.connect(relay);
  const browserInfo = ((await client.call("Target.getTargetInfo")).result as JsonObject)
    .targetInfo as JsonObject;
  let browser = "";

  await t.step("announces the session at the root, then answers with it", async () => {
    const id = client.post("Target.attachToBrowserTarget");
    const attach = await client.event("Target.attachedToTarget");
    browser = String(params(attach).sessionId);
    assert.match(browser, HEX_ID);
    assert.deepEqual(attach, {
      method: "Target.attachedToTarget",
      params: { sessionId: browser, targetInfo: browserInfo, waitingForDebugger: false },
    });
    const reply = await client.response(id);
    assert.deepEqual(reply, { id, result: { sessionId: browser } });
    assert.ok(client.socket.received.indexOf(attach) < client.socket.received.indexOf(reply));
    const second = await client.call("Target.attachToBrowserTarget");
    assert.notEqual((second.result as JsonObject).sessionId, browser);
    await client.event("Target.attachedToTarget");
  });
  await t.step("commands on it are sessionless; replies echo it", async () => {
    const version = await client.call("Browser.getVersion", {}, browser);
    assert.equal(version.sessionId, browser);
    assert.equal((version.result as JsonObject).product, "Chrome/156.0.7000.1");
    assert.deepEqual(await client.call("Target.getTargetInfo", {}, browser), {
      id: client.socket.received.at(-1)?.id,
      sessionId: browser,
      result: { targetInfo: browserInfo },
    });
    const cookies = await client.call("Storage.getCookies", {}, browser);
    assert.deepEqual(cookies, { id: cookies.id, sessionId: browser, result: {} });
    const forwarded = await ext.nextCommand("Storage.getCookies");
    assert.deepEqual(forwarded, { id: forwarded.id, method: "Storage.getCookies", params: {} });
  });
  await t.step("auto-attach and discovery stay on the root session", async () => {
    const reply = await client.call("Target.setAutoAttach", { autoAttach: true }, browser);
    assert.deepEqual(reply.error, {
      code: -32000,
      message: "Target.setAutoAttach is not supported by Browser Relay",
    });
    assert.equal(client.events("Target.attachedToTarget").length, 0);
  });
  await t.step("page sessions may not open one", async () => {
    await client.call("Target.attachToTarget", { targetId: "T1", flatten: true });
    await client.event("Target.attachedToTarget");
    const reply = await client.call("Target.attachToBrowserTarget", {}, "cb-tab-1");
    assert.deepEqual(reply.error, { code: -32000, message: "Not allowed" });
  });
  await t.step("detachFromTarget ends it with a detach on the root", async () => {
    const id = client.post("Target.detachFromTarget", { sessionId: browser });
    const detach = await client.event("Target.detachedFromTarget");
    assert.deepEqual(detach, {
      method: "Target.detachedFromTarget",
      params: { sessionId: browser, targetId: browserInfo.targetId },
    });
    assert.deepEqual(await client.response(id), { id, result: {} });
    assert.equal(ext.commands.some((c) => c.method === "Target.detachFromTarget"), false);
  });
});
