import assert from "node:assert/strict";
import { FakeDownloadFs as FakeFs } from "../../harness/fake_download_fs.ts";
import {
  denoDownloadFs,
  type DownloadEvent,
  DownloadRegistry,
  parseDownloadBehavior,
} from "../../relay/downloads.ts";

const START = {
  guid: "g-1",
  url: "http://127.0.0.1:1/file.txt",
  suggestedFilename: "report.txt",
  frameId: "F1",
};
const CHROME_FILE = "/home/me/Downloads/report.txt";

function setup(): {
  registry: DownloadRegistry;
  fs: FakeFs;
  sent: [string, DownloadEvent][];
  errors: string[];
} {
  const fs = new FakeFs();
  fs.files.set(CHROME_FILE, "body");
  const sent: [string, DownloadEvent][] = [];
  const errors: string[] = [];
  const registry = new DownloadRegistry({
    fs,
    emit: (client, event) => sent.push([client, event]),
    onError: (_guid, error) => errors.push(error.message),
  });
  return { registry, fs, sent, errors };
}

Deno.test("parseDownloadBehavior() answers as Chrome does", async (t) => {
  await t.step("allow and allowAndName need downloadPath", () => {
    for (const behavior of ["allow", "allowAndName"]) {
      assert.deepEqual(parseDownloadBehavior({ behavior }), {
        ok: false,
        error: { code: -32602, message: "downloadPath not provided" },
      });
    }
  });
  await t.step("a missing behavior is a deserialization error", () => {
    const result = parseDownloadBehavior({});
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.error.message, "Invalid parameters");
  });
  await t.step("an unknown browserContextId is refused with Chrome's text", () => {
    assert.deepEqual(parseDownloadBehavior({ behavior: "deny", browserContextId: "NOPE" }), {
      ok: false,
      error: { code: -32602, message: "Failed to find browser context for id NOPE" },
    });
  });
  await t.step("an unknown behavior string means default, as in Chrome", () => {
    assert.deepEqual(parseDownloadBehavior({ behavior: "bogus", eventsEnabled: true }), {
      ok: true,
      setting: { behavior: "default", eventsEnabled: true },
    });
  });
  await t.step("a valid call keeps its path", () => {
    assert.deepEqual(
      parseDownloadBehavior({
        behavior: "allowAndName",
        downloadPath: "/tmp/d",
        eventsEnabled: true,
      }),
      {
        ok: true,
        setting: { behavior: "allowAndName", downloadPath: "/tmp/d", eventsEnabled: true },
      },
    );
  });
});

Deno.test("DownloadRegistry.completed() moves an allowAndName download to downloadPath/<guid> before reporting it", async () => {
  const { registry, fs, sent } = setup();
  registry.setBehavior("c1", {
    behavior: "allowAndName",
    downloadPath: "/pw/artifacts",
    eventsEnabled: true,
  });
  assert.equal(registry.willBegin(START, ["c1"]), "keep");
  registry.progress({ guid: "g-1", receivedBytes: 2, totalBytes: 4, state: "inProgress" });
  const finalPath = await registry.completed({
    guid: "g-1",
    receivedBytes: 4,
    totalBytes: 4,
    filePath: CHROME_FILE,
  });
  assert.equal(finalPath, "/pw/artifacts/g-1");
  assert.equal(fs.files.get("/pw/artifacts/g-1"), "body");
  assert.equal(fs.files.has(CHROME_FILE), false);
  assert.deepEqual(sent, [
    ["c1", { method: "Browser.downloadWillBegin", params: START }],
    ["c1", {
      method: "Browser.downloadProgress",
      params: { guid: "g-1", totalBytes: 4, receivedBytes: 2, state: "inProgress" },
    }],
    ["c1", {
      method: "Browser.downloadProgress",
      params: {
        guid: "g-1",
        totalBytes: 4,
        receivedBytes: 4,
        state: "completed",
        filePath: "/pw/artifacts/g-1",
      },
    }],
  ]);
  assert.equal(registry.size, 0);
});

