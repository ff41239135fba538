// E2E 1: Playwright connectOverCDP and Puppeteer connect through the relay to a real tab.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import puppeteer from "puppeteer-core";
import { rigTest } from "./_harness.ts";

rigTest("relay() serves Playwright and Puppeteer against a real attached tab", async (rig, t) => {
  const url = `${rig.pages.a}/?title=Hello`;
  await rig.attachNewTab(url);

  await t.step(
    "Playwright connectOverCDP sees, navigates, evaluates and screenshots",
    async () => {
      const browser = await chromium.connectOverCDP(
        `${rig.relay.url}/?token=${rig.relay.relayToken}`,
      );
      try {
        const pages = browser.contexts().flatMap((c) => c.pages());
        const page = pages.find((p) => p.url() === url);
        assert.ok(page, `attached page not found among ${pages.map((p) => p.url())}`);
        assert.equal(await page.evaluate(() => document.title), "Hello");
        await page.goto(`${rig.pages.a}/?title=Next`);
        assert.equal(await page.title(), "Next");
        assert.equal(await page.locator("#h").textContent(), "Next");
        const png = await page.screenshot();
        assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
        assert.ok(png.byteLength > 1_000);
      } finally {
        await browser.close();
      }
    },
  );

  await t.step(
    "CDP sessions: Playwright newCDPSession/newBrowserCDPSession, Puppeteer createCDPSession",
    async () => {
      const browser = await chromium.connectOverCDP(
        `${rig.relay.url}/?token=${rig.relay.relayToken}`,
      );
      try {
        const context = browser.contexts()[0];
        const page = context?.pages().find((p) => p.url().startsWith(`${rig.pages.a}/?title=`));
        assert.ok(context && page, "attached page not found");
        const session = await context.newCDPSession(page);
        const evaluated = await session.send("Runtime.evaluate", {
          expression: "document.title",
        });
        assert.equal(evaluated.result.value, await page.title());
        await session.detach();
        assert.equal(await page.evaluate(() => 20 + 22), 42);
        const browserSession = await browser.newBrowserCDPSession();
        const version = await browserSession.send("Browser.getVersion");
        assert.match(version.product, /^Chrome\/\d+\./);
        await browserSession.detach();
      } finally {
        await browser.close();
      }
      const pptr = await puppeteer.connect({
        browserURL: rig.relay.url,
        headers: { "x-openclaw-relay-token": rig.relay.relayToken },
        defaultViewport: null,
      });
      try {
        const page = (await pptr.pages()).find((p) => p.url().startsWith(`${rig.pages.a}/?title=`));
        assert.ok(page, "attached page not found");
        const session = await page.createCDPSession();
        const { result } = await session.send("Runtime.evaluate", { expression: "1+1" });
        assert.equal(result.value, 2);
        await session.detach();
        assert.equal(await page.evaluate(() => 20 + 22), 42);
      } finally {
        await pptr.disconnect();
      }
    },
  );

  await t.step(
    "Puppeteer connect({browserURL}) sees, navigates, evaluates and screenshots",
    async () => {
      const browser = await puppeteer.connect({
        browserURL: rig.relay.url,
        headers: { "x-openclaw-relay-token": rig.relay.relayToken },
        defaultViewport: null,
      });
      try {
        const pages = await browser.pages();
        const page = pages.find((p) => p.url().startsWith(`${rig.pages.a}/?title=`));
        assert.ok(page, `attached page not found among ${pages.map((p) => p.url())}`);
        await page.goto(`${rig.pages.a}/?title=Third`);
        assert.equal(await page.evaluate(() => document.title), "Third");
        const png = await page.screenshot();
        assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
      } finally {
        await browser.disconnect();
      }
    },
  );
});
