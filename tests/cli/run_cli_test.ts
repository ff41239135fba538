import assert from "node:assert/strict";
import { CliError } from "../../cli/cli_error.ts";
import { ExitCode } from "../../cli/exit_code.ts";
import { formatUsage } from "../../cli/format_help.ts";
import { RELAY_COMMAND } from "../../cli/relay_command.ts";
import { formatFailure } from "../../cli/run_cli.ts";

Deno.test("formatFailure() prints an expected failure as its one line, with the usage if asked", () => {
  assert.deepEqual(
    formatFailure(new CliError("Port is busy", ExitCode.PortUnavailable), RELAY_COMMAND),
    {
      lines: ["Port is busy"],
      exitCode: 3,
    },
  );
  assert.deepEqual(
    formatFailure(
      new CliError("Unknown option", ExitCode.Usage, { showUsage: true }),
      RELAY_COMMAND,
    ),
    { lines: ["Unknown option", formatUsage(RELAY_COMMAND)], exitCode: 2 },
  );
});

Deno.test("formatFailure() prints anything else as a bug: stack and a request to report it", () => {
  const error = new RangeError("boom");
  const { lines, exitCode } = formatFailure(error, RELAY_COMMAND);
  assert.equal(exitCode, 1);
  assert.deepEqual(lines, [
    `Unexpected error: ${error.stack}`,
    "This is a bug in Browser Relay: please report it with the output above",
  ]);
  assert.ok(lines[0]?.includes("RangeError: boom\n    at "));
  assert.deepEqual(formatFailure("text", RELAY_COMMAND).lines[0], "Unexpected error: text");
});
