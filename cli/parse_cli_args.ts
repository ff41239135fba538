/**
 * Strict command-line parsing with one-line errors (no `node:util` `parseArgs` stack traces).
 *
 * @module
 */

import { CliError } from "./cli_error.ts";
import type { CommandSpec, OptionSpec } from "./command_spec.ts";
import { ExitCode } from "./exit_code.ts";

/** The parsed options of one command line. */
export class ParsedArgs {
  readonly #values: ReadonlyMap<string, string | true>;

  /**
   * Wraps parsed values.
   *
   * @param values Option name to its value (`true` for a boolean option).
   */
  constructor(values: ReadonlyMap<string, string | true>) {
    this.#values = values;
  }

  /**
   * The value of a string option.
   *
   * @param name The option's long name.
   * @returns The value, or `undefined` when the option was left out.
   */
  string(name: string): string | undefined {
    const value = this.#values.get(name);
    return typeof value === "string" ? value : undefined;
  }

  /**
   * Whether a boolean option was given.
   *
   * @param name The option's long name.
   * @returns `true` when given.
   */
  flag(name: string): boolean {
    return this.#values.get(name) === true;
  }
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function suggestion(name: string, options: readonly OptionSpec[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const option of options) {
    const d = distance(name, option.name);
    if (d <= 2 && (best === undefined || d < best.distance)) {
      best = { name: option.name, distance: d };
    }
  }
  return best?.name;
}

function usageError(message: string): CliError {
  return new CliError(message, ExitCode.Usage, { showUsage: true });
}

/**
 * Parses `args` against a command's options: `--name value`, `--name=value`, `-x`, boolean
 * flags. Unknown options, missing values, values given to boolean flags, repeated options and
 * positional arguments are refused.
 *
 * @param args The arguments, e.g. `Deno.args`.
 * @param spec The command.
 * @returns The parsed options.
 * @throws {CliError} With exit code 2 and `showUsage` on any refused argument.
 */
export function parseCliArgs(args: readonly string[], spec: CommandSpec): ParsedArgs {
  const values = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    let option: OptionSpec | undefined;
    let inline: string | undefined;
    let shown: string;
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (eq !== -1) inline = arg.slice(eq + 1);
      shown = `--${name}`;
      option = spec.options.find((o) => o.name === name);
      if (option === undefined) {
        const near = suggestion(name, spec.options);
        throw usageError(
          near === undefined
            ? `Unknown option "${shown}": see "${spec.command} --help" for the options`
            : `Unknown option "${shown}": did you mean "--${near}"?`,
        );
      }
    } else if (/^-[A-Za-z]$/.test(arg)) {
      shown = arg;
      option = spec.options.find((o) => o.short === arg.slice(1));
      if (option === undefined) {
        throw usageError(`Unknown option "${shown}": see "${spec.command} --help" for the options`);
      }
    } else {
      throw usageError(
        `Unexpected argument "${arg}": ${spec.command} takes only options, such as "--port 18792"`,
      );
    }
    if (values.has(option.name)) throw usageError(`Option "--${option.name}" is given twice`);
    if (option.type === "boolean") {
      if (inline !== undefined) {
        throw usageError(`Option "${shown}" takes no value: current value is "${inline}"`);
      }
      values.set(option.name, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("-") && next.length > 1)) {
        throw usageError(
          `Option "${shown}" needs a value, as in "--${option.name} ${
            option.example ?? option.value ?? "VALUE"
          }"`,
        );
      }
      value = next;
      i++;
    }
    values.set(option.name, value);
  }
  return new ParsedArgs(values);
}
