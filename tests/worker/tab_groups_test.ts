import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { TAB_GROUP_NONE } from "../../worker/ports.ts";
import {
  GROUP_COLOR,
  GROUP_TITLE,
  TAB_GROUPS_STATE_KEY,
  TabGroups,
} from "../../worker/tab_groups.ts";
import { globalClock } from "../_fakes/fake_chrome.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { FakeTabGroups } from "../_fakes/fake_tab_groups.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";

/** Tabs, groups and a sharing table wired the way `RelayClient` wires them. */
/** Runs `body` on fake time (timers and `Date`), and always uninstalls it. */
async function withClock(body: (clock: FakeTimers.Clock) => Promise<void>): Promise<void> {
  const clock = FakeTimers.install({ now: 0, toFake: ["setTimeout", "clearTimeout", "Date"] });
  try {
    await body(clock);
  } finally {
    clock.uninstall();
  }
}

class World {
  readonly tabs = new FakeTabs();
  readonly groups = new FakeTabGroups(this.tabs);
  readonly storage = new FakeStorage();
  readonly shared = new Set<number>();
  /** Tab ids whose share is refused (no token yet, restricted page). */
  readonly refuse = new Set<number>();
  readonly log: string[] = [];
  manager: TabGroups;
  /** Tabs `unshare` was called for, in order. */
  readonly unshared: number[] = [];
  readonly #leaveGraceMs: number | undefined;

  /**
   * @param leaveGraceMs The manager's `leaveGraceMs`: 0 (a zero timer) unless a test with fake
   *   time checks the default.
   */
  constructor(leaveGraceMs: number | "default" = 0) {
    this.#leaveGraceMs = leaveGraceMs === "default" ? undefined : leaveGraceMs;
    this.manager = this.#make();
  }

  #make(): TabGroups {
    const manager: TabGroups = new TabGroups({
      groups: this.groups,
      tabs: this.tabs,
      storage: this.storage.session,
      clock: globalClock(),
      isShared: (tabId) => this.shared.has(tabId),
      share: (tabId) => {
        if (this.refuse.has(tabId)) return Promise.resolve(false);
        this.shared.add(tabId);
        void manager.shared(tabId);
        return Promise.resolve(true);
      },
      unshare: (tabId) => {
        this.unshared.push(tabId);
        this.shared.delete(tabId);
        void manager.unshared(tabId);
        return Promise.resolve();
      },
      log: (message) => this.log.push(message),
      ...(this.#leaveGraceMs === undefined ? {} : { leaveGraceMs: this.#leaveGraceMs }),
    });
    this.groups.onTabGrouped.addListener((tabId, groupId) =>
      void manager.handleTabGrouped(tabId, groupId)
    );
    this.groups.onRemoved.addListener((group) => void manager.handleGroupRemoved(group));
    return manager;
  }

  /** Shares a tab as the popup does: the client marks it shared, then tells the groups. */
  async share(tabId: number): Promise<void> {
    this.shared.add(tabId);
    await this.manager.shared(tabId);
  }

  async stop(tabId: number): Promise<void> {
    this.shared.delete(tabId);
    await this.manager.unshared(tabId);
  }

  /** Lets every queued group operation finish. */
  async settle(): Promise<void> {
    // No tab -1 is shared, so this only waits for its turn on the manager's chain.
    for (let i = 0; i < 5; i++) await this.manager.shared(-1);
  }

  /** A worker restart: a new manager over the same Chrome state and session storage. */
  async restart(enabled = true): Promise<void> {
    this.manager.close();
    this.groups.onTabGrouped.reset();
    this.groups.onRemoved.reset();
    this.manager = this.#make();
    await this.manager.restore(enabled, [...this.shared]);
  }

  ours(): { id: number; windowId: number; members: number[] }[] {
    return this.groups.all().filter((g) => g.title === GROUP_TITLE && g.color === GROUP_COLOR)
      .map((g) => ({ id: g.id, windowId: g.windowId, members: this.groups.members(g.id) }));
  }
}

Deno.test("TabGroups.shared() puts shared tabs in exactly one coloured group per window", async () => {
  const w = new World();
  await w.manager.restore(true, []);
  const a = w.tabs.add({ windowId: 1 });
  const b = w.tabs.add({ windowId: 1 });
  const c = w.tabs.add({ windowId: 2 });
  await w.share(a.id);
  await w.share(b.id);
  await w.share(c.id);
  const ours = w.ours();
  assert.deepEqual(ours.map((g) => [g.windowId, g.members]), [[1, [a.id, b.id]], [2, [c.id]]]);
  assert.equal(w.groups.created.length, 2);
  assert.deepEqual(w.manager.placement(a.id), { kind: "group" });
  assert.deepEqual(w.storage.session.snapshot()[TAB_GROUPS_STATE_KEY], {
    "1": ours[0]?.id,
    "2": ours[1]?.id,
  });
});

