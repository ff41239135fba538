/**
 * The conformance cases. Each returns what a script would observe; the runner compares the
 * direct run with the relay run. `expectRelay` records today's state: `todo(#13)` rows are
 * known to differ and are what issue 13 fixes; flip them to `pass` as they get fixed.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Browser, Dialog, Page } from "playwright-core";
import type { Dialog as PuppeteerDialog } from "puppeteer-core";
import type { CdpEvent, CdpSocket } from "../../../bench/_cdp_socket.ts";
import { fileInputFallbackCall, readUploadFiles } from "../../../relay/uploads.ts";
import { waitUntil } from "../../../harness/rig.ts";
import type { CaseEnv, ConformanceCase, Json } from "./_case.ts";
import { mcpCases } from "./_mcp.ts";

/** Rejects with `what` after `ms`; clears its timer either way. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`No ${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first line of an error's message (Playwright appends call logs). */
function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

async function pageAt(env: CaseEnv, path: string): Promise<{ browser: Browser; page: Page }> {
  const browser = await env.playwright();
  const page = await env.page(browser, `${env.site.a}${path}`);
  return { browser, page };
}

function pageLog(page: Page): Promise<Json> {
  return page.evaluate(() => (globalThis as unknown as { log: string[] }).log);
}

/** A Playwright dialog case: accepts (prompts with "typed") and records errors from accept(). */
/**
 * A Playwright popup opened from the `/popup` page by `trigger`: its title, and whether its opener
 * is the page (`"page"`) or none (`null`, for `noopener`).
 */
function popupCase(
  how: string,
  trigger: (page: Page, env: CaseEnv) => Promise<unknown>,
  opener: "page" | null,
): ConformanceCase {
  return {
    feature: `Popup: ${how}`,
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/popup");
      const [popup] = await Promise.all([
        page.waitForEvent("popup", { timeout: 5_000 }),
        trigger(page, env),
      ]);
      await popup.waitForLoadState();
      const actual = await popup.opener();
      return {
        title: await popup.title(),
        opener: opener === "page" ? actual === page : actual === null,
      };
    },
  };
}

function dialogCase(kind: "alert" | "confirm" | "prompt"): ConformanceCase {
  return {
    feature: `Dialog: ${kind}`,
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, `/?title=Dialog`);
      const seen: string[] = [];
      const replies: Promise<void>[] = [];
      page.on("dialog", (dialog: Dialog) => {
        seen.push(`${dialog.type()} "${dialog.message()}" "${dialog.defaultValue()}"`);
        replies.push(
          (dialog.type() === "prompt" ? dialog.accept("typed") : dialog.accept()).catch((e) => {
            seen.push(`accept failed: ${firstLine(e)}`);
          }),
        );
      });
      const value = await page.evaluate((k) => {
        if (k === "alert") return (alert("hi"), "after alert");
        if (k === "confirm") return confirm("sure?");
        return prompt("name?", "default");
      }, kind);
      await Promise.all(replies);
      return { seen, value };
    },
  };
}

