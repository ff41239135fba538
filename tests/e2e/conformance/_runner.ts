/**
 * Runs conformance cases against one shared browser and relay: each case once direct, once
 * through the relay, never both at once (a second client attached to the same page would answer
 * its dialogs and downloads too).
 *
 * @module
 */

import { isDeepStrictEqual } from "node:util";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import puppeteer from "puppeteer-core";
import type { Browser as PuppeteerBrowser, Page as PuppeteerPage } from "puppeteer-core";
import { CdpSocket } from "../../../bench/_cdp_socket.ts";
import { startRelay } from "../../../relay/server.ts";
import type { RelayServer } from "../../../relay/server.ts";
import { DIST, TOKEN, waitUntil } from "../../../harness/rig.ts";
import { BareBrowser } from "./_bare_browser.ts";
import type { CaseEnv, CaseRecord, ConformanceCase, Mode, RunResult, Verdict } from "./_case.ts";
import { type Site, startSite } from "./_site.ts";

const DEFAULT_TIMEOUT_MS = 20_000;

/** The shared browser, relay and site, and the case loop. */
export class ConformanceRunner {
  readonly browser: BareBrowser;
  readonly relay: RelayServer;
  readonly site: Site;

  private constructor(browser: BareBrowser, relay: RelayServer, site: Site) {
    this.browser = browser;
    this.relay = relay;
    this.site = site;
  }

  /** Starts everything; the extension connects to the relay once a tab is shared. */
  static async start(): Promise<ConformanceRunner> {
    const relay = await startRelay({ token: TOKEN, port: 0 });
    const site = startSite();
    let browser: BareBrowser | undefined;
    try {
      browser = await BareBrowser.launch(DIST);
      await browser.worker(
        `chrome.storage.local.set(${
          JSON.stringify({ relayPort: relay.port, gatewayToken: TOKEN })
        })`,
      );
      const runner = new ConformanceRunner(browser, relay, site);
      // A tab the person shares before any client comes, as `deno task start` does: until one
      // is shared the extension stays idle and the relay has no endpoint to offer.
      const { tabId } = await browser.openTab(`${site.a}/?title=Home`);
      await runner.#share(tabId);
      return runner;
    } catch (error) {
      await browser?.close();
      await relay.close();
      await site.close();
      throw error;
    }
  }

  /**
   * Runs `c` directly, then through the relay.
   *
   * @returns The record of both runs.
   */
  async runCase(c: ConformanceCase): Promise<CaseRecord> {
    const direct = await this.#runOnce(c, "direct");
    const relay = await this.#runOnce(c, "relay");
    const verdict: Verdict = !direct.ok
      ? "direct-failed"
      : relay.ok && isDeepStrictEqual(direct.outcome, relay.outcome)
      ? "same"
      : "differs";
    return {
      feature: c.feature,
      client: c.client,
      expectRelay: c.expectRelay,
      ...(c.why === undefined ? {} : { why: c.why }),
      direct,
      relay,
      verdict,
    };
  }

