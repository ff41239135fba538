import assert from "node:assert/strict";
import { findPortOwner, listeningInodes, type ProcFs } from "../../cli/find_port_owner.ts";

// /proc/net/tcp as Linux writes it: port 18792 is 0x4968, state 0A is LISTEN, 01 ESTABLISHED.
const TCP = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 0100007F:4968 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0",
  "   1: 0100007F:4968 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1",
  "   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0",
].join("\n");

function fakeProc(files: Record<string, string>, dirs: Record<string, string[]>): ProcFs {
  return {
    readTextFile: (path) =>
      path in files
        ? Promise.resolve(files[path] ?? "")
        : Promise.reject(new Deno.errors.NotFound(path)),
    readDir: (path) =>
      path in dirs
        ? Promise.resolve(dirs[path] ?? [])
        : Promise.reject(new Deno.errors.NotFound(path)),
    readLink: (path) =>
      path in files
        ? Promise.resolve(files[path] ?? "")
        : Promise.reject(new Deno.errors.NotFound(path)),
  };
}

Deno.test("listeningInodes() keeps listening sockets on the port only", () => {
  assert.deepEqual(listeningInodes(TCP, 18792), ["4242"]);
  assert.deepEqual(listeningInodes(TCP, 8080), ["4444"]);
  assert.deepEqual(listeningInodes(TCP, 9), []);
  assert.deepEqual(listeningInodes("", 18792), []);
});

Deno.test("findPortOwner() names the process whose descriptor is the listening socket", async () => {
  const fs = fakeProc({
    "/proc/net/tcp": TCP,
    "/proc/7/fd/3": "socket:[4343]",
    "/proc/9/fd/0": "/dev/null",
    "/proc/9/fd/20": "socket:[4242]",
    "/proc/9/cmdline": "/root/.npm/_npx/x/node_modules/deno/deno\0run\0-A\0relay/main.ts\0",
  }, { "/proc": ["self", "7", "9", "net"], "/proc/7/fd": ["3"], "/proc/9/fd": ["0", "20"] });
  assert.deepEqual(await findPortOwner(18792, { fs }), {
    pid: 9,
    command: "deno run -A relay/main.ts",
  });
});

Deno.test("findPortOwner() returns undefined without /proc, listener or readable owner", async () => {
  assert.equal(await findPortOwner(18792, { fs: fakeProc({}, {}) }), undefined);
  assert.equal(
    await findPortOwner(18792, { fs: fakeProc({ "/proc/net/tcp": TCP }, {}) }),
    undefined,
  );
  assert.equal(
    await findPortOwner(9, { fs: fakeProc({ "/proc/net/tcp": TCP }, { "/proc": ["1"] }) }),
    undefined,
  );
});

Deno.test("findPortOwner() shortens a long command line to 80 characters", async () => {
  const fs = fakeProc({
    "/proc/net/tcp6": TCP,
    "/proc/5/fd/1": "socket:[4242]",
    "/proc/5/cmdline": `node\0${"x".repeat(200)}\0`,
  }, { "/proc": ["5"], "/proc/5/fd": ["1"] });
  const owner = await findPortOwner(18792, { fs });
  assert.equal(owner?.command.length, 80);
  assert.ok(owner?.command.startsWith("node xxx") && owner.command.endsWith("…"));
});
