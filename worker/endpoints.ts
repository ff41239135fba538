/**
 * Ready-to-paste ways to reach the relay's CDP endpoint, for the popup's copy buttons. Pure.
 *
 * @module
 */

/** The copyable texts, each complete as it stands. */
export interface Endpoints {
  /** `http://127.0.0.1:<port>/?token=<relay token>`: Playwright's `connectOverCDP` URL. */
  readonly cdpUrl: string;
  /** A Playwright script line. */
  readonly playwright: string;
  /** A Puppeteer script line (Puppeteer drops the query string, so the token is a header). */
  readonly puppeteer: string;
  /** An `mcpServers` entry for Playwright MCP. */
  readonly playwrightMcp: string;
  /** An `mcpServers` entry for chrome-devtools-mcp. */
  readonly devtoolsMcp: string;
}

/** The header CDP clients send the relay token in. */
export const RELAY_TOKEN_HEADER = "x-openclaw-relay-token";

/**
 * Builds the copyable endpoint texts.
 *
 * @param port The relay port.
 * @param relayToken The derived relay token for that port (never the gateway token).
 * @returns The texts.
 *
 * @example
 * ```ts
 * endpoints(18792, "abc").cdpUrl; // "http://127.0.0.1:18792/?token=abc"
 * ```
 */
export function endpoints(port: number, relayToken: string): Endpoints {
  const base = `http://127.0.0.1:${port}`;
  const cdpUrl = `${base}/?token=${encodeURIComponent(relayToken)}`;
  const mcp = (name: string, args: readonly string[]) =>
    JSON.stringify({ mcpServers: { [name]: { command: "npx", args } } }, null, 2);
  return {
    cdpUrl,
    playwright: `const browser = await chromium.connectOverCDP(${JSON.stringify(cdpUrl)});`,
    puppeteer: `const browser = await puppeteer.connect({ browserURL: ${
      JSON.stringify(base)
    }, headers: { ${JSON.stringify(RELAY_TOKEN_HEADER)}: ${JSON.stringify(relayToken)} } });`,
    playwrightMcp: mcp("browser-relay", ["@playwright/mcp@latest", "--cdp-endpoint", cdpUrl]),
    devtoolsMcp: mcp("chrome-devtools", [
      "chrome-devtools-mcp@latest",
      "--wsEndpoint",
      `ws://127.0.0.1:${port}/cdp`,
      "--wsHeaders",
      JSON.stringify({ [RELAY_TOKEN_HEADER]: relayToken }),
    ]),
  };
}
