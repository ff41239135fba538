/**
 * The exit codes of `deno task start` and `deno task relay`, documented in `--help` and the
 * README.
 *
 * @module
 */

/** Exit codes shared by both commands. */
export const ExitCode = Object.freeze({
  /** Stopped on request (SIGINT, SIGTERM, SIGHUP, the browser window closed, the launcher exited) or `--help`. */
  Ok: 0,
  /** An unexpected error: a bug, printed with its stack and a request to report it. */
  Bug: 1,
  /** Unknown option, missing or invalid value. */
  Usage: 2,
  /** The port is in use, needs privileges, or the host is not an address of this machine. */
  PortUnavailable: 3,
  /** `--host` cannot be resolved. */
  HostUnresolved: 4,
  /** No browser found, or `--browser`/`CHROME_PATH` is missing or not executable. */
  BrowserNotFound: 5,
  /** The extension build failed. */
  BuildFailed: 6,
  /** No screen for a window, Chromium failed to launch, or Chromium exited on its own. */
  BrowserFailed: 7,
  /** The token file cannot be read or written. */
  TokenStore: 8,
});

/** One of {@linkcode ExitCode}'s values. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/** What each exit code means, in `--help` order. */
export const EXIT_CODE_MEANINGS: readonly (readonly [ExitCode, string])[] = [
  [ExitCode.Ok, "stopped on request (Ctrl-C, SIGTERM, SIGHUP, browser closed, launcher gone)"],
  [ExitCode.Bug, "unexpected error: a bug, please report it"],
  [ExitCode.Usage, "unknown option, missing or invalid value"],
  [ExitCode.PortUnavailable, "port in use or not allowed, or host not an address of this machine"],
  [ExitCode.HostUnresolved, "host name cannot be resolved"],
  [ExitCode.BrowserNotFound, "no browser, or --browser/CHROME_PATH missing or not executable"],
  [ExitCode.BuildFailed, "the extension build failed"],
  [
    ExitCode.BrowserFailed,
    "Chromium cannot start (no screen, launch failure) or exited on its own",
  ],
  [ExitCode.TokenStore, "the token file cannot be read or written"],
];
