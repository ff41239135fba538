/**
 * `deno task start`: one command that starts the relay (reusing its stored token), builds the
 * extension, launches Chromium with the extension loaded over a debugging pipe (no open debugging
 * port), configures the extension with the relay's port and token, attaches a first tab, and
 * prints the CDP endpoint with runnable Playwright, Puppeteer and MCP set-ups. It stops
 * everything it started on SIGINT, SIGTERM or SIGHUP, when the browser closes, or when the
 * process that launched it exits. `--help` describes every option, variable and exit code.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { DEFAULT_RELAY_PORT } from "../codec/limits.ts";
import { CliError } from "../cli/cli_error.ts";
import { START_COMMAND } from "../cli/start_command.ts";
import { endpointsOf, formatConnectionInfo, formatConnectionJson } from "../cli/connection_info.ts";
import { ExitCode } from "../cli/exit_code.ts";
import { parsePort, parseStartUrl, parseTokenFlag } from "../cli/option_values.ts";
import { resolveCliToken, startCliRelay } from "../cli/relay_setup.ts";
import { outputMode } from "../cli/output_mode.ts";
import { type CliContext, runCli, StopRequested } from "../cli/run_cli.ts";
import {
  findBrowser,
  type LaunchedBrowser,
  launchWithExtension,
  NO_BROWSER_MESSAGE,
} from "../harness/browser.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

function welcomePage(headless: boolean): string {
  const hint = headless
    ? "Automation clients reach it through the relay's CDP endpoint."
    : "Click the toolbar button on any tab to share it or stop sharing it.";
  return "data:text/html;charset=utf-8," + encodeURIComponent(
    '<!doctype html><title>Browser Relay</title><body style="font:16px system-ui;margin:3rem">' +
      `<h1>Browser Relay is running</h1><p>This tab is shared with the relay. ${hint}</p></body>`,
  );
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "unknown error";
}

/**
 * What Playwright's launch error says about Chromium, in one line: how it exited and its last
 * line of error output (the error itself holds the whole command line and call log).
 */
function launchFailure(error: unknown): string {
  const escape = String.fromCharCode(27);
  const text = (error instanceof Error ? error.message : String(error))
    .replaceAll(new RegExp(`${escape}\\[[0-9;]*m`, "g"), "");
  const exit = /<process did exit: exitCode=(\w+), signal=(\w+)>/.exec(text);
  const errors = [...text.matchAll(/^\s*(?:- )?\[pid=\d+\]\[err\] (.*\S.*)$/gm)].map((m) =>
    m[1]?.trim()
  );
  const parts: string[] = [];
  if (exit !== null) {
    parts.push(exit[2] !== "null" ? `killed by ${exit[2]}` : `exited with code ${exit[1]}`);
  }
  const last = errors.at(-1);
  if (last !== undefined) parts.push(`its last error output was "${last.slice(0, 200)}"`);
  return parts.length === 0 ? firstLine(error) : parts.join(", ");
}

async function build(cli: CliContext): Promise<void> {
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
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: cli.signal,
  }).output();
  const decoder = new TextDecoder();
  const output = (decoder.decode(result.stdout) + decoder.decode(result.stderr)).trimEnd();
  if (!result.success) {
    if (output !== "") cli.warn(output);
    throw new CliError(
      `Building the extension into "${root}dist" failed (output above): fix the error and run the command again`,
      ExitCode.BuildFailed,
    );
  }
  for (const line of output.split("\n")) if (line !== "") cli.info(line);
}

/** The status hook the service worker exposes to tests and this script. */
interface RelayHook {
  ready(): Promise<void>;
  toggleTab(tabId: number): Promise<unknown>;
  status(): { connection: { phase: string }; tabs: { tabId: number; sessionId: string }[] };
}

type AttachResult =
  | { readonly ok: true; readonly tabId: number; readonly sessionId: string }
  | { readonly ok: false; readonly detail: string };

