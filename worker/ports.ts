/**
 * Ports: the only way worker code reaches `chrome.*`, `WebSocket`, `fetch` and timers.
 * `worker/chrome_ports.ts` is the single production adapter; tests use `tests/_fakes/`.
 *
 * @module
 */

import type { JsonObject } from "../codec/json.ts";

/** A Chrome-style event: listeners are added and removed, never reflected over. */
export interface PortEvent<L> {
  addListener(listener: L): void;
  removeListener(listener: L): void;
}

/** Timer handle type shared by the real and fake clocks. */
export type TimerHandle = ReturnType<typeof setTimeout>;

/** Time as a port. The production clock delegates to the globals at call time. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  random(): number;
}

/** One `chrome.storage` area. Values are JSON-copied. */
export interface StorageArea {
  get(keys: readonly string[]): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: readonly string[]): Promise<void>;
}

/** A change reported by `chrome.storage.onChanged`. */
export interface StorageChange {
  readonly oldValue?: unknown;
  readonly newValue?: unknown;
}

/** `chrome.storage`: `local` for settings, `session` for state that survives worker restarts. */
export interface StoragePort {
  readonly local: StorageArea;
  readonly session: StorageArea;
  readonly onChanged: PortEvent<
    (changes: Record<string, StorageChange>, areaName: string) => void
  >;
}

/** A `chrome.debugger` debuggee; `sessionId` addresses a flat child session (Chrome ≥ 125). */
export interface Debuggee {
  readonly tabId?: number;
  readonly targetId?: string;
  readonly extensionId?: string;
  readonly sessionId?: string;
}

/** An entry of `chrome.debugger.getTargets()`. */
export interface DebuggerTarget {
  readonly type: string;
  readonly id: string;
  readonly tabId?: number;
  readonly extensionId?: string;
  /** True when any client (DevTools, another extension) is attached, not only us. */
  readonly attached: boolean;
  readonly title: string;
  readonly url: string;
}

/** `chrome.debugger`. */
export interface DebuggerPort {
  attach(target: { readonly tabId: number }, requiredVersion: string): Promise<void>;
  detach(target: { readonly tabId: number }): Promise<void>;
  /** Resolves with Chrome's result (`{}` when Chrome returned nothing). */
  sendCommand(target: Debuggee, method: string, params?: JsonObject): Promise<JsonObject>;
  getTargets(): Promise<DebuggerTarget[]>;
  readonly onEvent: PortEvent<(source: Debuggee, method: string, params?: JsonObject) => void>;
  readonly onDetach: PortEvent<(source: Debuggee, reason: string) => void>;
}

/** The parts of `chrome.tabs.Tab` the worker uses. */
export interface TabInfo {
  readonly id?: number;
  readonly windowId: number;
  readonly index?: number;
  readonly url?: string;
  readonly title?: string;
  readonly active: boolean;
  readonly status?: string;
  /**
   * The tab Chrome lists as its opener. For a link or `window.open` this is the tab that was
   * active when it opened, which is usually but not always the real opener.
   */
  readonly openerTabId?: number;
  /** The tab group the tab is in; absent or {@linkcode TAB_GROUP_NONE} when in none. */
  readonly groupId?: number;
  /** The tab's favicon URL, when Chrome has one. */
  readonly favIconUrl?: string;
}

/** `chrome.tabGroups.TAB_GROUP_ID_NONE`: the `groupId` of a tab that is in no group. */
export const TAB_GROUP_NONE = -1;

/** `chrome.tabs`. `get` rejects when the tab does not exist. */
export interface TabsPort {
  get(tabId: number): Promise<TabInfo>;
  query(query: { readonly active?: boolean; readonly lastFocusedWindow?: boolean }): Promise<
    TabInfo[]
  >;
  create(
    properties: { readonly url: string; readonly active: boolean; readonly windowId?: number },
  ): Promise<TabInfo>;
  update(tabId: number, properties: { readonly active: boolean }): Promise<TabInfo>;
  remove(tabId: number): Promise<void>;
  /** A new tab, popups included. */
  readonly onCreated: PortEvent<(tab: TabInfo) => void>;
  readonly onRemoved: PortEvent<(tabId: number) => void>;
  readonly onReplaced: PortEvent<(addedTabId: number, removedTabId: number) => void>;
  readonly onUpdated: PortEvent<
    (tabId: number, changeInfo: { readonly url?: string; readonly title?: string }) => void
  >;
}