  async #runOnce(c: ConformanceCase, mode: Mode): Promise<RunResult> {
    const started = performance.now();
    const cleanups: (() => Promise<unknown>)[] = [];
    const tmp = await Deno.makeTempDir({ prefix: "conformance-" });
    const before = new Set((await this.browser.targets()).map((t) => t.targetId));
    const env = this.#env(mode, tmp, cleanups);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeoutMs = c.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      const outcome = await Promise.race([
        c.run(env),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Timed out after ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      return { ok: true, outcome, ms: Math.round(performance.now() - started) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // First line only: Playwright appends call logs that name ports and ids.
      return {
        ok: false,
        error: message.split("\n")[0] ?? "",
        ms: Math.round(performance.now() - started),
      };
    } finally {
      clearTimeout(timer);
      for (const cleanup of cleanups.reverse()) {
        await withDeadline(cleanup(), 5_000).catch(() => undefined);
      }
      // Close whatever tab the run left (popups, new pages) so the next run starts the same.
      for (const target of await this.browser.targets()) {
        if (target.type === "page" && !before.has(target.targetId)) {
          await this.browser.closeTarget(target.targetId);
        }
      }
      await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
    }
  }

  #env(mode: Mode, tmp: string, cleanups: (() => Promise<unknown>)[]): CaseEnv {
    const relay = this.relay;
    const bare = this.browser;
    const endpoint = mode === "direct" ? bare.endpoint : `${relay.url}/?token=${relay.relayToken}`;
    const headers: Record<string, string> = mode === "direct"
      ? {}
      : { "x-openclaw-relay-token": relay.relayToken };
    const openTab = async (url: string): Promise<string> => {
      const { targetId, tabId } = await bare.openTab(url);
      cleanups.push(() => bare.closeTarget(targetId));
      if (mode === "relay") await this.#share(tabId, targetId);
      return targetId;
    };
    return {
      mode,
      site: this.site,
      tmp,
      endpoint,
      headers,
      async wsEndpoint(): Promise<string> {
        const base = mode === "direct" ? bare.endpoint : relay.url;
        const response = await fetch(`${base}/json/version`, { headers });
        const body = await response.json() as { webSocketDebuggerUrl?: string };
        if (body.webSocketDebuggerUrl === undefined) {
          throw new Error(`No "webSocketDebuggerUrl" at ${base}/json/version`);
        }
        return body.webSocketDebuggerUrl;
      },
      async cdp(): Promise<CdpSocket> {
        const url = mode === "direct"
          ? await this.wsEndpoint()
          : `ws://127.0.0.1:${relay.port}/cdp?token=${relay.relayToken}`;
        const socket = await CdpSocket.open(url);
        cleanups.push(() => socket.close());
        return socket;
      },
      async playwright(): Promise<Browser> {
        const browser = await chromium.connectOverCDP(endpoint, { timeout: 10_000 });
        cleanups.push(() => browser.close());
        return browser;
      },
      async puppeteer(options = {}): Promise<PuppeteerBrowser> {
        const browser = await puppeteer.connect({
          browserURL: mode === "direct" ? bare.endpoint : relay.url,
          headers,
          defaultViewport: null,
          ...(options.downloadPath === undefined
            ? {}
            : { downloadBehavior: { policy: "allow", downloadPath: options.downloadPath } }),
        });
        cleanups.push(() => browser.disconnect());
        return browser;
      },
      async page(browser: Browser, url: string): Promise<Page> {
        await openTab(url);
        return await waitUntil(
          `the client's page at ${url}`,
          () => browser.contexts().flatMap((c) => c.pages()).find((p) => p.url() === url),
          10_000,
        );
      },
      async puppeteerPage(browser: PuppeteerBrowser, url: string): Promise<PuppeteerPage> {
        await openTab(url);
        return await waitUntil(
          `the client's page at ${url}`,
          async () => (await browser.pages()).find((p) => p.url() === url),
          10_000,
        );
      },
      openTab,
      hasTarget: (targetId) => bare.hasTarget(targetId),
      defer(cleanup) {
        cleanups.push(cleanup);
      },
    };
  }

  /** Shares a tab through the toolbar-click path and waits until the relay has it. */
  async #share(tabId: number, targetId?: string): Promise<void> {
    const bare = this.browser;
    await bare.worker(`self.browserRelay.toggleTab(${tabId})`);
    await waitUntil(`tab ${tabId} shared and the relay ready`, async () => {
      const status = await bare.worker<{
        connection: { phase: string };
        tabs: { tabId: number }[];
      }>("self.browserRelay.status()");
      return status.connection.phase === "ready" && status.tabs.some((t) => t.tabId === tabId) &&
        this.relay.stats().extensionConnected;
    });
    if (targetId === undefined) return;
    // The worker lists the tab as soon as it is attached; the relay learns of it when the
    // announce arrives. A client that attaches by target id must not race that frame.
    await waitUntil(`target ${targetId} announced to the relay`, async () => {
      const response = await fetch(`${this.relay.url}/json/list`, {
        headers: { "x-openclaw-relay-token": this.relay.relayToken },
      });
      const list = await response.json() as { id: string }[];
      return list.some((t) => t.id === targetId);
    });
  }

  /** Stops browser, relay and site. */
  async close(): Promise<void> {
    await this.browser.close();
    await this.relay.close();
    await this.site.close();
  }
}

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
