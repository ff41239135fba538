// The connection guard (issue 14 defects 1 and 7) on real sockets and fake time: the cap on
// unauthenticated sockets, the header and idle timeouts, the bounds derived from the open-file
// limit, and shedding logged once rather than per socket. The fd-exhaustion regression itself
// runs in a subprocess under `ulimit -n` (fd_exhaustion_test.ts).

import assert from "node:assert/strict";
import { ConnectionGuard } from "../../relay/connection_guard.ts";
import { RelayBounds } from "../../relay/bounds.ts";
import { FakeExtension } from "../../harness/fake_extension.ts";
import {
  announceAndWait,
  CdpTestClient,
  http,
  startTestRelay,
  TestClock,
  TOKEN,
  tokenHeader,
  until,
} from "./_helpers.ts";
import type { RelayServer } from "../../relay/server.ts";

/** A raw TCP socket to the relay; `ended` resolves once the relay closed it. */
class RawSocket {
  readonly conn: Deno.TcpConn;
  readonly ended: Promise<void>;
  #ended = false;
  #received = "";

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.ended = this.#read();
  }

  static async open(relay: RelayServer): Promise<RawSocket> {
    return new RawSocket(await Deno.connect({ hostname: "127.0.0.1", port: relay.port }));
  }

  get isEnded(): boolean {
    return this.#ended;
  }

  get received(): string {
    return this.#received;
  }

  async write(text: string): Promise<void> {
    await this.conn.write(new TextEncoder().encode(text));
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(4096);
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        this.#received += decoder.decode(buffer.subarray(0, n));
      }
    } catch {
      // A reset counts as the relay closing the socket.
    }
    this.#ended = true;
  }

  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // Closed already.
    }
    await this.ended;
  }
}

async function closeAll(sockets: RawSocket[]): Promise<void> {
  await Promise.all(sockets.map((socket) => socket.close()));
}

Deno.test("ConnectionGuard.bounds() derives the ceiling from the open-file limit", () => {
  const bounds = {
    maxUnauthenticated: RelayBounds.maxUnauthenticatedSockets,
    fdReserve: RelayBounds.fdReserve,
    minCeiling: RelayBounds.minConnectionCeiling,
  };
  assert.deepEqual(ConnectionGuard.bounds(1024, bounds), {
    maxConnections: 960,
    maxUnauthenticated: 256,
  });
  // macOS's default: half the ceiling stays free for authenticated sockets.
  assert.deepEqual(ConnectionGuard.bounds(256, bounds), {
    maxConnections: 192,
    maxUnauthenticated: 96,
  });
  assert.deepEqual(ConnectionGuard.bounds(20, bounds), {
    maxConnections: 16,
    maxUnauthenticated: 8,
  });
  assert.deepEqual(ConnectionGuard.bounds(Infinity, bounds), {
    maxConnections: 1_048_512,
    maxUnauthenticated: 256,
  });
});

Deno.test("startRelay() closes the oldest idle unauthenticated socket to make room at the cap", async () => {
  await using relay = await startTestRelay({ maxUnauthenticatedSockets: 4 });
  const held: RawSocket[] = [];
  try {
    for (let i = 0; i < 4; i++) held.push(await RawSocket.open(relay));
    await until("four sockets guarded", () => relay.socketStats().unauthenticated === 4);
    // A fifth socket closes the oldest, which never sent a byte.
    held.push(await RawSocket.open(relay));
    await held[0]!.ended;
    assert.equal(held[0]!.received, "");
    assert.deepEqual(held.slice(1).map((socket) => socket.isEnded), [false, false, false, false]);
    assert.equal(relay.socketStats().shed, 1);
    // A real client still gets through while the flood holds every slot: HTTP and /cdp.
    const version = await http(relay, "/json/version", { headers: tokenHeader() });
    assert.equal(version.status, 200);
    await using client = await CdpTestClient.connect(relay);
    assert.equal(relay.socketStats().unauthenticated <= 4, true);
    await closeAll(held);
    await until("all closed", () => relay.socketStats().unauthenticated === 0);
    assert.equal(client.socket.ws.readyState, client.socket.ws.OPEN);
  } finally {
    await closeAll(held);
  }
});

Deno.test("startRelay() refuses a new socket when every unauthenticated slot serves a request", async () => {
  await using relay = await startTestRelay({ maxUnauthenticatedSockets: 2 });
  // An extension that never answers keeps /json/activate requests in progress.
  await using ext = await FakeExtension.connect({
    url: relay.url,
    token: TOKEN,
    handler: () => undefined,
  });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  const busy = [1, 2].map(() => http(relay, "/json/activate/T1", { headers: tokenHeader() }));
  await until("two requests forwarded", () => ext.commands.length === 2);
  const refused = await RawSocket.open(relay);
  try {
    await refused.ended;
    assert.equal(refused.received, "");
    assert.equal(relay.socketStats().shed, 1);
  } finally {
    await refused.close();
  }
  // The busy requests are answered once the extension goes away.
  await ext.close();
  assert.deepEqual(
    (await Promise.all(busy)).map((reply) => [reply.status, reply.body]),
    [[500, "extension disconnected"], [500, "extension disconnected"]],
  );
});

