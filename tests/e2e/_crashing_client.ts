// A Playwright client for multi_client_test.ts that is killed, not closed: it connects, routes
// every request of the page at Deno.args[1] and, on Puppeteer's default, emulates a small
// viewport there, prints "ready" and waits to be killed.
import { chromium } from "playwright-core";

const [endpoint, url] = Deno.args;
if (endpoint === undefined || url === undefined) throw new Error("Usage: endpoint url");
const browser = await chromium.connectOverCDP(endpoint);
const page = browser.contexts()[0]?.pages().find((p) => p.url() === url);
if (page === undefined) throw new Error(`No page at ${url}`);
await page.route("**/*", (route) => route.continue());
await page.setViewportSize({ width: 333, height: 222 });
const session = await browser.contexts()[0]!.newCDPSession(page);
await session.send("Page.setInterceptFileChooserDialog", { enabled: true });
console.log("ready");
await new Promise(() => {});