/** `chrome.windows`. */
export interface WindowsPort {
  create(
    properties: { readonly url: string; readonly focused: boolean },
  ): Promise<{ readonly id?: number; readonly tabs?: TabInfo[] }>;
  update(windowId: number, properties: { readonly focused: boolean }): Promise<void>;
  getLastFocused(): Promise<{ readonly id?: number }>;
}

/** A `chrome.downloads` item as the download tracker needs it. */
export interface DownloadItemView {
  readonly id: number;
  readonly url: string;
  readonly finalUrl?: string;
  /** Absolute path; empty until Chrome has chosen it. */
  readonly filename: string;
  readonly state: "in_progress" | "interrupted" | "complete";
}

/** A `chrome.downloads.onChanged` delta as the download tracker needs it. */
export interface DownloadDeltaView {
  readonly id: number;
  readonly filename?: { readonly current?: string };
  readonly state?: { readonly current?: string };
}

/** `chrome.downloads` (the `downloads` permission). */
export interface DownloadsPort {
  cancel(downloadId: number): Promise<void>;
  /** The item's state, or `undefined` when Chrome no longer knows it. */
  state(downloadId: number): Promise<string | undefined>;
  /** Deletes the file of a completed download. */
  removeFile(downloadId: number): Promise<void>;
  /** Removes the entry from the person's download list (the file stays). */
  erase(downloadId: number): Promise<void>;
  readonly onCreated: PortEvent<(item: DownloadItemView) => void>;
  readonly onChanged: PortEvent<(delta: DownloadDeltaView) => void>;
}

/** A `chrome.contentSettings` type the permission emulation sets. */
export type ContentSettingType =
  | "location"
  | "notifications"
  | "camera"
  | "microphone"
  | "clipboard";

/** A content setting value the permission emulation sets. */
export type ContentSettingValue = "allow" | "block" | "ask";

/**
 * `chrome.contentSettings` (the `contentSettings` permission). Its rules are the extension's
 * own layer above the person's settings: `clear` removes only rules this extension set.
 */
export interface ContentSettingsPort {
  /** Removes every rule this extension set for `type`. */
  clear(type: ContentSettingType): Promise<void>;
  /** Sets one rule for `type` on `primaryPattern`. */
  set(
    type: ContentSettingType,
    primaryPattern: string,
    setting: ContentSettingValue,
  ): Promise<void>;
}

/** `chrome.action`. Badge calls are best effort. */
export interface ActionPort {
  setBadge(
    tabId: number | undefined,
    badge: { readonly text: string; readonly color: string; readonly title: string },
  ): Promise<void>;
  readonly onClicked: PortEvent<(tab: TabInfo) => void>;
}

/** The parts of `chrome.tabGroups.TabGroup` the worker uses. */
export interface TabGroupInfo {
  readonly id: number;
  readonly windowId: number;
  readonly title: string;
  /** One of Chrome's group colours (`grey`, `blue`, `red`, `yellow`, `green`, `pink`, …). */
  readonly color: string;
}

/** `chrome.tabGroups` plus the group-related parts of `chrome.tabs`. */
export interface TabGroupsPort {
  /** The group; rejects when it does not exist. */
  get(groupId: number): Promise<TabGroupInfo>;
  /** Every group, optionally only those of one window. */
  query(query: { readonly windowId?: number }): Promise<TabGroupInfo[]>;
  /**
   * `chrome.tabs.group`: adds tabs to `groupId`, or to a new group in `windowId`.
   *
   * @returns The group id.
   */
  group(
    tabIds: readonly number[],
    into: { readonly groupId: number } | { readonly windowId: number },
  ): Promise<number>;
  /** `chrome.tabs.ungroup`. A group left without tabs disappears, as in Chrome. */
  ungroup(tabIds: readonly number[]): Promise<void>;
  /** Sets a group's title and colour. */
  update(
    groupId: number,
    properties: { readonly title: string; readonly color: string },
  ): Promise<void>;
  /** The tabs in a group. */
  tabsIn(groupId: number): Promise<TabInfo[]>;
  /** A tab's `groupId` changed (`chrome.tabs.onUpdated` with `changeInfo.groupId`). */
  readonly onTabGrouped: PortEvent<(tabId: number, groupId: number) => void>;
  /** A group was removed (closed, ungrouped or emptied). */
  readonly onRemoved: PortEvent<(group: TabGroupInfo) => void>;
}

