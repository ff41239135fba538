/**
 * `deno run -A bench/load_bench.ts`: the issue-14 load tests against a relay in its own
 * process, with that process's RSS before, at the peak and after each test. Prints one line per
 * test; `--json` adds the raw numbers. The README ("Reliability and security") quotes them.
 *
 * Tests: 2,000 idle sockets; 1,000 slowloris sockets (a header line a second); a 200 MiB frame
 * announced on `/extension` before the handshake; 100,000 commands while the extension is away;
 * a 255 MiB `/cdp` frame while `/json/version` is polled every 20 ms.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { WebSocket } from "ws";
import { FakeExtension } from "../harness/fake_extension.ts";
import { TestSocket } from "../harness/test_socket.ts";

const TOKEN = "bench-gateway-token";
const MIB = 1024 * 1024;

interface Relay {
  readonly port: number;
  readonly relayToken: string;
  readonly child: Deno.ChildProcess;
}

async function spawnRelay(options: Record<string, number | boolean> = {}): Promise<Relay> {
  const script = new URL("../harness/relay_process.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      // As `deno task relay` runs it: the relay collects once after large frames.
      "--v8-flags=--expose-gc",
      script,
      TOKEN,
      JSON.stringify(options),
    ],
    // As `deno task relay` runs it: glibc maps buffers of 64 KiB and more on their own, so
    // freed socket chunks go back to the OS at once instead of staying in a fragmented heap.
    env: { MALLOC_MMAP_THRESHOLD_: "65536" },
    stdin: "piped",
    stdout: "piped",
    stderr: Deno.env.get("BENCH_RELAY_LOG") === undefined ? "null" : "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Relay process exited before listening");
    text += value;
  }
  reader.releaseLock();
  const { port, relayToken } = JSON.parse(text.slice(0, text.indexOf("\n"))) as {
    port: number;
    relayToken: string;
  };
  return { port, relayToken, child };
}

async function stopRelay(relay: Relay): Promise<void> {
  await relay.child.stdin.close();
  await relay.child.status;
}

async function rssOf(relay: Relay): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${relay.child.pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Samples the relay's RSS every 50 ms while `work` runs; returns the peak. */
async function peakRss(relay: Relay, work: () => Promise<void>): Promise<number> {
  let peak = await rssOf(relay);
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, await rssOf(relay).catch(() => 0));
      await sleep(50);
    }
  })();
  try {
    await work();
  } finally {
    done = true;
    await sampler;
  }
  return peak;
}

/** `/json/version` on a fresh connection; its latency in ms, or Infinity without an answer. */
async function versionLatency(relay: Relay, timeoutMs = 10_000): Promise<number> {
  const start = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.port });
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET /json/version HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\n` +
          `x-openclaw-relay-token: ${relay.relayToken}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const buffer = new Uint8Array(4096);
    let text = "";
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    conn.close();
    return text.startsWith("HTTP/1.1 200") ? performance.now() - start : Infinity;
  } catch {
    return Infinity;
  } finally {
    clearTimeout(timer);
  }
}

/** Opens `count` raw sockets; resolves each socket's `ended` when the relay closes it. */
async function openSockets(
  relay: Relay,
  count: number,
): Promise<{ conn: Deno.TcpConn; ended: Promise<number> }[]> {
  const sockets = [];
  for (let i = 0; i < count; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.port });
    const ended = (async () => {
      const buffer = new Uint8Array(1024);
      try {
        while ((await conn.read(buffer)) !== null) { /* drain */ }
      } catch { /* reset or closed by us */ }
      return performance.now();
    })();
    sockets.push({ conn, ended });
  }
  return sockets;
}

function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

interface Row {
  readonly test: string;
  readonly result: string;
  readonly rss: { readonly idle: number; readonly peak: number; readonly after: number };
  /** Seconds from the end of the test until RSS was within 64 MiB of idle; -1 if never. */
  readonly settledS: number;
}

/**
 * Runs one test on a fresh relay process. "After" is the relay's RSS once it is within 64 MiB
 * of its idle baseline again, polled every 500 ms for at most `maxSettleMs` (the allocator
 * hands freed pages back to the OS lazily, up to about 35 s after a 255 MiB frame).
 */
