/**
 * The `--help` text and the usage line of a command.
 *
 * @module
 */

import type { CommandSpec, OptionSpec } from "./command_spec.ts";
import { EXIT_CODE_MEANINGS } from "./exit_code.ts";

function synopsis(option: OptionSpec): string {
  const long = option.type === "string"
    ? `--${option.name} ${option.value ?? "VALUE"}`
    : `--${option.name}`;
  return option.short === undefined ? long : `-${option.short}, ${long}`;
}

/**
 * The usage printed after a refused argument.
 *
 * @param spec The command.
 * @returns `Usage: deno task start [--port N] …`, wrapped at 100 columns.
 */
export function formatUsage(spec: CommandSpec): string {
  const head = `Usage: ${spec.command}`;
  const lines = [head];
  for (const option of spec.options) {
    const part = option.type === "string"
      ? `[--${option.name} ${option.value ?? "VALUE"}]`
      : `[--${option.name}]`;
    const last = lines.length - 1;
    if ((lines[last] ?? "").length + 1 + part.length > 100) {
      lines.push(`${" ".repeat(head.length)} ${part}`);
    } else lines[last] = `${lines[last]} ${part}`;
  }
  return lines.join("\n");
}

/**
 * The full help: usage, summary, every option with its default, the environment variables and
 * the exit codes.
 *
 * @param spec The command.
 * @returns The text, ending without a newline.
 */
export function formatHelp(spec: CommandSpec): string {
  const width = Math.max(...spec.options.map((o) => synopsis(o).length));
  const pad = (text: string) => text.padEnd(width + 2);
  const envWidth = Math.max(...spec.environment.map(([name]) => name.length));
  const lines = [formatUsage(spec), "", spec.summary, "", "Options:"];
  for (const option of spec.options) {
    const line = `  ${pad(synopsis(option))}${option.description}`;
    if (option.default === undefined) lines.push(line);
    else if (line.length + option.default.length + 12 <= 100) {
      lines.push(`${line} (default: ${option.default})`);
    } else lines.push(line, `  ${pad("")}(default: ${option.default})`);
  }
  lines.push("", "Environment:");
  for (const [name, description] of spec.environment) {
    lines.push(`  ${name.padEnd(envWidth + 2)}${description}`);
  }
  lines.push("", "Exit codes:");
  for (const [code, meaning] of EXIT_CODE_MEANINGS) {
    lines.push(`  ${String(code).padEnd(4)}${meaning}`);
  }
  return lines.join("\n");
}
