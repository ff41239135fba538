/**
 * The real-browser rig shared by the e2e tests, the chaos script and the system benchmarks: the
 * real relay, a real Chromium with the built extension, two loopback page origins, and a raw CDP
 * client. Every helper waits on events or polls state; none sleeps a fixed time to "let things
 * settle".
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { startRelay } from "../relay/server.ts";
import type { RelayOptions, RelayServer } from "../relay/server.ts";
import { findBrowser, type LaunchedBrowser, launchWithExtension } from "./browser.ts";

export const TOKEN = "e2e-gateway-token";
const root = fileURLToPath(new URL("..", import.meta.url));
export const DIST = `${root}dist`;

/** Resolves when `check` returns a truthy value; polls every `intervalMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** Two HTTP servers: origin A on 127.0.0.1, origin B reached as `localhost` (cross-site). */
export interface Pages {
  readonly a: string;
  readonly b: string;
  close(): Promise<void>;
}

function page(title: string, body: string): Response {
  return new Response(
    `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`,
    { headers: { "content-type": "text/html; charset=utf-8" } },
  );
}

/** Starts the page servers. */
export function startPages(): Pages {
  const handler = (origin: "A" | "B") => (request: Request): Response => {
    const url = new URL(request.url);
    const q = url.searchParams;
    switch (url.pathname) {
      case "/oopif": {
        const frame = q.get("frame") ?? "";
        return page(
          `Parent ${origin}`,
          `<h1>parent ${origin}</h1><iframe id="child" src="${frame}"></iframe>`,
        );
      }
      case "/frame":
        return page(
          `Frame ${origin}`,
          `<p id="inner">frame ${origin}</p><script>setInterval(() => console.log("tick from frame ${origin}"), 100)</script>`,
        );
      case "/flood":
        return page(
          `Flood ${origin}`,
          `<script>
          window.flood = (perSecond, seconds) => new Promise((done) => {
            let sent = 0; const total = perSecond * seconds; const start = performance.now();
            const step = () => { const due = Math.min(total, Math.floor((performance.now() - start) / 1000 * perSecond));
              while (sent < due) console.log("flood", sent++); if (sent < total) setTimeout(step, 5); else done(sent); };
            step(); });</script>`,
        );
      default:
        return page(
          q.get("title") ?? `Page ${origin}`,
          `<h1 id="h">${q.get("title") ?? `Page ${origin}`}</h1>`,
        );
    }
  };
  const a = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler("A"));
  const b = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler("B"));
  return {
    a: `http://127.0.0.1:${a.addr.port}`,
    b: `http://localhost:${b.addr.port}`,
    async close() {
      await Promise.all([a.shutdown(), b.shutdown()]);
    },
  };
}

/** Status snapshot the worker hook returns (subset used by tests). */
export interface WorkerStatus {
  readonly connection: { readonly phase: string; readonly relayUrl: string };
  readonly tabs: readonly {
    readonly tabId: number;
    readonly sessionId: string;
    readonly state?: string;
    readonly url?: string;
    readonly title?: string;
  }[];
}

/** The whole system under test. */
export class Rig {
  relay: RelayServer;
  readonly browser: LaunchedBrowser;
  readonly pages: Pages;
  readonly relayOptions: Partial<RelayOptions>;

  private constructor(
    relay: RelayServer,
    browser: LaunchedBrowser,
    pages: Pages,
    relayOptions: Partial<RelayOptions>,
  ) {
    this.relay = relay;
    this.browser = browser;
    this.pages = pages;
    this.relayOptions = relayOptions;
  }

  /**
   * Starts relay, page servers and Chromium, and points the extension at the relay.
   *
   * @param relayOptions Relay options over the defaults (token, free port).
   * @param launch Extra Chromium flags, e.g. `--remote-debugging-port=0` for the benchmarks, and
   *   the extension to load (default `dist/`), and `userDataDir`
   *   a profile to reuse (e.g. one from {@linkcode profileWithoutFileAccess}; the caller removes it).
   */
  static async start(
    relayOptions: Partial<RelayOptions> = {},
    launch: {
      readonly args?: readonly string[];
      readonly dist?: string;
      readonly userDataDir?: string;
    } = {},
  ): Promise<Rig> {
    const executablePath = await findBrowser();
    if (executablePath === undefined) throw new Error("Chromium is required for e2e tests");
    const relay = await startRelay({ token: TOKEN, port: 0, ...relayOptions });
    const pages = startPages();
    const browser = await launchWithExtension({
      dist: launch.dist ?? DIST,
      executablePath,
      headless: true,
      ...(launch.args === undefined ? {} : { args: launch.args }),
      ...(launch.userDataDir === undefined ? {} : { userDataDir: launch.userDataDir }),
    });
    const rig = new Rig(relay, browser, pages, relayOptions);
    await browser.worker.evaluate(
      ([relayPort, gatewayToken]) => chrome.storage.local.set({ relayPort, gatewayToken }),
      [relay.port, TOKEN] as const,
    );
    return rig;
  }

  /** The worker's status through its test hook. */
  status(): Promise<WorkerStatus> {
    return this.browser.worker.evaluate(() =>
      (self as unknown as { browserRelay: { status(): WorkerStatus } }).browserRelay.status()
    );
  }

  /** The tab id of a page URL (exact match). */
  async tabIdOf(url: string): Promise<number> {
    return await waitUntil(`a tab at ${url}`, () =>
      this.browser.worker.evaluate(async (u) => {
        const tabs = await chrome.tabs.query({});
        return tabs.find((t) => t.url === u || t.pendingUrl === u)?.id;
      }, url));
  }