async function measure(
  test: string,
  options: Record<string, number | boolean>,
  body: (relay: Relay) => Promise<string>,
  maxSettleMs: number,
): Promise<Row> {
  const relay = await spawnRelay(options);
  try {
    await versionLatency(relay);
    await sleep(300);
    const idle = await rssOf(relay);
    let result = "";
    const peak = await peakRss(relay, async () => {
      result = await body(relay);
    });
    const ended = performance.now();
    let after = await rssOf(relay);
    while (after > idle + 64 * MIB && performance.now() - ended < maxSettleMs) {
      await sleep(500);
      after = await rssOf(relay);
    }
    const settledS = after <= idle + 64 * MIB ? (performance.now() - ended) / 1000 : -1;
    return { test, result, rss: { idle, peak, after }, settledS };
  } finally {
    await stopRelay(relay);
  }
}

async function idleFlood(relay: Relay): Promise<string> {
  const start = performance.now();
  const sockets = await openSockets(relay, 2_000);
  let closed = 0;
  for (const s of sockets) void s.ended.then(() => closed++);
  await sleep(500);
  const heldAfterFlood = sockets.length - closed;
  const latency = await versionLatency(relay);
  // The rest go at the header timeout (10 s).
  const all = await Promise.all(sockets.map((s) => s.ended));
  const lastClosedS = (Math.max(...all) - start) / 1000;
  for (const s of sockets) closeQuietly(s.conn);
  return `2000 idle sockets: ${heldAfterFlood} held after the flood (the rest shed), ` +
    `/json/version during it ${latency.toFixed(1)} ms, all closed by ${lastClosedS.toFixed(1)} s`;
}

async function slowloris(relay: Relay): Promise<string> {
  const start = performance.now();
  const sockets = await openSockets(relay, 1_000);
  const line = new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\n`);
  const header = new TextEncoder().encode("X-Slow: 1\r\n");
  await Promise.all(sockets.map((s) => s.conn.write(line).catch(() => 0)));
  let open = sockets.length;
  const alive = sockets.map(() => true);
  sockets.forEach((s, i) => void s.ended.then(() => (alive[i] = false)));
  while (open > 0 && performance.now() - start < 65_000) {
    await sleep(1_000);
    await Promise.all(sockets.map((s, i) => alive[i] ? s.conn.write(header).catch(() => 0) : 0));
    open = alive.filter(Boolean).length;
  }
  const lastClosedS = (Math.max(...await Promise.all(sockets.map((s) => s.ended))) - start) / 1000;
  const latency = await versionLatency(relay);
  for (const s of sockets) closeQuietly(s.conn);
  return `1000 sockets, one header line a second: all closed by ${
    lastClosedS.toFixed(1)
  } s (was held 65 s); /json/version after ${latency.toFixed(1)} ms`;
}

async function preauthFrame(relay: Relay): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.port });
  await conn.write(
    new TextEncoder().encode(
      `GET /extension?token=${relay.relayToken} HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\n` +
        "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ),
  );
  await sleep(200);
  const header = new Uint8Array(14);
  header[0] = 0x81;
  header[1] = 0x80 | 127;
  new DataView(header.buffer).setBigUint64(2, BigInt(200 * MIB));
  header.set([1, 2, 3, 4], 10);
  let sent = 0;
  const chunk = new Uint8Array(MIB);
  try {
    await conn.write(header);
    while (sent < 200 * MIB) {
      sent += await conn.write(chunk);
    }
  } catch { /* the relay closed the socket */ }
  closeQuietly(conn);
  return `200 MiB frame announced before the handshake: closed with 1009 after ${
    (sent / MIB).toFixed(1)
  } MiB had been written`;
}

async function heldFlood(relay: Relay): Promise<string> {
  const url = `http://127.0.0.1:${relay.port}`;
  const ext = await FakeExtension.connect({ url, token: TOKEN });
  ext.announce("cb-tab-1", { targetId: "T1", url: "https://example.com/", title: "Example" });
  await sleep(200);
  const client = await TestSocket.open(`ws://127.0.0.1:${relay.port}/cdp`, {
    headers: { "x-openclaw-relay-token": relay.relayToken },
  });
  await ext.close();
  await sleep(200);
  const count = 100_000;
  const params = { expression: "x".repeat(4_000) };
  for (let id = 1; id <= count; id++) {
    client.send({ id, method: "Runtime.evaluate", sessionId: "cb-tab-1", params });
    if (id % 1_000 === 0) await sleep(0);
  }
  const start = performance.now();
  while (client.received.length < count - 1_000 && performance.now() - start < 60_000) {
    await sleep(50);
  }
  const messages = client.received.map((f) =>
    String((f.error as { message?: unknown } | undefined)?.message ?? "")
  );
  const full = messages.filter((m) => m.includes("held queue is full")).length;
  const away = messages.filter((m) => m === "Extension not connected").length;
  await client.close();
  // The rest were held when the test ended; they fail when the grace period ends. Commands sent
  // after it ended (a slow sender on a loaded machine) fail "Extension not connected" at once.
  return `${count} commands (4 KB each) while the extension is away: ${full} refused at once ` +
    `with "held queue is full", ${away} failed "Extension not connected", ` +
    `${count - full - away} held at the end (at most 1000)`;
}

