/**
 * CLI of the relay: `deno task relay [--port N] [--host H] [--token T] [--legacy] [--quiet]
 * [--json]`; `--help` describes every option, variable and exit code.
 *
 * The gateway token comes from `--token`, `BROWSER_RELAY_TOKEN`, or the token file (generated
 * once, mode 0600). It is printed once at start, with how to paste it into the options page,
 * unless it was given with `--token` (`deno task` already echoes the command line), and never
 * logged afterwards.
 *
 * @module
 */

import { DEFAULT_RELAY_PORT } from "../codec/limits.ts";
import { CliError } from "../cli/cli_error.ts";
import type { CommandSpec } from "../cli/command_spec.ts";
import { formatConnectionInfo, formatConnectionJson } from "../cli/connection_info.ts";
import { ExitCode } from "../cli/exit_code.ts";
import { parsePort, parseTokenFlag } from "../cli/option_values.ts";
import { resolveCliToken, startCliRelay } from "../cli/relay_setup.ts";
import { runCli } from "../cli/run_cli.ts";

/** The options and help of `deno task relay`. */
export const RELAY_COMMAND: CommandSpec = {
  command: "deno task relay",
  summary: [
    "Starts the relay for the extension in your own Chrome and prints the CDP endpoint with",
    "ready-to-run Playwright, Puppeteer and MCP set-ups. Paste the gateway token into the",
    "extension's options page. Stops on Ctrl-C, SIGTERM or SIGHUP, or when the process that",
    "launched it exits.",
  ].join("\n"),
  options: [
    {
      name: "port",
      type: "string",
      value: "N",
      description: "Port to listen on; 0 picks a free one",
      default: String(DEFAULT_RELAY_PORT),
    },
    {
      name: "host",
      type: "string",
      value: "HOST",
      description: "Address to listen on; anything but loopback still needs the token",
      default: "127.0.0.1",
    },
    {
      name: "token",
      type: "string",
      value: "TOKEN",
      description: "Gateway token; deno task echoes it, BROWSER_RELAY_TOKEN does not",
      default: "BROWSER_RELAY_TOKEN, else the stored token",
    },
    {
      name: "legacy",
      type: "boolean",
      description: "Speak OpenClaw's legacy relay protocol (no connect.challenge handshake)",
    },
    { name: "quiet", type: "boolean", description: "Print only the CDP endpoint on stdout" },
    {
      name: "json",
      type: "boolean",
      description: "Print only one JSON object with the endpoints and token on stdout",
    },
    { name: "help", type: "boolean", short: "h", description: "Show this help" },
  ],
  environment: [
    ["BROWSER_RELAY_TOKEN", "gateway token when --token is not given"],
    [
      "XDG_CONFIG_HOME, HOME",
      "the stored token: $XDG_CONFIG_HOME/browser-relay/token, else ~/.config/browser-relay/token",
    ],
  ],
};

if (import.meta.main) {
  await runCli({
    spec: RELAY_COMMAND,
    quiet: (args) => args.flag("quiet") || args.flag("json"),
    async main(cli) {
      const { args } = cli;
      if (args.flag("quiet") && args.flag("json")) {
        throw new CliError(
          'Options "--quiet" and "--json" exclude each other: pick one',
          ExitCode.Usage,
          {
            showUsage: true,
          },
        );
      }
      const port = parsePort(args.string("port"), DEFAULT_RELAY_PORT);
      const host = args.string("host") ?? "127.0.0.1";
      if (host.trim() === "") {
        throw new CliError(
          'Option "--host" is empty: pass an address such as 127.0.0.1',
          ExitCode.Usage,
        );
      }
      const tokenFlag = parseTokenFlag(args.string("token"));
      const { token, source } = await resolveCliToken(tokenFlag);
      const legacy = args.flag("legacy");
      const relay = await startCliRelay({
        token,
        host,
        port,
        legacy,
        log: (line) => cli.info(`[relay] ${line}`),
      });
      cli.defer(() => relay.close());

      if (args.flag("json")) return cli.result(formatConnectionJson(relay));
      if (args.flag("quiet")) return cli.result(`${relay.url}/?token=${relay.relayToken}`);
      cli.info(`Browser Relay ${legacy ? "(legacy mode) " : ""}listening on ${relay.url}`);
      if (source === "--token") {
        cli.info(`Gateway token: the one given with --token (paste it into the options page)`);
      } else {
        cli.info(`Gateway token (from ${source}):`);
        cli.info(`  ${token}`);
      }
      cli.info(
        `Paste it into the extension's options page ("Gateway token"), with relay port ${relay.port}, then share a tab.`,
      );
      cli.info("");
      for (const line of formatConnectionInfo(relay)) cli.info(line);
      cli.info("");
      cli.info("Ctrl-C stops the relay.");
    },
  });
}
