// E2E 6 and 7: createTarget/closeTarget, closing a tab by hand, and the toolbar toggle + badge.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { autoAttachedClient, waitUntil } from "../../harness/rig.ts";
import { rigTest } from "./_harness.ts";

rigTest(
  "Target.createTarget() opens and attaches a tab; closeTarget and a manual close detach",
  async (rig) => {
    await rig.attachNewTab(`${rig.pages.a}/?title=First`);
    const browser = await chromium.connectOverCDP(
      `${rig.relay.url}/?token=${rig.relay.relayToken}`,
    );
    try {
      const context = browser.contexts()[0];
      assert.ok(context);
      const page = await context.newPage();
      await page.goto(`${rig.pages.a}/?title=Created`);
      assert.equal(await page.title(), "Created");
      const tabs = await rig.status();
      assert.ok(tabs.tabs.some((t) => t.url?.includes("title=Created")), "new tab is attached");
      await page.close();
      await waitUntil(
        "created tab gone",
        async () => !(await rig.status()).tabs.some((t) => t.url?.includes("title=Created")),
      );
    } finally {
      await browser.close();
    }

    const { tabId, sessionId } = await rig.attachNewTab(`${rig.pages.a}/?title=ByHand`);
    const client = await autoAttachedClient(rig.relay);
    try {
      const attach = await client.waitForEvent(
        "attach",
        (e) => e.method === "Target.attachedToTarget" && e.params.sessionId === sessionId,
      );
      const targetId = (attach.params.targetInfo as { targetId: string }).targetId;
      await rig.browser.worker.evaluate((id) => chrome.tabs.remove(id), tabId);
      const detach = await client.waitForEvent(
        "detach",
        (e) => e.method === "Target.detachedFromTarget" && e.params.sessionId === sessionId,
      );
      assert.equal(detach.params.targetId, targetId);
    } finally {
      await client.close();
    }
  },
);

rigTest(
  "action() toolbar toggle attaches and detaches the active tab and the badge follows",
  async (rig) => {
    const { tabId } = await rig.openTab(`${rig.pages.a}/?title=Toggle`);
    assert.equal(await rig.badge(tabId), "");
    await rig.toggle(tabId);
    const { sessionId } = await rig.waitAttached(tabId);
    assert.match(sessionId, /^cb-tab-\d+$/);
    await waitUntil("badge ON", async () => (await rig.badge(tabId)) === "ON");
    const client = await autoAttachedClient(rig.relay);
    try {
      await rig.toggle(tabId);
      const detach = await client.waitForEvent(
        "detach",
        (e) => e.method === "Target.detachedFromTarget",
      );
      assert.equal(detach.params.sessionId, sessionId);
      await waitUntil("badge cleared", async () => (await rig.badge(tabId)) === "");
      assert.equal((await rig.status()).tabs.length, 0);
    } finally {
      await client.close();
    }
  },
);
