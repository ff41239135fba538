/**
 * Tab groups as visible consent: every shared tab sits in one coloured "Browser Relay" group per
 * window, and the group is also a control: dragging a tab out of it (or ungrouping or closing the
 * group) stops sharing, dragging a tab into it starts sharing.
 *
 * @module
 */

import type {
  Clock,
  StorageArea,
  TabGroupInfo,
  TabGroupsPort,
  TabInfo,
  TabsPort,
  TimerHandle,
} from "./ports.ts";
import { TAB_GROUP_NONE } from "./ports.ts";
import { errorText } from "./errors.ts";

/** The title of our groups. */
export const GROUP_TITLE = "Browser Relay";

/** The colour of our groups (the badge and icon colour). */
export const GROUP_COLOR = "orange";

/** The `chrome.storage.session` key of the window → group table. */
export const TAB_GROUPS_STATE_KEY = "tabGroups";

/** Where a shared tab sits. */
export type Placement =
  /** In our group. */
  | { readonly kind: "group" }
  /** In a group of the person's own, which we never move it out of. */
  | { readonly kind: "own_group"; readonly title: string }
  /** In no group (groups are off, or grouping failed). */
  | { readonly kind: "none" };

/** Options of {@linkcode TabGroups}. */
export interface TabGroupsOptions {
  readonly groups: TabGroupsPort;
  readonly tabs: TabsPort;
  /** `chrome.storage.session`: the window → group table survives worker restarts. */
  readonly storage: StorageArea;
  readonly clock: Clock;
  /** True while the tab is shared. */
  readonly isShared: (tabId: number) => boolean;
  /** Starts sharing a tab the person dragged into the group; resolves false when refused. */
  readonly share: (tabId: number) => Promise<boolean>;
  /** Stops sharing a tab the person took out of the group. */
  readonly unshare: (tabId: number) => Promise<void>;
  /**
   * Waits between tries of a grouping call Chrome refused because the person is dragging a tab.
   *
   * @default {[100, 250, 500, 1000]}
   */
  readonly retryDelaysMs?: readonly number[];
  /**
   * How long a shared tab that left our group may take to disappear before the move counts as
   * the person's. Chrome takes a closing tab out of its group just before it removes the tab
   * (`chrome.tabs.onUpdated` with no group, then `onRemoved`), also when a `beforeunload` dialog
   * was accepted: such a tab is closing, not being taken out, and stopping its sharing then would
   * announce a detach before the answer to the dialog reaches the client.
   *
   * @default {250}
   */
  readonly leaveGraceMs?: number;
  /**
   * Receives diagnostics.
   *
   * @default {() => {}}
   */
  readonly log?: (message: string) => void;
}

function isOurs(group: TabGroupInfo): boolean {
  return group.title === GROUP_TITLE && group.color === GROUP_COLOR;
}

function readTable(raw: unknown): Map<number, number> {
  const table = new Map<number, number>();
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return table;
  for (const [window, group] of Object.entries(raw)) {
    const windowId = Number(window);
    if (Number.isInteger(windowId) && typeof group === "number" && Number.isInteger(group)) {
      table.set(windowId, group);
    }
  }
  return table;
}

/**
 * Keeps shared tabs in one "Browser Relay" group per window and turns the person's moves of
 * tabs in and out of it into share and stop.
 *
 * - A group is created only when a tab is shared, and only when the window has none: on start
 *   the persisted table is checked and any existing group with our title and colour is adopted
 *   (extra ones are merged into it), so a worker restart never makes a second group. Chrome
 *   removes a group when its last tab leaves, so no empty group is left behind.
 * - A shared tab that already sits in a group of the person's own is never moved; it stays
 *   where it is and {@linkcode TabGroups.prototype.placement} reports `own_group`.
 * - Every operation and event runs on one chain in arrival order, so the events our own
 *   grouping calls cause are read against the state those calls left.
 *
 * @example
 * ```ts ignore
 * const groups = new TabGroups({ groups, tabs, storage, clock, isShared, share, unshare });
 * await groups.restore([7]);
 * await groups.shared(8);
 * ```
 */
