// Page events through the router: like Chrome, only client sessions that enabled Page get
// them (screencast frames excepted), so a session that never asked for dialog events cannot
// answer (or auto-dismiss) a dialog.
import assert from "node:assert/strict";
import type { JsonObject } from "../../codec/json.ts";
import { FakeExtension } from "../../harness/fake_extension.ts";
import { announceAndWait, CdpTestClient, startTestRelay, TOKEN } from "./_helpers.ts";

const OPENING = {
  url: "https://one.example/",
  frameId: "T1",
  message: "hi",
  type: "alert",
  hasBrowserHandler: true,
  defaultPrompt: "",
};
const CLOSED = { frameId: "T1", result: true, userInput: "" };

function sessionIds(frames: JsonObject[]): (string | undefined)[] {
  return frames.map((f) => f.sessionId === undefined ? undefined : String(f.sessionId));
}

/** Takes every event the client received so far, after a round trip that flushes the socket. */
async function drained(client: CdpTestClient): Promise<JsonObject[]> {
  await client.call("Target.getTargets");
  const taken: JsonObject[] = [];
  for (let n = client.events().length; n > 0; n--) {
    taken.push(await client.socket.next((f) => f.id === undefined));
  }
  return taken;
}

async function aliasOf(client: CdpTestClient, targetId: string): Promise<string> {
  const reply = await client.call("Target.attachToTarget", { targetId, flatten: true });
  await client.event("Target.attachedToTarget");
  return String((reply.result as JsonObject).sessionId);
}

Deno.test("CdpRouter.handleEvent() sends dialog and other Page events only to sessions that enabled Page", async (t) => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1", url: "https://one.example/" });
  await using enabled = await CdpTestClient.connect(relay);
  await using silent = await CdpTestClient.connect(relay);
  for (const client of [enabled, silent]) {
    await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
    await client.event("Target.attachedToTarget");
  }
  assert.deepEqual((await enabled.call("Page.enable", {}, "cb-tab-1")).result, {});
  const quietAlias = await aliasOf(enabled, "T1");
  const pageAlias = await aliasOf(enabled, "T1");
  await enabled.call("Page.enable", {}, pageAlias);

  await t.step("one opening and one closed per enabled session, none elsewhere", async () => {
    ext.event("Page.javascriptDialogOpening", OPENING, "cb-tab-1");
    ext.event("Page.javascriptDialogClosed", CLOSED, "cb-tab-1");
    const got = await drained(enabled);
    assert.deepEqual(got.map((f) => f.method), [
      "Page.javascriptDialogOpening",
      "Page.javascriptDialogOpening",
      "Page.javascriptDialogClosed",
      "Page.javascriptDialogClosed",
    ]);
    assert.deepEqual(sessionIds(got), ["cb-tab-1", pageAlias, "cb-tab-1", pageAlias]);
    assert.deepEqual(got[0]?.params, OPENING);
    assert.equal(sessionIds(got).includes(quietAlias), false);
    assert.deepEqual(await drained(silent), []);
  });

  await t.step("other Page events too reach only the enabled sessions", async () => {
    ext.event("Page.loadEventFired", { timestamp: 1 }, "cb-tab-1");
    ext.event("Page.downloadWillBegin", { guid: "G1", url: "https://one.example/f" }, "cb-tab-1");
    const got = await drained(enabled);
    assert.deepEqual(got.map((f) => f.method), [
      "Page.loadEventFired",
      "Page.loadEventFired",
      "Page.downloadWillBegin",
      "Page.downloadWillBegin",
    ]);
    assert.deepEqual(sessionIds(got), ["cb-tab-1", pageAlias, "cb-tab-1", pageAlias]);
    assert.deepEqual(await drained(silent), []);
  });

  await t.step("screencast frames need no Page.enable, as in Chrome", async () => {
    ext.event("Page.screencastFrame", { data: "", metadata: {}, sessionId: 1 }, "cb-tab-1");
    ext.event("Page.screencastVisibilityChanged", { visible: true }, "cb-tab-1");
    const got = await drained(enabled);
    assert.deepEqual(sessionIds(got), [
      "cb-tab-1",
      quietAlias,
      pageAlias,
      "cb-tab-1",
      quietAlias,
      pageAlias,
    ]);
    assert.deepEqual((await drained(silent)).map((f) => f.method), [
      "Page.screencastFrame",
      "Page.screencastVisibilityChanged",
    ]);
  });

  await t.step("other events still reach every session", async () => {
    ext.event("Network.loadingFinished", { requestId: "R1" }, "cb-tab-1");
    assert.deepEqual(sessionIds(await drained(enabled)), ["cb-tab-1", quietAlias, pageAlias]);
    assert.deepEqual(sessionIds(await drained(silent)), ["cb-tab-1"]);
  });

  await t.step("Page.disable stops them for that session only", async () => {
    await enabled.call("Page.disable", {}, "cb-tab-1");
    ext.event("Page.javascriptDialogOpening", OPENING, "cb-tab-1");
    assert.deepEqual(sessionIds(await drained(enabled)), [pageAlias]);
  });

  await t.step("a client that enables Page later gets the next dialog", async () => {
    await silent.call("Page.enable", {}, "cb-tab-1");
    ext.event("Page.javascriptDialogOpening", OPENING, "cb-tab-1");
    assert.deepEqual(sessionIds(await drained(silent)), ["cb-tab-1"]);
    assert.deepEqual(sessionIds(await drained(enabled)), [pageAlias]);
  });
});