/** Raw CDP: `Browser.setDownloadBehavior` with `behavior`, then a click on a download link. */
function downloadBehaviorCase(
  behavior: "deny" | "allow" | "allowAndName" | "default",
): ConformanceCase {
  return {
    feature: `Download: Browser.setDownloadBehavior ${behavior}`,
    client: "CDP",
    expectRelay: "pass",
    timeoutMs: 15_000,
    async run(env) {
      const { cdp, sessionId } = await rawPage(env, "/download");
      const events: CdpEvent[] = [];
      cdp.onEvent((e) => {
        if (e.method.startsWith("Browser.download")) events.push(e);
      });
      const set = await cdp.send("Browser.setDownloadBehavior", {
        behavior,
        ...(behavior === "allow" || behavior === "allowAndName" ? { downloadPath: env.tmp } : {}),
        eventsEnabled: true,
      });
      const click = () =>
        cdp.call("Runtime.evaluate", {
          expression: "document.getElementById('link').click()",
          userGesture: true,
        }, sessionId);
      await click();
      const begun = () => events.some((e) => e.method === "Browser.downloadWillBegin");
      // One more click if nothing began: Chrome now and then drops a click that follows a
      // download in another tab within the same second (seen on both endpoints).
      if (!await waitUntil("a download", begun, 2_000).catch(() => false)) await click();
      const terminal = await waitUntil(
        "a finished download",
        () =>
          events.find((e) =>
            e.method === "Browser.downloadProgress" &&
            (e.params.state === "completed" || e.params.state === "canceled")
          ),
        5_000,
      ).catch(() => undefined);
      const begin = events.find((e) => e.method === "Browser.downloadWillBegin")?.params;
      const guid = typeof begin?.guid === "string" ? begin.guid : "";
      const files: string[] = [];
      for await (const entry of Deno.readDir(env.tmp)) {
        files.push(entry.name === guid ? "<guid>" : entry.name);
      }
      return {
        setDownloadBehavior: set.error === undefined ? "ok" : JSON.stringify(set.error),
        willBegin: begin === undefined ? null : {
          suggestedFilename: begin.suggestedFilename as string,
          url: new URL(begin.url as string).pathname,
          frameId: typeof begin.frameId === "string",
        },
        terminal: terminal === undefined ? null : String(terminal.params.state),
        files: files.sort(),
      };
    },
  };
}

/** Raw CDP page session on a fresh tab at `path`, once that page has loaded. */
async function rawPage(env: CaseEnv, path: string): Promise<{ cdp: CdpSocket; sessionId: string }> {
  const cdp = await env.cdp();
  const targetId = await env.openTab(`${env.site.a}${path}`);
  const { sessionId } = await cdp.call("Target.attachToTarget", { targetId, flatten: true });
  await waitUntil(`${path} loaded`, async () => {
    const { result } = await cdp.call("Runtime.evaluate", {
      expression: "document.readyState",
      returnByValue: true,
    }, sessionId as string);
    return (result as { value: string }).value === "complete";
  }, 5_000);
  return { cdp, sessionId: sessionId as string };
}

async function fileInputNode(cdp: CdpSocket, sessionId: string): Promise<number> {
  // Retried: a document update between getDocument and querySelector invalidates the node ids
  // ("Could not find node with given id"), seen now and then on both endpoints.
  return await waitUntil("the file input's node id", async () => {
    const { root } = await cdp.call("DOM.getDocument", {}, sessionId);
    const { nodeId } = await cdp.call("DOM.querySelector", {
      nodeId: (root as { nodeId: number }).nodeId,
      selector: "#file",
    }, sessionId);
    return typeof nodeId === "number" && nodeId > 0 ? nodeId : undefined;
  }, 3_000);
}