/**
 * A 255 MiB `/cdp` frame with no extension connected, so the relay's own cost is measured:
 * receive, UTF-8 decode and `JSON.parse` on its one thread, then a short error reply. The bench
 * process only sends and polls meanwhile (a fake extension parsing the forwarded copy would
 * block this process's poller, not the relay's).
 */
async function bigCdpFrame(relay: Relay): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/cdp`, {
    headers: { "x-openclaw-relay-token": relay.relayToken },
  });
  await new Promise((resolve) => ws.once("open", resolve));
  const size = 255 * MIB;
  const prefix = '{"id":1,"method":"Page.setDocumentContent","params":{"frameId":"F","html":"';
  const frame = Buffer.alloc(size, 0x41);
  frame.write(prefix, 0);
  frame.write('"}}', size - 3);
  const replied = new Promise<number>((resolve) =>
    ws.once("message", () => resolve(performance.now()))
  );
  const latencies: number[] = [];
  let polling = true;
  const sent = performance.now();
  ws.send(frame, { binary: false });
  const poller = (async () => {
    while (polling) {
      latencies.push(await versionLatency(relay));
      await sleep(20);
    }
  })();
  const repliedAt = await replied;
  await sleep(200);
  polling = false;
  await poller;
  await new Promise((resolve) => {
    ws.once("close", resolve);
    ws.close();
  });
  const worst = Math.max(...latencies);
  return `255 MiB /cdp frame, no extension: reply after ${
    ((repliedAt - sent) / 1000).toFixed(1)
  } s; /json/version polled every 20 ms meanwhile: worst ${worst.toFixed(0)} ms`;
}

const rows: Row[] = [];
// The longest wait for RSS to come back, per test: the held commands are released when the
// grace period (20 s) ends.
const tests: [
  string,
  Record<string, number | boolean>,
  (relay: Relay) => Promise<string>,
  number,
][] = [
  ["idle sockets", {}, idleFlood, 60_000],
  ["slowloris", {}, slowloris, 60_000],
  ["pre-handshake frame", {}, preauthFrame, 60_000],
  ["held commands", {}, heldFlood, 60_000],
  ["255 MiB /cdp frame", {}, bigCdpFrame, 60_000],
];
const only = Deno.args.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
for (const [name, options, body, settleMs] of tests) {
  if (only !== undefined && !only.split(",").includes(name)) continue;
  const row = await measure(name, options, body, settleMs);
  rows.push(row);
  const mib = (n: number) => (n / MIB).toFixed(0);
  console.log(
    `${row.test}: ${row.result}; relay RSS idle ${mib(row.rss.idle)} MiB, peak ${
      mib(row.rss.peak)
    } MiB, after ${mib(row.rss.after)} MiB (${
      row.settledS < 0 ? "not" : `${row.settledS.toFixed(1)} s`
    } to within 64 MiB of idle)`,
  );
}
if (Deno.args.includes("--json")) console.log(JSON.stringify(rows));
