/**
 * In-memory `TabGroupsPort` over a {@linkcode FakeTabs}, behaving like Chrome: a group exists
 * while it has tabs, every membership change fires `onTabGrouped`, and a group left empty is
 * removed with `onRemoved`.
 *
 * @module
 */

import {
  TAB_GROUP_NONE,
  type TabGroupInfo,
  type TabGroupsPort,
  type TabInfo,
} from "../../worker/ports.ts";
import { FakeEvent, type FakeTabs } from "./fake_tabs.ts";

/** Chrome's refusal while the person drags a tab. */
export const DRAGGING_ERROR = "Tabs cannot be edited right now (user may be dragging a tab).";

/** In-memory {@linkcode TabGroupsPort}. Group ids start at 500. */
export class FakeTabGroups implements TabGroupsPort {
  readonly #tabs: FakeTabs;
  readonly #groups = new Map<number, TabGroupInfo>();
  #nextId = 500;
  /** How many of the next `group`/`ungroup` calls fail as if the person were dragging a tab. */
  refuseNext = 0;
  /** Groups created so far (including removed ones), to count creations. */
  readonly created: number[] = [];
  readonly onTabGrouped: FakeEvent<(tabId: number, groupId: number) => void> = new FakeEvent();
  readonly onRemoved: FakeEvent<(group: TabGroupInfo) => void> = new FakeEvent();

  constructor(tabs: FakeTabs) {
    this.#tabs = tabs;
  }

  /** Every live group. */
  all(): TabGroupInfo[] {
    return [...this.#groups.values()];
  }

  /** The tab ids in a group (synchronous, for assertions). */
  members(groupId: number): number[] {
    return this.#tabs.all().flatMap((t) =>
      t.groupId === groupId && t.id !== undefined ? [t.id] : []
    );
  }

  /** Creates a group directly, as the person would (title and colour of their choice). */
  personGroup(tabIds: readonly number[], title: string, color: string): number {
    const first = this.#tabs.peek(tabIds[0] ?? -1);
    if (first === undefined) throw new Error("No tab to group");
    const id = this.#nextId++;
    this.#groups.set(id, { id, windowId: first.windowId, title, color });
    this.#move(tabIds, id);
    return id;
  }

  /** The person drags a tab into a group, or out of any with {@linkcode TAB_GROUP_NONE}. */
  drag(tabId: number, groupId: number): void {
    this.#move([tabId], groupId);
  }

  /**
   * A grouped tab closes as Chrome closes it: it leaves its group first (`onUpdated` with no
   * group), then it is removed (`onRemoved`).
   */
  async closeTab(tabId: number): Promise<void> {
    this.#move([tabId], TAB_GROUP_NONE);
    await this.#tabs.remove(tabId);
  }

  /** The person closes a group: its tabs close, then the group is gone. */
  async closeGroup(groupId: number): Promise<void> {
    for (const tabId of this.members(groupId)) await this.#tabs.remove(tabId);
    this.#prune();
  }

  get(groupId: number): Promise<TabGroupInfo> {
    const group = this.#groups.get(groupId);
    return group
      ? Promise.resolve({ ...group })
      : Promise.reject(new Error(`No group with id: ${groupId}.`));
  }

  query(query: { readonly windowId?: number }): Promise<TabGroupInfo[]> {
    return Promise.resolve(
      this.all().filter((g) => query.windowId === undefined || g.windowId === query.windowId),
    );
  }

  group(
    tabIds: readonly number[],
    into: { readonly groupId: number } | { readonly windowId: number },
  ): Promise<number> {
    if (this.refuseNext > 0) {
      this.refuseNext--;
      return Promise.reject(new Error(DRAGGING_ERROR));
    }
    let groupId: number;
    if ("groupId" in into) {
      if (!this.#groups.has(into.groupId)) {
        return Promise.reject(new Error(`No group with id: ${into.groupId}.`));
      }
      groupId = into.groupId;
    } else {
      groupId = this.#nextId++;
      this.created.push(groupId);
      this.#groups.set(groupId, { id: groupId, windowId: into.windowId, title: "", color: "grey" });
    }
    this.#move(tabIds, groupId);
    return Promise.resolve(groupId);
  }

  ungroup(tabIds: readonly number[]): Promise<void> {
    if (this.refuseNext > 0) {
      this.refuseNext--;
      return Promise.reject(new Error(DRAGGING_ERROR));
    }
    this.#move(tabIds, TAB_GROUP_NONE);
    return Promise.resolve();
  }

  update(
    groupId: number,
    properties: { readonly title: string; readonly color: string },
  ): Promise<void> {
    const group = this.#groups.get(groupId);
    if (!group) return Promise.reject(new Error(`No group with id: ${groupId}.`));
    this.#groups.set(groupId, { ...group, ...properties });
    return Promise.resolve();
  }

  tabsIn(groupId: number): Promise<TabInfo[]> {
    return Promise.resolve(this.#tabs.all().filter((t) => t.groupId === groupId));
  }

  #move(tabIds: readonly number[], groupId: number): void {
    for (const tabId of tabIds) {
      if (this.#tabs.peek(tabId)?.groupId === groupId) continue;
      this.#tabs.setGroupId(tabId, groupId);
      this.onTabGrouped.emit(tabId, groupId);
    }
    this.#prune();
  }

  /** Chrome removes a group once no tab is left in it. */
  #prune(): void {
    for (const group of [...this.#groups.values()]) {
      if (this.members(group.id).length > 0) continue;
      this.#groups.delete(group.id);
      this.onRemoved.emit({ ...group });
    }
  }
}