Deno.test("TabGroups.unshared() takes the tab out; the last one out removes the group", async () => {
  const w = new World();
  await w.manager.restore(true, []);
  const a = w.tabs.add();
  const b = w.tabs.add();
  await w.share(a.id);
  await w.share(b.id);
  await w.stop(a.id);
  assert.deepEqual(w.ours().map((g) => g.members), [[b.id]]);
  assert.equal(w.tabs.peek(a.id)?.groupId, TAB_GROUP_NONE);
  await w.stop(b.id);
  await w.settle();
  assert.deepEqual(w.groups.all(), []);
  assert.deepEqual(w.storage.session.snapshot()[TAB_GROUPS_STATE_KEY], {});
  // Sharing again makes one new group, not a second one next to a stale id.
  await w.share(a.id);
  assert.equal(w.ours().length, 1);
});

Deno.test("TabGroups.handleTabGrouped() stops sharing a tab the person drags out", async (t) => {
  await t.step("out of any group", async () => {
    const w = new World();
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    const b = w.tabs.add();
    await w.share(a.id);
    await w.share(b.id);
    w.groups.drag(a.id, TAB_GROUP_NONE);
    await w.settle();
    assert.deepEqual([...w.shared], [b.id]);
    assert.deepEqual(w.ours().map((g) => g.members), [[b.id]]);
  });
  await t.step("into a group of the person's own", async () => {
    const w = new World();
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    const mine = w.tabs.add();
    const own = w.groups.personGroup([mine.id], "Work", "blue");
    await w.share(a.id);
    w.groups.drag(a.id, own);
    await w.settle();
    assert.deepEqual([...w.shared], []);
    assert.deepEqual(w.ours(), []);
  });
  await t.step("ungrouping the whole group stops every tab in it", async () => {
    const w = new World();
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    const b = w.tabs.add();
    await w.share(a.id);
    await w.share(b.id);
    await w.groups.ungroup([a.id, b.id]);
    await w.settle();
    assert.deepEqual([...w.shared], []);
    assert.deepEqual(w.groups.all(), []);
  });
});