/** All cases, in table order. */
export const CASES: readonly ConformanceCase[] = [
  {
    feature: "Navigation and history",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/?title=One");
      await page.goto(`${env.site.a}/?title=Two`);
      const titles = [await page.title()];
      // History steps wait for the commit only: a restore from the back/forward cache fires no
      // new load event in a background tab, on either endpoint.
      const settled = async (title: string) => {
        await page.waitForFunction((t) => document.title === t, title, { timeout: 5_000 });
        titles.push(await page.title());
      };
      await page.goBack({ waitUntil: "commit" });
      await settled("One");
      await page.goForward({ waitUntil: "commit" });
      await settled("Two");
      await page.reload();
      titles.push(await page.title());
      return titles;
    },
  },
  {
    feature: "Evaluation (evaluate, handles, exposeFunction, addInitScript)",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/?title=Eval");
      const sum = await page.evaluate(() => 20 + 22);
      const handle = await page.evaluateHandle(() => ({ nested: [1, 2] }));
      const json = await handle.jsonValue();
      await page.exposeFunction("double", (n: number) => n * 2);
      const doubled = await page.evaluate(() =>
        (globalThis as unknown as { double(n: number): Promise<number> }).double(21)
      );
      await page.addInitScript(() => {
        (globalThis as unknown as { injected: string }).injected = "yes";
      });
      await page.reload();
      const injected = await page.evaluate(() =>
        (globalThis as unknown as { injected?: string }).injected ?? null
      );
      return { sum, json, doubled, injected };
    },
  },
  {
    feature: "Frames and an out-of-process iframe",
    client: "Playwright",
    expectRelay: "pass",
    timeoutMs: 12_000,
    async run(env) {
      // The frames load once the client holds the page. A page still creating its frames while
      // Playwright attaches races Playwright itself, on either endpoint: a same-process iframe
      // whose first document starts between Playwright's Page.getFrameTree and its utility-world
      // script never gets a utility world, so frame.title() never settles (seen directly too).
      const { page } = await pageAt(env, "/?title=Start");
      await page.goto(`${env.site.a}/frames`);
      await waitUntil("three frames", () => page.frames().length === 3, 5_000);
      await Promise.all(page.frames().map((f) => f.waitForLoadState("load")));
      const titles = (await Promise.all(page.frames().map((f) => f.title()))).sort();
      const cross = await page.frameLocator("#cross").locator("#h").textContent({ timeout: 5_000 });
      const crossFrame = page.frames().find((f) => f.url().startsWith(env.site.b));
      const evaluated = await crossFrame?.evaluate(() => location.hostname);
      return { titles, cross, evaluated: evaluated ?? null };
    },
  },
  {
    feature: "Dedicated worker (started after the client attached)",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      // Started once the page is attached: Playwright lists no worker that was already running
      // when it attached, against Chrome's own endpoint too (its page reports no earlier
      // workers), and a shared tab is always attached after it loaded.
      const { page } = await pageAt(env, "/?title=Workers");
      const [worker] = await Promise.all([
        page.waitForEvent("worker", { timeout: 5_000 }),
        page.evaluate(() => {
          const w = new Worker("/worker.js");
          (globalThis as unknown as { answer: Promise<number> }).answer = new Promise((r) => {
            w.onmessage = (e) => r(e.data);
          });
          w.postMessage(20);
        }),
      ]);
      const inWorker = await worker.evaluate(() =>
        typeof (globalThis as { importScripts?: unknown }).importScripts
      );
      const answer = await page.evaluate(() =>
        (globalThis as unknown as { answer: Promise<number> }).answer
      );
      return { url: new URL(worker.url()).pathname, inWorker, answer };
    },
  },
  {
    feature: "Service worker",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/sw");
      const registered = await page.evaluate(() =>
        (globalThis as unknown as { registered: Promise<string> }).registered
      );
      const context = page.context();
      const isOurs = (w: { url(): string }) => w.url() === `${env.site.a}/sw.js`;
      const seen = context.serviceWorkers().find(isOurs) ??
        await context.waitForEvent("serviceworker", { predicate: isOurs, timeout: 5_000 })
          .catch(() => undefined);
      await page.evaluate(async () => {
        for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
      });
      return { registered, visibleToClient: seen !== undefined };
    },
  },
  {
    feature: "Input: keyboard, mouse, touch",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/input");
      await page.click("#text");
      await page.keyboard.type("ab");
      await page.keyboard.press("Backspace");
      await page.mouse.click(50, 150);
      await page.mouse.dblclick(60, 160);
      const session = await page.context().newCDPSession(page);
      await session.send("Emulation.setTouchEmulationEnabled", {
        enabled: true,
        maxTouchPoints: 1,
      });
      await session.send("Input.dispatchTouchEvent", {
        type: "touchStart",
        touchPoints: [{ x: 50, y: 150 }],
      });
      await session.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
      await session.send("Emulation.setTouchEmulationEnabled", { enabled: false });
      await session.detach();
      return await pageLog(page);
    },
  },
  popupCase("window.open", (page, env) =>
    page.evaluate((url) => {
      open(url);
    }, `${env.site.a}/?title=Opened`), "page"),
  popupCase("target=_blank link", (page) => page.click("#blank"), "page"),
  popupCase("rel=noopener link", (page) => page.click("#noopener"), null),
  dialogCase("alert"),
  dialogCase("confirm"),
  dialogCase("prompt"),
  {
    feature: "Dialog: beforeunload",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/beforeunload");
      await page.click("#h"); // beforeunload prompts only after a user gesture
      const dialog = page.waitForEvent("dialog", { timeout: 5_000 });
      const closed = page.waitForEvent("close", { timeout: 5_000 });
      await page.close({ runBeforeUnload: true });
      const d = await dialog;
      const type = d.type();
      await d.accept();
      await closed;
      return { type, closed: page.isClosed() };
    },
  },
  {
    feature: "Download: Playwright download event, path, saveAs",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/download");
      const [download] = await Promise.all([
        page.waitForEvent("download", { timeout: 5_000 }),
        page.click("#link"),
      ]);
      const body = await Deno.readTextFile(await download.path());
      const saved = `${env.tmp}/saved.txt`;
      await download.saveAs(saved);
      return {
        suggestedFilename: download.suggestedFilename(),
        url: new URL(download.url()).pathname,
        body,
        saved: await Deno.readTextFile(saved),
        failure: await download.failure(),
      };
    },
  },
  downloadBehaviorCase("deny"),
  downloadBehaviorCase("allow"),
  downloadBehaviorCase("allowAndName"),
  downloadBehaviorCase("default"),
  {
    feature: "Upload: setInputFiles with a path",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/upload");
      const path = `${env.tmp}/a.txt`;
      await Deno.writeTextFile(path, "hello");
      await page.setInputFiles("#file", path);
      return await pageLog(page);
    },
  },
  {
    feature: "Upload: setInputFiles with a buffer",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/upload");
      await page.setInputFiles("#file", {
        name: "b.txt",
        mimeType: "text/plain",
        buffer: Buffer.from("buffer!"),
      });
      return await pageLog(page);
    },
  },
  {
    feature: "Upload: file chooser",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/upload");
      const path = `${env.tmp}/c.txt`;
      await Deno.writeTextFile(path, "chooser");
      const [chooser] = await Promise.all([
        page.waitForEvent("filechooser", { timeout: 5_000 }),
        page.click("#file"),
      ]);
      await chooser.setFiles(path);
      return { multiple: chooser.isMultiple(), log: await pageLog(page) };
    },
  },
  {
    feature: "Upload: DOM.setFileInputFiles with a missing file",
    client: "CDP",
    expectRelay: "pass",
    async run(env) {
      const { cdp, sessionId } = await rawPage(env, "/upload");
      const nodeId = await fileInputNode(cdp, sessionId);
      const reply = await cdp.send("DOM.setFileInputFiles", {
        nodeId,
        files: [`${env.tmp}/missing.txt`],
      }, sessionId);
      const { result } = await cdp.call("Runtime.evaluate", {
        expression: "JSON.stringify(log)",
        returnByValue: true,
      }, sessionId);
      return { error: reply.error ?? null, log: (result as { value: string }).value } as Json;
    },
  },
  {
    feature: "Upload fallback: relay-read files set through a DataTransfer (callFunctionOn)",
    client: "CDP",
    expectRelay: "pass",
    async run(env) {
      const { cdp, sessionId } = await rawPage(env, "/upload");
      const path = `${env.tmp}/same.txt`;
      await Deno.writeTextFile(path, "same bytes");
      const takeLog = async () => {
        const { result } = await cdp.call("Runtime.evaluate", {
          expression: "JSON.stringify(log.splice(0))",
          returnByValue: true,
        }, sessionId);
        return JSON.parse((result as { value: string }).value) as Json;
      };
      const nodeId = await fileInputNode(cdp, sessionId);
      await cdp.call("DOM.setFileInputFiles", { nodeId, files: [path] }, sessionId);
      const native = await takeLog();
      const { object } = await cdp.call("DOM.resolveNode", { nodeId }, sessionId);
      const { result } = await cdp.call(
        "Runtime.callFunctionOn",
        fileInputFallbackCall(
          (object as { objectId: string }).objectId,
          await readUploadFiles([path]),
        ),
        sessionId,
      );
      const fallback = await takeLog();
      return { native, fallback, count: (result as { value: number }).value };
    },
  },
  {
    feature: "Request routing (route.fulfill, route.continue with headers)",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/?title=Route");
      await page.route("**/api", (route) => route.fulfill({ json: { from: "route" } }));
      await page.route(
        "**/headers",
        (route) =>
          route.continue({ headers: { ...route.request().headers(), "x-conformance": "yes" } }),
      );
      const fetched = await page.evaluate(async () => [
        await (await fetch("/api")).json(),
        await (await fetch("/headers")).json(),
      ]);
      await page.unroute("**/api");
      const after = await page.evaluate(async () => await (await fetch("/api")).json());
      return { fetched, after };
    },
  },
  {
    feature: "Fetch interception (Fetch.enable, requestPaused, fulfillRequest)",
    client: "CDP",
    expectRelay: "pass",
    async run(env) {
      const { cdp, sessionId } = await rawPage(env, "/?title=Fetch");
      const paused: string[] = [];
      cdp.onEvent((e) => {
        if (e.method !== "Fetch.requestPaused" || e.sessionId !== sessionId) return;
        paused.push(new URL((e.params.request as { url: string }).url).pathname);
        void cdp.send("Fetch.fulfillRequest", {
          requestId: e.params.requestId,
          responseCode: 200,
          responseHeaders: [{ name: "content-type", value: "application/json" }],
          body: btoa(JSON.stringify({ from: "fetch domain" })),
        }, sessionId);
      });
      await cdp.call("Fetch.enable", { patterns: [{ urlPattern: "*/api*" }] }, sessionId);
      const { result } = await cdp.call("Runtime.evaluate", {
        expression: "fetch('/api').then((r) => r.json())",
        awaitPromise: true,
        returnByValue: true,
      }, sessionId);
      await cdp.call("Fetch.disable", {}, sessionId);
      return { paused, body: (result as { value: Json }).value };
    },
  },
  {
    feature: "Cookies and storage state",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/?title=Cookies");
      const context = page.context();
      await context.clearCookies();
      await context.addCookies([{ name: "added", value: "1", url: env.site.a }]);
      await page.evaluate(() => {
        document.cookie = "script=2";
        localStorage.setItem("stored", "3");
      });
      const documentCookie = (await page.evaluate(() => document.cookie)).split("; ").sort();
      const cookies = (await context.cookies(env.site.a)).map((c) => `${c.name}=${c.value}`).sort();
      // Cookies only from storageState: its localStorage part varies from run to run even
      // against Chrome's own endpoint (empty twice, filled once in three runs), so
      // localStorage is read in the page instead.
      const state = await context.storageState();
      const stored = await page.evaluate(() => localStorage.getItem("stored"));
      await context.clearCookies();
      await page.evaluate(() => localStorage.clear());
      return {
        documentCookie,
        cookies,
        stateCookies: state.cookies.map((c) => c.name).sort(),
        stored,
      };
    },
  },
  {
    feature: "Emulation: viewport, media, timezone",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/?title=Emulation");
      await page.setViewportSize({ width: 400, height: 300 });
      await page.emulateMedia({ colorScheme: "dark", media: "print" });
      const session = await page.context().newCDPSession(page);
      await session.send("Emulation.setTimezoneOverride", { timezoneId: "Asia/Tokyo" });
      const seen = await page.evaluate(() => ({
        width: innerWidth,
        height: innerHeight,
        dark: matchMedia("(prefers-color-scheme: dark)").matches,
        print: matchMedia("print").matches,
        timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      }));
      await session.detach();
      return seen;
    },
  },
  {
    feature: "Emulation: geolocation (grantPermissions + setGeolocation)",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/?title=Geo");
      const context = page.context();
      const granted = await context.grantPermissions(["geolocation"], { origin: env.site.a })
        .then(() => "granted", (e) => firstLine(e));
      await context.setGeolocation({ latitude: 10, longitude: 20 });
      const position = await page.evaluate(() =>
        new Promise<string>((resolve) =>
          navigator.geolocation.getCurrentPosition(
            (p) => resolve(`${p.coords.latitude},${p.coords.longitude}`),
            (e) => resolve(`error ${e.code}`),
            { timeout: 3_000 },
          )
        )
      );
      return { granted: granted === "granted", position };
    },
  },
  {
    feature: "Page.startScreencast frames",
    client: "CDP",
    expectRelay: "pass",
    async run(env) {
      const { page } = await pageAt(env, "/?title=Screencast");
      const session = await page.context().newCDPSession(page);
      const frame = new Promise<{ data: string; sessionId: number }>((resolve) =>
        session.once("Page.screencastFrame", resolve)
      );
      await session.send("Page.startScreencast", { format: "jpeg", maxWidth: 320, maxHeight: 240 });
      await page.evaluate(() => {
        document.body.style.background = "red";
      });
      const first = await within(frame, 5_000, "screencast frame");
      await session.send("Page.screencastFrameAck", { sessionId: first.sessionId });
      await session.send("Page.stopScreencast");
      await session.detach();
      const bytes = atob(first.data.slice(0, 8));
      return { jpeg: bytes.charCodeAt(0) === 0xff && bytes.charCodeAt(1) === 0xd8 };
    },
  },
  {
    feature: "newPage and page.close",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const browser = await env.playwright();
      const context = browser.contexts()[0];
      if (context === undefined) throw new Error("No default context");
      const page = await context.newPage();
      await page.goto(`${env.site.a}/?title=New`);
      const title = await page.title();
      const closed = new Promise<boolean>((resolve) => page.once("close", () => resolve(true)));
      await page.close();
      return { title, closed: await closed, listed: context.pages().includes(page) };
    },
  },
  {
    feature: "browser.close() keeps the person's tabs",
    client: "Playwright",
    expectRelay: "pass",
    async run(env) {
      const shared = await env.openTab(`${env.site.a}/?title=Person`);
      const browser = await env.playwright();
      const context = browser.contexts()[0];
      if (context === undefined) throw new Error("No default context");
      const created = await context.newPage();
      await created.goto(`${env.site.a}/?title=Created`);
      const session = await context.newCDPSession(created);
      const { targetInfo } = await session.send("Target.getTargetInfo");
      await session.detach();
      await browser.close();
      return {
        personTabOpen: await env.hasTarget(shared),
        createdTabOpen: await env.hasTarget(targetInfo.targetId),
      };
    },
  },
  {
    feature: "Puppeteer: popup",
    client: "Puppeteer",
    expectRelay: "pass",
    async run(env) {
      const browser = await env.puppeteer();
      const page = await env.puppeteerPage(browser, `${env.site.a}/popup`);
      const popup = within(
        new Promise<import("puppeteer-core").Page | null>((resolve) => page.once("popup", resolve)),
        5_000,
        "popup event",
      );
      await page.evaluate((url) => {
        open(url);
      }, `${env.site.a}/?title=PuppeteerPopup`);
      const opened = await popup;
      await opened?.waitForFunction(() => document.title === "PuppeteerPopup", { timeout: 5_000 });
      return { title: (await opened?.title()) ?? null };
    },
  },
  {
    feature: "Puppeteer: dialogs (alert, confirm)",
    client: "Puppeteer",
    expectRelay: "pass",
    async run(env) {
      const browser = await env.puppeteer();
      const page = await env.puppeteerPage(browser, `${env.site.a}/?title=PuppeteerDialog`);
      const seen: string[] = [];
      const replies: Promise<void>[] = [];
      page.on("dialog", (dialog: PuppeteerDialog) => {
        seen.push(`${dialog.type()} "${dialog.message()}"`);
        replies.push(
          dialog.accept().catch((e) => {
            seen.push(`accept failed: ${firstLine(e)}`);
          }),
        );
      });
      const alerted = await page.evaluate(() => (alert("hi"), "after alert"));
      const confirmed = await page.evaluate(() => confirm("sure?"));
      await Promise.all(replies);
      return { seen, alerted, confirmed };
    },
  },
  {
    feature: "Puppeteer: download to a folder (downloadBehavior allow)",
    client: "Puppeteer",
    expectRelay: "pass",
    async run(env) {
      const browser = await env.puppeteer({ downloadPath: env.tmp });
      const page = await env.puppeteerPage(browser, `${env.site.a}/download`);
      await page.click("#link");
      const body = await waitUntil(
        "report.txt in the download folder",
        () => Deno.readTextFile(`${env.tmp}/report.txt`).catch(() => undefined),
        5_000,
      );
      return { body };
    },
  },
  ...mcpCases,
];