  /** Opens `url` in a new tab (through the launcher's own connection) and returns its tab id. */
  async openTab(url: string): Promise<{ tabId: number }> {
    const p = await this.browser.context.newPage();
    await p.goto(url);
    return { tabId: await this.tabIdOf(url) };
  }

  /** Toggles a tab through the toolbar-click path; returns the hook's result. */
  toggle(tabId: number): Promise<unknown> {
    return this.browser.worker.evaluate(
      (id) =>
        (self as unknown as { browserRelay: { toggleTab(id: number): Promise<unknown> } })
          .browserRelay.toggleTab(id),
      tabId,
    );
  }

  /** Attaches `url` in a new tab and waits until the relay is ready and the tab is announced. */
  async attachNewTab(url: string): Promise<{ tabId: number; sessionId: string }> {
    const { tabId } = await this.openTab(url);
    await this.toggle(tabId);
    return await this.waitAttached(tabId);
  }

  /** Waits until `tabId` is attached and the connection is ready. */
  async waitAttached(
    tabId: number,
    timeoutMs = 15_000,
  ): Promise<{ tabId: number; sessionId: string }> {
    return await waitUntil(`tab ${tabId} attached and relay ready`, async () => {
      const status = await this.status();
      const tab = status.tabs.find((t) => t.tabId === tabId);
      return status.connection.phase === "ready" && tab !== undefined &&
          this.relay.stats().targets > 0
        ? { tabId, sessionId: tab.sessionId }
        : undefined;
    }, timeoutMs);
  }

  /** Badge text of a tab. */
  badge(tabId: number): Promise<string> {
    return this.browser.worker.evaluate((id) => chrome.action.getBadgeText({ tabId: id }), tabId);
  }

  /** Restarts the relay on the same port; returns ms from listening to extension ready. */
  /** Restarts the relay on the same port, optionally with extra options (e.g. a log sink). */
  async restartRelay(extra: Partial<RelayOptions> = {}): Promise<void> {
    const port = this.relay.port;
    await this.relay.close();
    this.relay = await startRelay({ token: TOKEN, ...this.relayOptions, ...extra, port });
  }

  async close(): Promise<void> {
    await this.browser.close();
    await this.relay.close();
    await this.pages.close();
  }
}

/** A minimal raw CDP client on the relay's `/cdp`, recording every event. */
export class RawCdp {
  readonly #ws: WebSocket;
  readonly events: { method: string; params: Record<string, unknown>; sessionId?: string }[] = [];
  readonly #pending = new Map<number, (frame: Record<string, unknown>) => void>();
  readonly #listeners = new Set<() => void>();
  #nextId = 1;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((resolve) => {
      ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason }));
    });
    ws.addEventListener("message", (e) => {
      const frame = JSON.parse(String(e.data)) as Record<string, unknown>;
      if (typeof frame.id === "number") {
        this.#pending.get(frame.id)?.(frame);
        this.#pending.delete(frame.id);
      } else {
        this.events.push(frame as RawCdp["events"][number]);
        for (const listener of this.#listeners) listener();
      }
    });
  }

  static async connect(relay: RelayServer): Promise<RawCdp> {
    const ws = new WebSocket(
      `ws://127.0.0.1:${relay.port}/cdp?token=${relay.relayToken}`,
    );
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("CDP socket failed")), { once: true });
    });
    return new RawCdp(ws);
  }

  /** Sends a command and resolves with the whole response frame. */
  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = 15_000,
  ): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`No reply to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  /** Sends a command and returns its result, throwing on an error reply. */
  async call(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    const frame = await this.send(method, params, sessionId);
    if (frame.error !== undefined) {
      throw new Error(`${method} failed: ${JSON.stringify(frame.error)}`);
    }
    return frame.result as Record<string, unknown>;
  }

  /** Waits for an event matching `predicate` (already received ones count). */
  waitForEvent(
    what: string,
    predicate: (event: RawCdp["events"][number]) => boolean,
    timeoutMs = 15_000,
  ): Promise<RawCdp["events"][number]> {
    const found = this.events.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = () => {
        const hit = this.events.find(predicate);
        if (!hit) return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`Timed out waiting for ${what}`));
      }, timeoutMs);
      this.#listeners.add(listener);
    });
  }

  /** Attach events per targetId, to detect duplicates. */
  attachCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const e of this.events) {
      if (e.method === "Target.attachedToTarget" && e.sessionId === undefined) {
        const id = (e.params.targetInfo as { targetId: string }).targetId;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      if (e.method === "Target.detachedFromTarget" && e.sessionId === undefined) {
        const id = e.params.targetId as string | undefined;
        if (id !== undefined) counts.set(id, 0);
      }
    }
    return counts;
  }

  async close(): Promise<void> {
    if (this.#ws.readyState !== WebSocket.CLOSED) {
      this.#ws.close();
      await this.closed;
    }
  }
}

export { fileURLToPath, root };

/** Opens a raw CDP client, turns on root auto-attach and waits for the first attach. */
export async function autoAttachedClient(relay: RelayServer): Promise<RawCdp> {
  const client = await RawCdp.connect(relay);
  await client.call("Target.setAutoAttach", {
    autoAttach: true,
    waitForDebuggerOnStart: false,
    flatten: true,
  });
  await client.waitForEvent("attach", (e) => e.method === "Target.attachedToTarget");
  return client;
}