Deno.test("DownloadRegistry.completed() names an allow download after its suggested name, made unique", async () => {
  const { registry, fs } = setup();
  fs.files.set("/dl/report.txt", "older");
  fs.files.set("/dl/report (1).txt", "older");
  registry.setBehavior("c1", { behavior: "allow", downloadPath: "/dl", eventsEnabled: false });
  registry.willBegin(START, ["c1"]);
  const finalPath = await registry.completed({
    guid: "g-1",
    receivedBytes: 4,
    totalBytes: 4,
    filePath: CHROME_FILE,
  });
  assert.equal(finalPath, "/dl/report (2).txt");
  assert.equal(fs.files.get("/dl/report (2).txt"), "body");
});

Deno.test("DownloadRegistry.completed() keeps a suggested name inside downloadPath", async () => {
  const { registry, fs } = setup();
  registry.setBehavior("c1", { behavior: "allow", downloadPath: "/dl", eventsEnabled: false });
  registry.willBegin({ ...START, suggestedFilename: "../../etc/passwd" }, ["c1"]);
  const finalPath = await registry.completed({
    guid: "g-1",
    receivedBytes: 4,
    totalBytes: 4,
    filePath: CHROME_FILE,
  });
  assert.equal(finalPath, "/dl/.._.._etc_passwd");
  assert.deepEqual([...fs.files.keys()], ["/dl/.._.._etc_passwd"]);
});

Deno.test("DownloadRegistry.completed() copies across devices when rename fails", async () => {
  const { registry, fs } = setup();
  fs.failRename = true;
  registry.setBehavior("c1", {
    behavior: "allowAndName",
    downloadPath: "/other",
    eventsEnabled: false,
  });
  registry.willBegin(START, ["c1"]);
  await registry.completed({ guid: "g-1", receivedBytes: 4, totalBytes: 4, filePath: CHROME_FILE });
  assert.deepEqual([...fs.files], [["/other/g-1", "body"]]);
});

Deno.test("DownloadRegistry.completed() reports canceled and an error when downloadPath is not writable", async () => {
  const { registry, fs, sent, errors } = setup();
  fs.readOnly.add("/ro");
  registry.setBehavior("c1", {
    behavior: "allowAndName",
    downloadPath: "/ro/dl",
    eventsEnabled: true,
  });
  registry.willBegin(START, ["c1"]);
  const finalPath = await registry.completed({
    guid: "g-1",
    receivedBytes: 4,
    totalBytes: 4,
    filePath: CHROME_FILE,
  });
  assert.equal(finalPath, undefined);
  assert.deepEqual(errors, [
    `Cannot save download "g-1" to "/ro/dl": Permission denied (os error 13): mkdir '/ro/dl'`,
  ]);
  assert.deepEqual(sent.at(-1), ["c1", {
    method: "Browser.downloadProgress",
    params: { guid: "g-1", totalBytes: 4, receivedBytes: 4, state: "canceled" },
  }]);
  assert.equal(fs.files.get(CHROME_FILE), "body", "the original stays where Chrome put it");
  assert.equal(registry.size, 0);
});

Deno.test("DownloadRegistry.willBegin() asks for a cancel under deny and reports the cancel", () => {
  const { registry, sent } = setup();
  registry.setBehavior("c1", { behavior: "deny", eventsEnabled: true });
  assert.equal(registry.willBegin(START, ["c1"]), "cancel");
  registry.progress({ guid: "g-1", receivedBytes: 0, totalBytes: 4, state: "canceled" });
  assert.deepEqual(sent.map(([, e]) => [e.method, "state" in e.params ? e.params.state : "-"]), [
    ["Browser.downloadWillBegin", "-"],
    ["Browser.downloadProgress", "canceled"],
  ]);
  assert.equal(registry.size, 0);
});

Deno.test("DownloadRegistry.willBegin() tells only holders of the tab that enabled events", () => {
  const { registry, sent } = setup();
  registry.setBehavior("quiet", { behavior: "default", eventsEnabled: false });
  registry.setBehavior("loud", { behavior: "default", eventsEnabled: true });
  registry.setBehavior("elsewhere", { behavior: "default", eventsEnabled: true });
  registry.willBegin(START, ["quiet", "loud"]);
  assert.deepEqual(sent.map(([client]) => client), ["loud"]);
});

