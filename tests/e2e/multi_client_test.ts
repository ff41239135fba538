// Several clients at once (issue 13, behaviour 6): two Playwright clients and one Puppeteer
// client on the same relay, on different tabs and on the same tab, each get consistent events and
// replies; one disconnecting or crashing changes nothing for the others.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import puppeteer from "puppeteer-core";
import { RawCdp, Rig, waitUntil } from "../../harness/rig.ts";
import { E2E } from "./_harness.ts";

async function devToolsPort(userDataDir: string): Promise<number> {
  return await waitUntil("DevToolsActivePort", async () => {
    const text = await Deno.readTextFile(`${userDataDir}/DevToolsActivePort`);
    const port = Number(text.split("\n")[0]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  });
}

function pageAt(browser: Browser, url: string): Page {
  const page = browser.contexts().flatMap((c) => c.pages()).find((p) => p.url() === url);
  assert.ok(page, `no page at ${url}`);
  return page;
}

/**
 * Two Playwright clients on one tab: each logs, each sees both logs exactly once, and a
 * navigation by one is seen by the other. Returns what each saw.
 */
async function sameTab(endpoint: string, url: string, next: string) {
  const one = await chromium.connectOverCDP(endpoint);
  // A handle made before the second client comes must survive its arrival.
  const heading = await pageAt(one, url).$("#h");
  const two = await chromium.connectOverCDP(endpoint);
  try {
    const held = await heading?.textContent();
    const pages = [pageAt(one, url), pageAt(two, url)];
    const seen: string[][] = [[], []];
    pages.forEach((page, i) => page.on("console", (m) => seen[i]!.push(m.text())));
    await pages[0]!.evaluate(() => console.log("from one"));
    await pages[1]!.evaluate(() => console.log("from two"));
    // A last log from each: once both have it, every earlier log has arrived too.
    await pages[0]!.evaluate(() => console.log("end"));
    await waitUntil("both clients saw the end", () => seen.every((s) => s.includes("end")));
    await pages[0]!.goto(next);
    await pages[1]!.waitForURL(next);
    const titles = await Promise.all(pages.map((p) => p.title()));
    const values = await Promise.all(pages.map((p, i) => p.evaluate((n) => n * 2, i)));
    return { seen: seen.map((s) => s.toSorted()), titles, values, held };
  } finally {
    await one.close();
    await two.close();
  }
}

/** Two Playwright clients, one after the other, on a page with an out-of-process frame. */
async function frames(endpoint: string, url: string) {
  const one = await chromium.connectOverCDP(endpoint);
  const two = await chromium.connectOverCDP(endpoint);
  try {
    const seen = [];
    for (const browser of [one, two]) {
      const page = pageAt(browser, url);
      const child = await waitUntil("the child frame", () => page.frames()[1]);
      seen.push({
        frames: page.frames().length,
        text: await child.evaluate(() => document.getElementById("inner")?.textContent),
      });
    }
    return seen;
  } finally {
    await one.close();
    await two.close();
  }
}

Deno.test({
  name: "two Playwright clients and a Puppeteer client share the relay",
  ...E2E,
  async fn(t) {
    const rig = await Rig.start({}, { args: ["--remote-debugging-port=0"] });
    try {
      const port = await devToolsPort(rig.browser.userDataDir);
      const endpoint = `${rig.relay.url}/?token=${rig.relay.relayToken}`;
      const urlA = `${rig.pages.a}/?title=A`;
      const urlB = `${rig.pages.b}/?title=B`;
      await rig.attachNewTab(urlA);
      await rig.attachNewTab(urlB);

      await t.step(
        "same tab: each client sees every log once, as on Chrome's endpoint",
        async () => {
          const directUrl = `${rig.pages.a}/?title=Direct`;
          await rig.openTab(directUrl);
          const expected = await sameTab(
            `http://127.0.0.1:${port}`,
            directUrl,
            `${rig.pages.a}/?title=Direct2`,
          );
          const actual = await sameTab(endpoint, urlA, `${rig.pages.a}/?title=A2`);
          assert.deepEqual(expected.seen, [["end", "from one", "from two"], [
            "end",
            "from one",
            "from two",
          ]]);
          assert.deepEqual(actual.seen, expected.seen);
          assert.deepEqual(actual.titles, ["A2", "A2"]);
          assert.deepEqual(actual.values, expected.values);
          assert.equal(expected.held, "Direct");
          assert.equal(actual.held, "A");
        },
      );

      await t.step(
        "out-of-process frames: a later client sees them too, as on Chrome's endpoint",
        async () => {
          const frame = encodeURIComponent(`${rig.pages.b}/frame`);
          const directUrl = `${rig.pages.a}/oopif?frame=${frame}&direct`;
          const relayUrl = `${rig.pages.a}/oopif?frame=${frame}`;
          await rig.openTab(directUrl);
          const { tabId } = await rig.openTab(relayUrl);
          await rig.toggle(tabId);
          await rig.waitAttached(tabId);
          const expected = await frames(`http://127.0.0.1:${port}`, directUrl);
          assert.deepEqual(expected, [{ frames: 2, text: "frame B" }, {
            frames: 2,
            text: "frame B",
          }]);
          assert.deepEqual(await frames(endpoint, relayUrl), expected);
        },
      );

      const urlA2 = `${rig.pages.a}/?title=A2`;
      const pw1 = await chromium.connectOverCDP(endpoint);
      const pw2 = await chromium.connectOverCDP(endpoint);
      const pp = await puppeteer.connect({
        browserURL: rig.relay.url,
        headers: { "x-openclaw-relay-token": rig.relay.relayToken },
        defaultViewport: null,
      });
      try {
        await t.step(
          "different tabs at once: replies and events stay with their client",
          async () => {
            const ppPage = (await pp.pages()).find((p) => p.url() === urlB);
            assert.ok(ppPage);
            const ppLogs: string[] = [];
            ppPage.on("console", (m) => ppLogs.push(m.text()));
            const [a, b, c] = await Promise.all([
              (async () => {
                const page = pageAt(pw1, urlA2);
                const out = [];
                for (let i = 0; i < 20; i++) out.push(await page.evaluate((n) => n + 1, i));
                return out;
              })(),
              (async () => {
                const page = pageAt(pw2, urlB);
                await page.goto(`${rig.pages.b}/?title=B2`);
                return await page.title();
              })(),
              (async () => {
                await ppPage.waitForFunction(() => document.title === "B2");
                await ppPage.evaluate(() => console.log("pp"));
                return await ppPage.evaluate(() => document.title);
              })(),
            ]);
            assert.deepEqual(a, Array.from({ length: 20 }, (_, i) => i + 1));
            assert.equal(b, "B2");
            assert.equal(c, "B2");
            await waitUntil("Puppeteer's log", () => ppLogs.includes("pp"));
            assert.deepEqual(ppLogs, ["pp"]);
          },
        );

        await t.step("a crashed client leaves nothing behind on a shared tab", async () => {
          const page = pageAt(pw2, urlA2);
          const sizeBefore = await page.evaluate(() => [innerWidth, innerHeight]);
          const child = new Deno.Command(Deno.execPath(), {
            args: [
              "run",
              "-A",
              fileURLToPath(new URL("./_crashing_client.ts", import.meta.url)),
              endpoint,
              urlA2,
            ],
            stdout: "piped",
            stderr: "inherit",
          }).spawn();
          const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
          let out = "";
          while (!out.includes("ready")) {
            const { value, done } = await reader.read();
            if (done) throw new Error(`crashing client ended early: ${out}`);
            out += value;
          }
          assert.deepEqual(await page.evaluate(() => [innerWidth, innerHeight]), [333, 222]);
          // A raw client on the same tab sees what the crashed client left: paused requests.
          const raw = await RawCdp.connect(rig.relay);
          await raw.call("Target.setAutoAttach", {
            autoAttach: true,
            waitForDebuggerOnStart: false,
            flatten: true,
          });
          const clients = rig.relay.stats().clients;
          child.kill("SIGKILL");
          await child.status;
          await reader.cancel();
          await waitUntil(
            "the relay dropped the client",
            () => rig.relay.stats().clients === clients - 1,
          );
          // Its route would pause every request of the tab; its viewport would stay.
          const paused = raw.events.length;
          await page.goto(`${rig.pages.a}/?title=A3`, { timeout: 5_000 });
          assert.equal(await page.title(), "A3");
          assert.deepEqual(
            raw.events.slice(paused).filter((e) => e.method.startsWith("Fetch.")),
            [],
          );
          await raw.close();
          assert.deepEqual(
            await waitUntil("viewport restored", async () => {
              const size = await page.evaluate(() => [innerWidth, innerHeight]);
              return size[0] === sizeBefore[0] ? size : undefined;
            }, 5_000),
            sizeBefore,
          );
          // The file chooser is no longer intercepted for the person: nothing to observe in a
          // headless page without a chooser, so the other clients' view is what counts here.
          assert.equal(await pageAt(pw1, `${rig.pages.a}/?title=A3`).title(), "A3");
        });

        await t.step("a client that disconnects changes nothing for the others", async () => {
          await pp.disconnect();
          const urlB2 = `${rig.pages.b}/?title=B2`;
          const page = pageAt(pw2, urlB2);
          assert.equal(await page.evaluate(() => document.title), "B2");
          assert.equal(await pageAt(pw1, urlB2).evaluate(() => 1 + 1), 2);
          const urls = (await rig.status()).tabs.map((tab) => tab.url);
          assert.ok(urls.includes(urlB2), `tab B detached: ${urls}`);
          // Puppeteer's default 800x600 viewport on a shared tab ends with its connection.
          const size = () => page.evaluate(() => [innerWidth, innerHeight]);
          const before = await size();
          const small = await puppeteer.connect({
            browserURL: rig.relay.url,
            headers: { "x-openclaw-relay-token": rig.relay.relayToken },
          });
          const smallPage = (await small.pages()).find((p) => p.url() === urlB2);
          assert.ok(smallPage);
          assert.deepEqual(await smallPage.evaluate(() => [innerWidth, innerHeight]), [800, 600]);
          assert.deepEqual(await size(), [800, 600]);
          await small.disconnect();
          await waitUntil("viewport restored", async () => {
            const now = await size();
            return now[0] === before[0] && now[1] === before[1];
          }, 5_000);
        });
      } finally {
        if (pp.connected) await pp.disconnect();
        await pw1.close();
        await pw2.close();
      }
    } finally {
      await rig.close();
    }
  },
});
