import assert from "node:assert/strict";
import type { CdpCall } from "../../codec/extension_frame.ts";
import { ServiceWorkerTargets } from "../../worker/service_worker_targets.ts";
import { FakeDebugger } from "../_fakes/fake_debugger.ts";
import { FakeRelayLink } from "../_fakes/fake_relay_link.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";

const SHOP = "https://shop.example";
const OTHER = "https://other.example";

/** The table over fakes; `urls` are the shared tabs' URLs and may change between syncs. */
function setup(urls: string[] = [`${SHOP}/cart`]) {
  const dbg = new FakeDebugger(new FakeTabs());
  const link = new FakeRelayLink();
  link.ready = true;
  const workers = new ServiceWorkerTargets({
    debugger: dbg,
    sharedUrls: () => urls,
    sendEvent: (cdp) => link.sendEvent(cdp),
    deadline: (promise) => promise,
  });
  return { dbg, link, workers, urls };
}

function attached(targetId: string, url: string): CdpCall {
  return {
    method: "Target.attachedToTarget",
    params: {
      sessionId: `cb-sw-${targetId}`,
      targetInfo: {
        targetId,
        type: "service_worker",
        title: `Service Worker ${url}`,
        url,
        attached: true,
        canAccessOpener: false,
        browserContextId: "CONTEXT-1",
      },
      waitingForDebugger: false,
    },
  };
}

function detached(targetId: string, reason?: string): CdpCall {
  return {
    method: "Target.detachedFromTarget",
    params: {
      sessionId: `cb-sw-${targetId}`,
      targetId,
      ...(reason === undefined ? {} : { reason }),
    },
  };
}

Deno.test("ServiceWorkerTargets.sync() attaches and announces only service workers of shared origins", async () => {
  const { dbg, link, workers } = setup();
  dbg.addWorker("SW1", `${SHOP}/sw.js`);
  dbg.addWorker("SW2", `${OTHER}/sw.js`);
  dbg.addWorker("EXT", "chrome-extension://abc/worker.js");
  await workers.sync();
  assert.deepEqual(link.events, [attached("SW1", `${SHOP}/sw.js`)]);
  assert.equal(dbg.isTargetAttached("SW1"), true);
  assert.equal(dbg.isTargetAttached("SW2"), false);
  assert.equal(dbg.isTargetAttached("EXT"), false);
  assert.deepEqual(workers.debuggee("cb-sw-SW1"), { targetId: "SW1" });
  assert.equal(workers.debuggee("cb-sw-SW2"), undefined);

  await workers.sync();
  assert.equal(link.events.length, 1, "a second sync announces nothing again");
  workers.close();
});

Deno.test("ServiceWorkerTargets.sync() releases and ignores a worker target that is not a service worker", async () => {
  const { dbg, link, workers } = setup();
  dbg.addWorker("SH1", `${SHOP}/shared.js`, "shared_worker");
  await workers.sync();
  await workers.sync();
  assert.deepEqual(link.events, []);
  assert.equal(dbg.isTargetAttached("SH1"), false);
  assert.equal(dbg.callsOf("Target.getTargetInfo").length, 1, "looked at once, then ignored");
  workers.close();
});

Deno.test("ServiceWorkerTargets.sync() detaches a worker once no shared tab shows its origin", async (t) => {
  const { dbg, link, workers, urls } = setup([`${SHOP}/a`, `${SHOP}/b`]);
  dbg.addWorker("SW1", `${SHOP}/sw.js`);
  await workers.sync();

  await t.step("one of two tabs of the origin leaves: the worker stays", async () => {
    urls.splice(0, 1);
    await workers.sync();
    assert.equal(dbg.isTargetAttached("SW1"), true);
    assert.equal(link.eventsOf("Target.detachedFromTarget").length, 0);
  });

  await t.step("the last one navigates away: detached and announced", async () => {
    urls.splice(0, 1, `${OTHER}/`);
    await workers.sync();
    assert.equal(dbg.isTargetAttached("SW1"), false);
    assert.deepEqual(link.eventsOf("Target.detachedFromTarget"), [detached("SW1", "not_shared")]);
    assert.equal(workers.debuggee("cb-sw-SW1"), undefined);
    assert.equal(workers.size, 0);
  });
  workers.close();
});

Deno.test("ServiceWorkerTargets.sync() forgets a worker whose target is gone", async () => {
  const { dbg, link, workers } = setup();
  dbg.addWorker("SW1", `${SHOP}/sw.js`);
  await workers.sync();
  dbg.removeWorker("SW1");
  await workers.sync();
  assert.deepEqual(link.eventsOf("Target.detachedFromTarget"), [
    detached("SW1", "target_closed"),
  ]);
  assert.equal(workers.size, 0);
  workers.close();
});

