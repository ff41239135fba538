import assert from "node:assert/strict";
import { describeListenError } from "../../cli/describe_listen_error.ts";

function failure(code: string): Error {
  return Object.assign(new Error(`listen ${code}`), { code });
}

const address = { host: "127.0.0.1", port: 18792 };

Deno.test("describeListenError() names the port and its owner when the port is in use", async () => {
  const error = await describeListenError(failure("EADDRINUSE"), address, {
    findOwner: (port) =>
      Promise.resolve(port === 18792 ? { pid: 42, command: "deno task relay" } : undefined),
  });
  assert.equal(error?.exitCode, 3);
  assert.equal(
    error?.message,
    'Port 18792 on 127.0.0.1 is already in use by process 42 "deno task relay": stop that process, or pass --port with another port (--port 0 picks a free one)',
  );
  const unknown = await describeListenError(failure("EADDRINUSE"), address, {
    findOwner: () => Promise.resolve(undefined),
  });
  assert.equal(
    unknown?.message,
    "Port 18792 on 127.0.0.1 is already in use: stop the process holding it, or pass --port with another port (--port 0 picks a free one)",
  );
});

Deno.test("describeListenError() explains privileged ports, foreign and unknown hosts", async () => {
  const cases: [string, number, string][] = [
    [
      "EACCES",
      3,
      "Port 18792 on 127.0.0.1 needs privileges to listen on: pass --port with a port above 1023",
    ],
    [
      "EINVAL",
      3,
      'Host "127.0.0.1" is not an address of this machine: pass --host with a local address, such as 127.0.0.1',
    ],
    [
      "EADDRNOTAVAIL",
      3,
      'Host "127.0.0.1" is not an address of this machine: pass --host with a local address, such as 127.0.0.1',
    ],
    [
      "ENOTFOUND",
      4,
      'Host "127.0.0.1" cannot be resolved: pass --host with an address of this machine, such as 127.0.0.1',
    ],
    [
      "EAI_AGAIN",
      4,
      'Host "127.0.0.1" cannot be resolved: pass --host with an address of this machine, such as 127.0.0.1',
    ],
  ];
  for (const [code, exitCode, message] of cases) {
    const error = await describeListenError(failure(code), address);
    assert.deepEqual(
      { exitCode: error?.exitCode, message: error?.message },
      { exitCode, message },
      code,
    );
  }
});

Deno.test("describeListenError() leaves unknown failures alone", async () => {
  assert.equal(await describeListenError(new TypeError("boom"), address), undefined);
  assert.equal(await describeListenError(failure("ECONNRESET"), address), undefined);
  assert.equal(await describeListenError("text", address), undefined);
});
