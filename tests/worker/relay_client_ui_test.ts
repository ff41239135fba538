import assert from "node:assert/strict";
import { TAB_GROUP_NONE } from "../../worker/ports.ts";
import { withUi } from "./_client_harness.ts";
import { TOKEN } from "./_connection_harness.ts";

Deno.test("RelayClient() opens the setup page on first install", async () => {
  await withUi({}, async (h) => {
    h.runtime.onInstalled.emit({ reason: "update" });
    h.runtime.onInstalled.emit({ reason: "install" });
    await h.settle();
    assert.deepEqual(h.pages.opened, [undefined]);
    assert.equal(h.runtime.optionsOpened, 0);
  });
});

Deno.test("RelayClient() keyboard shortcut toggles the current tab", async () => {
  await withUi({ gatewayToken: TOKEN }, async (h) => {
    const tab = h.tabs.add({ url: "https://a.test/", active: true });
    h.commands.onCommand.emit("toggle-sharing", { ...tab });
    await h.settle();
    assert.equal(h.dbg.isAttached(tab.id), true);
    h.commands.onCommand.emit("something-else", { ...tab });
    h.commands.onCommand.emit("toggle-sharing", undefined); // no tab: the active one
    await h.settle();
    assert.equal(h.dbg.isAttached(tab.id), false);
  });
});

Deno.test("RelayClient() groups shared tabs and stops a tab the person drags out", async () => {
  await withUi({ gatewayToken: TOKEN }, async (h) => {
    const a = h.tabs.add({ url: "https://a.test/", title: "A" });
    const b = h.tabs.add({ url: "https://b.test/", title: "B" });
    assert.deepEqual(await h.runtime.send({ type: "share", tabId: a.id }), {
      ok: true,
      shared: true,
    });
    await h.runtime.send({ type: "share", tabId: b.id });
    await h.settle();
    const [group, ...more] = h.groups.all();
    assert.deepEqual(more, []);
    assert.deepEqual(h.groups.members(group?.id ?? -1), [a.id, b.id]);

    h.groups.drag(a.id, TAB_GROUP_NONE);
    await h.settle();
    await h.tick(250); // the grace a closing tab gets to disappear
    await h.settle();
    assert.equal(h.dbg.isAttached(a.id), false);
    assert.deepEqual(h.client.status().tabs.map((t) => t.tabId), [b.id]);

    // A worker restart keeps the one group; stopping the last tab removes it.
    await h.restart();
    assert.equal(h.groups.all().length, 1);
    assert.deepEqual(await h.runtime.send({ type: "stop", tabId: b.id }), {
      ok: true,
      shared: false,
    });
    await h.settle();
    assert.deepEqual(h.groups.all(), []);
  });
});

Deno.test("RelayClient() turning the group setting off ungroups without stopping", async () => {
  await withUi({ gatewayToken: TOKEN }, async (h) => {
    const a = h.tabs.add({ url: "https://a.test/" });
    await h.runtime.send({ type: "share", tabId: a.id });
    await h.settle();
    assert.equal(h.groups.all().length, 1);
    await h.storage.local.set({ useTabGroups: false });
    await h.settle();
    assert.deepEqual(h.groups.all(), []);
    assert.equal(h.dbg.isAttached(a.id), true);
  });
});
