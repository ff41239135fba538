/**
 * Relay-alone benchmark: the relay's own cost per command, without Chromium.
 *
 * The relay runs in this process; a child process holds a minimal fake extension (answers every
 * `forwardCDPCommand` at once), one raw CDP client through the relay, and a direct CDP echo
 * server with the same answers (one WebSocket hop instead of two, no relay). The child measures
 * both paths interleaved, so load drift hits both equally:
 * - sequential `Runtime.evaluate("1")` round trips, p50 and p95;
 * - throughput with 16 commands in flight from one client;
 * - throughput with 4 clients of 16 in flight each.
 *
 * Run with `deno run -A bench/relay_bench.ts [--calls=N] [--seconds=S]`. Only loopback is used.
 *
 * @module
 */

import { startRelay } from "../relay/server.ts";
import { percentile } from "./stats.ts";

const TOKEN = "bench-gateway-token";
const RESULT = '{"result":{"type":"number","value":1,"description":"1"}}';
const COMMAND = (id: number, sessionId: string | undefined) =>
  `{"id":${id},"method":"Runtime.evaluate","params":{"expression":"1"}${
    sessionId === undefined ? "" : `,"sessionId":"${sessionId}"`
  }}`;

function flag(name: string, fallback: number): number {
  const arg = Deno.args.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : Number(arg.slice(name.length + 3));
}

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`Cannot open ${url}`));
  });
}

/** A CDP client that only matches reply ids. */
class Client {
  readonly #ws: WebSocket;
  readonly #waiting = new Map<number, () => void>();
  #next = 0;
  constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const frame = JSON.parse(String(e.data)) as { id?: number };
      if (frame.id === undefined) return;
      const done = this.#waiting.get(frame.id);
      this.#waiting.delete(frame.id);
      done?.();
    };
  }
  call(sessionId: string | undefined): Promise<void> {
    const id = ++this.#next;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiting.set(id, resolve);
    this.#ws.send(COMMAND(id, sessionId));
    return promise;
  }
  close(): void {
    this.#ws.close();
  }
}

async function sequential(client: Client, sessionId: string | undefined, n: number) {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await client.call(sessionId);
    samples.push(performance.now() - start);
  }
  return samples;
}