async function shareFirstTab(
  cli: CliContext,
  browser: LaunchedBrowser,
  url: string,
  relay: { readonly port: number },
  token: string,
  legacy: boolean,
): Promise<AttachResult> {
  // Configure the extension as the options page would: the worker reconnects on the change. A
  // legacy relay cannot prove the token (mutual-v1): opt into the OpenClaw flow for it.
  await cli.step(browser.worker.evaluate(
    ([relayPort, gatewayToken, openclawRelayCompat]) =>
      chrome.storage.local.set({ relayPort, gatewayToken, openclawRelayCompat }),
    [relay.port, token, legacy] as const,
  ));
  // A tab of its own: on first install the extension opens its options page, which may take
  // over the initial blank tab (and interrupt a navigation there).
  const page = await cli.step(browser.context.newPage());
  for (let attempt = 1;; attempt++) {
    try {
      await cli.step(page.goto(url));
      break;
    } catch (error) {
      if (error instanceof StopRequested) throw error;
      if (attempt === 3) {
        cli.warn(`Cannot load "${url}" (${firstLine(error)}): the tab is shared anyway`);
        break;
      }
    }
  }
  await cli.step(page.bringToFront());
  // Find this page's tab by URL: on first install the options page opens too and may be the
  // active tab, so "the active tab" is not reliable here.
  return await cli.step(browser.worker.evaluate(async (pageUrl): Promise<AttachResult> => {
    const hook = (self as unknown as { browserRelay: RelayHook }).browserRelay;
    await hook.ready();
    const tabs = await chrome.tabs.query({});
    const tab = tabs.find((t) => t.url === pageUrl) ?? tabs.find((t) => t.active);
    if (tab?.id === undefined) return { ok: false, detail: "no tab to share" };
    const tabId = tab.id;
    await hook.toggleTab(tabId);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const status = hook.status();
      const attached = status.tabs.find((t) => t.tabId === tabId);
      if (status.connection.phase === "ready" && attached !== undefined) {
        return { ok: true, tabId, sessionId: attached.sessionId };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { ok: false, detail: JSON.stringify(hook.status()) };
  }, page.url()));
}

async function main(cli: CliContext): Promise<void> {
  const { args } = cli;
  const output = outputMode(args);
  const port = parsePort(args.string("port"), DEFAULT_RELAY_PORT);
  const tokenFlag = parseTokenFlag(args.string("token"));
  const url = parseStartUrl(args.string("url"));
  const profile = args.string("profile");
  if (profile !== undefined && profile.trim() === "") {
    throw new CliError(
      'Option "--profile" is empty: pass a directory, or leave the option out for a temporary profile',
      ExitCode.Usage,
    );
  }
  const headless = args.flag("headless");
  if (
    !headless && Deno.build.os === "linux" && (Deno.env.get("DISPLAY") ?? "") === "" &&
    (Deno.env.get("WAYLAND_DISPLAY") ?? "") === ""
  ) {
    throw new CliError(
      "No screen for a Chromium window (DISPLAY and WAYLAND_DISPLAY are unset): pass --headless",
      ExitCode.BrowserFailed,
    );
  }
  const executablePath = await findBrowser(args.string("browser"));
  if (executablePath === undefined) {
    throw new CliError(NO_BROWSER_MESSAGE, ExitCode.BrowserNotFound);
  }
  const { token } = await resolveCliToken(tokenFlag);

  // The relay starts before the build: a busy port fails at once, without rebuilding dist/
  // underneath the instance that holds it.
  const relay = await startCliRelay({
    token,
    host: "127.0.0.1",
    port,
    legacy: args.flag("legacy"),
    log: (line) => cli.info(`[relay] ${line}`),
  });
  cli.defer(() => relay.close());
  cli.info(`Relay listening on ${relay.url}`);

  await cli.step(build(cli));

  const launching = launchWithExtension({
    dist: `${root}dist`,
    executablePath,
    headless,
    ...(profile === undefined ? {} : { userDataDir: profile }),
  });
  // Registered before awaiting: a stop during the launch still closes the browser once it is up.
  cli.defer(async () => {
    const launched = await launching.catch(() => undefined);
    await launched?.close();
  });
  let browser: LaunchedBrowser;
  try {
    browser = await cli.step(launching);
  } catch (error) {
    if (error instanceof StopRequested) throw error;
    throw new CliError(
      `Chromium "${executablePath}" failed to start (${
        launchFailure(error)
      }): check that it runs, or pass --browser with another Chromium`,
      ExitCode.BrowserFailed,
      { cause: error },
    );
  }
  browser.context.on("close", () => {
    if (cli.signal.aborted) return;
    if (headless) {
      cli.warn("Chromium exited on its own: stopping the relay");
      cli.requestStop("Chromium exited", ExitCode.BrowserFailed);
    } else {
      cli.requestStop("the browser was closed");
    }
  });

  const attached = await shareFirstTab(
    cli,
    browser,
    url ?? welcomePage(headless),
    relay,
    token,
    args.flag("legacy"),
  );
  if (!attached.ok) {
    cli.warn(
      `The first tab is not shared yet (${attached.detail}): the relay keeps waiting for it`,
    );
  }

  if (output === "json") return cli.result(formatConnectionJson(relay));
  if (output === "quiet") return cli.result(endpointsOf(relay).endpoint);
  cli.info("");
  cli.info(
    attached.ok
      ? `Ready: tab ${attached.tabId} is shared as ${attached.sessionId} through ${relay.url}`
      : `Ready: relay on ${relay.url}, Chromium running`,
  );
  cli.info("");
  for (const line of formatConnectionInfo(relay, { tabShared: attached.ok })) cli.info(line);
  cli.info("");
  cli.info(
    headless
      ? "Ctrl-C (or SIGTERM) stops the relay and Chromium."
      : "Click the toolbar button on any other tab to share it too. Ctrl-C stops everything.",
  );
}

if (import.meta.main) {
  await runCli({
    spec: START_COMMAND,
    quiet: (args) => args.flag("quiet") || args.flag("json"),
    main,
  });
}
