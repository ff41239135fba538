import assert from "node:assert/strict";
import type { CdpCall, Outcome } from "../../codec/extension_frame.ts";
import type { JsonObject } from "../../codec/json.ts";
import type { ChannelCommand } from "../../relay/extension_channel.ts";
import { withUploadFallback } from "../../relay/upload_fallback.ts";
import { FakeExtension } from "../../harness/fake_extension.ts";
import { announceAndWait, CdpTestClient, startTestRelay, TOKEN } from "./_helpers.ts";
import type { UploadFs } from "../../relay/uploads.ts";

const REFUSED = '{"code":-32000,"message":"Not allowed"}';

/** A fake extension behind the relay's forwarding: records calls and answers from a table. */
class FakeForward {
  readonly calls: CdpCall[] = [];
  readonly answers = new Map<string, (call: CdpCall) => Outcome>();

  readonly forward = (command: ChannelCommand): void => {
    const call: CdpCall = {
      method: command.method,
      ...(command.params === undefined ? {} : { params: command.params }),
      ...(command.sessionId === undefined ? {} : { sessionId: command.sessionId }),
    };
    this.calls.push(call);
    const answer = this.answers.get(command.method);
    command.settle(answer === undefined ? { ok: true, result: {} } : answer(call));
  };

  methods(): string[] {
    return this.calls.map((call) => call.method);
  }
}

const fs: UploadFs = {
  stat: (path) =>
    Promise.resolve(
      path === "/u/dir"
        ? { isDirectory: true, size: 4096, mtimeMs: 0 }
        : path === "/u/a.txt"
        ? { isDirectory: false, size: 5, mtimeMs: 7 }
        : undefined,
    ),
  readFile: () => Promise.resolve(new TextEncoder().encode("hello")),
};

/** Sends one command through the wrapped forwarding and collects every settle. */
async function run(
  fake: FakeForward,
  params: JsonObject,
  maxBytes?: number,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const forward = withUploadFallback(fake.forward, {
    fs,
    ...(maxBytes === undefined ? {} : { maxBytes }),
  });
  await new Promise<void>((resolve) => {
    forward({
      method: "DOM.setFileInputFiles",
      params,
      sessionId: "cb-tab-1",
      settle: (outcome) => {
        outcomes.push(outcome);
        resolve();
      },
    });
  });
  // Anything settled twice would have done so by now: the fakes answer synchronously.
  await Promise.resolve();
  return outcomes;
}

function refusing(): FakeForward {
  const fake = new FakeForward();
  fake.answers.set("DOM.setFileInputFiles", () => ({ ok: false, error: REFUSED }));
  fake.answers.set("DOM.resolveNode", () => ({ ok: true, result: { object: { objectId: "O1" } } }));
  fake.answers.set("Runtime.callFunctionOn", () => ({
    ok: true,
    result: { result: { type: "number", value: 1 } },
  }));
  return fake;
}

Deno.test("withUploadFallback() passes other commands and Chrome's own answers through", async () => {
  const fake = new FakeForward();
  const settled: Outcome[] = [];
  withUploadFallback(fake.forward)({ method: "Page.reload", settle: (o) => settled.push(o) });
  assert.deepEqual(settled, [{ ok: true, result: {} }]);
  assert.deepEqual(await run(fake, { nodeId: 3, files: ["/u/a.txt"] }), [
    { ok: true, result: {} },
  ]);
  const wrongNode = '{"code":-32000,"message":"Node is not a file input element"}';
  fake.answers.set("DOM.setFileInputFiles", () => ({ ok: false, error: wrongNode }));
  assert.deepEqual(await run(fake, { nodeId: 3, files: ["/u/a.txt"] }), [
    { ok: false, error: wrongNode },
  ]);
  assert.deepEqual(fake.methods(), [
    "Page.reload",
    "DOM.setFileInputFiles",
    "DOM.setFileInputFiles",
  ]);
});

Deno.test("withUploadFallback() sets the files through the page when Chrome says 'Not allowed'", async () => {
  const fake = refusing();
  assert.deepEqual(await run(fake, { nodeId: 3, files: ["/u/a.txt"] }), [
    { ok: true, result: {} },
  ]);
  assert.deepEqual(fake.methods(), [
    "DOM.setFileInputFiles",
    "DOM.resolveNode",
    "Runtime.callFunctionOn",
    "Runtime.releaseObject",
  ]);
  assert.ok(fake.calls.every((call) => call.sessionId === "cb-tab-1"));
  assert.deepEqual(fake.calls[1]?.params, { nodeId: 3 });
  const call = fake.calls[2]?.params ?? {};
  assert.equal(call.objectId, "O1");
  assert.deepEqual(call.arguments, [{
    value: [{ name: "a.txt", mimeType: "text/plain", lastModified: 7, base64: "aGVsbG8=" }],
  }]);
  assert.deepEqual(fake.calls[3]?.params, { objectId: "O1" });
});

