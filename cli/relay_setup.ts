/**
 * The relay start-up steps both commands share, with their failures as one-line errors.
 *
 * @module
 */

import { type RelayOptions, type RelayServer, startRelay } from "../relay/server.ts";
import { type ResolvedToken, resolveGatewayToken } from "../relay/token_store.ts";
import { CliError } from "./cli_error.ts";
import { describeListenError } from "./describe_listen_error.ts";
import { ExitCode } from "./exit_code.ts";

/**
 * Picks the gateway token: `--token`, else `BROWSER_RELAY_TOKEN`, else the stored token.
 *
 * @param flag The checked `--token` value, if given.
 * @returns The token and where it came from.
 * @throws {CliError} If `BROWSER_RELAY_TOKEN` is only whitespace, or the token file cannot be
 * read or written.
 */
export async function resolveCliToken(flag: string | undefined): Promise<ResolvedToken> {
  const env = Deno.env.get("BROWSER_RELAY_TOKEN");
  if (flag === undefined && env !== undefined && env !== "" && env.trim() === "") {
    throw new CliError(
      "BROWSER_RELAY_TOKEN holds only whitespace: set it to the gateway token or unset it",
      ExitCode.Usage,
    );
  }
  try {
    return await resolveGatewayToken(flag);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new CliError(
      `Cannot read or create the stored token (${detail}): pass --token or set BROWSER_RELAY_TOKEN`,
      ExitCode.TokenStore,
      { cause: error },
    );
  }
}

/**
 * Starts the relay; a port in use, a port that needs privileges or a host that is not local or
 * cannot be resolved becomes a one-line {@linkcode CliError}.
 *
 * @param options The relay's options, with the host and port to report.
 * @returns The running relay.
 * @throws {CliError} On a known listen failure.
 */
export async function startCliRelay(
  options: RelayOptions & { readonly host: string; readonly port: number },
): Promise<RelayServer> {
  try {
    return await startRelay(options);
  } catch (error) {
    throw await describeListenError(error, options) ?? error;
  }
}
