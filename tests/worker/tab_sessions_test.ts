import assert from "node:assert/strict";
import type { StorageArea } from "../../worker/ports.ts";
import { type TabRecord, TabSessions } from "../../worker/tab_sessions.ts";
import { FakeDebugger } from "../_fakes/fake_debugger.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";

const KEY = "browserRelay.tabs";

function record(tabId: number, sessionId: string, patch: Partial<TabRecord> = {}): TabRecord {
  return {
    tabId,
    sessionId,
    targetId: `TARGET-${tabId}`,
    targetInfo: { targetId: `TARGET-${tabId}`, type: "page", title: "", url: "", attached: true },
    state: "attached",
    children: [],
    replay: [],
    replayOverflow: false,
    scriptIds: {},
    ...patch,
  };
}

/** Runs queued promise jobs (no timers involved). */
async function drain(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A storage area whose writes finish only when the test says so. */
class SlowArea implements StorageArea {
  readonly data = new Map<string, unknown>();
  readonly #waiting: (() => void)[] = [];
  inFlight = 0;
  maxInFlight = 0;
  writes = 0;

  get(keys: readonly string[]): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const key of keys) if (this.data.has(key)) out[key] = this.data.get(key);
    return Promise.resolve(out);
  }

  set(items: Record<string, unknown>): Promise<void> {
    this.inFlight++;
    this.writes++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const copy = JSON.parse(JSON.stringify(items)) as Record<string, unknown>;
    return new Promise((resolve) => {
      this.#waiting.push(() => {
        for (const [key, value] of Object.entries(copy)) this.data.set(key, value);
        this.inFlight--;
        resolve();
      });
    });
  }

  remove(): Promise<void> {
    return Promise.resolve();
  }

  /** Finishes the oldest write. */
  finishOne(): boolean {
    const next = this.#waiting.shift();
    next?.();
    return next !== undefined;
  }
}

Deno.test("TabSessions.nextSessionId() persists through one serialized, coalescing writer", async () => {
  const area = new SlowArea();
  const sessions = new TabSessions(area);
  await sessions.load();
  const first = sessions.nextSessionId();
  sessions.add(record(1, first));
  await Promise.resolve();
  // One write in flight; everything after it coalesces into a single queued write.
  sessions.add(record(2, sessions.nextSessionId()));
  sessions.add(record(3, sessions.nextSessionId()));
  sessions.remove(1);
  const flushed = sessions.flush();
  while (area.finishOne()) await drain();
  await flushed;
  while (area.finishOne()) await drain();
  assert.equal(area.maxInFlight, 1);
  assert.equal(area.writes, 2);
  const stored = area.data.get(KEY) as { counter: number; tabs: TabRecord[] };
  assert.equal(stored.counter, 3);
  assert.deepEqual(stored.tabs.map((t) => t.sessionId), ["cb-tab-2", "cb-tab-3"]);
});

Deno.test("TabSessions.load() restores tabs, children and counter, and drops malformed entries", async () => {
  const storage = new FakeStorage({
    session: {
      [KEY]: {
        version: 1,
        counter: 4,
        tabs: [
          record(1, "cb-tab-1", {
            children: [{
              sessionId: "C1",
              targetId: "IFRAME-1",
              type: "iframe",
              parentSessionId: "cb-tab-1",
            }],
          }),
          { tabId: "x", sessionId: 5 },
          record(1, "cb-tab-9"),
          record(2, "cb-tab-7"),
        ],
      },
    },
  });
  const sessions = new TabSessions(storage.session);
  await sessions.load();
  assert.deepEqual(sessions.list().map((t) => [t.tabId, t.sessionId]), [[1, "cb-tab-1"], [
    2,
    "cb-tab-7",
  ]]);
  assert.deepEqual(sessions.byChild("C1")?.record.tabId, 1);
  // Never hand out an id that is still in use, even if the counter lags behind.
  assert.equal(sessions.nextSessionId(), "cb-tab-8");
  await sessions.flush();
});