export class TabGroups {
  readonly #groups: TabGroupsPort;
  readonly #tabs: TabsPort;
  readonly #storage: StorageArea;
  readonly #clock: Clock;
  readonly #isShared: (tabId: number) => boolean;
  readonly #share: (tabId: number) => Promise<boolean>;
  readonly #unshare: (tabId: number) => Promise<void>;
  readonly #retryDelaysMs: readonly number[];
  readonly #leaveGraceMs: number;
  readonly #log: (message: string) => void;
  /** Window id → our group there. */
  #byWindow = new Map<number, number>();
  /** Tabs in one of our groups, as last seen. */
  readonly #inGroup = new Set<number>();
  /** Tab id → title of the person's own group the shared tab sits in. */
  readonly #ownGroup = new Map<number, string>();
  #enabled = true;
  #chain: Promise<void> = Promise.resolve();
  readonly #timers = new Map<TimerHandle, () => void>();
  #closed = false;

  /**
   * @param options Ports, the sharing callbacks and timings.
   */
  constructor(options: TabGroupsOptions) {
    this.#groups = options.groups;
    this.#tabs = options.tabs;
    this.#storage = options.storage;
    this.#clock = options.clock;
    this.#isShared = options.isShared;
    this.#share = options.share;
    this.#unshare = options.unshare;
    this.#retryDelaysMs = options.retryDelaysMs ?? [100, 250, 500, 1000];
    this.#leaveGraceMs = options.leaveGraceMs ?? 250;
    this.#log = options.log ?? (() => {});
  }

  /** Whether shared tabs are grouped. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The ids of our groups, one per window at most. */
  groupIds(): number[] {
    return [...this.#byWindow.values()];
  }

  /**
   * Where a shared tab sits, as last seen.
   *
   * @param tabId The tab.
   * @returns Our group, the person's own group (with its title), or none.
   */
  placement(tabId: number): Placement {
    if (this.#inGroup.has(tabId)) return { kind: "group" };
    const title = this.#ownGroup.get(tabId);
    return title === undefined ? { kind: "none" } : { kind: "own_group", title };
  }

  /**
   * Reads the persisted table, adopts existing groups of ours and brings the groups in line
   * with the shared tabs: shared tabs are grouped, tabs in our groups that are no longer shared
   * leave them.
   *
   * @param enabled The tab-group setting.
   * @param sharedTabIds The tabs shared after the tab table was restored.
   * @returns Resolves when done (never rejects).
   */
  restore(enabled: boolean, sharedTabIds: readonly number[]): Promise<void> {
    return this.#run(async () => {
      this.#enabled = enabled;
      const stored = await this.#storage.get([TAB_GROUPS_STATE_KEY]);
      this.#byWindow = readTable(stored[TAB_GROUPS_STATE_KEY]);
      await this.#adoptAll();
      await this.#reconcile(sharedTabIds);
    });
  }

