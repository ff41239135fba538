import assert from "node:assert/strict";
import { type DownloadAction, DownloadTracker } from "../../worker/download_tracker.ts";

const URL_A = "http://127.0.0.1:1/file.txt";
const BEGIN = { frameId: "F", guid: "g-1", url: URL_A, suggestedFilename: "report.txt" };
const SAVED = "/home/me/Downloads/report.txt";

function setup(): { tracker: DownloadTracker; actions: DownloadAction[] } {
  const actions: DownloadAction[] = [];
  return { tracker: new DownloadTracker({ onAction: (a) => actions.push(a) }), actions };
}

Deno.test("DownloadTracker.itemChanged() reports a finished download with Chrome's file path once page and item agree", async (t) => {
  for (const order of ["page events first", "chrome.downloads first"]) {
    await t.step(order, () => {
      const { tracker, actions } = setup();
      const page = () => {
        assert.equal(tracker.pageEvent(7, "Page.downloadWillBegin", BEGIN), true);
        tracker.pageEvent(7, "Page.downloadProgress", {
          guid: "g-1",
          receivedBytes: 26,
          totalBytes: 26,
          state: "completed",
        });
      };
      const item = () => {
        tracker.itemCreated({ id: 3, url: URL_A, filename: "", state: "in_progress" });
        tracker.itemChanged({ id: 3, filename: { current: SAVED } });
        tracker.itemChanged({ id: 3, state: { current: "complete" } });
      };
      if (order === "page events first") {
        page();
        item();
      } else {
        tracker.itemCreated({ id: 3, url: URL_A, filename: "", state: "in_progress" });
        tracker.itemChanged({ id: 3, filename: { current: SAVED } });
        page();
        assert.deepEqual(actions, [], "not before the file is closed");
        tracker.itemChanged({ id: 3, state: { current: "complete" } });
      }
      assert.deepEqual(actions, [{
        kind: "completed",
        tabId: 7,
        guid: "g-1",
        downloadId: 3,
        filePath: SAVED,
        receivedBytes: 26,
        totalBytes: 26,
      }]);
      assert.equal(tracker.size, 0);
    });
  }
});

Deno.test("DownloadTracker.itemCreated() matches items by final URL after a redirect", () => {
  const { tracker, actions } = setup();
  tracker.itemCreated({
    id: 4,
    url: "http://127.0.0.1:1/redirect",
    finalUrl: URL_A,
    filename: SAVED,
    state: "in_progress",
  });
  tracker.pageEvent(7, "Page.downloadWillBegin", BEGIN);
  tracker.pageEvent(7, "Page.downloadProgress", {
    guid: "g-1",
    receivedBytes: 1,
    totalBytes: 1,
    state: "completed",
  });
  tracker.itemChanged({ id: 4, state: { current: "complete" } });
  assert.equal(actions[0]?.kind, "completed");
  assert.equal(tracker.size, 0);
});

Deno.test("DownloadTracker.setDeny() cancels downloads of shared tabs that begin afterwards", () => {
  const { tracker, actions } = setup();
  tracker.setDeny(true);
  tracker.pageEvent(7, "Page.downloadWillBegin", BEGIN);
  tracker.itemCreated({ id: 5, url: URL_A, filename: "", state: "in_progress" });
  assert.deepEqual(actions, [{ kind: "cancel", downloadId: 5, guid: "g-1" }]);
  tracker.itemChanged({ id: 5, state: { current: "interrupted" } });
  tracker.pageEvent(7, "Page.downloadProgress", {
    guid: "g-1",
    receivedBytes: 0,
    totalBytes: 26,
    state: "canceled",
  });
  assert.equal(actions.length, 1);
  assert.equal(tracker.size, 0);
});