Deno.test("ServiceWorkerTargets.sync() adopts a worker still attached from before a restart", async () => {
  const { dbg, link, workers } = setup();
  dbg.addWorker("SW1", `${SHOP}/sw.js`);
  await dbg.attachTarget("SW1", "1.3");
  await workers.sync();
  assert.deepEqual(link.events, [attached("SW1", `${SHOP}/sw.js`)]);
  assert.equal(dbg.isTargetAttached("SW1"), true);
  workers.close();
});

Deno.test("ServiceWorkerTargets.sync() runs again when called during a run", async () => {
  const { dbg, link, workers, urls } = setup([]);
  dbg.addWorker("SW1", `${SHOP}/sw.js`);
  dbg.addWorker("SW2", `${OTHER}/sw.js`);
  urls.push(`${SHOP}/`);
  const first = workers.sync();
  urls.push(`${OTHER}/`);
  const second = workers.sync();
  await Promise.all([first, second]);
  assert.deepEqual(link.eventsOf("Target.attachedToTarget").map((e) => e.params?.sessionId), [
    "cb-sw-SW1",
    "cb-sw-SW2",
  ]);
  workers.close();
});

Deno.test("ServiceWorkerTargets.handleEvent() forwards a worker's events under its session", async (t) => {
  const { dbg, link, workers } = setup();
  dbg.addWorker("SW1", `${SHOP}/sw.js`);
  // Chrome sends the script-loaded event right after the attach, before the announce.
  dbg.reply("Target.getTargetInfo", (target) => {
    assert.equal(
      workers.handleEvent({ targetId: "SW1" }, "Inspector.workerScriptLoaded", {}),
      true,
    );
    return {
      targetInfo: { targetId: target.targetId ?? "", type: "service_worker", url: `${SHOP}/sw.js` },
    };
  });
  await workers.sync();

  await t.step("a script-loaded event before the announce follows it", () => {
    assert.deepEqual(link.events.map((e) => [e.method, e.sessionId]), [
      ["Target.attachedToTarget", undefined],
      ["Inspector.workerScriptLoaded", "cb-sw-SW1"],
    ]);
  });

  await t.step("later events carry the worker's session", () => {
    link.clear();
    const params = { context: { id: 1 } };
    assert.equal(
      workers.handleEvent({ targetId: "SW1" }, "Runtime.executionContextCreated", params),
      true,
    );
    assert.deepEqual(link.events, [{
      method: "Runtime.executionContextCreated",
      params,
      sessionId: "cb-sw-SW1",
    }]);
  });

  await t.step("events of tabs and unknown targets are not its own", () => {
    assert.equal(workers.handleEvent({ tabId: 1 }, "Page.loadEventFired", {}), false);
    assert.equal(workers.handleEvent({ targetId: "SW9" }, "Runtime.consoleAPICalled", {}), false);
  });
  workers.close();
});

Deno.test("ServiceWorkerTargets.handleDetach() announces the detach with Chrome's reason", async () => {
  const { dbg, link, workers } = setup();
  dbg.addWorker("SW1", `${SHOP}/sw.js`);
  await workers.sync();
  assert.equal(workers.handleDetach({ tabId: 3 }, "target_closed"), false);
  assert.equal(workers.handleDetach({ targetId: "SW1" }, "target_closed"), true);
  assert.deepEqual(link.eventsOf("Target.detachedFromTarget"), [
    detached("SW1", "target_closed"),
  ]);
  assert.equal(workers.handleDetach({ targetId: "SW1" }, "target_closed"), false);
  workers.close();
});

Deno.test("ServiceWorkerTargets.onReady() announces what the closed connection missed", async () => {
  const { dbg, link, workers } = setup();
  dbg.addWorker("SW1", `${SHOP}/sw.js`);
  dbg.addWorker("SW2", `${SHOP}/other-sw.js`);
  await workers.sync();
  workers.handleEvent({ targetId: "SW1" }, "Inspector.workerScriptLoaded", {});
  link.ready = false;
  workers.onClosed();
  dbg.removeWorker("SW2");
  await workers.sync();
  link.ready = true;
  link.clear();
  // The relay restarted: SW2's detach that could not be sent goes first, then SW1 is
  // announced again with its script-loaded event.
  workers.onReady();
  assert.deepEqual(link.events, [
    detached("SW2", "target_closed"),
    attached("SW1", `${SHOP}/sw.js`),
    { method: "Inspector.workerScriptLoaded", params: {}, sessionId: "cb-sw-SW1" },
  ]);
  workers.close();
});

Deno.test("ServiceWorkerTargets.close() stops syncing and keeps Chrome's sessions", async () => {
  const { dbg, link, workers } = setup();
  dbg.addWorker("SW1", `${SHOP}/sw.js`);
  await workers.sync();
  workers.close();
  dbg.addWorker("SW2", `${SHOP}/sw2.js`);
  await workers.sync();
  assert.equal(dbg.isTargetAttached("SW1"), true);
  assert.equal(dbg.isTargetAttached("SW2"), false);
  assert.equal(link.eventsOf("Target.attachedToTarget").length, 1);
});
