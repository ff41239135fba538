// The connection guard (issue 14 defects 1 and 7) on real sockets and fake time: the cap on
// unauthenticated sockets, the header and idle timeouts, the bounds derived from the open-file
// limit, and shedding logged once rather than per socket. The fd-exhaustion regression itself
// runs in a subprocess under `ulimit -n` (fd_exhaustion_test.ts).

import assert from "node:assert/strict";
import { ConnectionGuard } from "../../relay/connection_guard.ts";
import { RelayBounds } from "../../relay/bounds.ts";
import { CdpTestClient, http, startTestRelay, TestClock, tokenHeader, until } from "./_helpers.ts";
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

Deno.test("startRelay() destroys unauthenticated sockets past the cap and keeps serving", async () => {
  await using relay = await startTestRelay({ maxUnauthenticatedSockets: 4 });
  const held: RawSocket[] = [];
  try {
    for (let i = 0; i < 4; i++) held.push(await RawSocket.open(relay));
    await until("four sockets guarded", () => relay.stats().sockets.unauthenticated === 4);
    const extra = await RawSocket.open(relay);
    held.push(extra);
    // Closed by the relay at once, without sending a byte.
    await extra.ended;
    assert.equal(extra.received, "");
    assert.equal(relay.stats().sockets.shed, 1);
    // An authenticated /cdp client still gets in: the cap is on unauthenticated sockets, and
    // an upgrade frees its slot.
    await closeAll(held.splice(0, 1));
    await until("a slot is free", () => relay.stats().sockets.unauthenticated === 3);
    await using client = await CdpTestClient.connect(relay);
    assert.equal(relay.stats().sockets.unauthenticated, 3);
    await closeAll(held);
    await until("all closed", () => relay.stats().sockets.unauthenticated === 0);
    const version = await http(relay, "/json/version", { headers: tokenHeader() });
    assert.equal(version.status, 200);
    assert.equal(client.socket.ws.readyState, client.socket.ws.OPEN);
  } finally {
    await closeAll(held);
  }
});

Deno.test("startRelay() closes a socket whose headers are incomplete at the header timeout", async () => {
  const clock = new TestClock();
  await using relay = await startTestRelay({ clock, headerTimeoutMs: 10_000 });
  const slow = await RawSocket.open(relay);
  const silent = await RawSocket.open(relay);
  try {
    // Slowloris: a request line and one header, then nothing more.
    await slow.write(`GET /json/version HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\n`);
    await until("both guarded", () => relay.stats().sockets.unauthenticated === 2);
    clock.tick(9_999);
    assert.deepEqual([slow.isEnded, silent.isEnded], [false, false]);
    clock.tick(1);
    await Promise.all([slow.ended, silent.ended]);
    assert.deepEqual(relay.stats().sockets, {
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
    assert.equal(relay.stats().sockets.timedOut, 1);
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
  assert.equal(relay.stats().sockets.unauthenticated, 0);
  assert.equal(relay.stats().sockets.connections, 1);
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
    for (let i = 0; i < 2; i++) sockets.push(await RawSocket.open(relay));
    await until("two guarded", () => relay.stats().sockets.unauthenticated === 2);
    for (let i = 0; i < 20; i++) sockets.push(await RawSocket.open(relay));
    await Promise.all(sockets.slice(2).map((socket) => socket.ended));
    assert.equal(relay.stats().sockets.shed, 20);
    const shedding = lines.filter((line) => line.startsWith("Shedding connections"));
    assert.deepEqual(shedding, [
      "Shedding connections: 1 refused at the cap of 2 unauthenticated sockets " +
      "(next report in 60000 ms at the earliest)",
    ]);
    // The two held sockets reach their header timeout inside the interval; one line at its
    // end carries everything since the first.
    clock.tick(RelayBounds.headerTimeoutMs);
    await Promise.all(sockets.slice(0, 2).map((socket) => socket.ended));
    assert.equal(lines.filter((line) => line.startsWith("Shedding connections")).length, 1);
    clock.tick(RelayBounds.shedLogIntervalMs - RelayBounds.headerTimeoutMs);
    assert.deepEqual(lines.filter((line) => line.startsWith("Shedding connections")).slice(1), [
      "Shedding connections: 19 refused at the cap of 2 unauthenticated sockets; " +
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
