/**
 * A relay in its own process, for tests and benchmarks that need process-wide conditions (a
 * low `ulimit -n`) or the relay's own RSS: it listens on a free port, prints `{"port":N}` on
 * one line, logs to stderr, and stops when its stdin closes.
 *
 * Usage: `deno run --allow-net --allow-read --allow-env harness/relay_process.ts TOKEN
 * [OPTIONS_JSON]`, where `OPTIONS_JSON` holds extra numeric or boolean `RelayOptions`.
 *
 * @module
 */

import { type RelayOptions, startRelay } from "../relay/server.ts";

const [token = "", extra = "{}"] = Deno.args;
const options = JSON.parse(extra) as Partial<RelayOptions>;
const relay = await startRelay({
  ...options,
  token,
  port: 0,
  log: (line) => console.error(`[relay] ${line}`),
});
console.log(JSON.stringify({ port: relay.port, relayToken: relay.relayToken }));
// Returns at EOF: the parent closed stdin (or died).
for await (const _chunk of Deno.stdin.readable) {
  // Nothing to read; the loop only waits for the end.
}
await relay.close();
