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
import { RELAY_COMMAND } from "../cli/relay_command.ts";
import { endpointsOf, formatConnectionInfo, formatConnectionJson } from "../cli/connection_info.ts";
import { ExitCode } from "../cli/exit_code.ts";
import { parsePort, parseTokenFlag } from "../cli/option_values.ts";
import { resolveCliToken, startCliRelay } from "../cli/relay_setup.ts";
import { outputMode } from "../cli/output_mode.ts";
import { runCli } from "../cli/run_cli.ts";

if (import.meta.main) {
  await runCli({
    spec: RELAY_COMMAND,
    quiet: (args) => args.flag("quiet") || args.flag("json"),
    async main(cli) {
      const { args } = cli;
      const output = outputMode(args);
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

      if (output === "json") return cli.result(formatConnectionJson(relay));
      if (output === "quiet") return cli.result(endpointsOf(relay).endpoint);
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
