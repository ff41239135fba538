/**
 * The frame shared by `deno task start` and `deno task relay`: argument parsing, `--help`,
 * signal and launcher handling, cleanup in reverse order, one-line errors and exit codes.
 *
 * @module
 */

import { CliError } from "./cli_error.ts";
import type { CommandSpec } from "./command_spec.ts";
import { ExitCode } from "./exit_code.ts";
import { formatHelp, formatUsage } from "./format_help.ts";
import { parseCliArgs, type ParsedArgs } from "./parse_cli_args.ts";
import { watchLauncher } from "./watch_launcher.ts";

/** Thrown by {@linkcode CliContext.step} when a stop was requested meanwhile. */
export class StopRequested extends Error {
  /**
   * Creates the error.
   *
   * @param why What asked for the stop.
   */
  constructor(why: string) {
    super(`Stop requested: ${why}`);
    this.name = "StopRequested";
  }
}

/** What a command's `main` receives. */
export interface CliContext {
  /** The parsed options. */
  readonly args: ParsedArgs;
  /** Aborted when a stop is requested. */
  readonly signal: AbortSignal;
  /** Prints a line on stdout (nothing with `quiet`); never throws on a closed stdout. */
  info(line: string): void;
  /** Prints a line on stdout even when quiet (the endpoint). */
  result(line: string): void;
  /** Prints a line on stderr. */
  warn(line: string): void;
  /** Registers a cleanup; cleanups run in reverse order when the command ends. */
  defer(cleanup: () => Promise<void> | void): void;
  /**
   * Awaits a start-up step, or throws {@linkcode StopRequested} as soon as a stop is requested.
   * Register the step's cleanup with {@linkcode CliContext.defer} first: the step may still
   * finish after the stop.
   */
  step<T>(promise: Promise<T>): Promise<T>;
  /** Asks the command to stop with `exitCode` (the first request wins). */
  requestStop(why: string, exitCode?: ExitCode): void;
}

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  /** The command's options and help. */
  readonly spec: CommandSpec;
  /**
   * The command line.
   *
   * @default {Deno.args}
   */
  readonly args?: readonly string[];
  /** Whether nothing but the result goes to stdout; decided from the parsed options. */
  readonly quiet?: (args: ParsedArgs) => boolean;
  /**
   * Starts the command; once it resolves, the command runs until a stop is requested.
   */
  readonly main: (context: CliContext) => Promise<void>;
  /**
   * How long cleanups may take before the process exits anyway.
   *
   * @default {20000}
   */
  readonly cleanupTimeoutMs?: number;
}

const encoder = new TextEncoder();

function write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  try {
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
  } catch {
    // A closed terminal or pipe (the launcher went away): nothing to tell anyone.
  }
}

/** Prints a line on stderr; never throws. */
export function printError(line: string): void {
  write(Deno.stderr, `${line}\n`);
}

function printOut(line: string): void {
  write(Deno.stdout, `${line}\n`);
}

const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * How a failure is reported: a {@linkcode CliError} as its one line (plus the usage when asked),
 * anything else as a bug with its stack and a request to report it.
 *
 * @param error What was thrown.
 * @param spec The command, for the usage line.
 * @returns The lines for stderr and the exit code.
 */
export function formatFailure(
  error: unknown,
  spec: CommandSpec,
): { readonly lines: string[]; readonly exitCode: ExitCode } {
  if (error instanceof CliError) {
    const lines = [error.message];
    if (error.showUsage) lines.push(formatUsage(spec));
    return { lines, exitCode: error.exitCode };
  }
  const text = error instanceof Error ? error.stack ?? String(error) : String(error);
  return {
    lines: [
      `Unexpected error: ${text}`,
      "This is a bug in Browser Relay: please report it with the output above",
    ],
    exitCode: ExitCode.Bug,
  };
}

function reportFailure(error: unknown, spec: CommandSpec): ExitCode {
  const { lines, exitCode } = formatFailure(error, spec);
  for (const line of lines) printError(line);
  return exitCode;
}

/**
 * Runs a command: parses the options (`--help` prints the help), calls `main`, then waits for a
 * stop request (SIGINT, SIGTERM, SIGHUP, the launcher going away, or `requestStop`), runs the
 * cleanups and exits with the documented code.
 *
 * @param options The command and its `main`.
 * @returns Never: the process exits.
 */
export async function runCli(options: RunCliOptions): Promise<never> {
  const { spec } = options;
  let args: ParsedArgs;
  try {
    args = parseCliArgs(options.args ?? Deno.args, spec);
  } catch (error) {
    Deno.exit(reportFailure(error, spec));
  }
  if (args.flag("help")) {
    printOut(formatHelp(spec));
    Deno.exit(ExitCode.Ok);
  }
  const quiet = options.quiet?.(args) ?? false;

  const controller = new AbortController();
  let exitCode: ExitCode = ExitCode.Ok;
  const stopped = Promise.withResolvers<string>();
  const requestStop = (why: string, code: ExitCode = ExitCode.Ok) => {
    if (controller.signal.aborted) return;
    exitCode = code;
    controller.abort(new StopRequested(why));
    stopped.resolve(why);
  };
  const onSignal: Record<string, () => void> = {};
  if (Deno.build.os !== "windows") {
    for (const name of STOP_SIGNALS) {
      onSignal[name] = () => requestStop(`received ${name}`);
      Deno.addSignalListener(name, onSignal[name]);
    }
  } else {
    onSignal.SIGINT = () => requestStop("received SIGINT");
    Deno.addSignalListener("SIGINT", onSignal.SIGINT);
  }
  const watch = watchLauncher((why) => requestStop(why));

  const cleanups: (() => Promise<void> | void)[] = [];
  const stopRejection = stopped.promise.then((why) => Promise.reject(new StopRequested(why)));
  stopRejection.catch(() => {});
  const context: CliContext = {
    args,
    signal: controller.signal,
    info: (line) => {
      if (!quiet) printOut(line);
    },
    result: printOut,
    warn: printError,
    defer: (cleanup) => void cleanups.push(cleanup),
    step<T>(promise: Promise<T>): Promise<T> {
      promise.catch(() => {});
      return Promise.race([promise, stopRejection]);
    },
    requestStop,
  };

  try {
    await options.main(context);
    await stopped.promise;
  } catch (error) {
    if (!(error instanceof StopRequested)) {
      exitCode = reportFailure(error, spec);
      controller.abort(error);
    }
  }
  if (controller.signal.reason instanceof StopRequested) {
    context.info(`Stopping (${String(await stopped.promise)})`);
  }
  watch.close();

  // Cleanups run even when the process was asked to stop again meanwhile; a stuck one must not
  // keep the port and the browser forever, hence the deadline.
  const deadline = Promise.withResolvers<"timeout">();
  const timer = setTimeout(() => deadline.resolve("timeout"), options.cleanupTimeoutMs ?? 20_000);
  const cleaned = (async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        printError(`Cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return "done" as const;
  })();
  if (await Promise.race([cleaned, deadline.promise]) === "timeout") {
    printError("Cleanup did not finish in time: some processes or files may be left behind");
  }
  clearTimeout(timer);
  for (const [name, listener] of Object.entries(onSignal)) {
    Deno.removeSignalListener(name as Deno.Signal, listener);
  }
  Deno.exit(exitCode);
}
