/**
 * The output options both commands share (`--quiet`, `--json`, `--help`) and the one check that
 * they are not combined.
 *
 * @module
 */

import { CliError } from "./cli_error.ts";
import type { OptionSpec } from "./command_spec.ts";
import { ExitCode } from "./exit_code.ts";
import type { ParsedArgs } from "./parse_cli_args.ts";

/** `--quiet`, `--json` and `--help`, as both commands describe them. */
export const OUTPUT_OPTIONS: readonly OptionSpec[] = [
  { name: "quiet", type: "boolean", description: "Print only the CDP endpoint on stdout" },
  {
    name: "json",
    type: "boolean",
    description: "Print only one JSON object with the endpoints and token on stdout",
  },
  { name: "help", type: "boolean", short: "h", description: "Show this help" },
];

/** How a command prints its result. */
export type OutputMode = "text" | "quiet" | "json";

/**
 * Reads the output mode from parsed arguments.
 *
 * @param args The parsed command line.
 * @returns `"json"`, `"quiet"` or `"text"`.
 * @throws {CliError} When both `--quiet` and `--json` are given.
 */
export function outputMode(args: ParsedArgs): OutputMode {
  const quiet = args.flag("quiet");
  const json = args.flag("json");
  if (quiet && json) {
    throw new CliError(
      'Options "--quiet" and "--json" exclude each other: pick one',
      ExitCode.Usage,
      {
        showUsage: true,
      },
    );
  }
  return json ? "json" : quiet ? "quiet" : "text";
}
