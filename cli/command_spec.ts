/**
 * The description of a command: its options, environment variables and help text.
 *
 * @module
 */

/** One `--option`. */
export interface OptionSpec {
  /** The long name, without dashes. */
  readonly name: string;
  /** `"string"` takes a value (`--port 1` or `--port=1`); `"boolean"` takes none. */
  readonly type: "string" | "boolean";
  /** A one-letter alias, without the dash. */
  readonly short?: string;
  /** The value's placeholder in the help, e.g. `"N"`. */
  readonly value?: string;
  /** A sample value for error messages, e.g. `"18792"`; `value` when omitted. */
  readonly example?: string;
  /** What the option does. */
  readonly description: string;
  /** What applies when the option is left out. */
  readonly default?: string;
}

/** A command of the CLI. */
export interface CommandSpec {
  /** How it is run, e.g. `"deno task start"`. */
  readonly command: string;
  /** What it does, in a few sentences. */
  readonly summary: string;
  /** Its options. */
  readonly options: readonly OptionSpec[];
  /** The environment variables it reads, with what each does. */
  readonly environment: readonly (readonly [string, string])[];
}
