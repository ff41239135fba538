import assert from "node:assert/strict";
import { createConnection, createServer, type Socket } from "node:net";
import { createWriteBatcher } from "../../relay/write_batcher.ts";

Deno.test("createWriteBatcher() holds one turn's writes and releases them in order", async () => {
  const received: Uint8Array[] = [];
  const gotAll = Promise.withResolvers<void>();
  const server = createServer((peer: Socket) => {
    peer.on("data", (chunk: Uint8Array) => {
      received.push(chunk);
      if (Buffer.concat(received).toString() === "abc") gotAll.resolve();
    });
    peer.on("end", () => peer.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const socket = await new Promise<Socket>((resolve) => {
    const s: Socket = createConnection(port, "127.0.0.1", () => resolve(s));
  });
  try {
    const hold = createWriteBatcher(socket);
    hold();
    socket.write("a");
    hold();
    socket.write("b");
    socket.write("c");
    assert.equal(socket.writableCorked, 1);
    await Promise.resolve();
    assert.equal(socket.writableCorked, 0);
    await gotAll.promise;
    assert.equal(Buffer.concat(received).toString(), "abc");
    // The next turn corks again.
    hold();
    assert.equal(socket.writableCorked, 1);
    await Promise.resolve();
    assert.equal(socket.writableCorked, 0);
  } finally {
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.end();
    await closed;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
