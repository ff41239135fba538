/**
 * CLI of the relay: `deno task relay [--port N] [--host H] [--token T] [--legacy]`.
 *
 * The gateway token comes from `--token`, `BROWSER_RELAY_TOKEN`, or the token file (generated
 * once, mode 0600). It is printed once at start, with how to paste it into the options page,
 * and never logged afterwards.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { DEFAULT_RELAY_PORT } from "../codec/limits.ts";
import { startRelay } from "./server.ts";
import { resolveGatewayToken } from "./token_store.ts";

function usage(): string {
  return [
    "Usage: deno task relay [--port 18792] [--host 127.0.0.1] [--token TOKEN] [--legacy]",
    "",
    "The token comes from --token, BROWSER_RELAY_TOKEN, or ~/.config/browser-relay/token.",
  ].join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      token: { type: "string" },
      legacy: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(usage());
    return 0;
  }
  const port = values.port === undefined ? DEFAULT_RELAY_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    console.error(
      `Cannot start relay as "port" must be between 1 and 65535: current value is ${values.port}`,
    );
    return 2;
  }
  const host = values.host ?? "127.0.0.1";
  const { token, source } = await resolveGatewayToken(values.token);

  const relay = await startRelay({
    token,
    host,
    port,
    legacy: values.legacy === true,
    log: (line) => console.log(`[relay] ${line}`),
  });
  console.log(
    `Browser Relay ${values.legacy === true ? "(legacy mode) " : ""}listening on ${relay.url}`,
  );
  console.log(`Gateway token (from ${source}):`);
  console.log(`  ${token}`);
  console.log(
    `Paste it into the extension's options page ("Gateway token"), with relay port ${relay.port}.`,
  );
  console.log(`CDP endpoint for Playwright/Puppeteer: ${relay.url}`);
  console.log(`  send the header "x-openclaw-relay-token: <relay token or gateway token>"`);

  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  await stopped.promise;
  Deno.removeSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.removeSignalListener("SIGTERM", stop);
  console.log("Stopping relay");
  await relay.close();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