Deno.test("TabGroups.handleTabGrouped() leaves a closing tab shared: Chrome ungroups it just before removing it", async () => {
  await withClock(async (clock) => {
    const w = new World("default");
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    const b = w.tabs.add();
    await w.share(a.id);
    await w.share(b.id);
    // A page closed after its beforeunload dialog was accepted: the tab's removal, not the
    // group, ends its sharing (the bridge announces `tab_closed` once the tab is gone).
    await w.groups.closeTab(a.id);
    await clock.tickAsync(250);
    await w.settle();
    assert.deepEqual(w.unshared, []);
    assert.deepEqual(w.ours().map((g) => g.members), [[b.id]]);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("TabGroups.handleTabGrouped() stops a tab dragged out once the closing grace has passed", async () => {
  await withClock(async (clock) => {
    const w = new World("default");
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    await w.share(a.id);
    w.groups.drag(a.id, TAB_GROUP_NONE);
    await clock.tickAsync(249);
    assert.deepEqual(w.unshared, []);
    await clock.tickAsync(1);
    await w.settle();
    assert.deepEqual(w.unshared, [a.id]);
    assert.deepEqual([...w.shared], []);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("TabGroups.handleTabGrouped() shares a tab the person drags in", async (t) => {
  await t.step("shared and kept in the group", async () => {
    const w = new World();
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    const b = w.tabs.add();
    await w.share(a.id);
    const [group] = w.ours();
    w.groups.drag(b.id, group?.id ?? -1);
    await w.settle();
    assert.deepEqual([...w.shared].sort(), [a.id, b.id]);
    assert.deepEqual(w.ours().map((g) => g.members), [[a.id, b.id]]);
  });
  await t.step("a refused share takes the tab back out", async () => {
    const w = new World();
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    const b = w.tabs.add();
    w.refuse.add(b.id);
    await w.share(a.id);
    const [group] = w.ours();
    w.groups.drag(b.id, group?.id ?? -1);
    await w.settle();
    assert.deepEqual([...w.shared], [a.id]);
    assert.equal(w.tabs.peek(b.id)?.groupId, TAB_GROUP_NONE);
  });
});

Deno.test("TabGroups.shared() never moves a tab out of the person's own group", async () => {
  const w = new World();
  await w.manager.restore(true, []);
  const a = w.tabs.add();
  const own = w.groups.personGroup([a.id], "Research", "blue");
  await w.share(a.id);
  assert.equal(w.tabs.peek(a.id)?.groupId, own);
  assert.deepEqual(w.ours(), []);
  assert.deepEqual(w.manager.placement(a.id), { kind: "own_group", title: "Research" });
  // Stopping leaves the person's group alone too.
  await w.stop(a.id);
  assert.equal(w.tabs.peek(a.id)?.groupId, own);
});

Deno.test("TabGroups.restore() after a worker restart never makes a second group", async (t) => {
  await t.step("the persisted group is reused", async () => {
    const w = new World();
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    const b = w.tabs.add();
    await w.share(a.id);
    await w.restart();
    await w.share(b.id);
    assert.deepEqual(w.ours().map((g) => g.members), [[a.id, b.id]]);
    assert.equal(w.groups.created.length, 1);
  });
  await t.step("a group found by title and colour is adopted when storage was lost", async () => {
    const w = new World();
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    const b = w.tabs.add();
    await w.share(a.id);
    w.storage.session.clear();
    await w.restart();
    await w.share(b.id);
    assert.deepEqual(w.ours().map((g) => g.members), [[a.id, b.id]]);
    assert.equal(w.groups.created.length, 1);
  });
  await t.step("duplicate groups left by an older version are merged into one", async () => {
    const w = new World();
    const a = w.tabs.add();
    const b = w.tabs.add();
    w.shared.add(a.id).add(b.id);
    w.groups.personGroup([a.id], GROUP_TITLE, GROUP_COLOR);
    w.groups.personGroup([b.id], GROUP_TITLE, GROUP_COLOR);
    await w.restart();
    assert.deepEqual(w.ours().map((g) => g.members), [[a.id, b.id]]);
  });
  await t.step("tabs no longer shared leave the group, and an emptied group is gone", async () => {
    const w = new World();
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    await w.share(a.id);
    w.shared.delete(a.id); // the tab was dropped while the worker was down
    await w.restart();
    assert.deepEqual(w.groups.all(), []);
    assert.equal(w.tabs.peek(a.id)?.groupId, TAB_GROUP_NONE);
  });
});

Deno.test("TabGroups.setEnabled() removes our groups when off and regroups when on", async () => {
  const w = new World();
  await w.manager.restore(false, []);
  const a = w.tabs.add();
  await w.share(a.id);
  assert.deepEqual(w.groups.all(), []);
  assert.deepEqual(w.manager.placement(a.id), { kind: "none" });
  await w.manager.setEnabled(true, [...w.shared]);
  assert.deepEqual(w.ours().map((g) => g.members), [[a.id]]);
  await w.manager.setEnabled(false, [...w.shared]);
  assert.deepEqual(w.groups.all(), []);
  assert.deepEqual([...w.shared], [a.id], "turning groups off does not stop sharing");
});

Deno.test("TabGroups.handleGroupRemoved() forgets a closed group", async () => {
  const w = new World();
  await w.manager.restore(true, []);
  const a = w.tabs.add();
  await w.share(a.id);
  const [group] = w.ours();
  await w.groups.closeGroup(group?.id ?? -1);
  w.manager.handleTabRemoved(a.id);
  await w.settle();
  assert.deepEqual(w.manager.groupIds(), []);
  assert.deepEqual(w.storage.session.snapshot()[TAB_GROUPS_STATE_KEY], {});
});

Deno.test("TabGroups.shared() retries while Chrome refuses edits during a drag", async () => {
  await withClock(async (clock) => {
    const w = new World();
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    w.groups.refuseNext = 2;
    const done = w.share(a.id);
    await clock.tickAsync(100 + 250);
    await done;
    assert.deepEqual(w.ours().map((g) => g.members), [[a.id]]);
    assert.equal(clock.countTimers(), 0);
    assert.deepEqual(w.log, []);
  });
});

Deno.test("TabGroups.close() cancels a pending retry", async () => {
  await withClock(async (clock) => {
    const w = new World();
    await w.manager.restore(true, []);
    const a = w.tabs.add();
    w.groups.refuseNext = 10;
    const done = w.share(a.id);
    await clock.tickAsync(0);
    w.manager.close();
    await done;
    assert.equal(clock.countTimers(), 0);
    assert.deepEqual(w.groups.all(), []);
  });
});