Deno.test("DownloadRegistry.effective() is the last setting of a connected client", () => {
  const { registry } = setup();
  assert.deepEqual(registry.effective(), {
    setting: { behavior: "default", eventsEnabled: false },
  });
  registry.setBehavior("a", { behavior: "deny", eventsEnabled: true });
  registry.setBehavior("b", { behavior: "allow", downloadPath: "/b", eventsEnabled: true });
  registry.setBehavior("a", { behavior: "deny", eventsEnabled: false });
  assert.equal(registry.effective().owner, "a");
  registry.clientGone("a");
  assert.equal(registry.effective().owner, "b");
  registry.clientGone("b");
  assert.equal(registry.effective().owner, undefined);
});

Deno.test("DownloadRegistry.clientGone() drops downloads begun under that client's setting", async () => {
  const { registry, fs, sent } = setup();
  registry.setBehavior("c1", {
    behavior: "allowAndName",
    downloadPath: "/pw",
    eventsEnabled: true,
  });
  registry.setBehavior("c2", {
    behavior: "allowAndName",
    downloadPath: "/pw2",
    eventsEnabled: true,
  });
  registry.willBegin(START, ["c1", "c2"]);
  sent.length = 0;
  assert.deepEqual(registry.clientGone("c2"), ["g-1"]);
  assert.deepEqual(sent, [["c1", {
    method: "Browser.downloadProgress",
    params: { guid: "g-1", totalBytes: 0, receivedBytes: 0, state: "canceled" },
  }]]);
  assert.equal(registry.size, 0);
  // A late completion for it changes nothing.
  assert.equal(
    await registry.completed({
      guid: "g-1",
      receivedBytes: 4,
      totalBytes: 4,
      filePath: CHROME_FILE,
    }),
    undefined,
  );
  assert.equal(fs.files.get(CHROME_FILE), "body");
});

Deno.test("DownloadRegistry.completed() leaves a default download where Chrome saved it", async () => {
  const { registry, fs } = setup();
  registry.setBehavior("c1", { behavior: "default", eventsEnabled: true });
  registry.willBegin(START, ["c1"]);
  assert.equal(
    await registry.completed({
      guid: "g-1",
      receivedBytes: 4,
      totalBytes: 4,
      filePath: CHROME_FILE,
    }),
    CHROME_FILE,
  );
  assert.deepEqual([...fs.files.keys()], [CHROME_FILE]);
});

const canWrite = (await Deno.permissions.query({ name: "write" })).state === "granted";

Deno.test({
  name: "denoDownloadFs() moves a file into a new directory and reports existence",
  ignore: !canWrite,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/a.txt`, "body");
      await denoDownloadFs.mkdir(`${dir}/x/y`);
      await denoDownloadFs.rename(`${dir}/a.txt`, `${dir}/x/y/b.txt`);
      assert.equal(await denoDownloadFs.exists(`${dir}/a.txt`), false);
      assert.equal(await Deno.readTextFile(`${dir}/x/y/b.txt`), "body");
      await denoDownloadFs.remove(`${dir}/x/y/b.txt`);
      await denoDownloadFs.remove(`${dir}/x/y/b.txt`); // a missing file is not an error
      assert.equal(await denoDownloadFs.exists(`${dir}/x/y/b.txt`), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("DownloadRegistry.willBegin() keeps nothing for a download nobody watches and no file to place", () => {
  const { registry, sent } = setup();
  assert.equal(registry.willBegin(START, ["c1"]), "keep");
  registry.setBehavior("c1", { behavior: "deny", eventsEnabled: false });
  assert.equal(registry.willBegin({ ...START, guid: "g-2" }, ["c1"]), "cancel");
  assert.equal(registry.size, 0);
  assert.deepEqual(sent, []);
});

Deno.test("DownloadRegistry.clientGone() forgets default downloads once nobody watches them", () => {
  const { registry, sent } = setup();
  registry.setBehavior("c1", { behavior: "default", eventsEnabled: true });
  registry.willBegin(START, ["c1"]);
  sent.length = 0;
  assert.deepEqual(registry.clientGone("c1"), []);
  assert.equal(registry.size, 0);
  assert.deepEqual(sent, []);
});