Deno.test("DownloadTracker.itemChanged() never touches downloads of tabs that are not shared", () => {
  const { tracker, actions } = setup();
  tracker.setDeny(true);
  tracker.itemCreated({ id: 6, url: "http://elsewhere/x.zip", filename: "", state: "in_progress" });
  tracker.itemChanged({ id: 6, filename: { current: "/home/me/Downloads/x.zip" } });
  tracker.itemChanged({ id: 6, state: { current: "complete" } });
  assert.deepEqual(actions, []);
  assert.equal(tracker.size, 0);
});

Deno.test("DownloadTracker.itemCreated() keeps at most maxUnmatched unclaimed items", () => {
  const actions: DownloadAction[] = [];
  const tracker = new DownloadTracker({ onAction: (a) => actions.push(a), maxUnmatched: 2 });
  for (const id of [1, 2, 3]) {
    tracker.itemCreated({ id, url: `http://elsewhere/${id}`, filename: "", state: "in_progress" });
  }
  assert.equal(tracker.size, 2);
});

Deno.test("DownloadTracker.pageEvent() forgets a download canceled in the page and ignores other events", () => {
  const { tracker, actions } = setup();
  assert.equal(tracker.pageEvent(7, "Page.frameNavigated", { frame: {} }), false);
  tracker.pageEvent(7, "Page.downloadWillBegin", BEGIN);
  tracker.pageEvent(7, "Page.downloadProgress", {
    guid: "g-1",
    receivedBytes: 0,
    totalBytes: 0,
    state: "canceled",
  });
  tracker.itemCreated({ id: 9, url: URL_A, filename: SAVED, state: "complete" });
  assert.deepEqual(actions, []);
  assert.equal(tracker.size, 1, "the item waits as unmatched");
  tracker.itemChanged({ id: 9, state: { current: "complete" } });
  assert.equal(tracker.size, 0);
});

Deno.test("DownloadTracker.cancel() cancels a shared tab's download once its item is known", async (t) => {
  await t.step("item already known", () => {
    const { tracker, actions } = setup();
    tracker.pageEvent(7, "Page.downloadWillBegin", BEGIN);
    tracker.itemCreated({ id: 5, url: URL_A, filename: "", state: "in_progress" });
    assert.equal(tracker.cancel("g-1"), true);
    assert.equal(tracker.cancel("g-1"), true, "a second cancel sends nothing more");
    assert.deepEqual(actions, [{ kind: "cancel", downloadId: 5, guid: "g-1" }]);
    tracker.itemChanged({ id: 5, state: { current: "interrupted" } });
    assert.equal(tracker.size, 0);
  });
  await t.step("item not known yet", () => {
    const { tracker, actions } = setup();
    tracker.pageEvent(7, "Page.downloadWillBegin", BEGIN);
    assert.equal(tracker.cancel("g-1"), true);
    assert.deepEqual(actions, []);
    tracker.itemCreated({ id: 5, url: URL_A, filename: "", state: "in_progress" });
    assert.deepEqual(actions, [{ kind: "cancel", downloadId: 5, guid: "g-1" }]);
  });
  await t.step("unknown guid", () => {
    const { tracker, actions } = setup();
    assert.equal(tracker.cancel("nope"), false);
    assert.deepEqual(actions, []);
  });
});

Deno.test("DownloadTracker.setDeny() never reports a denied download completed, even one that finished first", () => {
  const { tracker, actions } = setup();
  tracker.setDeny(true);
  tracker.pageEvent(7, "Page.downloadWillBegin", BEGIN);
  tracker.pageEvent(7, "Page.downloadProgress", {
    guid: "g-1",
    receivedBytes: 26,
    totalBytes: 26,
    state: "completed",
  });
  // A small file: Chrome finished it before the item was seen, so the cancel comes too late.
  tracker.itemCreated({ id: 5, url: URL_A, filename: SAVED, state: "complete" });
  assert.deepEqual(actions, [{ kind: "cancel", downloadId: 5, guid: "g-1" }]);
  assert.equal(tracker.size, 0);
});
