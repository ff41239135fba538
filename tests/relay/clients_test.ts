/**
 * Real CDP clients (playwright-core, puppeteer-core) against the relay with the fake extension
 * behind it: no browser is launched.
 *
 * playwright-core probes `/proc` and the home directory when it loads, which Deno allows only
 * under `-A`. These tests therefore import the clients lazily and are ignored unless every
 * permission is granted: run them with `deno test -A tests/relay/clients_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FakeExtension } from "../../harness/fake_extension.ts";
import { startTestRelay, TOKEN, tokenHeader } from "./_helpers.ts";

const UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

const PAGE = {
  targetId: "0123456789ABCDEF0123456789ABCDEF",
  title: "Example",
  url: "https://example.com/",
};

async function granted(): Promise<boolean> {
  const names = ["run", "sys", "write", "ffi"] as const;
  const states = await Promise.all(names.map((name) => Deno.permissions.query({ name })));
  return states.every((status) => status.state === "granted");
}

const ALL_GRANTED = await granted();

const CLIENT_TEST = { ignore: !ALL_GRANTED };

Deno.test("startRelay() serves playwright-core connectOverCDP", CLIENT_TEST, async () => {
  const { chromium } = await import("playwright-core");
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    userAgent: UA,
    attached: { "cb-tab-1": PAGE },
  });
  const browser = await chromium.connectOverCDP(relay.url, {
    headers: tokenHeader(relay.relayToken),
  });
  try {
    assert.equal(browser.version(), "156.0.0.0");
    const pages = browser.contexts().flatMap((context) => context.pages());
    assert.deepEqual(pages.map((page) => page.url()), ["https://example.com/"]);
    const page = pages[0];
    assert.ok(page !== undefined);
    // page.evaluate goes through Runtime.evaluate (utility script) and Runtime.callFunctionOn.
    assert.equal(await page.evaluate("20+22"), 42);
    const evaluate = ext.commands.find((c) => c.method === "Runtime.evaluate");
    assert.equal(evaluate?.sessionId, "cb-tab-1");
    const call = ext.commands.find((c) => c.method === "Runtime.callFunctionOn");
    assert.equal(call?.sessionId, "cb-tab-1");
  } finally {
    await browser.close();
  }
});

Deno.test("startRelay() serves puppeteer-core connect", CLIENT_TEST, async () => {
  const { default: puppeteer } = await import("puppeteer-core");
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    userAgent: UA,
    attached: { "cb-tab-1": PAGE },
  });
  const browser = await puppeteer.connect({
    browserURL: relay.url,
    headers: tokenHeader(relay.relayToken),
    defaultViewport: null,
  });
  try {
    const pages = await browser.pages();
    assert.deepEqual(pages.map((page) => page.url()), ["https://example.com/"]);
    const page = pages[0];
    assert.ok(page !== undefined);
    assert.equal(await page.evaluate("20+22"), 42);
    const evaluate = ext.commands.find((c) => c.method === "Runtime.evaluate");
    assert.equal(evaluate?.sessionId, "cb-tab-1");
    assert.match(String(evaluate?.params?.expression), /^20\+22/);
  } finally {
    await browser.disconnect();
  }
});

Deno.test("startRelay() serves playwright-core CDP sessions", CLIENT_TEST, async (t) => {
  const { chromium } = await import("playwright-core");
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    userAgent: UA,
    attached: { "cb-tab-1": PAGE },
  });
  const browser = await chromium.connectOverCDP(relay.url, {
    headers: tokenHeader(relay.relayToken),
  });
  try {
    const context = browser.contexts()[0];
    const page = context?.pages()[0];
    assert.ok(context !== undefined && page !== undefined);

    await t.step("context.newCDPSession(page) runs commands on the page", async () => {
      const session = await context.newCDPSession(page);
      const { result } = await session.send("Runtime.evaluate", { expression: "1+1" });
      assert.deepEqual(result, { type: "number", value: 2, description: "2" });
      const evaluate = ext.commands.findLast((c) => c.method === "Runtime.evaluate");
      assert.deepEqual(evaluate?.params, { expression: "1+1" });
      assert.equal(evaluate?.sessionId, "cb-tab-1");
      // The page keeps its own session.
      assert.equal(await page.evaluate("20+22"), 42);
      await session.detach();
      assert.equal(await page.evaluate("2*21"), 42);
      assert.equal(ext.commands.some((c) => c.method === "Target.detachFromTarget"), false);
    });
    await t.step("browser.newBrowserCDPSession() answers Browser.getVersion", async () => {
      const session = await browser.newBrowserCDPSession();
      const version = await session.send("Browser.getVersion");
      assert.equal(version.product, "Chrome/156.0.0.0");
      assert.equal(version.userAgent, UA);
      await session.detach();
      assert.deepEqual(context.pages(), [page]);
    });
  } finally {
    await browser.close();
  }
});

Deno.test("startRelay() serves puppeteer-core CDP sessions", CLIENT_TEST, async () => {
  const { default: puppeteer } = await import("puppeteer-core");
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    userAgent: UA,
    attached: { "cb-tab-1": PAGE },
  });
  const browser = await puppeteer.connect({
    browserURL: relay.url,
    headers: tokenHeader(relay.relayToken),
    defaultViewport: null,
  });
  try {
    const page = (await browser.pages())[0];
    assert.ok(page !== undefined);
    const session = await page.createCDPSession();
    assert.notEqual(session.id(), "cb-tab-1");
    const { result } = await session.send("Runtime.evaluate", { expression: "1+1" });
    assert.deepEqual(result, { type: "number", value: 2, description: "2" });
    assert.equal(
      ext.commands.findLast((c) => c.method === "Runtime.evaluate")?.sessionId,
      "cb-tab-1",
    );
    assert.equal(await page.evaluate("20+22"), 42);
    await session.detach();
    assert.equal(await page.evaluate("2*21"), 42);
    assert.deepEqual((await browser.pages()).map((p) => p.url()), ["https://example.com/"]);
  } finally {
    await browser.disconnect();
  }
});
