/**
 * A relay in its own process for tests that need process-wide conditions, such as a low
 * `ulimit -n`: it listens on a free port, prints `{"port":N}` on one line, and stops when its
 * stdin closes.
 *
 * @module
 */

import { startRelay } from "../../relay/server.ts";
import { TOKEN } from "./_helpers.ts";

const relay = await startRelay({
  token: TOKEN,
  port: 0,
  log: (line) => console.error(`[relay] ${line}`),
});
console.log(JSON.stringify({ port: relay.port }));
// Returns at EOF: the test closed stdin (or died).
for await (const _chunk of Deno.stdin.readable) {
  // Nothing to read; the loop only waits for the end.
}
await relay.close();