Deno.test("TabSessions.noteCommand() records session state once per key and forgets what is undone", async () => {
  const storage = new FakeStorage();
  const sessions = new TabSessions(storage.session, { maxReplayEntries: 4 });
  await sessions.load();
  sessions.add(record(1, "cb-tab-1"));
  sessions.noteCommand(1, "Network.enable", { maxTotalBufferSize: 0 }, {});
  sessions.noteCommand(1, "Runtime.evaluate", { expression: "1" }, {});
  sessions.noteCommand(1, "Page.addScriptToEvaluateOnNewDocument", { source: "a" }, {
    identifier: "1",
  });
  sessions.noteCommand(1, "Page.addScriptToEvaluateOnNewDocument", { source: "b" }, {
    identifier: "2",
  });
  sessions.noteCommand(1, "Network.enable", {}, {});
  sessions.noteCommand(1, "Page.removeScriptToEvaluateOnNewDocument", { identifier: "1" }, {});
  assert.deepEqual(sessions.byTab(1)?.replay, [
    {
      key: "Page.addScriptToEvaluateOnNewDocument#2",
      method: "Page.addScriptToEvaluateOnNewDocument",
      params: { source: "b" },
      clientIdentifier: "2",
    },
    { key: "Network.enable", method: "Network.enable", params: {} },
  ]);
  sessions.noteCommand(1, "Network.disable", undefined, {});
  assert.deepEqual(sessions.byTab(1)?.replay.map((e) => e.key), [
    "Page.addScriptToEvaluateOnNewDocument#2",
  ]);
  for (const name of ["a", "b", "c", "d"]) {
    sessions.noteCommand(1, "Runtime.addBinding", { name }, {});
  }
  assert.equal(sessions.byTab(1)?.replayOverflow, true);
  await sessions.flush();
});

Deno.test("TabSessions.verify() keeps attached tabs, reports lost ones and removes closed ones", async () => {
  const tabs = new FakeTabs();
  const dbg = new FakeDebugger(tabs);
  const kept = tabs.add();
  const lost = tabs.add();
  const closed = tabs.add();
  await dbg.attach({ tabId: kept.id }, "1.3");
  const storage = new FakeStorage({
    session: {
      [KEY]: {
        version: 1,
        counter: 3,
        tabs: [
          record(kept.id, "cb-tab-1"),
          record(lost.id, "cb-tab-2"),
          record(closed.id, "cb-tab-3"),
        ],
      },
    },
  });
  tabs.drop(closed.id);
  const sessions = new TabSessions(storage.session);
  await sessions.load();
  const result = await sessions.verify(dbg, tabs, (promise) => promise);
  assert.deepEqual(result.kept.map((t) => t.sessionId), ["cb-tab-1"]);
  assert.deepEqual(result.lost.map((t) => t.sessionId), ["cb-tab-2"]);
  assert.deepEqual(result.closed.map((t) => t.sessionId), ["cb-tab-3"]);
  assert.deepEqual(sessions.list().map((t) => t.sessionId), ["cb-tab-1", "cb-tab-2"]);
  assert.deepEqual(dbg.calls, []);
  await sessions.flush();
});

Deno.test("TabSessions.migrate() moves a record to the new tab id and keeps its session id", async () => {
  const storage = new FakeStorage();
  const sessions = new TabSessions(storage.session);
  await sessions.load();
  sessions.add(record(1, "cb-tab-1"));
  assert.equal(sessions.migrate(1, 5)?.sessionId, "cb-tab-1");
  assert.equal(sessions.byTab(1), undefined);
  assert.equal(sessions.byTab(5)?.sessionId, "cb-tab-1");
  await sessions.flush();
  const stored = storage.session.snapshot()[KEY] as { tabs: TabRecord[] };
  assert.deepEqual(stored.tabs.map((t) => [t.tabId, t.sessionId]), [[5, "cb-tab-1"]]);
});
