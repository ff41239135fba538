/**
 * Turns the relay's listen failures (`EADDRINUSE`, `ENOTFOUND`, …) into one-line messages.
 *
 * @module
 */

import { CliError } from "./cli_error.ts";
import { ExitCode } from "./exit_code.ts";
import { findPortOwner, type PortOwner } from "./find_port_owner.ts";

/** Options of {@linkcode describeListenError}. */
export interface DescribeListenErrorOptions {
  /**
   * Finds the process holding a port.
   *
   * @default {findPortOwner}
   */
  readonly findOwner?: (port: number) => Promise<PortOwner | undefined>;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

/**
 * Describes why the relay could not listen on `host`:`port`.
 *
 * @param error What `startRelay()` threw.
 * @param address The requested host and port.
 * @param options How to find the process holding the port.
 * @returns A {@linkcode CliError}, or `undefined` when the error is not a known listen failure.
 */
export async function describeListenError(
  error: unknown,
  address: { readonly host: string; readonly port: number },
  options: DescribeListenErrorOptions = {},
): Promise<CliError | undefined> {
  const { host, port } = address;
  const cause = { cause: error };
  switch (codeOf(error)) {
    case "EADDRINUSE": {
      const owner = await (options.findOwner ?? findPortOwner)(port).catch(() => undefined);
      const by = owner === undefined ? "" : ` by process ${owner.pid} "${owner.command}"`;
      const stop = owner === undefined ? "stop the process holding it" : "stop that process";
      return new CliError(
        `Port ${port} on ${host} is already in use${by}: ${stop}, or pass --port with another port (--port 0 picks a free one)`,
        ExitCode.PortUnavailable,
        cause,
      );
    }
    case "EACCES":
      return new CliError(
        `Port ${port} on ${host} needs privileges to listen on: pass --port with a port above 1023`,
        ExitCode.PortUnavailable,
        cause,
      );
    case "EADDRNOTAVAIL":
    case "EINVAL":
      return new CliError(
        `Host "${host}" is not an address of this machine: pass --host with a local address, such as 127.0.0.1`,
        ExitCode.PortUnavailable,
        cause,
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
    case "EAI_FAIL":
      return new CliError(
        `Host "${host}" cannot be resolved: pass --host with an address of this machine, such as 127.0.0.1`,
        ExitCode.HostUnresolved,
        cause,
      );
    default:
      return undefined;
  }
}
