/**
 * Real Chromium: the options page never keeps a check result from an earlier connection state
 * and shows each problem once; the setup page's live check turns green when the relay answers;
 * axe-core finds no serious or critical violation on the popup, options and setup pages, in
 * the light and the dark scheme.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { rigTest } from "./_harness.ts";
import { TOKEN, waitUntil } from "../../harness/rig.ts";
import { axeViolations, openPopup } from "./_ui.ts";

/** The visible elements of the options page that describe a problem. */
function visibleProblems(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    ["#check-result", "#status-detail", "#save-state", "#relayPort-error", "#gatewayToken-error"]
      .flatMap((selector) => {
        const element = document.querySelector<HTMLElement>(selector);
        if (element === null || element.closest("[hidden]") !== null) return [];
        const text = element.innerText.trim();
        return /token|refused|rejected/i.test(text) ? [`${selector}: ${text}`] : [];
      })
  );
}

rigTest(
  "options() clear a check result once the connection changes and show each problem once",
  async (rig, t) => {
    const { tabId } = await rig.attachNewTab(`${rig.pages.a}/?title=Options`);
    assert.ok(tabId > 0);
    const page = await rig.browser.context.newPage();
    await page.goto(`chrome-extension://${rig.browser.extensionId}/options.html`);
    await page.locator("#phase").filter({ hasText: "Connected" }).waitFor();

    await t.step("a green check is not kept after the relay dies", async () => {
      await page.click("#check");
      await page.locator('#check-result[data-kind="ok"]').waitFor();
      await rig.relay.close();
      await page.locator("#phase").filter({ hasNotText: "Connected" }).waitFor({ timeout: 20_000 });
      await page.locator("#check-result").waitFor({ state: "hidden" });
      assert.doesNotMatch(await page.innerText("body"), /token accepted|Connected to the relay\./);
      await rig.restartRelay();
      await page.locator("#phase").filter({ hasText: "Connected" }).waitFor({ timeout: 20_000 });
    });

    await t.step("a wrong token is reported once, in the person's words", async () => {
      await page.fill("#gatewayToken", "wrong-token");
      await page.click("#save");
      await page.locator("#status-detail").filter({ hasText: "The relay refused the token" })
        .waitFor({ timeout: 20_000 });
      assert.deepEqual(await visibleProblems(page), [
        "#status-detail: The relay refused the token: paste the one it printed in the settings",
      ]);
      await page.click("#check");
      await page.locator('#check-result[data-kind="token_rejected"]').waitFor();
      const problems = await visibleProblems(page);
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.doesNotMatch(await page.innerText("body"), /gatewayToken|chrome\.storage/);
    });

    await t.step("the tab-group setting is saved and takes effect", async () => {
      await page.fill("#gatewayToken", TOKEN);
      await page.click("#save");
      await page.locator("#phase").filter({ hasText: "Connected" }).waitFor({ timeout: 20_000 });
      await page.uncheck("#useTabGroups");
      await waitUntil(
        "setting stored",
        async () =>
          (await rig.browser.worker.evaluate(() => chrome.storage.local.get("useTabGroups")))
            .useTabGroups === false,
      );
      await waitUntil(
        "no group left",
        () =>
          rig.browser.worker.evaluate(async () => (await chrome.tabGroups.query({})).length === 0),
      );
      await page.check("#useTabGroups");
      await waitUntil(
        "grouped again",
        () =>
          rig.browser.worker.evaluate(async () => (await chrome.tabGroups.query({})).length === 1),
      );
    });
  },
);

rigTest("setup() live check turns green when the relay answers", async (rig) => {
  await rig.browser.worker.evaluate(() => chrome.storage.local.remove("gatewayToken"));
  const page = await rig.browser.context.newPage();
  await page.goto(`chrome-extension://${rig.browser.extensionId}/setup.html`);
  await page.locator("#live").filter({ hasText: "Paste the token" }).waitFor();
  assert.equal(await page.innerText("#relay-command"), "npx -y deno@2.9.6 task relay");
  await page.click("#save");
  await page.locator("#gatewayToken-error").filter({ hasText: "Paste the token" }).waitFor();
  await page.fill("#gatewayToken", TOKEN);
  await page.fill("#relayPort", String(rig.relay.port));
  await page.click("#save");
  await page.locator('#live[data-tone="ok"]').waitFor({ timeout: 20_000 });
  assert.match(await page.innerText("#live"), /^Ready/);
});

rigTest(
  "axe() finds no serious or critical violation on the popup, options and setup pages",
  async (rig) => {
    const { tabId } = await rig.attachNewTab(`${rig.pages.a}/?title=Axe`);
    const popup = await openPopup(rig, tabId);
    await popup.locator(`#shared-list li[data-tab-id="${tabId}"]`).waitFor();
    const options = await rig.browser.context.newPage();
    await options.goto(`chrome-extension://${rig.browser.extensionId}/options.html`);
    await options.locator("#phase").filter({ hasText: "Connected" }).waitFor();
    await options.click("#check");
    await options.locator('#check-result[data-kind="ok"]').waitFor();
    const setup = await rig.browser.context.newPage();
    await setup.goto(`chrome-extension://${rig.browser.extensionId}/setup.html?reason=share`);
    await setup.locator('#live[data-tone="ok"]').waitFor({ timeout: 20_000 });
    for (const scheme of ["light", "dark"] as const) {
      for (
        const [name, page] of [["popup", popup], ["options", options], ["setup", setup]] as const
      ) {
        await page.emulateMedia({ colorScheme: scheme });
        const violations = await axeViolations(page);
        assert.deepEqual(
          violations.map((v) =>
            `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`
          ),
          [],
          `${name} page, ${scheme} scheme`,
        );
      }
    }
  },
);
