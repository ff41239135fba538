// Service worker targets through the router: announced at the browser level like a tab, and
// each attaching client hears that the worker's script has loaded, as on Chrome's endpoint.
import assert from "node:assert/strict";
import type { JsonObject } from "../../codec/json.ts";
import { FakeExtension } from "../../harness/fake_extension.ts";
import { announceAndWait, CdpTestClient, startTestRelay, TOKEN } from "./_helpers.ts";

const WORKER = {
  targetId: "SW1",
  type: "service_worker",
  title: "Service Worker https://one.example/sw.js",
  url: "https://one.example/sw.js",
};

async function autoAttached(client: CdpTestClient): Promise<JsonObject[]> {
  await client.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
  // A round trip flushes every event the attach produced.
  await client.call("Target.getTargets");
  return client.events().map((f) => ({
    method: f.method ?? null,
    sessionId: f.sessionId ?? null,
    type: ((f.params as JsonObject).targetInfo as JsonObject | undefined)?.type ?? null,
  }));
}

Deno.test("CdpRouter.handleEvent() announces a service_worker target to clients", async (t) => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-sw-SW1", WORKER);

  await t.step("listed by Target.getTargets", async () => {
    await using client = await CdpTestClient.connect(relay);
    const reply = await client.call("Target.getTargets");
    const infos = (reply.result as JsonObject).targetInfos as JsonObject[];
    assert.deepEqual(infos.map((i) => [i.targetId, i.type, i.url]), [
      ["SW1", "service_worker", "https://one.example/sw.js"],
    ]);
  });

  await t.step(
    "auto-attached at the root without a script-loaded event before Chrome sends one",
    async () => {
      await using client = await CdpTestClient.connect(relay);
      assert.deepEqual(await autoAttached(client), [
        { method: "Target.attachedToTarget", sessionId: null, type: "service_worker" },
      ]);
    },
  );
});

Deno.test("CdpRouter.handleEvent() repeats Inspector.workerScriptLoaded to each client that attaches later", async (t) => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-sw-SW1", WORKER);
  await using first = await CdpTestClient.connect(relay);
  await autoAttached(first);
  ext.event("Inspector.workerScriptLoaded", {}, "cb-sw-SW1");
  await first.event("Inspector.workerScriptLoaded", (f) => f.sessionId === "cb-sw-SW1");

  await t.step("a later auto-attach gets it right after the attach", async () => {
    await using late = await CdpTestClient.connect(relay);
    assert.deepEqual(await autoAttached(late), [
      { method: "Target.attachedToTarget", sessionId: null, type: "service_worker" },
      { method: "Inspector.workerScriptLoaded", sessionId: "cb-sw-SW1", type: null },
    ]);
  });

  await t.step("Target.attachToTarget on a held target gets it on the new session", async () => {
    const reply = await first.call("Target.attachToTarget", { targetId: "SW1", flatten: true });
    const alias = String((reply.result as JsonObject).sessionId);
    const loaded = await first.event(
      "Inspector.workerScriptLoaded",
      (f) => f.sessionId === alias,
    );
    assert.deepEqual(loaded.params, {});
  });

  await t.step(
    "forgotten once the target is detached: a re-announce starts without it",
    async () => {
      ext.detach("cb-sw-SW1", "target_closed");
      await first.event("Target.detachedFromTarget", (f) => f.sessionId === undefined);
      await announceAndWait(relay, ext, "cb-sw-SW1", WORKER);
      await using again = await CdpTestClient.connect(relay);
      assert.deepEqual(await autoAttached(again), [
        { method: "Target.attachedToTarget", sessionId: null, type: "service_worker" },
      ]);
    },
  );
});

Deno.test("CdpRouter.handleEvent() still ignores top-level targets of other types", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  ext.announce("cb-shared-1", { targetId: "SH1", type: "shared_worker" });
  // The extension's socket is ordered: once the tab is cached, the shared worker was seen.
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1", url: "https://one.example/" });
  await using client = await CdpTestClient.connect(relay);
  const reply = await client.call("Target.getTargets");
  const infos = (reply.result as JsonObject).targetInfos as JsonObject[];
  assert.deepEqual(infos.map((i) => i.targetId), ["T1"]);
});

Deno.test("CdpRouter.prune() keeps a page whose child detach failed as another client detached it first", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: (command) =>
      command.method === "Target.detachFromTarget" ? "No session with given id" : {},
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1", url: "https://one.example/" });
  await using client = await CdpTestClient.connect(relay);
  await autoAttached(client);
  const reply = await client.call("Target.detachFromTarget", { sessionId: "CHILD-SW" }, "cb-tab-1");
  assert.equal((reply.error as JsonObject).message, "No session with given id");
  const targets = await client.call("Target.getTargets");
  const infos = (targets.result as JsonObject).targetInfos as JsonObject[];
  assert.deepEqual(infos.map((i) => i.targetId), ["T1"]);
  assert.deepEqual(client.events("Target.detachedFromTarget"), []);
});
