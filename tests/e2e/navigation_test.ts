// E2E 4 and 5: cross-origin navigation keeps the session; OOPIF child sessions work.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { autoAttachedClient, waitUntil } from "../../harness/rig.ts";
import { rigTest } from "./_harness.ts";

rigTest(
  "tab() cross-origin navigation keeps the session id and answers commands sent meanwhile",
  async (rig) => {
    const { sessionId } = await rig.attachNewTab(`${rig.pages.a}/?title=From`);
    const client = await autoAttachedClient(rig.relay);
    try {
      await client.call("Page.enable", {}, sessionId);
      const target = `${rig.pages.b}/?title=To`;
      const navigation = client.call("Page.navigate", { url: target }, sessionId);
      // Commands issued while the renderer swaps must each get exactly one reply.
      const during = Array.from(
        { length: 20 },
        (_, i) =>
          client.send(
            "Runtime.evaluate",
            { expression: `${i} + 1`, returnByValue: true },
            sessionId,
          ),
      );
      await navigation;
      const replies = await Promise.all(during);
      assert.equal(replies.length, 20);
      for (const [i, reply] of replies.entries()) {
        assert.ok(reply.result !== undefined || reply.error !== undefined, `reply ${i} is empty`);
        if (reply.result !== undefined) {
          assert.equal((reply.result as { result: { value: number } }).result.value, i + 1);
        }
      }
      const answered = replies.filter((r) => r.result !== undefined).length;
      console.log(
        `commands during cross-origin navigation: ${answered}/20 answered with results`,
      );
      await client.waitForEvent(
        "load",
        (e) => e.method === "Page.loadEventFired" && e.sessionId === sessionId,
      );
      const href = await client.call("Runtime.evaluate", {
        expression: "location.href",
        returnByValue: true,
      }, sessionId);
      assert.equal((href.result as { value: string }).value, target);
      const status = await rig.status();
      assert.equal(status.tabs.find((t) => t.sessionId === sessionId)?.sessionId, sessionId);
      for (const [targetId, count] of client.attachCounts()) {
        assert.ok(count <= 1, `target ${targetId} was announced ${count} times`);
      }
    } finally {
      await client.close();
    }
  },
);

rigTest(
  "tab() out-of-process iframe: child events reach the client and child commands work",
  async (rig) => {
    const url = `${rig.pages.a}/oopif?frame=${encodeURIComponent(`${rig.pages.b}/frame`)}`;
    await rig.attachNewTab(url);
    const browser = await chromium.connectOverCDP(
      `${rig.relay.url}/?token=${rig.relay.relayToken}`,
    );
    try {
      const page = browser.contexts().flatMap((c) => c.pages()).find((p) => p.url() === url);
      assert.ok(page);
      const tick = page.waitForEvent("console", {
        predicate: (m) => m.text().includes("tick from frame B"),
        timeout: 15_000,
      });
      // The OOPIF may already be in the parent's frame tree with no URL yet: wait for its URL.
      const frame = await waitUntil(
        "the cross-site frame",
        () => page.frames().find((f) => f.url().startsWith(rig.pages.b)),
      );
      await frame.waitForLoadState();
      assert.equal(await frame.locator("#inner").textContent(), "frame B");
      assert.equal(await frame.evaluate(() => location.origin), rig.pages.b);
      await tick;
    } finally {
      await browser.close();
    }
  },
);