/** `chrome.commands`: keyboard shortcuts of the manifest's `commands`. */
export interface CommandsPort {
  /** The shortcut assigned to a command, or empty when none (the person may have removed it). */
  shortcut(command: string): Promise<string>;
  readonly onCommand: PortEvent<(command: string, tab: TabInfo | undefined) => void>;
}

/** Opens the extension's own pages. */
export interface PagesPort {
  /**
   * Opens `setup.html` in a new tab, or focuses the one already open.
   *
   * @param reason Why the page was opened (`share` when a share was refused), shown by the page.
   */
  openSetup(reason?: string): Promise<void>;
}

/** `chrome.alarms`. */
export interface AlarmsPort {
  create(name: string, info: { readonly periodInMinutes: number }): Promise<void>;
  get(name: string): Promise<{ readonly name: string } | undefined>;
  readonly onAlarm: PortEvent<(alarm: { readonly name: string }) => void>;
}

/** A message sent to the worker by the options page or tests (`chrome.runtime.onMessage`). */
export type RuntimeMessageListener = (
  message: unknown,
  sendResponse: (response: unknown) => void,
) => boolean | undefined;

/** `chrome.runtime` and `navigator`. */
export interface RuntimePort {
  openOptionsPage(): Promise<void>;
  /** The manifest version, sent as `client.version`. */
  readonly version: string;
  /** `navigator.userAgent`, sent as `userAgent` in `connect`. */
  readonly userAgent: string;
  readonly onMessage: PortEvent<RuntimeMessageListener>;
  readonly onInstalled: PortEvent<(details: { readonly reason: string }) => void>;
  readonly onStartup: PortEvent<() => void>;
}

/** Handlers a socket is created with, so nothing can arrive before they are bound. */
export interface SocketHandlers {
  onOpen(): void;
  onMessage(data: string): void;
  onClose(code: number, reason: string): void;
  onError(): void;
}

/** An open or opening WebSocket. */
export interface SocketPort {
  send(text: string): void;
  close(code?: number, reason?: string): void;
  readonly bufferedAmount: number;
}

/** Opens a WebSocket with its handlers already bound. Binary frames never reach `onMessage`. */
export type SocketFactory = (url: string, handlers: SocketHandlers) => SocketPort;

/** A minimal HTTP GET for the preflight and the options page's connection check. */
export type HttpGet = (
  url: string,
  init: { readonly headers?: Record<string, string>; readonly signal: AbortSignal },
) => Promise<{ readonly status: number; readonly contentType: string; readonly body: string }>;

/** Every port the worker needs. */
export interface Ports {
  readonly clock: Clock;
  readonly storage: StoragePort;
  readonly debugger: DebuggerPort;
  readonly tabs: TabsPort;
  readonly windows: WindowsPort;
  readonly action: ActionPort;
  readonly alarms: AlarmsPort;
  readonly runtime: RuntimePort;
  readonly socket: SocketFactory;
  readonly http: HttpGet;
  /** Tab groups as visible consent; without it the client never groups tabs. */
  readonly tabGroups?: TabGroupsPort;
  /** Keyboard shortcuts; without it there is no shortcut. */
  readonly commands?: CommandsPort;
  /** The setup page; without it a share without a token only refuses. */
  readonly pages?: PagesPort;
  /** Absent in fakes that do not exercise downloads; then downloads are not emulated. */
  readonly downloads?: DownloadsPort;
  /** Absent in fakes that do not exercise permissions; then permissions are not emulated. */
  readonly contentSettings?: ContentSettingsPort;
}
