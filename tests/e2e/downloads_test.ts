// E2E: downloads (issue 13, behaviour 3) with stock Playwright and Puppeteer, through the relay
// and against Chromium's own endpoint in the same run, plus the relay's bad-input cases.
import assert from "node:assert/strict";
import { type Browser, chromium, type Download, type Page } from "playwright-core";
import puppeteer from "puppeteer-core";
import { autoAttachedClient, RawCdp, Rig, waitUntil } from "../../harness/rig.ts";
import { E2E } from "./_harness.ts";

const BODY = "hello from a download\n";

/** Download pages: an `<a download>` link, and a download that never ends until released. */
function startDownloadServer(): {
  url: string;
  /** Stalled downloads the browser has aborted. */
  aborted(): number;
  release(): void;
  close(): Promise<void>;
} {
  const stalled = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let aborted = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/report.txt") {
      return new Response(BODY, {
        headers: {
          "content-type": "text/plain",
          "content-disposition": 'attachment; filename="report.txt"',
        },
      });
    }
    if (pathname === "/stalled.bin") {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(1024));
          stalled.add(controller);
        },
        cancel() {
          aborted++;
        },
      });
      return new Response(body, {
        headers: {
          "content-type": "application/octet-stream",
          "content-disposition": 'attachment; filename="stalled.bin"',
        },
      });
    }
    return new Response(
      `<!doctype html><title>Downloads</title>
      <a id="report" href="/report.txt" download="report.txt">report</a>
      <a id="stalled" href="/stalled.bin">stalled</a>`,
      { headers: { "content-type": "text/html" } },
    );
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    aborted: () => aborted,
    release() {
      for (const controller of stalled) {
        try {
          controller.close();
        } catch {
          // Already canceled by the browser.
        }
      }
      stalled.clear();
    },
    async close() {
      this.release();
      await server.shutdown();
    },
  };
}

async function devToolsPort(userDataDir: string): Promise<number> {
  return await waitUntil("DevToolsActivePort", async () => {
    const text = await Deno.readTextFile(`${userDataDir}/DevToolsActivePort`);
    const port = Number(text.split("\n")[0]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  });
}

/** `chrome.downloads` items whose URL starts with `prefix`, as the worker sees them. */
function downloadItems(
  rig: Rig,
  prefix: string,
): Promise<{ id: number; url: string; filename: string; state: string; exists: boolean }[]> {
  return rig.browser.worker.evaluate(async (p) => {
    const items = await chrome.downloads.search({});
    return items.filter((item) => item.url.startsWith(p)).map((item) => ({
      id: item.id,
      url: item.url,
      filename: item.filename,
      state: item.state,
      exists: item.exists,
    }));
  }, prefix);
}

function findPage(browser: Browser, url: string): Page {
  const page = browser.contexts().flatMap((c) => c.pages()).find((p) => p.url() === url);
  assert.ok(page, `page ${url} not found`);
  return page;
}

async function readText(path: string): Promise<string> {
  return await Deno.readTextFile(path);
}

/** What one Playwright download looks like to the script. */
async function playwrightAccepts(page: Page, dir: string): Promise<{
  suggested: string;
  body: string;
  saved: string;
  failure: string | null;
}> {
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 15_000 }),
    page.click("#report"),
  ]) as [Download, void];
  const path = await download.path();
  const target = `${dir}/saved-${crypto.randomUUID()}.txt`;
  await download.saveAs(target);
  return {
    suggested: download.suggestedFilename(),
    body: await readText(path),
    saved: await readText(target),
    failure: await download.failure(),
  };
}

/** Playwright with `deny` set through a browser CDP session (last setting wins, as in Chrome). */
async function playwrightDenied(browser: Browser, page: Page): Promise<string | null> {
  const session = await browser.newBrowserCDPSession();
  try {
    await session.send("Browser.setDownloadBehavior", { behavior: "deny", eventsEnabled: true });
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 15_000 }),
      page.click("#report"),
    ]) as [Download, void];
    return await download.failure();
  } finally {
    await session.detach();
  }
}

/** Puppeteer's download-to-folder flow; resolves with the folder's file names and content. */
async function puppeteerToFolder(
  connect: (
    downloadBehavior: { policy: "allow"; downloadPath: string },
  ) => ReturnType<typeof puppeteer.connect>,
  url: string,
  dir: string,
): Promise<{ names: string[]; body: string }> {
  const browser = await connect({ policy: "allow", downloadPath: dir });
  try {
    const page = (await browser.pages()).find((p) => p.url() === url);
    assert.ok(page, `page ${url} not found`);
    await page.click("#report");
    const file = await waitUntil(`report.txt in ${dir}`, async () => {
      try {
        return await Deno.readTextFile(`${dir}/report.txt`);
      } catch {
        return undefined;
      }
    });
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    return { names: names.sort(), body: file };
  } finally {
    await browser.disconnect();
  }
}

