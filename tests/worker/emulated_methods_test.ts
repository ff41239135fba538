import assert from "node:assert/strict";
import type { Outcome } from "../../codec/extension_frame.ts";
import { ContentSettingsBridge } from "../../worker/content_settings_bridge.ts";
import { DownloadBridge } from "../../worker/download_bridge.ts";
import { TabBridge } from "../../worker/tab_bridge.ts";
import { TabSessions } from "../../worker/tab_sessions.ts";
import { FakeWindows, globalClock } from "../_fakes/fake_chrome.ts";
import { FakeContentSettings } from "../_fakes/fake_content_settings.ts";
import { FakeDebugger } from "../_fakes/fake_debugger.ts";
import { FakeDownloads } from "../_fakes/fake_downloads.ts";
import { FakeRelayLink } from "../_fakes/fake_relay_link.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";

const URL_A = "http://127.0.0.1:1/report.txt";
const BEGIN = { frameId: "F", guid: "g-1", url: URL_A, suggestedFilename: "report.txt" };

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function setup(withDownloads: boolean) {
  const tabs = new FakeTabs();
  const downloads = new FakeDownloads();
  const link = new FakeRelayLink();
  link.ready = true;
  const bridge = new DownloadBridge({ downloads, sendEvent: (cdp) => void link.sendEvent(cdp) });
  downloads.onCreated.addListener((item) => bridge.itemCreated(item));
  const tabBridge = new TabBridge({
    debugger: new FakeDebugger(tabs),
    tabs,
    windows: new FakeWindows(tabs),
    clock: globalClock(),
    sessions: new TabSessions(new FakeStorage().session),
    link,
    ...(withDownloads ? { downloads: bridge } : {}),
  });
  return { downloads, link, bridge, tabBridge };
}

const ok = (result: object): Outcome => ({ ok: true, result: { ...result } });

Deno.test("TabBridge.onCommand() answers the relay's download methods through the download bridge", async () => {
  const { downloads, link, bridge, tabBridge } = setup(true);
  try {
    tabBridge.onCommand(1, {
      method: "BrowserRelay.setDownloadBehavior",
      params: { behavior: "deny" },
    });
    await flush();
    bridge.pageEvent(7, "Page.downloadWillBegin", BEGIN);
    downloads.create(5, { url: URL_A, filename: "", state: "in_progress", exists: true });
    await flush();
    assert.equal(downloads.items.size, 0, "denied: canceled and erased");

    tabBridge.onCommand(2, {
      method: "BrowserRelay.setDownloadBehavior",
      params: { behavior: "allow" },
    });
    bridge.pageEvent(7, "Page.downloadWillBegin", { ...BEGIN, guid: "g-2" });
    const item = { url: URL_A, filename: "", state: "in_progress" as const, exists: true };
    downloads.create(6, item);
    tabBridge.onCommand(3, { method: "BrowserRelay.cancelDownload", params: { guid: "g-2" } });
    tabBridge.onCommand(4, { method: "BrowserRelay.cancelDownload", params: { guid: "g-9" } });
    downloads.items.set(8, { url: URL_A, filename: "/x", state: "complete", exists: true });
    tabBridge.onCommand(5, { method: "BrowserRelay.eraseDownload", params: { downloadId: 8 } });
    await flush();
    assert.equal(item.state, "interrupted");
    assert.deepEqual(downloads.items.size, 0);
    assert.deepEqual(link.responses.map((r) => [r.id, r.outcome]), [
      [1, ok({})],
      [2, ok({})],
      [3, ok({ known: true })],
      [4, ok({ known: false })],
      [5, ok({})],
    ]);
  } finally {
    tabBridge.close();
  }
});

Deno.test("TabBridge.onCommand() refuses download methods with bad params or without chrome.downloads", async () => {
  const withBridge = setup(true);
  const without = setup(false);
  try {
    withBridge.tabBridge.onCommand(1, { method: "BrowserRelay.setDownloadBehavior", params: {} });
    withBridge.tabBridge.onCommand(2, { method: "BrowserRelay.cancelDownload", params: {} });
    withBridge.tabBridge.onCommand(3, {
      method: "BrowserRelay.eraseDownload",
      params: { downloadId: "8" },
    });
    without.tabBridge.onCommand(4, {
      method: "BrowserRelay.cancelDownload",
      params: { guid: "g-1" },
    });
    await flush();
    assert.deepEqual(
      [...withBridge.link.responses, ...without.link.responses].map((r) => [r.id, r.outcome]),
      [
        [1, { ok: false, error: 'Cannot set download behavior as "behavior" is not a string' }],
        [2, { ok: false, error: 'Cannot cancel download as "guid" is not a string' }],
        [3, { ok: false, error: 'Cannot erase download as "downloadId" is not an integer' }],
        [4, {
          ok: false,
          error: 'Cannot run "BrowserRelay.cancelDownload" as chrome.downloads is not available',
        }],
      ],
    );
  } finally {
    withBridge.tabBridge.close();
    without.tabBridge.close();
  }
});

Deno.test("TabBridge.onCommand() answers BrowserRelay.setContentSettings through the content settings bridge", async () => {
  const tabs = new FakeTabs();
  const port = new FakeContentSettings();
  const link = new FakeRelayLink();
  link.ready = true;
  const make = (withSettings: boolean) =>
    new TabBridge({
      debugger: new FakeDebugger(tabs),
      tabs,
      windows: new FakeWindows(tabs),
      clock: globalClock(),
      sessions: new TabSessions(new FakeStorage().session),
      link,
      ...(withSettings ? { contentSettings: new ContentSettingsBridge(port) } : {}),
    });
  const tabBridge = make(true);
  const without = make(false);
  const rule = { pattern: "https://a.example:443/*", setting: "allow" };
  try {
    tabBridge.onCommand(1, {
      method: "BrowserRelay.setContentSettings",
      params: { type: "location", rules: [rule] },
    });
    tabBridge.onCommand(2, {
      method: "BrowserRelay.setContentSettings",
      params: { type: "cookies", rules: [] },
    });
    tabBridge.onCommand(3, {
      method: "BrowserRelay.setContentSettings",
      params: { type: "location", rules: [{ pattern: "x", setting: "granted" }] },
    });
    tabBridge.onCommand(4, {
      method: "BrowserRelay.setContentSettings",
      params: { type: "notifications", rules: "all" },
    });
    without.onCommand(5, {
      method: "BrowserRelay.setContentSettings",
      params: { type: "location", rules: [] },
    });
    await flush();
    assert.deepEqual(port.snapshot(), { location: { "https://a.example:443/*": "allow" } });
    // Replies go out as each method settles; the bad ones settle first.
    assert.deepEqual(
      link.responses.map((r) => [r.id, r.outcome]).sort(([a], [b]) => Number(a) - Number(b)),
      [
        [1, ok({})],
        [2, {
          ok: false,
          error:
            'Cannot set content settings as "type" is not one of "location", "notifications", "camera", "microphone", "clipboard": current value is "cookies"',
        }],
        [3, {
          ok: false,
          error:
            'Cannot set content settings as a rule is not {pattern, setting: "allow" | "block" | "ask"}: current value is {"pattern":"x","setting":"granted"}',
        }],
        [4, { ok: false, error: 'Cannot set content settings as "rules" is not an array' }],
        [5, {
          ok: false,
          error:
            'Cannot run "BrowserRelay.setContentSettings" as chrome.contentSettings is not available',
        }],
      ],
    );
  } finally {
    tabBridge.close();
    without.close();
  }
});
