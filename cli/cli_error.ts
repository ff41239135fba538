/**
 * The error of an expected failure: printed as its one-line message, no stack.
 *
 * @module
 */

import type { ExitCode } from "./exit_code.ts";

/** Options of {@linkcode CliError}. */
export interface CliErrorOptions extends ErrorOptions {
  /**
   * Whether the usage line follows the message (unknown options, missing values).
   *
   * @default {false}
   */
  readonly showUsage?: boolean;
}

/** An expected failure: one line on stderr that says what happened and what to do. */
export class CliError extends Error {
  /** The process exit code. */
  readonly exitCode: ExitCode;
  /** Whether the usage line follows the message. */
  readonly showUsage: boolean;

  /**
   * Creates the error.
   *
   * @param message One line: what happened and what to do.
   * @param exitCode The documented exit code.
   * @param options `cause`, and whether to show the usage.
   */
  constructor(message: string, exitCode: ExitCode, options: CliErrorOptions = {}) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.showUsage = options.showUsage ?? false;
  }
}
