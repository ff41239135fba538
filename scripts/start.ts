/**
 * `deno task start`: one command that builds the extension, starts the relay (reusing its stored
 * token), launches Chromium with the extension loaded over a debugging pipe (no open debugging
 * port), configures the extension with the relay's port and token, attaches a first tab, and
 * prints the CDP URL with a Playwright snippet. Ctrl-C stops everything it started.
 *
 * Usage: deno task start [--port 18792] [--token T] [--browser PATH] [--profile DIR]
 *                        [--headless] [--url URL] [--legacy]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { DEFAULT_RELAY_PORT } from "../codec/limits.ts";
import { startRelay } from "../relay/server.ts";
import { resolveGatewayToken } from "../relay/token_store.ts";
import { findBrowser, INSTALL_HINT, launchWithExtension } from "../harness/browser.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

const WELCOME = "data:text/html;charset=utf-8," + encodeURIComponent(
  '<!doctype html><title>Browser Relay</title><body style="font:16px system-ui;margin:3rem">' +
    "<h1>Browser Relay is running</h1><p>This tab is shared with the relay. Click the toolbar " +
    "button on any tab to share or stop sharing it.</p></body>",
);

async function build(): Promise<void> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write=dist",
      "--allow-env",
      "--allow-run",
      "scripts/build.ts",
    ],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!result.success) throw new Error("Cannot start as the extension build failed");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string" },
      token: { type: "string" },
      browser: { type: "string" },
      profile: { type: "string" },
      headless: { type: "boolean" },
      url: { type: "string" },
      legacy: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(
      "Usage: deno task start [--port 18792] [--token T] [--browser PATH] [--profile DIR] [--headless] [--url URL] [--legacy]",
    );
    return 0;
  }
  const port = values.port === undefined ? DEFAULT_RELAY_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    console.error(
      `Cannot start as "port" must be between 1 and 65535: current value is ${values.port}`,
    );
    return 2;
  }
  const executablePath = await findBrowser(values.browser);
  if (executablePath === undefined) {
    console.error(INSTALL_HINT);
    return 1;
  }

  await build();
  const { token } = await resolveGatewayToken(values.token);
  const relay = await startRelay({
    token,
    port,
    legacy: values.legacy === true,
    log: (line) => console.log(`[relay] ${line}`),
  });
  console.log(`Relay listening on ${relay.url}`);

  const headless = values.headless === true;
  const browser = await launchWithExtension({
    dist: `${root}dist`,
    executablePath,
    headless,
    ...(values.profile === undefined ? {} : { userDataDir: values.profile }),
  });
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    console.log("Stopping browser and relay");
    await browser.close();
    await relay.close();
  };
  try {
    // Configure the extension as the options page would: the worker reconnects on the change.
    // A legacy relay cannot prove the token (mutual-v1): opt into the OpenClaw flow for it.
    await browser.worker.evaluate(
      ([relayPort, gatewayToken, openclawRelayCompat]) =>
        chrome.storage.local.set({ relayPort, gatewayToken, openclawRelayCompat }),
      [relay.port, token, values.legacy === true] as const,
    );
    // A tab of its own: on first install the extension opens its options page, which may take
    // over the initial blank tab (and interrupt a navigation there).
    const page = await browser.context.newPage();
    for (let attempt = 1;; attempt++) {
      try {
        await page.goto(values.url ?? WELCOME);
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    await page.bringToFront();
    // Find this page's tab by URL: on first install the options page opens too and may be the
    // active tab, so "the active tab" is not reliable here.
    const summary = await browser.worker.evaluate(async (url) => {
      const hook = (self as unknown as {
        browserRelay: {
          ready(): Promise<void>;
          toggleTab(tabId: number): Promise<unknown>;
          status(): {
            connection: { phase: string };
            tabs: { tabId: number; sessionId: string }[];
          };
        };
      }).browserRelay;
      await hook.ready();
      const tabs = await chrome.tabs.query({});
      const tab = tabs.find((t) => t.url === url) ?? tabs.find((t) => t.active);
      if (tab?.id === undefined) throw new Error("Cannot find the first tab to attach");
      const tabId = tab.id;
      await hook.toggleTab(tabId);
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const status = hook.status();
        const attached = status.tabs.find((t) => t.tabId === tabId);
        if (status.connection.phase === "ready" && attached !== undefined) {
          return `tab ${tabId} attached as ${attached.sessionId}, relay connection ready`;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return `tab ${tabId} not ready yet: ${JSON.stringify(hook.status())}`;
    }, page.url());
    console.log(summary);
  } catch (error) {
    await stopAll();
    throw error;
  }

  const endpoint = `${relay.url}/?token=${relay.relayToken}`;
  console.log("");
  console.log(`CDP endpoint: ${endpoint}`);
  console.log("Playwright (ESM, with playwright-core installed):");
  console.log(`  import { chromium } from "playwright-core";`);
  console.log(
    `  const page = (await chromium.connectOverCDP("${endpoint}")).contexts()[0].pages()[0];`,
  );
  // Puppeteer drops the endpoint's query string when it fetches /json/version: use the header.
  console.log("Puppeteer:");
  console.log(
    `  await puppeteer.connect({ browserURL: "${relay.url}", headers: { "x-openclaw-relay-token": "${relay.relayToken}" } })`,
  );
  console.log("");
  console.log(
    "Click the toolbar button on any other tab to share it too. Ctrl-C stops everything.",
  );

  const stopped = Promise.withResolvers<void>();
  const onSignal = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  browser.context.on("close", onSignal);
  await stopped.promise;
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  await stopAll();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