Deno.test("CdpRouter.handleEvent() forgets Page.enable with the target it was sent for", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1", url: "https://one.example/" });
  await using client = await CdpTestClient.connect(relay);
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  await client.event("Target.attachedToTarget");
  await client.call("Page.enable", {}, "cb-tab-1");
  const alias = await aliasOf(client, "T1");
  await client.call("Page.enable", {}, alias);

  // A navigation that swapped the target: same relay session, new target.
  ext.announce("cb-tab-1", { targetId: "T2", url: "https://two.example/" });
  const detached = await client.event(
    "Target.detachedFromTarget",
    (f) => f.sessionId === undefined,
  );
  assert.equal((detached.params as JsonObject).targetId, "T1");
  await client.event("Target.attachedToTarget");
  ext.event("Page.javascriptDialogOpening", { ...OPENING, frameId: "T2" }, "cb-tab-1");
  const got = await drained(client);
  assert.equal(got.some((f) => f.method === "Page.javascriptDialogOpening"), false);

  await client.call("Page.enable", {}, "cb-tab-1");
  ext.event("Page.javascriptDialogOpening", { ...OPENING, frameId: "T2" }, "cb-tab-1");
  assert.deepEqual(sessionIds(await drained(client)), ["cb-tab-1"]);
});

Deno.test("CdpRouter.handleEvent() starts a session's Page events with Chrome's reply to its Page.enable", async (t) => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1", url: "https://one.example/" });
  await using client = await CdpTestClient.connect(relay);
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  await client.event("Target.attachedToTarget");
  // The extension keeps Page enabled, so Chrome emits Page events before it processes the
  // client's Page.enable; on Chrome's own endpoint the session would not get those.
  ext.handler = (command) => command.method === "Page.enable" ? undefined : {};
  await t.step("events Chrome sent before the reply are not delivered", async () => {
    const id = client.post("Page.enable", {}, "cb-tab-1");
    const forwarded = await ext.nextCommand("Page.enable");
    ext.event(
      "Page.frameNavigated",
      { frame: { id: "T1", url: "https://early.example/" } },
      "cb-tab-1",
    );
    ext.respond(forwarded.id, {});
    ext.event(
      "Page.frameNavigated",
      { frame: { id: "T1", url: "https://late.example/" } },
      "cb-tab-1",
    );
    assert.deepEqual(await client.response(id), { id, sessionId: "cb-tab-1", result: {} });
    const got = await drained(client);
    assert.deepEqual(got.map((f) => ((f.params as JsonObject).frame as JsonObject).url), [
      "https://late.example/",
    ]);
  });

  await t.step("a Page.enable that Chrome refuses starts nothing", async () => {
    await client.call("Page.disable", {}, "cb-tab-1");
    ext.handler = (command) =>
      command.method === "Page.enable" ? "Not attached to an active page" : {};
    const reply = await client.call("Page.enable", {}, "cb-tab-1");
    assert.ok(reply.error !== undefined);
    ext.event("Page.loadEventFired", { timestamp: 1 }, "cb-tab-1");
    assert.deepEqual(await drained(client), []);
  });
});
