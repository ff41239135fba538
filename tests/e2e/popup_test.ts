/**
 * Real Chromium: the popup (opened as a page on a given tab) shares, lists, shows, stops and
 * copies; each connection state has its one line and its one action; nothing is attached before
 * the relay is configured. Screenshots go to `test-output/`; with `UPDATE_DOCS_SCREENSHOTS=1`
 * the popup with two shared tabs is also written to `docs/popup.png` for the README.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { rigTest } from "./_harness.ts";
import { root, TOKEN, waitUntil } from "../../harness/rig.ts";
import { listedUrls, openPopup, waitShared } from "./_ui.ts";

async function shot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(`${root}test-output`, { recursive: true });
  await page.screenshot({ path: `${root}test-output/${name}.png`, animations: "disabled" });
  if (Deno.env.get("UPDATE_DOCS_SCREENSHOTS") === "1" && name === "popup-two-shared") {
    // The body is as tall as the popup's content, as in the real toolbar popup.
    await page.locator("body").screenshot({
      path: `${root}docs/popup.png`,
      animations: "disabled",
    });
  }
}

async function statusLine(page: Page, text: string | RegExp): Promise<string> {
  await page.locator("#status-text").filter({ hasText: text }).waitFor({ timeout: 20_000 });
  const action = page.locator("#status-action");
  return await action.isVisible() ? (await action.innerText()).trim() : "";
}

rigTest("popup() shares the current tab, lists it, stops it and stops all", async (rig, t) => {
  const urlA = `${rig.pages.a}/?title=Alpha`;
  const urlB = `${rig.pages.b}/?title=Beta`;
  const a = await rig.openTab(urlA);
  const b = await rig.openTab(urlB);
  const popup = await openPopup(rig, a.tabId);

  await t.step("before sharing: one line, no action, Share this tab", async () => {
    assert.equal(await statusLine(popup, "Ready: share a tab to connect to the relay"), "");
    assert.equal(await popup.innerText("#current-title"), "Alpha");
    assert.equal(await popup.innerText("#current-origin"), rig.pages.a);
    assert.equal((await popup.innerText("#toggle-current")).trim(), "Share this tab");
    assert.equal(await popup.isDisabled("#stop-all"), true);
  });

  await t.step("Share this tab attaches it; it is listed with its origin", async () => {
    await popup.click("#toggle-current");
    await rig.waitAttached(a.tabId);
    const row = popup.locator(`#shared-list li[data-tab-id="${a.tabId}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /Alpha/);
    assert.match(await row.innerText(), new RegExp(rig.pages.a.replaceAll(".", "\\.")));
    assert.equal((await popup.innerText("#toggle-current")).trim(), "Stop sharing");
    assert.equal(await statusLine(popup, `Connected to the relay on port ${rig.relay.port}`), "");
    await waitUntil("relay lists the tab", async () => (await listedUrls(rig)).includes(urlA));
  });

  await t.step("copy endpoint puts a working CDP URL with the token on the clipboard", async () => {
    // Chrome treats extension origins as opaque here, so the grant covers every origin.
    await rig.browser.context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await popup.click('button[data-copy="cdpUrl"]');
    await popup.locator("#copy-state").filter({ hasText: "Copied the endpoint" }).waitFor();
    const copied = await popup.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, `http://127.0.0.1:${rig.relay.port}/?token=${rig.relay.relayToken}`);
    const version = await fetch(new URL("/json/version", copied).href + new URL(copied).search);
    assert.equal(version.status, 200);
    await version.body?.cancel();

    await popup.click('button[data-copy="playwrightMcp"]');
    await popup.locator("#copy-state").filter({ hasText: "Playwright MCP" }).waitFor();
    const mcp = JSON.parse(await popup.evaluate(() => navigator.clipboard.readText())) as {
      mcpServers: Record<string, { args: string[] }>;
    };
    assert.deepEqual(mcp.mcpServers["browser-relay"]?.args.slice(1), ["--cdp-endpoint", copied]);
  });

  await t.step("a second tab shared from its own popup; both listed", async () => {
    const popupB = await openPopup(rig, b.tabId);
    await popupB.click("#toggle-current");
    await waitShared(rig, [a.tabId, b.tabId]);
    await popupB.close();
    await popup.locator("#shared-list li").nth(1).waitFor();
    assert.equal(await popup.innerText("#shared-count"), "2");
    await shot(popup, "popup-two-shared");
  });

  await t.step("Show brings the tab to the front", async () => {
    await popup.click(`#show-${b.tabId}`);
    await waitUntil(
      "tab B active",
      () => rig.browser.worker.evaluate(async (id) => (await chrome.tabs.get(id)).active, b.tabId),
    );
  });

  await t.step("Stop on a row stops that tab only; the relay drops it", async () => {
    await popup.click(`#stop-${b.tabId}`);
    await waitShared(rig, [a.tabId]);
    await waitUntil("relay drops tab B", async () => !(await listedUrls(rig)).includes(urlB));
    await popup.locator(`#shared-list li[data-tab-id="${b.tabId}"]`).waitFor({ state: "detached" });
  });

  await t.step("Stop sharing all empties the list", async () => {
    await popup.click("#stop-all");
    await waitShared(rig, []);
    await popup.locator("#no-shared").waitFor();
    assert.equal(await popup.isDisabled("#stop-all"), true);
    assert.equal((await popup.innerText("#toggle-current")).trim(), "Share this tab");
  });
});

rigTest(
  "popup() shows each connection state in one line with the action that fixes it",
  async (rig, t) => {
    const url = `${rig.pages.a}/?title=States`;
    const { tabId } = await rig.attachNewTab(url);
    const popup = await openPopup(rig, tabId);
    const port = rig.relay.port;

    await t.step("ready: connected, no action", async () => {
      assert.equal(await statusLine(popup, `Connected to the relay on port ${port}`), "");
      assert.equal(await popup.getAttribute("#status", "data-tone"), "ok");
    });

    await t.step("relay gone: retrying, Retry now; the badge agrees", async () => {
      await rig.relay.close();
      const action = await statusLine(
        popup,
        new RegExp(`(No relay is running|Lost the connection to the relay) on port ${port}`),
      );
      assert.equal(action, "Retry now");
      await popup.click("#status-action");
      const title = await rig.browser.worker.evaluate(
        (id) => chrome.action.getTitle({ tabId: id }),
        tabId,
      );
      assert.match(title, /^Browser Relay: this tab is shared\. /);
      assert.ok(title.length <= 120, title);
      await shot(popup, "popup-backoff");
    });

    await t.step("relay back: connected again", async () => {
      await rig.restartRelay();
      assert.equal(await statusLine(popup, `Connected to the relay on port ${port}`), "");
    });

    await t.step("wrong token: refused, Open settings", async () => {
      await rig.browser.worker.evaluate(() => chrome.storage.local.set({ gatewayToken: "wrong" }));
      assert.equal(
        await statusLine(
          popup,
          "The relay refused the token: paste the one it printed in the settings",
        ),
        "Open settings",
      );
      assert.equal(await popup.getAttribute("#status", "data-tone"), "error");
    });

    await t.step("no token: not set up, Finish setup", async () => {
      await rig.browser.worker.evaluate(() => chrome.storage.local.remove("gatewayToken"));
      assert.equal(
        await statusLine(popup, "Not set up yet: the relay's token is missing"),
        "Finish setup",
      );
      await shot(popup, "popup-not-set-up");
      const pageText = await popup.innerText("body");
      assert.doesNotMatch(pageText, /gatewayToken|chrome\.storage/);
    });

    await t.step("token back: connected", async () => {
      await rig.browser.worker.evaluate(
        (token) => chrome.storage.local.set({ gatewayToken: token }),
        TOKEN,
      );
      assert.equal(await statusLine(popup, `Connected to the relay on port ${port}`), "");
    });
  },
);

rigTest(
  "share() before the relay is configured attaches nothing and opens the setup page",
  async (rig) => {
    await rig.browser.worker.evaluate(() => chrome.storage.local.remove("gatewayToken"));
    const url = `${rig.pages.a}/?title=Unconfigured`;
    const { tabId } = await rig.openTab(url);
    const attachedBefore = await rig.browser.worker.evaluate(
      async (id) => (await chrome.debugger.getTargets()).find((t) => t.tabId === id)?.attached,
      tabId,
    );
    const popup = await openPopup(rig, tabId);
    await popup.click("#toggle-current");
    await popup.locator("#current-note").filter({ hasText: "Nothing was shared" }).waitFor();
    // The keyboard shortcut's path too.
    assert.equal(await rig.toggle(tabId), undefined);
    const setup = await waitUntil(
      "the setup page",
      () => rig.browser.context.pages().find((p) => p.url().includes("/setup.html?reason=share")),
    );
    await setup.locator("#reason").waitFor();
    // getTargets() marks a tab attached for any client (Playwright drives these pages), so it must
    // not change; and our own attach must still be possible, which fails when we already are.
    const attachedNow = await rig.browser.worker.evaluate(
      async (id) => (await chrome.debugger.getTargets()).find((t) => t.tabId === id)?.attached,
      tabId,
    );
    assert.equal(attachedNow, attachedBefore);
    const probe = await rig.browser.worker.evaluate(async (id) => {
      try {
        await chrome.debugger.attach({ tabId: id }, "1.3");
        await chrome.debugger.detach({ tabId: id });
        return "not attached by us";
      } catch (error) {
        return String(error);
      }
    }, tabId);
    assert.equal(probe, "not attached by us");
    assert.deepEqual((await rig.status()).tabs, []);
  },
);
