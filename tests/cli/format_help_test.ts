import assert from "node:assert/strict";
import { EXIT_CODE_MEANINGS, ExitCode } from "../../cli/exit_code.ts";
import { formatHelp, formatUsage } from "../../cli/format_help.ts";
import { RELAY_COMMAND } from "../../cli/relay_command.ts";
import { START_COMMAND } from "../../cli/start_command.ts";

Deno.test("formatHelp() describes every option, default, variable and exit code", async (t) => {
  for (const spec of [START_COMMAND, RELAY_COMMAND]) {
    await t.step(spec.command, () => {
      const help = formatHelp(spec);
      assert.ok(help.startsWith(`${formatUsage(spec)}\n`));
      for (const option of spec.options) {
        const line = help.split("\n").find((l) =>
          l.startsWith(`  --${option.name}`) || l.startsWith(`  -${option.short}, --${option.name}`)
        );
        assert.ok(line?.includes(`  ${option.description}`), option.name);
        if (option.default !== undefined) assert.ok(help.includes(`(default: ${option.default})`));
      }
      for (const [name, description] of spec.environment) {
        assert.ok(help.includes(`  ${name}  `) && help.includes(description), name);
      }
      for (const [code, meaning] of EXIT_CODE_MEANINGS) {
        assert.ok(help.includes(`  ${String(code).padEnd(4)}${meaning}`), meaning);
      }
      for (const line of help.split("\n")) assert.ok(line.length <= 100, line);
    });
  }
});

Deno.test("formatUsage() lists the options, wrapped at 100 columns", () => {
  assert.equal(
    formatUsage(RELAY_COMMAND),
    "Usage: deno task relay [--port N] [--host HOST] [--token TOKEN] [--legacy] [--quiet] [--json]\n" +
      "                       [--help]",
  );
});

Deno.test("EXIT_CODE_MEANINGS covers every ExitCode once", () => {
  assert.deepEqual(EXIT_CODE_MEANINGS.map(([code]) => code), Object.values(ExitCode));
});
