/**
 * Real Chromium: shared tabs sit in one "Browser Relay" tab group per window; taking a tab out
 * of the group stops sharing it (the relay's /json/list drops it), putting one in shares it; a
 * worker restart and a relay restart leave exactly one group; the group goes away when empty.
 */

import assert from "node:assert/strict";
import { WorkerControl } from "../../harness/browser.ts";
import { rigTest } from "./_harness.ts";
import { waitUntil } from "../../harness/rig.ts";
import { listedUrls, relayGroups, waitShared } from "./_ui.ts";

rigTest("tabGroups() make sharing visible and let the person revoke it", async (rig, t) => {
  const urls = ["One", "Two", "Three"].map((title) => `${rig.pages.a}/?title=${title}`);
  const [a, b, c] = await Promise.all(urls.map((url) => rig.openTab(url)));
  assert.ok(a && b && c);
  const [urlA, urlB, urlC] = urls as [string, string, string];

  await t.step("sharing creates exactly one coloured group per window", async () => {
    await rig.toggle(a.tabId);
    await rig.toggle(b.tabId);
    await rig.waitAttached(b.tabId);
    const [group, ...more] = await waitUntil("one group with both tabs", async () => {
      const found = await relayGroups(rig);
      return found.length === 1 && found[0]?.tabIds.length === 2 ? found : undefined;
    });
    assert.deepEqual(more, []);
    assert.deepEqual([...(group?.tabIds ?? [])].sort(), [a.tabId, b.tabId].sort());
  });

  await t.step("ungrouping a tab stops sharing it; /json/list drops it", async () => {
    await rig.browser.worker.evaluate((id) => chrome.tabs.ungroup(id), a.tabId);
    await waitShared(rig, [b.tabId]);
    await waitUntil("relay drops tab A", async () => {
      const listed = await listedUrls(rig);
      return !listed.includes(urlA) && listed.includes(urlB);
    });
  });

  await t.step("adding a tab to the group shares it", async () => {
    const [group] = await relayGroups(rig);
    assert.ok(group);
    await rig.browser.worker.evaluate(
      ([tabId, groupId]) => chrome.tabs.group({ tabIds: tabId, groupId }),
      [c.tabId, group.id] as const,
    );
    await waitShared(rig, [b.tabId, c.tabId]);
    await waitUntil("relay lists tab C", async () => (await listedUrls(rig)).includes(urlC));
  });

  await t.step("a popup a shared tab opens is shared and joins the group", async () => {
    const opener = rig.browser.context.pages().find((page) => page.url() === urlB);
    assert.ok(opener);
    const urlPopup = `${rig.pages.a}/?title=Popup`;
    await opener.evaluate((url) => void globalThis.open(url), urlPopup);
    const popupTabId = await rig.tabIdOf(urlPopup);
    await waitShared(rig, [b.tabId, c.tabId, popupTabId]);
    const [group, ...more] = await waitUntil("the popup in the one group", async () => {
      const found = await relayGroups(rig);
      return found[0]?.tabIds.includes(popupTabId) === true ? found : undefined;
    });
    assert.deepEqual(more, []);
    assert.deepEqual([...(group?.tabIds ?? [])].sort(), [b.tabId, c.tabId, popupTabId].sort());
    // Closing it ends its sharing and leaves the group as it was.
    await rig.browser.worker.evaluate((id) => chrome.tabs.remove(id), popupTabId);
    await waitShared(rig, [b.tabId, c.tabId]);
  });

  await t.step("a worker restart leaves exactly one group", async () => {
    const control = await WorkerControl.open(rig.browser.context, rig.browser.extensionId);
    try {
      await control.stop();
      const wake = await rig.browser.context.newPage();
      await wake.goto(`chrome-extension://${rig.browser.extensionId}/options.html`);
      await control.waitFor("running");
      await wake.close();
    } finally {
      await control.close();
    }
    await waitUntil("worker ready", async () => (await rig.status()).connection.phase === "ready");
    await waitShared(rig, [b.tabId, c.tabId]);
    // Sharing after the restart joins the same group.
    await rig.toggle(a.tabId);
    const found = await waitUntil("one group with three tabs", async () => {
      const groups = await relayGroups(rig);
      return groups[0]?.tabIds.length === 3 ? groups : undefined;
    });
    assert.equal(found.length, 1);
  });

  await t.step("a relay restart leaves exactly one group", async () => {
    await rig.restartRelay();
    await rig.waitAttached(a.tabId);
    const found = await relayGroups(rig);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.tabIds.length, 3);
  });

  await t.step("stopping every tab removes the group", async () => {
    for (const { tabId } of [a, b, c]) {
      if ((await rig.status()).tabs.some((tab) => tab.tabId === tabId)) await rig.toggle(tabId);
    }
    await waitShared(rig, []);
    await waitUntil("no group left", async () => (await relayGroups(rig)).length === 0);
  });
});

rigTest("tabGroups() never move a tab out of the person's own group", async (rig) => {
  const { tabId } = await rig.openTab(`${rig.pages.a}/?title=Mine`);
  const own = await rig.browser.worker.evaluate(async (id) => {
    const groupId = await chrome.tabs.group({ tabIds: id });
    await chrome.tabGroups.update(groupId, { title: "Research", color: "blue" });
    return groupId;
  }, tabId);
  await rig.toggle(tabId);
  await rig.waitAttached(tabId);
  const groupOf = () =>
    rig.browser.worker.evaluate(async (id) => (await chrome.tabs.get(id)).groupId, tabId);
  assert.equal(await groupOf(), own);
  assert.deepEqual(await relayGroups(rig), []);
  const popup = await rig.browser.context.newPage();
  await popup.goto(`chrome-extension://${rig.browser.extensionId}/popup.html?tabId=${tabId}`);
  await popup.locator(`#shared-list li[data-tab-id="${tabId}"]`)
    .filter({ hasText: 'In your group "Research", not moved' }).waitFor();
  await rig.toggle(tabId);
  await waitShared(rig, []);
  assert.equal(await groupOf(), own);
});