Deno.test("startRelay() closes a socket whose headers are incomplete at the header timeout", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({ clock, headerTimeoutMs: 10_000 });
  const slow = await RawSocket.open(relay);
  const silent = await RawSocket.open(relay);
  try {
    // Slowloris: a request line and one header, then nothing more.
    await slow.write(`GET /json/version HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\n`);
    await until("both guarded", () => relay.socketStats().unauthenticated === 2);
    clock.tick(9_999);
    assert.deepEqual([slow.isEnded, silent.isEnded], [false, false]);
    clock.tick(1);
    await Promise.all([slow.ended, silent.ended]);
    assert.deepEqual(relay.socketStats(), {
      connections: 0,
      unauthenticated: 0,
      shed: 0,
      ceilingHits: 0,
      timedOut: 2,
    });
  } finally {
    await closeAll([slow, silent]);
  }
});

Deno.test("startRelay() closes an idle keep-alive HTTP socket at the idle timeout", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({ clock, httpIdleTimeoutMs: 5_000 });
  const socket = await RawSocket.open(relay);
  try {
    await socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nConnection: keep-alive\r\n\r\n`,
    );
    await until("the reply arrived", () => socket.received.includes("\r\nOK\r\n"));
    // The header timeout stopped with the request; the idle timeout runs from the reply.
    clock.tick(4_999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(socket.isEnded, false);
    clock.tick(1);
    await socket.ended;
    assert.equal(relay.socketStats().timedOut, 1);
  } finally {
    await socket.close();
  }
});

Deno.test("startRelay() leaves authenticated WebSocket clients to their own heartbeat", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({ clock });
  await using client = await CdpTestClient.connect(relay);
  clock.tick(RelayBounds.headerTimeoutMs + RelayBounds.idleTimeoutMs);
  const reply = await client.call("Browser.getVersion");
  assert.equal(typeof reply.result, "object");
  assert.equal(relay.socketStats().unauthenticated, 0);
  assert.equal(relay.socketStats().connections, 1);
});

Deno.test("startRelay() logs shedding once per interval with counts, not once per socket", async () => {
  const lines: string[] = [];
  const clock = new TestClock();
  await using relay = await startTestRelay({
    clock,
    maxUnauthenticatedSockets: 2,
    log: (line) => lines.push(line),
  });
  const sockets: RawSocket[] = [];
  try {
    for (let i = 0; i < 22; i++) {
      sockets.push(await RawSocket.open(relay));
      await until("guarded", () => relay.socketStats().connections === Math.min(i + 1, 2));
    }
    // Each new socket closed the oldest: the first 20 are gone, the last 2 remain.
    await Promise.all(sockets.slice(0, 20).map((socket) => socket.ended));
    assert.equal(relay.socketStats().shed, 20);
    const shedding = () => lines.filter((line) => line.startsWith("Shedding connections"));
    assert.deepEqual(shedding(), [
      "Shedding connections: 1 shed at the cap of 2 unauthenticated sockets " +
      "(next report in 60000 ms at the earliest)",
    ]);
    // The last two reach their header timeout inside the interval; one line at its end
    // carries everything since the first.
    clock.tick(RelayBounds.headerTimeoutMs);
    await Promise.all(sockets.slice(20).map((socket) => socket.ended));
    assert.equal(shedding().length, 1);
    clock.tick(RelayBounds.shedLogIntervalMs - RelayBounds.headerTimeoutMs);
    assert.deepEqual(shedding().slice(1), [
      "Shedding connections: 19 shed at the cap of 2 unauthenticated sockets; " +
      "2 closed by the header or idle timeout (next report in 60000 ms at the earliest)",
    ]);
  } finally {
    await closeAll(sockets);
  }
});

Deno.test("startRelay() rejects a non-positive unauthenticated cap", async () => {
  await assert.rejects(
    () => startTestRelay({ maxUnauthenticatedSockets: 0 }),
    {
      name: "RangeError",
      message:
        'Cannot start relay as "maxUnauthenticatedSockets" must be a positive number: current value is 0',
    },
  );
});

Deno.test("startRelay() runs one collection after a large frame once the relay is quiet", async () => {
  const clock = new TestClock();
  const collected: number[] = [];
  await using relay = await startTestRelay({ clock, collectGarbage: () => collected.push(1) });
  await using client = await CdpTestClient.connect(relay);
  const reply = await client.call("Runtime.evaluate", { expression: "x".repeat(9 << 20) });
  assert.equal(typeof reply.error, "object");
  clock.tick(RelayBounds.memorySettleMs - 1);
  assert.deepEqual(collected, []);
  clock.tick(1);
  assert.deepEqual(collected, [1]);
});

Deno.test("startRelay() closes connections past the ceiling derived from the open-file limit", async () => {
  // 80 descriptors: a ceiling of 16 connections, at most 8 of them unauthenticated.
  await using relay = await startTestRelay({ openFileLimit: 80 });
  const clients: CdpTestClient[] = [];
  const raw: RawSocket[] = [];
  try {
    for (let i = 0; i < 8; i++) clients.push(await CdpTestClient.connect(relay));
    for (let i = 0; i < 8; i++) raw.push(await RawSocket.open(relay));
    await until("sixteen connections", () => relay.socketStats().connections === 16);
    assert.equal(relay.socketStats().ceilingHits, 1);
    // The runtime closes the seventeenth at once; the guard never sees it.
    const over = await RawSocket.open(relay);
    raw.push(over);
    await over.ended;
    assert.deepEqual(relay.socketStats(), {
      connections: 16,
      unauthenticated: 8,
      shed: 0,
      ceilingHits: 1,
      timedOut: 0,
    });
    // Once sockets go, new ones are accepted again.
    await closeAll(raw.splice(0));
    await until("unauthenticated gone", () => relay.socketStats().connections === 8);
    const version = await http(relay, "/json/version", { headers: tokenHeader() });
    assert.equal(version.status, 200);
  } finally {
    await closeAll(raw);
    for (const client of clients) await client[Symbol.asyncDispose]();
  }
});
