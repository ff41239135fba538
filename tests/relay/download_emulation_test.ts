import assert from "node:assert/strict";
import type { JsonObject } from "../../codec/json.ts";
import { FakeDownloadFs } from "../../harness/fake_download_fs.ts";
import { FakeExtension } from "../../harness/fake_extension.ts";
import { DownloadEmulation } from "../../relay/download_emulation.ts";
import { announceAndWait, CdpTestClient, startTestRelay, TOKEN, until } from "./_helpers.ts";

const CHROME_FILE = "/home/me/Downloads/report.txt";
const BEGIN = {
  frameId: "F1",
  guid: "g-1",
  url: "http://127.0.0.1:1/report.txt",
  suggestedFilename: "report.txt",
};

interface Client {
  readonly id: number;
}

/** Resolves once the fake file system's (already settled) promises have run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function setup() {
  const clients: Client[] = [{ id: 1 }, { id: 2 }];
  const events: { client: number; method: string; params: JsonObject; sessionId?: string }[] = [];
  const extension: { method: string; params: JsonObject }[] = [];
  const logs: string[] = [];
  const fs = new FakeDownloadFs();
  fs.files.set(CHROME_FILE, "body");
  const emulation = new DownloadEmulation<Client>({
    clients: () => clients,
    sendEvent: (client, method, params, sessionId) =>
      events.push({
        client: client.id,
        method,
        params,
        ...(sessionId === undefined ? {} : { sessionId }),
      }),
    toExtension: (method, params) => extension.push({ method, params }),
    contextIds: () => ["CTX"],
    fs,
    log: (line) => logs.push(line),
  });
  const [c1, c2] = clients as [Client, Client];
  return { clients, c1, c2, events, extension, logs, fs, emulation };
}

Deno.test("DownloadEmulation.setBehavior() answers {} and tells the extension about deny", async () => {
  const { c1, c2, extension, emulation } = setup();
  assert.deepEqual(
    await emulation.setBehavior(c1, { behavior: "allowAndName", downloadPath: "/pw" }),
    { ok: true, result: {} },
  );
  assert.deepEqual(extension, []);
  assert.deepEqual(
    await emulation.setBehavior(c2, { behavior: "deny", browserContextId: "CTX" }),
    { ok: true, result: {} },
  );
  assert.deepEqual(extension, [{
    method: "BrowserRelay.setDownloadBehavior",
    params: { behavior: "deny" },
  }]);
  // The deny's client leaves: c1's setting is in force again.
  emulation.clientGone(c2);
  assert.deepEqual(extension[1], {
    method: "BrowserRelay.setDownloadBehavior",
    params: { behavior: "allow" },
  });
  emulation.clientGone(c1);
  assert.equal(emulation.size, 0);
});

Deno.test("DownloadEmulation.setBehavior() refuses bad input with a specific error", async (t) => {
  const { c1, fs, emulation, extension } = setup();
  await t.step("a relative downloadPath", async () => {
    assert.deepEqual(
      await emulation.setBehavior(c1, { behavior: "allow", downloadPath: "downloads" }),
      {
        ok: false,
        error: {
          code: -32000,
          message:
            'Cannot set download behavior as "downloadPath" must be an absolute path: current value is "downloads"',
        },
      },
    );
  });
  await t.step("a downloadPath the relay cannot write", async () => {
    fs.readOnly.add("/ro");
    assert.deepEqual(
      await emulation.setBehavior(c1, { behavior: "allowAndName", downloadPath: "/ro/x" }),
      {
        ok: false,
        error: {
          code: -32000,
          message:
            `Cannot set download behavior as the relay cannot write to "downloadPath": current value is "/ro/x" (Permission denied (os error 13): mkdir '/ro/x')`,
        },
      },
    );
  });
  await t.step("Chrome's own errors", async () => {
    assert.deepEqual(await emulation.setBehavior(c1, { behavior: "allow" }), {
      ok: false,
      error: { code: -32602, message: "downloadPath not provided" },
    });
    assert.deepEqual(
      await emulation.setBehavior(c1, { behavior: "deny", browserContextId: "OTHER" }),
      {
        ok: false,
        error: { code: -32602, message: "Failed to find browser context for id OTHER" },
      },
    );
  });
  await t.step("deny ignores a downloadPath, as Chrome does", async () => {
    assert.deepEqual(
      await emulation.setBehavior(c1, { behavior: "deny", downloadPath: "/ro/x" }),
      { ok: true, result: {} },
    );
    emulation.clientGone(c1);
    extension.length = 0;
  });
  await t.step("a client that left while the folder was checked", async () => {
    const gone = { id: 9 };
    assert.deepEqual(
      await emulation.setBehavior(gone, { behavior: "allow", downloadPath: "/pw" }),
      { ok: false, error: { code: -32000, message: "Client disconnected" } },
    );
  });
  assert.equal(emulation.size, 0);
  assert.deepEqual(extension, []);
});

Deno.test("DownloadEmulation.handleEvent() reports a download to every session with events and places the file", async () => {
  const { c1, c2, events, extension, fs, emulation } = setup();
  await emulation.setBehavior(c1, {
    behavior: "allowAndName",
    downloadPath: "/pw",
    eventsEnabled: true,
  });
  await emulation.setBehavior(c2, { behavior: "default", eventsEnabled: false });
  // c2's browser session wants events; c2's root does not.
  await emulation.setBehavior(c2, {
    behavior: "allowAndName",
    downloadPath: "/pw",
    eventsEnabled: true,
  }, "B2");
  // The page event is still routed to the tab's session: handleEvent does not consume it.
  assert.equal(
    emulation.handleEvent({ method: "Page.downloadWillBegin", params: BEGIN, sessionId: "S" }),
    false,
  );
  assert.equal(
    emulation.handleEvent({
      method: "Page.downloadProgress",
      params: { guid: "g-1", totalBytes: 4, receivedBytes: 2, state: "inProgress" },
      sessionId: "S",
    }),
    false,
  );
  // Chrome's page-level "completed" comes before the file is placed: it is not reported.
  emulation.handleEvent({
    method: "Page.downloadProgress",
    params: { guid: "g-1", totalBytes: 4, receivedBytes: 4, state: "completed" },
    sessionId: "S",
  });
  assert.equal(
    emulation.handleEvent({
      method: "BrowserRelay.downloadCompleted",
      params: {
        guid: "g-1",
        downloadId: 7,
        filePath: CHROME_FILE,
        receivedBytes: 4,
        totalBytes: 4,
      },
    }),
    true,
  );
  await flush();
  const progress = (state: string, received: number, filePath?: string) => ({
    method: "Browser.downloadProgress",
    params: {
      guid: "g-1",
      totalBytes: 4,
      receivedBytes: received,
      state,
      ...(filePath === undefined ? {} : { filePath }),
    },
  });
  assert.deepEqual(events, [
    { client: 1, method: "Browser.downloadWillBegin", params: BEGIN },
    { client: 2, method: "Browser.downloadWillBegin", params: BEGIN, sessionId: "B2" },
    { client: 1, ...progress("inProgress", 2) },
    { client: 2, ...progress("inProgress", 2), sessionId: "B2" },
    { client: 1, ...progress("completed", 4, "/pw/g-1") },
    { client: 2, ...progress("completed", 4, "/pw/g-1"), sessionId: "B2" },
  ]);
  assert.deepEqual([...fs.files], [["/pw/g-1", "body"]]);
  // The file left the person's folder, so its list entry goes too.
  assert.deepEqual(extension, [{
    method: "BrowserRelay.eraseDownload",
    params: { downloadId: 7 },
  }]);
  assert.equal(emulation.size, 3); // settings only
});

Deno.test("DownloadEmulation.handleEvent() reports canceled when the file cannot be placed", async () => {
  const { c1, events, extension, fs, logs, emulation } = setup();
  await emulation.setBehavior(c1, { behavior: "allow", downloadPath: "/pw", eventsEnabled: true });
  emulation.handleEvent({ method: "Page.downloadWillBegin", params: BEGIN, sessionId: "S" });
  fs.readOnly.add("/pw");
  emulation.handleEvent({
    method: "BrowserRelay.downloadCompleted",
    params: { guid: "g-1", downloadId: 7, filePath: CHROME_FILE, receivedBytes: 4, totalBytes: 4 },
  });
  await flush();
  assert.deepEqual(events.map((e) => [e.method, e.params.state]), [
    ["Browser.downloadWillBegin", undefined],
    ["Browser.downloadProgress", "canceled"],
  ]);
  assert.deepEqual(logs, [
    `Cannot save download "g-1" to "/pw": Permission denied (os error 13): mkdir '/pw'`,
  ]);
  // Chrome's file stays where Chrome saved it, and so does its list entry.
  assert.deepEqual([...fs.files.keys()], [CHROME_FILE]);
  assert.deepEqual(extension, []);
});

Deno.test("DownloadEmulation.handleEvent() turns the extension's late cancel into canceled", async () => {
  const { c1, events, extension, emulation } = setup();
  await emulation.setBehavior(c1, { behavior: "deny", eventsEnabled: true });
  emulation.handleEvent({ method: "Page.downloadWillBegin", params: BEGIN, sessionId: "S" });
  // Besides the deny flag, the relay asks for this download's cancel (a restarted worker has
  // lost the flag).
  assert.deepEqual(extension, [
    { method: "BrowserRelay.setDownloadBehavior", params: { behavior: "deny" } },
    { method: "BrowserRelay.cancelDownload", params: { guid: "g-1" } },
  ]);
  assert.equal(
    emulation.handleEvent({ method: "BrowserRelay.downloadCanceled", params: { guid: "g-1" } }),
    true,
  );
  // Chrome's own canceled report after it changes nothing: one canceled per download.
  emulation.handleEvent({
    method: "Page.downloadProgress",
    params: { guid: "g-1", totalBytes: 0, receivedBytes: 0, state: "canceled" },
    sessionId: "S",
  });
  assert.deepEqual(events.map((e) => [e.method, e.params.state]), [
    ["Browser.downloadWillBegin", undefined],
    ["Browser.downloadProgress", "canceled"],
  ]);
});

Deno.test("DownloadEmulation.handleEvent() never reports a denied download completed", async () => {
  const { c1, events, fs, emulation } = setup();
  await emulation.setBehavior(c1, { behavior: "deny", eventsEnabled: true });
  emulation.handleEvent({ method: "Page.downloadWillBegin", params: BEGIN, sessionId: "S" });
  emulation.handleEvent({
    method: "BrowserRelay.downloadCompleted",
    params: { guid: "g-1", downloadId: 7, filePath: CHROME_FILE, receivedBytes: 4, totalBytes: 4 },
  });
  await flush();
  assert.deepEqual(events.map((e) => [e.method, e.params.state]), [
    ["Browser.downloadWillBegin", undefined],
    ["Browser.downloadProgress", "canceled"],
  ]);
  assert.deepEqual([...fs.files.keys()], [CHROME_FILE]);
  assert.equal(emulation.size, 1); // the setting only
});

Deno.test("DownloadEmulation.clientGone() cancels downloads bound for the client's folder and empties its tables", async () => {
  const { c1, c2, events, extension, emulation } = setup();
  await emulation.setBehavior(c1, {
    behavior: "allowAndName",
    downloadPath: "/pw",
    eventsEnabled: true,
  });
  await emulation.setBehavior(c2, { behavior: "default", eventsEnabled: true });
  await emulation.setBehavior(c1, {
    behavior: "allowAndName",
    downloadPath: "/pw",
    eventsEnabled: true,
  });
  emulation.handleEvent({ method: "Page.downloadWillBegin", params: BEGIN, sessionId: "S" });
  events.length = 0;
  emulation.clientGone(c1);
  assert.deepEqual(extension, [{ method: "BrowserRelay.cancelDownload", params: { guid: "g-1" } }]);
  // The other watcher learns it was canceled, as it would from Chrome.
  assert.deepEqual(events, [{
    client: 2,
    method: "Browser.downloadProgress",
    params: { guid: "g-1", totalBytes: 0, receivedBytes: 0, state: "canceled" },
  }]);
  emulation.clientGone(c2);
  assert.equal(emulation.size, 0);
});

Deno.test("DownloadEmulation.handleEvent() ignores downloads the relay never heard begin", async () => {
  const { events, extension, fs, emulation } = setup();
  emulation.handleEvent({
    method: "BrowserRelay.downloadCompleted",
    params: { guid: "g-x", downloadId: 1, filePath: CHROME_FILE, receivedBytes: 4, totalBytes: 4 },
  });
  await flush();
  assert.deepEqual(events, []);
  assert.deepEqual(extension, []);
  assert.deepEqual([...fs.files.keys()], [CHROME_FILE]);
  assert.equal(emulation.handleEvent({ method: "Page.frameNavigated", params: {} }), false);
});

Deno.test("startRelay() emulates Browser.setDownloadBehavior and the download events end to end", async () => {
  const fs = new FakeDownloadFs();
  fs.files.set(CHROME_FILE, "body");
  await using relay = await startTestRelay({ downloadFs: fs });
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "S1", { targetId: "T1", title: "One", url: "https://one/" });
  {
    await using client = await CdpTestClient.connect(relay);
    const bad = await client.call("Browser.setDownloadBehavior", {
      behavior: "allow",
      downloadPath: "relative",
    });
    assert.equal(
      (bad.error as JsonObject).message,
      'Cannot set download behavior as "downloadPath" must be an absolute path: current value is "relative"',
    );
    const denyId = client.post("Browser.setDownloadBehavior", {
      behavior: "deny",
      eventsEnabled: true,
    });
    const deny = await ext.nextCommand("BrowserRelay.setDownloadBehavior");
    assert.deepEqual(deny.params, { behavior: "deny" });
    ext.respond(deny.id, {});
    assert.deepEqual((await client.response(denyId)).result, {});
    const allowed = await client.call("Browser.setDownloadBehavior", {
      behavior: "allowAndName",
      downloadPath: "/pw",
      eventsEnabled: true,
    });
    assert.deepEqual(allowed.result, {});
    const undeny = await ext.nextCommand("BrowserRelay.setDownloadBehavior");
    assert.deepEqual(undeny.params, { behavior: "allow" });
    ext.respond(undeny.id, {});

    ext.event("Page.downloadWillBegin", BEGIN, "S1");
    assert.deepEqual((await client.event("Browser.downloadWillBegin")).params, BEGIN);
    ext.event("BrowserRelay.downloadCompleted", {
      guid: "g-1",
      downloadId: 3,
      filePath: CHROME_FILE,
      receivedBytes: 4,
      totalBytes: 4,
    });
    const done = await client.event("Browser.downloadProgress");
    assert.deepEqual(done, {
      method: "Browser.downloadProgress",
      params: {
        guid: "g-1",
        totalBytes: 4,
        receivedBytes: 4,
        state: "completed",
        filePath: "/pw/g-1",
      },
    });
    const erase = await ext.nextCommand("BrowserRelay.eraseDownload");
    assert.deepEqual(erase.params, { downloadId: 3 });
    ext.respond(erase.id, {});
    assert.deepEqual([...fs.files], [["/pw/g-1", "body"]]);
    // The extension's own report is consumed: no client sees a BrowserRelay event.
    assert.deepEqual(
      client.events().filter((e) => String(e.method).startsWith("BrowserRelay")),
      [],
    );
    assert.equal(relay.stats().downloads, 1);
  }
  // The client left: its setting goes, the deny flag is unchanged, nothing is left behind.
  await until("the relay forgets the client's setting", () => relay.stats().downloads === 0);
});