/** Commands per second with `depth` in flight on each client, for `ms`. */
async function throughput(
  clients: readonly Client[],
  sessionId: string | undefined,
  depth: number,
  ms: number,
): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  const lane = async (client: Client) => {
    while (performance.now() < end) {
      await client.call(sessionId);
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(clients.flatMap((client) => Array.from({ length: depth }, () => lane(client))));
  return done / (performance.now() - start) * 1000;
}

async function peer(relayPort: number, relayToken: string): Promise<void> {
  const calls = flag("calls", 2000);
  const seconds = flag("seconds", 2);
  // Direct: a CDP endpoint answering at once, one hop.
  const direct = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => {
      const text = String(e.data);
      const id = /^\{"id":(\d+)/.exec(text)?.[1];
      socket.send(`{"id":${id},${RESULT.slice(1)}`);
    };
    return response;
  });
  // The fake extension: handshake, announce, answer every command at once.
  const ext = await open(`ws://127.0.0.1:${relayPort}/extension?token=${relayToken}`);
  const ready = Promise.withResolvers<void>();
  ext.onmessage = (e) => {
    const text = String(e.data);
    if (text.startsWith('{"id":')) {
      const id = /^\{"id":(\d+)/.exec(text)?.[1];
      ext.send(`{"id":${id},${RESULT.slice(1)}`);
      return;
    }
    const frame = JSON.parse(text) as { type?: string; event?: string; method?: string };
    if (frame.type === "event" && frame.event === "connect.challenge") {
      ext.send(JSON.stringify({
        type: "req",
        id: "bench-connect",
        method: "connect",
        params: {
          minProtocol: 3,
          maxProtocol: 3,
          client: { id: "webchat-ui", version: "0.1.0", platform: "bench", mode: "webchat" },
          role: "operator",
          scopes: [],
          caps: [],
          commands: [],
          auth: { token: TOKEN },
        },
      }));
    } else if (frame.type === "res") {
      ext.send(JSON.stringify({
        method: "forwardCDPEvent",
        params: {
          method: "Target.attachedToTarget",
          params: {
            sessionId: "bench-tab",
            targetInfo: { targetId: "BENCH0", type: "page", title: "", url: "about:blank" },
            waitingForDebugger: false,
          },
        },
      }));
      ready.resolve();
    } else if (frame.method === "ping") {
      ext.send('{"method":"pong"}');
    }
  };
  await ready.promise;
  const relayUrl = `ws://127.0.0.1:${relayPort}/cdp?token=${relayToken}`;
  const directUrl = `ws://127.0.0.1:${direct.addr.port}/`;
  const relayClients = await Promise.all(
    [0, 1, 2, 3].map(async () => new Client(await open(relayUrl))),
  );
  const directClients = await Promise.all(
    [0, 1, 2, 3].map(async () => new Client(await open(directUrl))),
  );
  const [relay] = relayClients as [Client];
  const [plain] = directClients as [Client];
  await sequential(relay, "bench-tab", 200);
  await sequential(plain, undefined, 200);
  const r: number[] = [];
  const d: number[] = [];
  for (let doneCalls = 0; doneCalls < calls; doneCalls += 250) {
    r.push(...await sequential(relay, "bench-tab", 250));
    d.push(...await sequential(plain, undefined, 250));
  }
  const ms = seconds * 1000 / 2;
  const t16 = { relay: 0, direct: 0 };
  const t4x16 = { relay: 0, direct: 0 };
  for (let round = 0; round < 2; round++) {
    t16.relay += await throughput([relay], "bench-tab", 16, ms) / 2;
    t16.direct += await throughput([plain], undefined, 16, ms) / 2;
    t4x16.relay += await throughput(relayClients, "bench-tab", 16, ms) / 2;
    t4x16.direct += await throughput(directClients, undefined, 16, ms) / 2;
  }
  console.log(JSON.stringify({
    sequential: {
      relay: { p50: percentile(r, 50), p95: percentile(r, 95) },
      direct: { p50: percentile(d, 50), p95: percentile(d, 95) },
    },
    inFlight16: t16,
    clients4x16: t4x16,
  }));
  for (const client of [...relayClients, ...directClients]) client.close();
  ext.close();
  await direct.shutdown();
}

if (import.meta.main) {
  const peerArg = Deno.args.indexOf("--peer");
  if (peerArg >= 0) {
    await peer(Number(Deno.args[peerArg + 1]), String(Deno.args[peerArg + 2]));
    Deno.exit(0);
  }
  const relay = await startRelay({ token: TOKEN, port: 0 });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--peer",
      String(relay.port),
      relay.relayToken,
      ...Deno.args,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const output = await child;
  await relay.close();
  const result = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    sequential: { relay: { p50: number; p95: number }; direct: { p50: number; p95: number } };
    inFlight16: { relay: number; direct: number };
    clients4x16: { relay: number; direct: number };
  };
  const f = (n: number) => n.toFixed(3);
  const s = result.sequential;
  console.log(
    `sequential Runtime.evaluate p50 (p95): relay ${f(s.relay.p50)} (${f(s.relay.p95)}) ms, ` +
      `direct ${f(s.direct.p50)} (${f(s.direct.p95)}) ms, relay share ${
        f(s.relay.p50 - s.direct.p50)
      } ms`,
  );
  for (
    const [label, t] of [["16 in flight", result.inFlight16], [
      "4 × 16",
      result.clients4x16,
    ]] as const
  ) {
    console.log(
      `${label}: relay ${t.relay.toFixed(0)}/s, direct ${t.direct.toFixed(0)}/s, ${
        (t.relay / t.direct).toFixed(2)
      }×`,
    );
  }
}