Deno.test("withUploadFallback() uses an objectId as given and releases nothing", async () => {
  const fake = refusing();
  assert.deepEqual(await run(fake, { objectId: "E9", files: [] }), [{ ok: true, result: {} }]);
  assert.deepEqual(fake.methods(), ["DOM.setFileInputFiles", "Runtime.callFunctionOn"]);
  assert.equal(fake.calls[1]?.params?.objectId, "E9");
});

Deno.test("withUploadFallback() answers with Chrome's node errors", async (t) => {
  await t.step("no node named", async () => {
    assert.deepEqual(await run(refusing(), { files: ["/u/a.txt"] }), [
      { ok: false, error: "Either nodeId, backendNodeId or objectId must be specified" },
    ]);
  });
  for (
    const [params, error] of [
      [{ nodeId: 9 }, "Could not find node with given id"],
      [{ backendNodeId: 9 }, "No node found for given backend id"],
    ] as const
  ) {
    await t.step(`unknown ${Object.keys(params)[0]}`, async () => {
      const fake = refusing();
      fake.answers.set("DOM.resolveNode", () => ({ ok: false, error: "No node with given id" }));
      assert.deepEqual(await run(fake, { ...params, files: ["/u/a.txt"] }), [
        { ok: false, error },
      ]);
      assert.deepEqual(fake.methods(), ["DOM.setFileInputFiles", "DOM.resolveNode"]);
    });
  }
  await t.step("not a file input", async () => {
    const fake = refusing();
    fake.answers.set("Runtime.callFunctionOn", () => ({
      ok: true,
      result: { result: { type: "number", value: -1 } },
    }));
    assert.deepEqual(await run(fake, { nodeId: 3, files: ["/u/a.txt"] }), [
      { ok: false, error: "Node is not a file input element" },
    ]);
  });
});

Deno.test("withUploadFallback() refuses directories and files over the cap before the page", async () => {
  const fake = refusing();
  assert.deepEqual(await run(fake, { nodeId: 3, files: ["/u/dir"] }), [
    { ok: false, error: 'Cannot upload "/u/dir" as it is a directory' },
  ]);
  assert.deepEqual(await run(fake, { nodeId: 3, files: ["/u/a.txt"] }, 4), [
    {
      ok: false,
      error:
        "Cannot upload the files as they exceed the 4-byte upload cap of the relay: current size is 5 bytes",
    },
  ]);
  assert.ok(!fake.methods().includes("Runtime.callFunctionOn"));
  // The node resolved for each is released again.
  assert.equal(fake.methods().filter((m) => m === "Runtime.releaseObject").length, 2);
});

Deno.test("withUploadFallback() passes on a failure of the page call", async () => {
  const fake = refusing();
  fake.answers.set(
    "Runtime.callFunctionOn",
    () => ({ ok: false, error: "extension disconnected" }),
  );
  assert.deepEqual(await run(fake, { nodeId: 3, files: ["/u/a.txt"] }), [
    { ok: false, error: "extension disconnected" },
  ]);
});

Deno.test("the relay falls back only when bound to loopback", async (t) => {
  // Binding 0.0.0.0 needs a net permission `deno task test:unit` does not grant.
  const wide = (await Deno.permissions.query({ name: "net", host: "0.0.0.0" })).state === "granted";
  for (const [host, fallback] of [["127.0.0.1", true], ["0.0.0.0", false]] as const) {
    await t.step({
      name: `bound to ${host}`,
      ignore: host === "0.0.0.0" && !wide,
      fn: async () => {
        await using relay = await startTestRelay({ host });
        const seen: string[] = [];
        await using ext = await FakeExtension.connect({
          url: `http://127.0.0.1:${relay.port}`,
          token: TOKEN,
          handler: (command) => {
            seen.push(command.method);
            if (command.method === "DOM.setFileInputFiles") return REFUSED;
            if (command.method === "DOM.resolveNode") return "No node with given id found";
            return {};
          },
        });
        await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1", url: "https://one/" });
        await using client = await CdpTestClient.connect(relay);
        const reply = await client.call(
          "DOM.setFileInputFiles",
          { nodeId: 5, files: ["/nowhere"] },
          "cb-tab-1",
        );
        assert.deepEqual(
          reply.error,
          fallback
            ? { code: -32000, message: "Could not find node with given id" }
            : { code: -32000, message: "Not allowed" },
        );
        assert.deepEqual(
          seen,
          fallback ? ["DOM.setFileInputFiles", "DOM.resolveNode"] : ["DOM.setFileInputFiles"],
        );
      },
    });
  }
});
