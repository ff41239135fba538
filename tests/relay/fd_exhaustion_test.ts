// Issue 14 defect 1: a relay that ran out of file descriptors once must keep accepting. Deno's
// accept loop stops for good on EMFILE, so the relay runs in a subprocess under a low
// `ulimit -n`, is flooded with more idle sockets than the limit, and must still answer
// `/json/version` once they are closed; its RSS must come back near the idle baseline. Needs
// --allow-run (test:e2e runs it); ignored otherwise.

import assert from "node:assert/strict";
import { TOKEN } from "./_helpers.ts";

const canRun = (await Deno.permissions.query({ name: "run" })).state === "granted" &&
  Deno.build.os === "linux";

const FD_LIMIT = 256;
const FLOOD = 400;
const MIB = 1024 * 1024;

interface RelayProcess {
  readonly port: number;
  readonly child: Deno.ChildProcess;
  readonly stderr: Promise<string>;
}

async function spawnRelay(): Promise<RelayProcess> {
  const script = new URL("../../harness/relay_process.ts", import.meta.url).pathname;
  const child = new Deno.Command("bash", {
    args: [
      "-c",
      `ulimit -n ${FD_LIMIT} && exec "$0" run --allow-net --allow-read --allow-env "$1" "$2"`,
      Deno.execPath(),
      script,
      TOKEN,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Relay process exited before listening: ${await stderr}`);
    text += value;
  }
  reader.releaseLock();
  const { port } = JSON.parse(text.slice(0, text.indexOf("\n"))) as { port: number };
  return { port, child, stderr };
}

async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

/**
 * `/json/version` on a new connection (no pooled keep-alive socket: those kept working on the
 * old relay), with a real-time deadline: on the old relay it is never answered.
 */
async function jsonVersion(port: number, timeoutMs: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), timeoutMs);
  let text = "";
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET /json/version HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          `x-openclaw-relay-token: ${TOKEN}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    conn.close();
  } catch {
    // Closed by the deadline.
  } finally {
    clearTimeout(timer);
  }
  return text.split("\r\n")[0] || `no answer within ${timeoutMs} ms`;
}

Deno.test({
  name: "startRelay() keeps accepting after more idle sockets than its open-file limit",
  ignore: !canRun,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const relay = await spawnRelay();
  const sockets: Deno.TcpConn[] = [];
  try {
    assert.equal(await jsonVersion(relay.port, 5_000), "HTTP/1.1 200 OK");
    const baseline = await rssOf(relay.child.pid);
    for (let i = 0; i < FLOOD; i++) {
      sockets.push(await Deno.connect({ hostname: "127.0.0.1", port: relay.port }));
    }
    // Let the relay accept (and shed) what it can.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const peak = await rssOf(relay.child.pid);
    for (const socket of sockets.splice(0)) socket.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Before the guard the accept loop had died here, and this never answered.
    assert.equal(await jsonVersion(relay.port, 5_000), "HTTP/1.1 200 OK");
    const after = await rssOf(relay.child.pid);
    console.log(
      `fd flood: ${FLOOD} sockets under ulimit -n ${FD_LIMIT}; relay RSS idle ${
        (baseline / MIB).toFixed(1)
      } MiB, peak ${(peak / MIB).toFixed(1)} MiB, after ${(after / MIB).toFixed(1)} MiB`,
    );
    assert.ok(after - baseline < 64 * MIB, `RSS grew by ${(after - baseline) / MIB} MiB`);
  } finally {
    for (const socket of sockets) socket.close();
    await relay.child.stdin.close();
    await relay.child.status;
    const log = await relay.stderr;
    if (Deno.env.get("RELAY_TEST_LOG") !== undefined) console.log(log);
  }
});
