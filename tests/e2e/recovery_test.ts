// E2E 2 and 3: relay restart and service-worker kill keep session ids and keep commands working.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { WorkerControl } from "../../harness/browser.ts";
import { autoAttachedClient, waitUntil } from "../../harness/rig.ts";
import { rigTest } from "./_harness.ts";

rigTest(
  "relay() restart mid-session: extension reconnects, same session ids, new client works",
  async (rig) => {
    const url = `${rig.pages.a}/?title=Restart`;
    const { sessionId } = await rig.attachNewTab(url);
    const before = await autoAttachedClient(rig.relay);
    const attach = await before.waitForEvent(
      "attach",
      (e) => e.method === "Target.attachedToTarget",
    );
    assert.equal(attach.params.sessionId, sessionId);

    await rig.relay.close();
    const closed = await before.closed;
    assert.equal(closed.code, 1001);
    const listening = performance.now();
    await rig.restartRelay();
    await waitUntil(
      "extension back on the restarted relay",
      () => rig.relay.stats().extensionConnected && rig.relay.stats().targets > 0,
      10_000,
      10,
    );
    const recoveryMs = performance.now() - listening;
    // Measured, not asserted: the target (p95 ≤ 1.5 s) lives in the benchmarks (bench/).
    console.log(`relay restart recovery: ${recoveryMs.toFixed(0)} ms`);

    const after = await autoAttachedClient(rig.relay);
    try {
      const again = await after.waitForEvent(
        "attach",
        (e) => e.method === "Target.attachedToTarget",
      );
      assert.equal(again.params.sessionId, sessionId);
      const result = await after.call("Runtime.evaluate", {
        expression: "document.title",
        returnByValue: true,
      }, sessionId);
      assert.deepEqual((result.result as { value: string }).value, "Restart");
    } finally {
      await after.close();
    }
    const status = await rig.status();
    assert.equal(status.tabs.find((t) => t.url === url)?.sessionId, sessionId);

    const browser = await chromium.connectOverCDP(
      `${rig.relay.url}/?token=${rig.relay.relayToken}`,
    );
    try {
      const page = browser.contexts().flatMap((c) => c.pages()).find((p) => p.url() === url);
      assert.ok(page);
      assert.equal(await page.evaluate(() => 6 * 7), 42);
    } finally {
      await browser.close();
    }
  },
);

rigTest(
  "worker() stopped while attached: restores state, same session ids, no duplicate attach",
  async (rig) => {
    const url = `${rig.pages.a}/?title=Sleepy`;
    const { sessionId } = await rig.attachNewTab(url);
    const client = await autoAttachedClient(rig.relay);
    try {
      const control = await WorkerControl.open(rig.browser.context, rig.browser.extensionId);
      try {
        await control.stop();
        await waitUntil(
          "relay to notice the extension is gone",
          () => !rig.relay.stats().extensionConnected,
        );
        // A command sent while the worker is down is held by the relay (grace period).
        const held = client.send(
          "Runtime.evaluate",
          { expression: "1 + 1", returnByValue: true },
          sessionId,
          20_000,
        );
        // The next event wakes the worker: a message from an extension page.
        const options = await rig.browser.context.newPage();
        const woke = performance.now();
        await options.goto(`chrome-extension://${rig.browser.extensionId}/options.html`);
        await control.waitFor("running");
        const reply = await held;
        console.log(
          `worker restart → held command answered: ${(performance.now() - woke).toFixed(0)} ms`,
        );
        assert.deepEqual(reply.result, {
          result: { type: "number", value: 2, description: "2" },
        });
        await options.close();
      } finally {
        await control.close();
      }
      const status = await waitUntil("worker ready again", async () => {
        const s = await rig.status();
        return s.connection.phase === "ready" ? s : undefined;
      });
      assert.equal(status.tabs.find((t) => t.url === url)?.sessionId, sessionId);
      const fresh = await client.call("Runtime.evaluate", {
        expression: "document.title",
        returnByValue: true,
      }, sessionId);
      assert.equal((fresh.result as { value: string }).value, "Sleepy");
      for (const [targetId, count] of client.attachCounts()) {
        assert.ok(count <= 1, `target ${targetId} was announced ${count} times`);
      }
    } finally {
      await client.close();
    }
  },
);

rigTest(
  "worker() restored from a junk tab table: releases the debugger it still holds, badge off",
  async (rig) => {
    const url = `${rig.pages.a}/?title=Orphan`;
    const { tabId } = await rig.attachNewTab(url);
    assert.equal(await rig.badge(tabId), "ON");
    const control = await WorkerControl.open(rig.browser.context, rig.browser.extensionId);
    try {
      // Junk where the table was, then Chrome stops the worker: the debugger stays attached.
      await rig.browser.worker.evaluate(() =>
        chrome.storage.session.set({ "browserRelay.tabs": "junk" })
      );
      await control.stop();
      const options = await rig.browser.context.newPage();
      await options.goto(`chrome-extension://${rig.browser.extensionId}/options.html`);
      await control.waitFor("running");
      await options.close();
    } finally {
      await control.close();
    }
    // Released: this extension holds no debugger on the tab (Chrome refuses a command), the
    // worker shows no tab, and the badge is off. With no tab left it does not reconnect.
    const probe = await waitUntil("the orphaned debugger released", async () => {
      const outcome = await rig.browser.worker.evaluate(async (id) => {
        try {
          await chrome.debugger.sendCommand({ tabId: id }, "Runtime.evaluate", {
            expression: "1",
          });
          return undefined;
        } catch (error) {
          return String(error);
        }
      }, tabId);
      return outcome;
    });
    assert.match(probe, /not attached/);
    assert.deepEqual((await rig.status()).tabs, []);
    assert.equal(await rig.badge(tabId), "");
    // A click shares it again instead of failing with "Another debugger is already attached".
    await rig.toggle(tabId);
    await rig.waitAttached(tabId);
    assert.equal(await rig.badge(tabId), "ON");
  },
);
