import assert from "node:assert/strict";
import type { PopupState, StatusSnapshot } from "../../worker/messages.ts";
import { deriveRelayToken } from "../../codec/derive_relay_token.ts";
import { withClient, withUi } from "./_client_harness.ts";
import { TOKEN } from "./_connection_harness.ts";

// The actions run as the worker runs them: built and wired by RelayClient over fakes, reached
// through `runtime.onMessage` and the client's toolbar-click path.

Deno.test("UserActions.share() before a token is saved attaches nothing and opens the setup page", async () => {
  await withUi({}, async (h) => {
    const tab = h.tabs.add({ url: "https://a.test/", active: true });
    const reply = await h.runtime.send({ type: "share", tabId: tab.id });
    assert.deepEqual(reply, {
      ok: false,
      reason: "not_configured",
      message: "Nothing was shared: finish the setup first (the relay's token is missing)",
    });
    assert.equal(await h.client.clickAction(tab), undefined);
    await h.settle();
    assert.equal(h.dbg.isAttached(tab.id), false);
    assert.deepEqual(h.pages.opened, ["share", "share"]);
    assert.deepEqual(h.groups.all(), []);
    const state = await h.runtime.send({ type: "state", tabId: tab.id }) as PopupState;
    assert.equal(state.summary.action, "setup");
    assert.equal(state.configured, false);
  });
});

Deno.test("UserActions.handleMessage() answers the popup's state, stopAll and endpoints", async () => {
  await withUi({ gatewayToken: TOKEN, relayPort: 18792 }, async (h) => {
    const a = h.tabs.add({ url: "https://a.test/x", title: "A", active: true });
    const own = h.tabs.add({ url: "https://b.test/", title: "B" });
    h.groups.personGroup([own.id], "Work", "blue");
    await h.runtime.send({ type: "share", tabId: a.id });
    await h.runtime.send({ type: "share", tabId: own.id });
    await h.settle();
    const state = await h.runtime.send({ type: "state", tabId: a.id }) as PopupState;
    assert.deepEqual(state.current, {
      tabId: a.id,
      title: "A",
      origin: "https://a.test",
      shared: true,
      shareable: true,
    });
    assert.deepEqual(state.summary.text, "Connected to the relay on port 18792");
    assert.equal(state.shortcut, "Alt+Shift+R");
    assert.deepEqual(state.tabs.map((t) => [t.tabId, t.origin, t.placement]), [
      [a.id, "https://a.test", { kind: "group" }],
      [own.id, "https://b.test", { kind: "own_group", title: "Work" }],
    ]);
    const endpoints = await h.runtime.send({ type: "endpoints" }) as { cdpUrl: string };
    assert.equal(
      endpoints.cdpUrl,
      `http://127.0.0.1:18792/?token=${await deriveRelayToken(TOKEN, 18792)}`,
    );
    assert.deepEqual(await h.runtime.send({ type: "stopAll" }), { ok: true });
    await h.settle();
    assert.deepEqual(h.client.status().tabs, []);
    assert.deepEqual(await h.runtime.send({ type: "share" }), {
      error: 'Cannot read "share" as "tabId" must be a tab id: current value is undefined',
    });
  });
});
Deno.test("UserActions.handleMessage() answers the options page's status, detachAll and checkConnection messages", async () => {
  await withClient({}, async (h) => {
    const tab = h.tabs.add({ url: "https://a.test/", title: "A" });
    await h.client.toggleTab(tab.id);
    await h.settle();
    const status = await h.runtime.send({ type: "status" }) as StatusSnapshot;
    assert.equal(status.connection.phase, "ready");
    assert.deepEqual(status.tabs, [{
      tabId: tab.id,
      sessionId: "cb-tab-1",
      title: "A",
      url: "https://a.test/",
      state: "attached",
    }]);

    assert.deepEqual(await h.runtime.send({ type: "checkConnection", port: 9999, token: "t" }), {
      kind: "ok",
      url: "http://127.0.0.1:18792",
      message: "ok",
    });
    assert.deepEqual(h.checks, [{ port: 9999, token: "t" }]);
    assert.deepEqual(await h.runtime.send({ type: "checkConnection", port: "x" }), {
      error: 'Cannot check the connection as "port" must be a number and "token" a string',
    });

    assert.deepEqual(await h.runtime.send({ type: "detachAll" }), { ok: true });
    assert.equal(h.dbg.isAttached(tab.id), false);
    assert.deepEqual((await h.runtime.send({ type: "status" }) as StatusSnapshot).tabs, []);
    assert.equal(await h.runtime.send({ type: "unknown" }), undefined);
  });
});

Deno.test("UserActions.clickAction() shows ! with the reason when Chrome refuses the attach", async () => {
  await withClient({}, async (h) => {
    const tab = h.tabs.add({ url: "chrome://settings/", active: true });
    assert.equal(await h.client.clickAction(tab), undefined);
    const badge = h.action.badgeOf(tab.id);
    assert.equal(badge?.text, "!");
    assert.equal(
      badge?.title,
      "Browser Relay: Chrome does not let extensions share this page",
    );
  });
});
