/**
 * Validation of the option values both commands share: one-line errors, exit code 2.
 *
 * @module
 */

import { CliError } from "./cli_error.ts";
import { ExitCode } from "./exit_code.ts";

/**
 * Parses `--port`: an integer from 0 (any free port) to 65535.
 *
 * @param value The option's value, if given.
 * @param fallback The default port.
 * @returns The port.
 * @throws {CliError} If the value is not such an integer.
 */
export function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port > 65_535) {
    throw new CliError(
      `Option "--port" must be an integer from 0 to 65535 (0 picks a free port): current value is "${value}"`,
      ExitCode.Usage,
    );
  }
  return port;
}

/**
 * Checks `--token`: given means non-blank.
 *
 * @param value The option's value, if given.
 * @returns The value, trimmed, or `undefined` when not given.
 * @throws {CliError} If the value is empty or only whitespace.
 */
export function parseTokenFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === "") {
    throw new CliError(
      'Option "--token" is empty: pass the gateway token, or leave the option out to use BROWSER_RELAY_TOKEN or the stored token',
      ExitCode.Usage,
    );
  }
  return value.trim();
}

const URL_SCHEMES = ["http:", "https:", "file:", "data:", "about:"];

/**
 * Checks `--url`: an absolute http, https, file, data or about URL.
 *
 * @param value The option's value, if given.
 * @returns The URL as given, or `undefined` when not given.
 * @throws {CliError} If the value is not such a URL.
 */
export function parseStartUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(
      `Option "--url" must be an absolute URL such as "https://example.com": current value is "${value}"`,
      ExitCode.Usage,
    );
  }
  if (!URL_SCHEMES.includes(url.protocol)) {
    throw new CliError(
      `Option "--url" must be an http, https, file, data or about URL: current value is "${value}"`,
      ExitCode.Usage,
    );
  }
  return value;
}