  /**
   * Turns grouping on (groups every shared tab) or off (takes every tab out of our groups,
   * which removes them).
   *
   * @param enabled The new setting.
   * @param sharedTabIds The shared tabs.
   * @returns Resolves when done (never rejects).
   */
  setEnabled(enabled: boolean, sharedTabIds: readonly number[]): Promise<void> {
    return this.#run(async () => {
      if (this.#enabled === enabled) return;
      this.#enabled = enabled;
      await this.#adoptAll();
      await this.#reconcile(sharedTabIds);
    });
  }

  /**
   * A tab started being shared: puts it in the window's group, unless it sits in a group of
   * the person's own.
   *
   * @param tabId The tab.
   * @returns Resolves when done (never rejects).
   */
  shared(tabId: number): Promise<void> {
    return this.#run(() => this.#place(tabId));
  }

  /**
   * A tab stopped being shared: takes it out of our group (Chrome removes the group when it
   * empties).
   *
   * @param tabId The tab.
   * @returns Resolves when done (never rejects).
   */
  unshared(tabId: number): Promise<void> {
    return this.#run(async () => {
      this.#ownGroup.delete(tabId);
      if (!this.#inGroup.delete(tabId)) return;
      const tab = await this.#tab(tabId);
      if (tab === undefined || !this.#isOurGroup(tab.groupId)) return;
      await this.#retry("take a tab out of the group", () => this.#groups.ungroup([tabId]));
    });
  }

  /**
   * A tab's group changed (the person dragged it, or our own call moved it).
   *
   * @param tabId The tab.
   * @param groupId Its new group, or {@linkcode TAB_GROUP_NONE}.
   * @returns Resolves when handled (never rejects).
   */
  handleTabGrouped(tabId: number, groupId: number): Promise<void> {
    return this.#run(async () => {
      if (!this.#enabled) return;
      const intoOurs = this.#isOurGroup(groupId);
      const shared = this.#isShared(tabId);
      if (intoOurs) {
        this.#ownGroup.delete(tabId);
        this.#inGroup.add(tabId);
        if (shared) return;
        // Dragged in: the group is the consent. A refused share (no token yet, a page Chrome
        // does not let extensions debug) takes the tab back out so the group stays truthful.
        const ok = await this.#share(tabId).catch((error) => {
          this.#log(`Cannot share a tab dragged into the group: ${errorText(error)}`);
          return false;
        });
        if (!ok && this.#inGroup.delete(tabId)) {
          await this.#retry(
            "take a refused tab out of the group",
            () => this.#groups.ungroup([tabId]),
          );
        }
        return;
      }
      if (!this.#inGroup.delete(tabId) || !shared) return;
      // Out of our group (into none, another group or another window): stop sharing, unless
      // the tab is closing (Chrome ungroups a closing tab just before removing it). The tab's
      // own removal then detaches it.
      await this.#sleep(this.#leaveGraceMs);
      if (this.#closed) return;
      const tab = await this.#tab(tabId);
      if (tab === undefined || this.#isOurGroup(tab.groupId) || !this.#isShared(tabId)) return;
      await this.#unshare(tabId);
    });
  }

  /**
   * A group was removed (ungrouped, closed or emptied): forgets it if it was ours.
   *
   * @param group The removed group.
   * @returns Resolves when handled (never rejects).
   */
  handleGroupRemoved(group: TabGroupInfo): Promise<void> {
    return this.#run(async () => {
      if (this.#byWindow.get(group.windowId) !== group.id) {
        const entry = [...this.#byWindow].find(([, id]) => id === group.id);
        if (entry === undefined) return;
        this.#byWindow.delete(entry[0]);
      } else {
        this.#byWindow.delete(group.windowId);
      }
      await this.#persist();
    });
  }

  /**
   * A tab was closed: forgets it.
   *
   * @param tabId The tab.
   */
  handleTabRemoved(tabId: number): void {
    this.#inGroup.delete(tabId);
    this.#ownGroup.delete(tabId);
  }

  /** Cancels pending retries. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [handle, wake] of this.#timers) {
      this.#clock.clearTimeout(handle);
      wake();
    }
    this.#timers.clear();
  }

  /** Same as {@linkcode TabGroups.prototype.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #run(work: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(async () => {
      if (this.#closed) return;
      try {
        await work();
      } catch (error) {
        this.#log(`Tab group update failed: ${errorText(error)}`);
      }
    });
    this.#chain = next;
    return next;
  }

  #isOurGroup(groupId: number | undefined): boolean {
    return groupId !== undefined && groupId !== TAB_GROUP_NONE &&
      this.groupIds().includes(groupId);
  }

  async #tab(tabId: number): Promise<TabInfo | undefined> {
    try {
      return await this.#tabs.get(tabId);
    } catch {
      return undefined;
    }
  }

  /** Groups one shared tab (the body of `shared`). */
  async #place(tabId: number): Promise<void> {
    if (!this.#enabled || !this.#isShared(tabId)) return;
    const tab = await this.#tab(tabId);
    if (tab === undefined) return;
    const current = tab.groupId ?? TAB_GROUP_NONE;
    if (this.#isOurGroup(current)) {
      this.#inGroup.add(tabId);
      return;
    }
    if (current !== TAB_GROUP_NONE) {
      const group = await this.#groups.get(current).catch(() => undefined);
      if (group !== undefined && isOurs(group)) {
        this.#byWindow.set(group.windowId, group.id);
        await this.#persist();
        this.#inGroup.add(tabId);
        return;
      }
      // The person's own group: never moved without asking.
      this.#ownGroup.set(tabId, group?.title ?? "");
      return;
    }
    const existing = await this.#groupOf(tab.windowId);
    if (existing !== undefined) {
      await this.#retry(
        "add a tab to the group",
        () => this.#groups.group([tabId], { groupId: existing }),
      );
    } else {
      let created = TAB_GROUP_NONE;
      await this.#retry("create the tab group", async () => {
        created = await this.#groups.group([tabId], { windowId: tab.windowId });
      });
      await this.#groups.update(created, { title: GROUP_TITLE, color: GROUP_COLOR });
      this.#byWindow.set(tab.windowId, created);
      await this.#persist();
    }
    this.#inGroup.add(tabId);
  }

  /** Our group in a window, checked against Chrome; undefined when there is none. */
  async #groupOf(windowId: number): Promise<number | undefined> {
    const known = this.#byWindow.get(windowId);
    if (known !== undefined) {
      const group = await this.#groups.get(known).catch(() => undefined);
      if (group !== undefined && group.windowId === windowId) return known;
      this.#byWindow.delete(windowId);
    }
    const found = (await this.#groups.query({ windowId })).filter(isOurs)
      .sort((a, b) => a.id - b.id)[0];
    if (found !== undefined) this.#byWindow.set(windowId, found.id);
    await this.#persist();
    return found?.id;
  }

  /**
   * Checks the table against Chrome and adopts every group of ours, one per window; the tabs
   * of any extra group in a window join the first one, so the extra group disappears.
   */
  async #adoptAll(): Promise<void> {
    const all = await this.#groups.query({});
    const table = new Map<number, number>();
    const extras: TabGroupInfo[] = [];
    const ours = all.filter(isOurs).sort((a, b) => {
      // A group from the persisted table wins over one found by title and colour.
      const known = (g: TabGroupInfo) => this.#byWindow.get(g.windowId) === g.id ? 0 : 1;
      return known(a) - known(b) || a.id - b.id;
    });
    for (const group of ours) {
      if (table.has(group.windowId)) extras.push(group);
      else table.set(group.windowId, group.id);
    }
    this.#byWindow = table;
    await this.#persist();
    for (const extra of extras) {
      const primary = table.get(extra.windowId);
      const tabIds = (await this.#groups.tabsIn(extra.id)).flatMap((t) =>
        t.id === undefined ? [] : [t.id]
      );
      if (primary !== undefined && tabIds.length > 0) {
        await this.#retry(
          "merge a duplicate tab group",
          () => this.#groups.group(tabIds, { groupId: primary }),
        );
      }
    }
  }

  /** Shared tabs in the group (when enabled), unshared ones out of it. */
  async #reconcile(sharedTabIds: readonly number[]): Promise<void> {
    this.#inGroup.clear();
    this.#ownGroup.clear();
    const shared = new Set(sharedTabIds);
    for (const groupId of this.groupIds()) {
      const members = await this.#groups.tabsIn(groupId);
      const leave: number[] = [];
      for (const tab of members) {
        if (tab.id === undefined) continue;
        if (this.#enabled && shared.has(tab.id)) this.#inGroup.add(tab.id);
        else leave.push(tab.id);
      }
      if (leave.length > 0) {
        await this.#retry("take tabs out of the group", () => this.#groups.ungroup(leave));
      }
    }
    if (!this.#enabled) return;
    for (const tabId of sharedTabIds) {
      if (!this.#inGroup.has(tabId)) await this.#place(tabId);
    }
  }

  async #persist(): Promise<void> {
    await this.#storage.set({
      [TAB_GROUPS_STATE_KEY]: Object.fromEntries(
        [...this.#byWindow].map(([window, group]) => [String(window), group]),
      ),
    });
  }

  /** Runs a grouping call, trying again while Chrome refuses edits during a tab drag. */
  async #retry(what: string, call: () => Promise<unknown>): Promise<void> {
    for (let attempt = 0;; attempt++) {
      try {
        await call();
        return;
      } catch (error) {
        const delay = this.#retryDelaysMs[attempt];
        if (delay === undefined || this.#closed) {
          throw new Error(`Cannot ${what}: ${errorText(error)}`, { cause: error });
        }
        await this.#sleep(delay);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.#clock.setTimeout(() => {
        this.#timers.delete(handle);
        resolve();
      }, ms);
      this.#timers.set(handle, resolve);
    });
  }
}
