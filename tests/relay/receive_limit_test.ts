// The 64 KiB pre-handshake limit on /extension is enforced from a frame's header, while it is
// received (issue 14 defect 7): a client that announces a 200 MiB frame is closed with 1009
// before it has sent more than a few bytes, so nothing is buffered. After the handshake the
// limit is raised to maxFrameBytes (the 100 MiB test in server_test.ts).

import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { receiveLimit } from "../../relay/receive_limit.ts";
import { startTestRelay, TOKEN } from "./_helpers.ts";

/** Reads from `conn` until `done(bytes)` holds or the socket ends; real-time failure bound. */
async function readUntil(
  conn: Deno.TcpConn,
  done: (bytes: Uint8Array) => boolean,
  timeoutMs = 5_000,
): Promise<Uint8Array> {
  let bytes = new Uint8Array(0);
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    const buffer = new Uint8Array(65_536);
    while (!done(bytes)) {
      const n = await conn.read(buffer);
      if (n === null) break;
      const next = new Uint8Array(bytes.length + n);
      next.set(bytes);
      next.set(buffer.subarray(0, n), bytes.length);
      bytes = next;
    }
  } catch {
    // Closed by the deadline: the caller sees what arrived.
  } finally {
    clearTimeout(timer);
  }
  return bytes;
}

/** The unmasked server frames in `bytes` (7- and 16-bit lengths suffice here). */
function serverFrames(bytes: Uint8Array): { opcode: number; payload: Uint8Array }[] {
  const frames: { opcode: number; payload: Uint8Array }[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
      start = at + 4;
    }
    if (start + length > bytes.length) break;
    frames.push({ opcode, payload: bytes.subarray(start, start + length) });
    at = start + length;
  }
  return frames;
}

function closeOf(bytes: Uint8Array): { code: number; reason: string } | undefined {
  const close = serverFrames(bytes).find((frame) => frame.opcode === 0x8);
  if (close === undefined) return undefined;
  return {
    code: (close.payload[0]! << 8) | close.payload[1]!,
    reason: new TextDecoder().decode(close.payload.subarray(2)),
  };
}

Deno.test("receiveLimit() reads and changes the limit of a ws socket", async () => {
  await using relay = await startTestRelay();
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/cdp`, {
    headers: { "x-openclaw-relay-token": TOKEN },
    maxPayload: 1_000,
  });
  await new Promise((resolve) => ws.once("open", resolve));
  try {
    assert.equal(receiveLimit(ws), 1_000);
    assert.equal(receiveLimit(ws, 2_000), 2_000);
    assert.throws(() => receiveLimit(ws, 0), {
      name: "RangeError",
      message: 'Cannot set receive limit as "bytes" must be a positive integer: current value is 0',
    });
  } finally {
    const closed = new Promise((resolve) => ws.once("close", resolve));
    ws.close();
    await closed;
  }
});

Deno.test("startRelay() refuses an oversized pre-handshake /extension frame from its header", async () => {
  await using relay = await startTestRelay();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET /extension?token=${TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\n` +
          "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ),
    );
    // The 101 and the relay's connect.challenge.
    const opened = await readUntil(conn, (bytes) => {
      const text = new TextDecoder().decode(bytes);
      const end = text.indexOf("\r\n\r\n");
      return end >= 0 && serverFrames(bytes.subarray(end + 4)).length > 0;
    });
    assert.match(new TextDecoder().decode(opened), /^HTTP\/1\.1 101 /);
    // A masked text frame announcing 200 MiB, and only its first KiB.
    const header = new Uint8Array(14);
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    new DataView(header.buffer).setBigUint64(2, BigInt(200 * 1024 * 1024));
    header.set([1, 2, 3, 4], 10);
    await conn.write(header);
    await conn.write(new Uint8Array(1024));
    const after = await readUntil(conn, (bytes) => closeOf(bytes) !== undefined);
    assert.deepEqual(closeOf(after), { code: 1009, reason: "preauth payload too large" });
  } finally {
    conn.close();
  }
});
