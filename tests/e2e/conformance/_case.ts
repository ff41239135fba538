/**
 * Types of the conformance suite: a case runs once against Chrome's own endpoint ("direct") and
 * once through the relay, and returns a JSON outcome that must be the same both times.
 *
 * @module
 */

import type { Browser, Page } from "playwright-core";
import type { Browser as PuppeteerBrowser, Page as PuppeteerPage } from "puppeteer-core";
import type { CdpSocket } from "../../../bench/_cdp_socket.ts";
import type { Site } from "./_site.ts";

/** Where a run goes. */
export type Mode = "direct" | "relay";

/** A JSON value: what a case observed. */
export type Json = null | boolean | number | string | readonly Json[] | {
  readonly [k: string]: Json;
};

/**
 * What the relay is expected to do today.
 * - `pass`: the same outcome as direct; a difference fails the suite.
 * - `todo(#13)`: known to differ today, to be fixed by issue 13; reported, never failing. Flip to
 *   `pass` once it passes (the suite says so when it does).
 * - `limit`: differs because of a Chrome limitation named in `why`; reported, never failing.
 */
export type RelayExpectation = "pass" | "todo(#13)" | "limit";

/** What a case may use. Everything it opens is closed by the runner afterwards. */
export interface CaseEnv {
  readonly mode: Mode;
  readonly site: Site;
  /** A fresh empty directory for this run (downloads, uploads). */
  readonly tmp: string;
  /** The URL a client passes to `connectOverCDP` / `browserURL`. */
  readonly endpoint: string;
  /** The browser-level WebSocket URL (`webSocketDebuggerUrl` of `/json/version`). */
  wsEndpoint(): Promise<string>;
  /** Headers a WebSocket client must send (the relay token), empty for direct. */
  readonly headers: Readonly<Record<string, string>>;
  /** Opens a raw CDP socket on the browser endpoint (the relay token in the query). */
  cdp(): Promise<CdpSocket>;
  /** Connects Playwright (`connectOverCDP`). */
  playwright(): Promise<Browser>;
  /** Connects Puppeteer (`connect({browserURL})`). */
  puppeteer(options?: { readonly downloadPath?: string }): Promise<PuppeteerBrowser>;
  /**
   * Opens `url` in a new tab as the person would (and shares it, through the relay) and returns
   * the client's page for it.
   */
  page(browser: Browser, url: string): Promise<Page>;
  /** {@linkcode CaseEnv.page} for Puppeteer. */
  puppeteerPage(browser: PuppeteerBrowser, url: string): Promise<PuppeteerPage>;
  /** Opens (and shares, through the relay) a tab; returns its target id. */
  openTab(url: string): Promise<string>;
  /** Whether a target still exists, asked of Chrome itself. */
  hasTarget(targetId: string): Promise<boolean>;
  /** Registers a cleanup step. */
  defer(cleanup: () => Promise<unknown>): void;
}

/** One row of the conformance table. */
export interface ConformanceCase {
  /** Feature name, unique: the row label. */
  readonly feature: string;
  /** Which client drives it. */
  readonly client: "Playwright" | "Puppeteer" | "CDP" | "Playwright MCP" | "chrome-devtools-mcp";
  readonly expectRelay: RelayExpectation;
  /**
   * For `todo(#13)` and `limit`: why the relay differs, naming the Chrome limitation or the
   * missing emulation.
   */
  readonly why?: string;
  /** Deadline for one run. @default 20_000 */
  readonly timeoutMs?: number;
  run(env: CaseEnv): Promise<Json>;
}

/** The result of one run. */
export type RunResult =
  | { readonly ok: true; readonly outcome: Json; readonly ms: number }
  | { readonly ok: false; readonly error: string; readonly ms: number };

/** How the relay compared with direct. */
export type Verdict = "same" | "differs" | "direct-failed";

/** One recorded row. */
export interface CaseRecord {
  readonly feature: string;
  readonly client: ConformanceCase["client"];
  readonly expectRelay: RelayExpectation;
  readonly why?: string;
  readonly direct: RunResult;
  readonly relay: RunResult;
  readonly verdict: Verdict;
}
