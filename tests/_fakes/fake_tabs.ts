/**
 * In-memory `TabsPort` for unit tests: a tab table with Chrome's error texts and
 * `emit*()` helpers for `onCreated`, `onRemoved`, `onReplaced` and `onUpdated`.
 *
 * @module
 */

import type { PortEvent, TabInfo, TabsPort } from "../../worker/ports.ts";

type CreatedListener = (tab: TabInfo) => void;
type RemovedListener = (tabId: number) => void;
type ReplacedListener = (addedTabId: number, removedTabId: number) => void;
type UpdatedListener = (
  tabId: number,
  changeInfo: { readonly url?: string; readonly title?: string },
) => void;

/** A mutable set of listeners exposed as a {@linkcode PortEvent}. */
export class FakeEvent<L extends (...args: never[]) => unknown> implements PortEvent<L> {
  readonly #listeners = new Set<L>();

  addListener(listener: L): void {
    this.#listeners.add(listener);
  }

  removeListener(listener: L): void {
    this.#listeners.delete(listener);
  }

  /** Number of registered listeners (to check that owners remove theirs). */
  get size(): number {
    return this.#listeners.size;
  }

  /** Calls every listener with `args`; returns what they returned. */
  emit(...args: Parameters<L>): unknown[] {
    return [...this.#listeners].map((listener) => listener(...args));
  }

  /** Drops every listener. */
  reset(): void {
    this.#listeners.clear();
  }
}

/** What a test may set on a new tab. */
export interface FakeTabInit {
  readonly url?: string;
  readonly title?: string;
  readonly windowId?: number;
  readonly active?: boolean;
  readonly openerTabId?: number;
}

/**
 * In-memory {@linkcode TabsPort}. Tab ids start at 1; windows default to 1.
 *
 * @example
 * ```ts
 * const tabs = new FakeTabs();
 * const tab = tabs.add({ url: "https://example.com/" });
 * await tabs.get(tab.id!); // the tab
 * ```
 */
export class FakeTabs implements TabsPort {
  readonly #tabs = new Map<number, TabInfo>();
  #nextId = 1;
  readonly onCreated: FakeEvent<CreatedListener> = new FakeEvent();
  readonly onRemoved: FakeEvent<RemovedListener> = new FakeEvent();
  readonly onReplaced: FakeEvent<ReplacedListener> = new FakeEvent();
  readonly onUpdated: FakeEvent<UpdatedListener> = new FakeEvent();

  /** Adds a tab without firing events (test setup). */
  add(init: FakeTabInit = {}): TabInfo & { readonly id: number } {
    const id = this.#nextId++;
    const tab = {
      id,
      windowId: init.windowId ?? 1,
      index: this.#tabs.size,
      url: init.url ?? "about:blank",
      title: init.title ?? "",
      active: init.active ?? false,
      status: "complete",
      ...(init.openerTabId === undefined ? {} : { openerTabId: init.openerTabId }),
    };
    this.#tabs.set(id, tab);
    return tab;
  }

  /** True while the tab exists. */
  has(tabId: number): boolean {
    return this.#tabs.has(tabId);
  }

  /** The tab, or undefined (synchronous, for assertions and other fakes). */
  peek(tabId: number): TabInfo | undefined {
    return this.#tabs.get(tabId);
  }

  /** Every tab, in creation order. */
  all(): TabInfo[] {
    return [...this.#tabs.values()];
  }

  get(tabId: number): Promise<TabInfo> {
    const tab = this.#tabs.get(tabId);
    return tab
      ? Promise.resolve({ ...tab })
      : Promise.reject(new Error(`No tab with id: ${tabId}.`));
  }

  query(
    query: { readonly active?: boolean; readonly lastFocusedWindow?: boolean },
  ): Promise<TabInfo[]> {
    const tabs = [...this.#tabs.values()].filter((tab) =>
      query.active === undefined || tab.active === query.active
    );
    return Promise.resolve(tabs.map((tab) => ({ ...tab })));
  }

  create(
    properties: { readonly url: string; readonly active: boolean; readonly windowId?: number },
  ): Promise<TabInfo> {
    const init: FakeTabInit = properties.windowId === undefined
      ? { url: properties.url, active: properties.active }
      : { url: properties.url, active: properties.active, windowId: properties.windowId };
    return Promise.resolve({ ...this.add(init) });
  }

  update(tabId: number, properties: { readonly active: boolean }): Promise<TabInfo> {
    const tab = this.#tabs.get(tabId);
    if (!tab) return Promise.reject(new Error(`No tab with id: ${tabId}.`));
    if (properties.active) {
      for (const [id, other] of this.#tabs) {
        if (other.windowId === tab.windowId) this.#tabs.set(id, { ...other, active: false });
      }
    }
    const updated = { ...tab, active: properties.active };
    this.#tabs.set(tabId, updated);
    return Promise.resolve({ ...updated });
  }

  /** Removes the tab and fires `onRemoved`, as Chrome does. */
  remove(tabId: number): Promise<void> {
    if (!this.#tabs.delete(tabId)) {
      return Promise.reject(new Error(`No tab with id: ${tabId}.`));
    }
    this.onRemoved.emit(tabId);
    return Promise.resolve();
  }

  /** Adds a tab opened by `openerTabId` (a popup) and fires `onCreated`, as Chrome does. */
  open(openerTabId: number, init: FakeTabInit = {}): TabInfo & { readonly id: number } {
    const tab = this.add({ ...init, openerTabId });
    this.onCreated.emit({ ...tab });
    return tab;
  }

  /** Removes a tab without firing events (a tab that vanished while the worker slept). */
  drop(tabId: number): void {
    this.#tabs.delete(tabId);
  }

  /** Changes url/title and fires `onUpdated` with what changed. */
  navigate(tabId: number, change: { readonly url?: string; readonly title?: string }): void {
    const tab = this.#tabs.get(tabId);
    if (!tab) throw new Error(`No tab with id: ${tabId}.`);
    this.#tabs.set(tabId, { ...tab, ...change });
    this.onUpdated.emit(tabId, change);
  }

  /** Sets a tab's `groupId` without firing events (used by `FakeTabGroups`). */
  setGroupId(tabId: number, groupId: number): void {
    const tab = this.#tabs.get(tabId);
    if (!tab) throw new Error(`No tab with id: ${tabId}.`);
    this.#tabs.set(tabId, { ...tab, groupId });
  }

  /** Replaces a tab (prerender swap): a new id takes its place, then `onReplaced` fires. */
  replace(removedTabId: number): number {
    const tab = this.#tabs.get(removedTabId);
    if (!tab) throw new Error(`No tab with id: ${removedTabId}.`);
    const id = this.#nextId++;
    this.#tabs.delete(removedTabId);
    this.#tabs.set(id, { ...tab, id });
    this.onReplaced.emit(id, removedTabId);
    return id;
  }

  /** Forgets every tab and listener. */
  reset(): void {
    this.#tabs.clear();
    this.#nextId = 1;
    this.onCreated.reset();
    this.onRemoved.reset();
    this.onReplaced.reset();
    this.onUpdated.reset();
  }
}
