// Contexts and closing (issue 13, behaviour 5): no new browser contexts, and a client's
// browser.close() closes only the tabs it opened, never the person's tabs or the browser.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import puppeteer from "puppeteer-core";
import { Rig, waitUntil } from "../../harness/rig.ts";
import { ErrorText } from "../../relay/error_text.ts";
import { E2E } from "./_harness.ts";

async function devToolsPort(userDataDir: string): Promise<number> {
  return await waitUntil("DevToolsActivePort", async () => {
    const text = await Deno.readTextFile(`${userDataDir}/DevToolsActivePort`);
    const port = Number(text.split("\n")[0]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  });
}

/** The URLs of every open tab, as the extension sees them. */
function tabUrls(rig: Rig): Promise<string[]> {
  return rig.browser.worker.evaluate(async () =>
    (await chrome.tabs.query({})).map((tab) => tab.url ?? tab.pendingUrl ?? "")
  );
}

Deno.test({
  name: "contexts and browser.close() through the relay",
  ...E2E,
  async fn(t) {
    const rig = await Rig.start({}, { args: ["--remote-debugging-port=0"] });
    try {
      const port = await devToolsPort(rig.browser.userDataDir);
      const mine = `${rig.pages.a}/?title=Mine`;
      await rig.attachNewTab(mine);
      const endpoint = `${rig.relay.url}/?token=${rig.relay.relayToken}`;

      await t.step(
        "newContext fails with a specific error; on Chrome's endpoint it works",
        async () => {
          const direct = await chromium.connectOverCDP(`http://127.0.0.1:${port}`);
          try {
            const context = await direct.newContext();
            await context.close();
          } finally {
            await direct.close();
          }
          const browser = await chromium.connectOverCDP(endpoint);
          try {
            await assert.rejects(browser.newContext(), (error: Error) => {
              assert.ok(
                error.message.includes(ErrorText.CannotCreateBrowserContext),
                error.message,
              );
              return true;
            });
            // The connection is still good.
            const page = browser.contexts()[0]?.pages().find((p) => p.url() === mine);
            assert.equal(await page?.title(), "Mine");
          } finally {
            await browser.close();
          }
          const pptr = await puppeteer.connect({
            browserURL: rig.relay.url,
            headers: { "x-openclaw-relay-token": rig.relay.relayToken },
          });
          try {
            await assert.rejects(pptr.createBrowserContext(), (error: Error) => {
              assert.ok(
                error.message.includes(ErrorText.CannotCreateBrowserContext),
                error.message,
              );
              return true;
            });
          } finally {
            await pptr.disconnect();
          }
        },
      );

      await t.step(
        "Playwright's browser.close() leaves its new pages open, as on Chrome's endpoint",
        async () => {
          const opened: Record<string, string> = {};
          for (
            const [name, url] of [["direct", `http://127.0.0.1:${port}`], [
              "relay",
              endpoint,
            ]] as const
          ) {
            const browser = await chromium.connectOverCDP(url);
            const page = await browser.contexts()[0]!.newPage();
            const target = `${rig.pages.b}/?title=Playwright-${name}`;
            await page.goto(target);
            await browser.close();
            opened[name] = target;
          }
          const urls = await tabUrls(rig);
          assert.ok(urls.includes(opened.direct!), `direct page closed: ${urls}`);
          assert.ok(urls.includes(opened.relay!), `relay page closed: ${urls}`);
          assert.ok(urls.includes(mine));
        },
      );

      await t.step(
        "Puppeteer's browser.close() closes only its own pages and keeps the others",
        async () => {
          const watcher = await chromium.connectOverCDP(endpoint);
          const other = await puppeteer.connect({
            browserURL: rig.relay.url,
            headers: { "x-openclaw-relay-token": rig.relay.relayToken },
            defaultViewport: null,
          });
          const closing = await puppeteer.connect({
            browserURL: rig.relay.url,
            headers: { "x-openclaw-relay-token": rig.relay.relayToken },
            defaultViewport: null,
          });
          try {
            const keep = await other.newPage();
            await keep.goto(`${rig.pages.a}/?title=Keep`);
            const own: string[] = [];
            for (const title of ["Own1", "Own2"]) {
              const page = await closing.newPage();
              await page.goto(`${rig.pages.a}/?title=${title}`);
              own.push(page.url());
            }
            const before = await tabUrls(rig);
            for (const url of own) assert.ok(before.includes(url), `${url} not open: ${before}`);
            const disconnected = new Promise<void>((resolve) =>
              closing.once("disconnected", resolve)
            );
            await closing.close();
            await disconnected;
            const after = await waitUntil("own pages closed", async () => {
              const urls = await tabUrls(rig);
              return own.every((url) => !urls.includes(url)) ? urls : undefined;
            });
            assert.ok(after.includes(mine), "the person's tab was closed");
            assert.ok(
              after.includes(`${rig.pages.a}/?title=Keep`),
              "another client's tab was closed",
            );
            // The other clients still work on their tabs.
            assert.equal(await keep.evaluate(() => document.title), "Keep");
            const page = watcher.contexts()[0]?.pages().find((p) => p.url() === mine);
            assert.equal(await page?.evaluate(() => 6 * 7), 42);
            assert.equal(rig.relay.stats().extensionConnected, true);
          } finally {
            await other.disconnect();
            await watcher.close();
            if (closing.connected) await closing.disconnect();
          }
        },
      );
    } finally {
      await rig.close();
    }
  },
});