/** Attaches a raw client to the shared tab with `Page` enabled; returns it and the session. */
async function rawClient(rig: Rig): Promise<{ client: RawCdp; sessionId: string }> {
  const client = await autoAttachedClient(rig.relay);
  const attach = client.events.find((e) => e.method === "Target.attachedToTarget");
  const sessionId = String(attach?.params.sessionId);
  await client.call("Page.enable", {}, sessionId);
  return { client, sessionId };
}

function click(client: RawCdp, sessionId: string, id: string): Promise<unknown> {
  return client.call("Runtime.evaluate", {
    expression: `document.getElementById(${JSON.stringify(id)}).click()`,
  }, sessionId);
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

async function relayOnlySteps(
  t: Deno.TestContext,
  rig: Rig,
  server: ReturnType<typeof startDownloadServer>,
  work: string,
): Promise<void> {
  const reportUrl = `${server.url}/report.txt`;

  await t.step("relay: nothing is left in its tables or the person's download list", async () => {
    await waitUntil("no downloads in the relay's tables", () => rig.relay.stats().downloads === 0);
    // Files the relay moved into a client's folder, and denied downloads, are erased from the
    // person's list, as if Chrome had saved them there itself.
    assert.deepEqual(await downloadItems(rig, reportUrl), []);
  });

  await t.step(
    "relay: default with eventsEnabled reports where Chrome saved the file",
    async () => {
      const { client, sessionId } = await rawClient(rig);
      try {
        assert.deepEqual(
          await client.call("Browser.setDownloadBehavior", {
            behavior: "default",
            eventsEnabled: true,
          }),
          {},
        );
        await click(client, sessionId, "report");
        const begin = await client.waitForEvent(
          "downloadWillBegin",
          (e) => e.method === "Browser.downloadWillBegin",
        );
        assert.equal(begin.sessionId, undefined);
        assert.equal(begin.params.suggestedFilename, "report.txt");
        assert.equal(begin.params.url, reportUrl);
        const done = await client.waitForEvent(
          "completed",
          (e) => e.method === "Browser.downloadProgress" && e.params.state === "completed",
        );
        const filePath = String(done.params.filePath);
        assert.equal(done.params.guid, begin.params.guid);
        assert.equal(await Deno.readTextFile(filePath), BODY);
        // Chrome's own file stays, and so does the person's list entry.
        const items = await downloadItems(rig, reportUrl);
        assert.deepEqual(items.map((item) => item.filename), [filePath]);
      } finally {
        await client.close();
        await rig.browser.worker.evaluate(async (url) => {
          for (const item of await chrome.downloads.search({ url })) {
            if (item.state === "complete" && item.exists) {
              await chrome.downloads.removeFile(item.id);
            }
            await chrome.downloads.erase({ id: item.id });
          }
        }, reportUrl);
      }
    },
  );

  await t.step("relay: bad download paths and contexts get specific errors", async () => {
    const notADir = `${work}/not-a-dir`;
    await Deno.writeTextFile(notADir, "");
    const client = await RawCdp.connect(rig.relay);
    try {
      const error = async (params: Record<string, unknown>) =>
        (await client.send("Browser.setDownloadBehavior", params)).error as {
          code: number;
          message: string;
        };
      const unwritable = await error({ behavior: "allow", downloadPath: `${notADir}/sub` });
      assert.match(
        unwritable.message,
        new RegExp(
          `^Cannot set download behavior as the relay cannot write to "downloadPath": current value is "${notADir}/sub" \\(.+\\)$`,
        ),
      );
      assert.deepEqual(await error({ behavior: "allowAndName", downloadPath: "downloads" }), {
        code: -32000,
        message:
          'Cannot set download behavior as "downloadPath" must be an absolute path: current value is "downloads"',
      });
      assert.deepEqual(await error({ behavior: "allow" }), {
        code: -32602,
        message: "downloadPath not provided",
      });
      assert.deepEqual(await error({ behavior: "deny", browserContextId: "NOPE" }), {
        code: -32602,
        message: "Failed to find browser context for id NOPE",
      });
      // Nothing was set: the relay keeps no setting for a refused command.
      assert.equal(rig.relay.stats().downloads, 0);
    } finally {
      await client.close();
    }
  });

  await t.step("relay: a client that leaves mid-download has it canceled", async () => {
    const dir = `${work}/left`;
    const { client, sessionId } = await rawClient(rig);
    const stalledUrl = `${server.url}/stalled.bin`;
    try {
      await client.call("Browser.setDownloadBehavior", {
        behavior: "allowAndName",
        downloadPath: dir,
        eventsEnabled: true,
      });
      await click(client, sessionId, "stalled");
      await client.waitForEvent(
        "downloadWillBegin",
        (e) => e.method === "Browser.downloadWillBegin",
      );
    } finally {
      await client.close();
    }
    await waitUntil("the relay's tables to empty", () => rig.relay.stats().downloads === 0);
    // Chrome aborted the transfer, and the canceled entry left the person's list.
    await waitUntil("the stalled transfer aborted", () => server.aborted() === 1);
    assert.deepEqual(await downloadItems(rig, stalledUrl), []);
    assert.deepEqual(await listDir(dir), []);
  });

  await t.step(
    "relay: a download from a tab that is not shared is neither reported nor moved",
    async () => {
      const dir = `${work}/unshared`;
      const { client } = await rawClient(rig);
      try {
        await client.call("Browser.setDownloadBehavior", {
          behavior: "allowAndName",
          downloadPath: dir,
          eventsEnabled: true,
        });
        // A tab the person did not share, driven through the launcher's own connection.
        const own = await rig.browser.context.newPage();
        try {
          await own.goto(`${server.url}/?own`);
          const [download] = await Promise.all([
            own.waitForEvent("download"),
            own.click("#report"),
          ]) as [Download, void];
          assert.equal(await download.failure(), null);
          const items = await waitUntil("the unshared download complete", async () => {
            const found = await downloadItems(rig, reportUrl);
            return found.length === 1 && found[0]?.state === "complete" ? found : undefined;
          });
          // Chrome's file stays where Chrome put it, and the list entry stays.
          assert.equal(items[0]?.exists, true);
          assert.equal(await Deno.readTextFile(items[0]?.filename ?? ""), BODY);
        } finally {
          await own.close();
        }
        // A later round trip orders any event the relay might have sent before it.
        await client.call("Browser.getVersion");
        assert.deepEqual(
          client.events.filter((e) => e.method.startsWith("Browser.download")),
          [],
        );
        assert.deepEqual(await listDir(dir), []);
        assert.equal(rig.relay.stats().downloads, 1); // the client's setting only
      } finally {
        await client.close();
        await rig.browser.worker.evaluate(() => chrome.downloads.erase({}));
      }
    },
  );
}

Deno.test({
  name: "downloads() behave the same through the relay as on Chromium's own endpoint",
  ...E2E,
  async fn(t) {
    const rig = await Rig.start({}, { args: ["--remote-debugging-port=0"] });
    const server = startDownloadServer();
    const work = await Deno.makeTempDir({ prefix: "browser-relay-downloads-" });
    try {
      const pageUrl = `${server.url}/`;
      const direct = `http://127.0.0.1:${await devToolsPort(rig.browser.userDataDir)}`;
      const relayUrl = `${rig.relay.url}/?token=${rig.relay.relayToken}`;
      await rig.attachNewTab(pageUrl);

      // The relay runs first: a direct client changes Chrome's own download setting, which the
      // relay never touches, so the relay's cases run before any direct client has set one.
      for (const [name, endpoint] of [["relay", relayUrl], ["direct", direct]] as const) {
        await t.step(`${name}: Playwright accepts (allowAndName): path, saveAs, name`, async () => {
          const browser = await chromium.connectOverCDP(endpoint);
          try {
            const outcome = await playwrightAccepts(findPage(browser, pageUrl), work);
            assert.deepEqual(outcome, {
              suggested: "report.txt",
              body: BODY,
              saved: BODY,
              failure: null,
            });
          } finally {
            await browser.close();
          }
        });

        await t.step(
          `${name}: Playwright with deny sees the download fail as canceled`,
          async () => {
            const browser = await chromium.connectOverCDP(endpoint);
            try {
              assert.equal(await playwrightDenied(browser, findPage(browser, pageUrl)), "canceled");
            } finally {
              await browser.close();
            }
          },
        );

        await t.step(`${name}: Puppeteer downloads into a folder (allow)`, async () => {
          const dir = `${work}/${name}-pptr`;
          await Deno.mkdir(dir);
          const outcome = await puppeteerToFolder(
            (downloadBehavior) =>
              name === "relay"
                ? puppeteer.connect({
                  browserURL: rig.relay.url,
                  headers: { "x-openclaw-relay-token": rig.relay.relayToken },
                  defaultViewport: null,
                  downloadBehavior,
                })
                : puppeteer.connect({
                  browserURL: direct,
                  defaultViewport: null,
                  downloadBehavior,
                }),
            pageUrl,
            dir,
          );
          assert.deepEqual(outcome, { names: ["report.txt"], body: BODY });
        });

        if (name === "relay") await relayOnlySteps(t, rig, server, work);
      }
    } finally {
      await rig.close();
      await server.close();
      await Deno.remove(work, { recursive: true });
    }
  },
});
