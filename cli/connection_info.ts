/**
 * What both commands print once the relay is ready: the CDP endpoint, runnable Playwright and
 * Puppeteer scripts, and the MCP server command lines.
 *
 * @module
 */

import { RELAY_TOKEN_HEADER } from "../codec/limits.ts";

/** How to reach a running relay. */
export interface ConnectionInfo {
  /** `http://127.0.0.1:18792`: Puppeteer's `browserURL`. */
  readonly url: string;
  /** The relay token derived for the port. */
  readonly relayToken: string;
}

/** The addresses derived from a {@linkcode ConnectionInfo}. */
export interface Endpoints {
  /** `http://host:port/?token=…`: for `connectOverCDP` and Playwright MCP. */
  readonly endpoint: string;
  /** `http://host:port`: Puppeteer's `browserURL`, with the token in a header. */
  readonly browserURL: string;
  /** `ws://host:port/cdp`: the browser WebSocket, with the token in a header. */
  readonly wsEndpoint: string;
  /** The header that carries the token. */
  readonly tokenHeader: string;
  /** The relay token. */
  readonly relayToken: string;
}

/**
 * The endpoint forms every client needs.
 *
 * @param info The relay's URL and token.
 * @returns The endpoints.
 */
export function endpointsOf(info: ConnectionInfo): Endpoints {
  return {
    endpoint: `${info.url}/?token=${encodeURIComponent(info.relayToken)}`,
    browserURL: info.url,
    wsEndpoint: `${info.url.replace(/^http/, "ws")}/cdp`,
    tokenHeader: RELAY_TOKEN_HEADER,
    relayToken: info.relayToken,
  };
}

/** Options of {@linkcode formatConnectionInfo}. */
export interface FormatConnectionInfoOptions {
  /**
   * Whether tabs are already shared (`deno task start`); otherwise the scripts wait for the first
   * one the person shares.
   *
   * @default {false}
   */
  readonly tabShared?: boolean;
}

/**
 * The lines printed when the relay is ready. The token appears only inside the endpoint and
 * the lines that need it.
 *
 * @param info The relay's URL and token.
 * @param options Whether a tab is already shared.
 * @returns The lines.
 */
export function formatConnectionInfo(
  info: ConnectionInfo,
  options: FormatConnectionInfoOptions = {},
): string[] {
  const e = endpointsOf(info);
  const header = JSON.stringify({ [e.tokenHeader]: e.relayToken });
  const waitNote = options.tabShared === true ? "" : " (waits for the first shared tab)";
  return [
    `CDP endpoint: ${e.endpoint}`,
    "",
    `Playwright${waitNote}: npm i playwright-core, save as pw.mjs, run node pw.mjs`,
    `  import { chromium } from "playwright-core";`,
    `  const browser = await chromium.connectOverCDP(${JSON.stringify(e.endpoint)});`,
    `  const context = browser.contexts()[0];`,
    `  const page = context.pages()[0] ?? await context.waitForEvent("page");`,
    `  console.log(await page.title(), page.url());`,
    `  await browser.close(); // disconnects; the shared tabs stay open`,
    "",
    `Puppeteer${waitNote}: npm i puppeteer-core, save as pptr.mjs, run node pptr.mjs`,
    `  import puppeteer from "puppeteer-core";`,
    `  const browser = await puppeteer.connect({`,
    `    browserURL: ${JSON.stringify(e.browserURL)},`,
    `    headers: ${header},`,
    `  });`,
    `  const page = (await browser.pages())[0] ??`,
    `    await (await browser.waitForTarget((t) => t.type() === "page")).page();`,
    `  console.log(await page.title(), page.url());`,
    `  await browser.disconnect();`,
    "",
    "MCP servers (add one to your MCP client's configuration):",
    `  Playwright MCP:      npx @playwright/mcp@latest --cdp-endpoint ${e.endpoint}`,
    `  Chrome DevTools MCP: npx chrome-devtools-mcp@latest --wsEndpoint ${e.wsEndpoint} --wsHeaders '${header}'`,
  ];
}

/**
 * The one JSON line printed with `--json`.
 *
 * @param info The relay's URL and token.
 * @returns The JSON text.
 */
export function formatConnectionJson(info: ConnectionInfo): string {
  return JSON.stringify(endpointsOf(info));
}
