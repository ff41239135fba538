import assert from "node:assert/strict";
import type { CdpCall } from "../../codec/extension_frame.ts";
import { DownloadBridge } from "../../worker/download_bridge.ts";
import { FakeDownloads } from "../_fakes/fake_downloads.ts";

const URL_A = "http://127.0.0.1:1/report.txt";
const SAVED = "/home/me/Downloads/report.txt";
const BEGIN = { frameId: "F", guid: "g-1", url: URL_A, suggestedFilename: "report.txt" };
const DONE = { guid: "g-1", receivedBytes: 4, totalBytes: 4, state: "completed" };

/** Resolves once the fake port's (already settled) promises have run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function setup() {
  const downloads = new FakeDownloads();
  const sent: CdpCall[] = [];
  const logs: string[] = [];
  const bridge = new DownloadBridge({
    downloads,
    sendEvent: (cdp) => sent.push(cdp),
    log: (line) => logs.push(line),
  });
  downloads.onCreated.addListener((item) => bridge.itemCreated(item));
  downloads.onChanged.addListener((delta) => bridge.itemChanged(delta));
  return { downloads, sent, logs, bridge };
}

Deno.test("DownloadBridge.pageEvent() reports where Chrome saved a shared tab's finished download", async () => {
  const { downloads, sent, bridge } = setup();
  bridge.pageEvent(7, "Page.downloadWillBegin", BEGIN);
  downloads.create(3, { url: URL_A, filename: "", state: "in_progress", exists: true });
  downloads.change(3, { filename: SAVED });
  bridge.pageEvent(7, "Page.downloadProgress", DONE);
  downloads.change(3, { state: "complete" });
  await flush();
  assert.deepEqual(sent, [{
    method: "BrowserRelay.downloadCompleted",
    params: { guid: "g-1", downloadId: 3, filePath: SAVED, receivedBytes: 4, totalBytes: 4 },
  }]);
  // Nothing is erased until the relay has moved the file.
  assert.deepEqual([...downloads.items.keys()], [3]);
  await bridge.erase(3);
  assert.equal(downloads.items.size, 0);
  assert.equal(bridge.size, 0);
});

Deno.test("DownloadBridge.setBehavior() deny cancels and erases a shared tab's download", async () => {
  const { downloads, sent, bridge } = setup();
  bridge.setBehavior("deny");
  bridge.pageEvent(7, "Page.downloadWillBegin", BEGIN);
  downloads.create(5, { url: URL_A, filename: "", state: "in_progress", exists: true });
  await flush();
  // Chrome reports the cancel itself (Page.downloadProgress canceled): nothing to send.
  assert.deepEqual(sent, []);
  assert.equal(downloads.items.size, 0);
  bridge.pageEvent(7, "Page.downloadProgress", { ...DONE, state: "canceled" });
  assert.equal(bridge.size, 0);
});

Deno.test("DownloadBridge.setBehavior() deny removes a file that finished before the cancel", async () => {
  const { downloads, sent, bridge } = setup();
  bridge.setBehavior("deny");
  bridge.pageEvent(7, "Page.downloadWillBegin", BEGIN);
  bridge.pageEvent(7, "Page.downloadProgress", DONE);
  const item = { url: URL_A, filename: SAVED, state: "complete" as const, exists: true };
  downloads.create(5, item);
  await flush();
  assert.equal(item.exists, false, "the file is removed");
  assert.equal(downloads.items.size, 0, "and its entry erased");
  // Chrome said completed, so the relay learns of the cancel from the extension.
  assert.deepEqual(sent, [{ method: "BrowserRelay.downloadCanceled", params: { guid: "g-1" } }]);
  assert.equal(bridge.size, 0);
});

Deno.test("DownloadBridge.cancel() cancels a download whose client left", async () => {
  const { downloads, bridge } = setup();
  bridge.pageEvent(7, "Page.downloadWillBegin", BEGIN);
  const item = { url: URL_A, filename: "", state: "in_progress" as const, exists: true };
  downloads.create(5, item);
  assert.equal(bridge.cancel("g-1"), true);
  await flush();
  assert.equal(item.state, "interrupted");
  assert.equal(downloads.items.size, 0);
  assert.equal(bridge.cancel("g-unknown"), false);
});

Deno.test("DownloadBridge.itemCreated() never touches downloads of tabs that are not shared", async () => {
  const { downloads, sent, bridge } = setup();
  bridge.setBehavior("deny");
  const item = {
    url: "http://elsewhere/x.zip",
    filename: "",
    state: "in_progress" as const,
    exists: true,
  };
  downloads.create(8, item);
  downloads.change(8, { filename: "/home/me/Downloads/x.zip" });
  downloads.change(8, { state: "complete" });
  // Events of other domains are not download events.
  bridge.pageEvent(7, "Page.frameNavigated", { frame: {} });
  await flush();
  assert.deepEqual(sent, []);
  assert.deepEqual(downloads.items.get(8), {
    url: "http://elsewhere/x.zip",
    filename: "/home/me/Downloads/x.zip",
    state: "complete",
    exists: true,
  });
  assert.equal(bridge.size, 0);
});

Deno.test("DownloadBridge.setBehavior() logs a chrome.downloads call that fails", async () => {
  const { downloads, logs, bridge } = setup();
  downloads.removeFile = () => Promise.reject(new Error("Download file already deleted"));
  bridge.setBehavior("deny");
  bridge.pageEvent(7, "Page.downloadWillBegin", BEGIN);
  downloads.create(5, { url: URL_A, filename: SAVED, state: "complete", exists: true });
  await flush();
  assert.deepEqual(logs, ["Cannot cancel download 5: Download file already deleted"]);
  assert.equal(bridge.size, 0);
});
