/**
 * The one production adapter over `chrome.*`, `WebSocket` and `fetch`. Every call is an explicit
 * method (no reflection over `chrome`), every event is a `{addListener, removeListener}` pair
 * that registers with Chrome synchronously, so listeners added during the worker's first
 * synchronous run receive the event that woke it.
 *
 * @module
 */

import type { JsonObject } from "../codec/json.ts";
import type {
  ContentSettingType,
  Debuggee,
  DebuggerTarget,
  DownloadDeltaView,
  DownloadItemView,
  HttpGet,
  PortEvent,
  Ports,
  RuntimeMessageListener,
  SocketFactory,
  StorageArea,
  StorageChange,
  TabGroupInfo,
  TabInfo,
} from "./ports.ts";
import { systemClock } from "./system_clock.ts";
import { isJsonObject } from "../codec/is_json_object.ts";

/** The part of `chrome.events.Event` the adapter uses. */
interface ChromeEvent<C> {
  addListener(callback: C): void;
  removeListener(callback: C): void;
}

/**
 * Adapts a Chrome event to a {@linkcode PortEvent} whose listeners have a different signature.
 * Keeps the wrapper per listener so `removeListener` removes exactly what was added.
 */
function adaptEvent<L, C>(
  event: ChromeEvent<C>,
  wrap: (listener: L) => C,
): PortEvent<L> {
  const wrappers = new Map<L, C>();
  return {
    addListener(listener: L): void {
      if (wrappers.has(listener)) return;
      const wrapper = wrap(listener);
      wrappers.set(listener, wrapper);
      event.addListener(wrapper);
    },
    removeListener(listener: L): void {
      const wrapper = wrappers.get(listener);
      if (wrapper === undefined) return;
      wrappers.delete(listener);
      event.removeListener(wrapper);
    },
  };
}

/** The part of a `chrome.contentSettings.ContentSetting` the permission emulation uses. */
interface ContentSettingApi {
  clear(details: { scope?: "regular" }): Promise<void>;
  set(details: { primaryPattern: string; setting: "allow" | "block" | "ask" }): Promise<void>;
}

/** One explicit case per content type the permission emulation sets (no reflection). */
function contentSetting(type: ContentSettingType): ContentSettingApi {
  switch (type) {
    case "location":
      return chrome.contentSettings.location;
    case "notifications":
      return chrome.contentSettings.notifications;
    case "camera":
      return chrome.contentSettings.camera;
    case "microphone":
      return chrome.contentSettings.microphone;
    case "clipboard":
      return chrome.contentSettings.clipboard;
  }
}

/** Chrome's CDP results and params are parsed JSON: an object is a JsonObject. */
function jsonObject(value: unknown): JsonObject {
  return isJsonObject(value) ? (value as JsonObject) : {};
}

function tabInfo(tab: chrome.tabs.Tab): TabInfo {
  return {
    ...(tab.id === undefined ? {} : { id: tab.id }),
    windowId: tab.windowId,
    index: tab.index,
    ...(tab.url === undefined ? {} : { url: tab.url }),
    ...(tab.title === undefined ? {} : { title: tab.title }),
    active: tab.active,
    ...(tab.status === undefined ? {} : { status: tab.status }),
    ...(tab.openerTabId === undefined ? {} : { openerTabId: tab.openerTabId }),
    ...(tab.groupId === undefined ? {} : { groupId: tab.groupId }),
    ...(tab.favIconUrl === undefined ? {} : { favIconUrl: tab.favIconUrl }),
  };
}

function tabGroupInfo(group: chrome.tabGroups.TabGroup): TabGroupInfo {
  return { id: group.id, windowId: group.windowId, title: group.title ?? "", color: group.color };
}

/** Chrome's group colours; anything else is refused before it reaches Chrome. */
const GROUP_COLORS = new Set<string>([
  "grey",
  "blue",
  "red",
  "yellow",
  "green",
  "pink",
  "purple",
  "cyan",
  "orange",
]);

function groupColor(color: string): chrome.tabGroups.Color {
  if (!GROUP_COLORS.has(color)) {
    throw new TypeError(`Cannot colour a tab group "${color}": it is not one of Chrome's colours`);
  }
  return color as chrome.tabGroups.Color;
}

/** Tab ids as Chrome's `[number, ...number[]]`. */
function tabIdList(tabIds: readonly number[]): [number, ...number[]] {
  const [first, ...rest] = tabIds;
  if (first === undefined) throw new TypeError("Cannot group or ungroup an empty list of tabs");
  return [first, ...rest];
}

async function openSetup(reason: string | undefined): Promise<void> {
  const base = chrome.runtime.getURL("setup.html");
  const url = reason === undefined ? base : `${base}?reason=${encodeURIComponent(reason)}`;
  const open = (await chrome.tabs.query({})).find((tab) => tab.url?.startsWith(base) === true);
  if (open?.id !== undefined) {
    await chrome.tabs.update(open.id, { active: true, url });
    await chrome.windows.update(open.windowId, { focused: true });
    return;
  }
  await chrome.tabs.create({ url, active: true });
}

function debuggee(source: chrome.debugger.DebuggerSession): Debuggee {
  return {
    ...(source.tabId === undefined ? {} : { tabId: source.tabId }),
    ...(source.targetId === undefined ? {} : { targetId: source.targetId }),
    ...(source.extensionId === undefined ? {} : { extensionId: source.extensionId }),
    ...(source.sessionId === undefined ? {} : { sessionId: source.sessionId }),
  };
}

function storageArea(area: chrome.storage.StorageArea): StorageArea {
  return {
    get: (keys) => area.get([...keys]),
    set: (items) => area.set(items),
    remove: (keys) => area.remove([...keys]),
  };
}

/**
 * Opens a WebSocket with its handlers bound before it can open. Binary messages are ignored.
 */
const openSocket: SocketFactory = (url, handlers) => {
  const socket = new WebSocket(url);
  socket.onopen = () => handlers.onOpen();
  socket.onmessage = (event: MessageEvent) => {
    if (typeof event.data === "string") handlers.onMessage(event.data);
  };
  socket.onclose = (event: CloseEvent) => handlers.onClose(event.code, event.reason);
  socket.onerror = () => handlers.onError();
  return {
    send: (text) => socket.send(text),
    close: (code, reason) => socket.close(code, reason),
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
  };
};

const httpGet: HttpGet = async (url, init) => {
  const response = await fetch(url, {
    method: "GET",
    ...(init.headers === undefined ? {} : { headers: init.headers }),
    signal: init.signal,
    credentials: "omit",
    cache: "no-store",
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? "",
    body: await response.text(),
  };
};

/**
 * Builds every port over the real `chrome.*` APIs.
 *
 * @returns The ports.
 *
 * @example
 * ```ts ignore
 * const ports = chromePorts();
 * const client = new RelayClient(ports);
 * ```
 */
export function chromePorts(): Ports {
  return {
    clock: systemClock(),
    storage: {
      local: storageArea(chrome.storage.local),
      session: storageArea(chrome.storage.session),
      onChanged: adaptEvent(
        chrome.storage.onChanged,
        (listener: (changes: Record<string, StorageChange>, areaName: string) => void) =>
        (changes: { [key: string]: chrome.storage.StorageChange }, areaName: string) =>
          listener(changes, areaName),
      ),
    },
    debugger: {
      attach: (target, requiredVersion) =>
        chrome.debugger.attach({ tabId: target.tabId }, requiredVersion),
      detach: (target) => chrome.debugger.detach({ tabId: target.tabId }),
      // The hot path: one `then`, not an async wrapper's extra promise. A synchronous throw
      // (bad arguments) still becomes a rejection.
      sendCommand: (target, method, params) => {
        try {
          return chrome.debugger.sendCommand(debuggeeSession(target), method, params).then(
            jsonObject,
          );
        } catch (error) {
          return Promise.reject(error);
        }
      },
      getTargets: async () =>
        (await chrome.debugger.getTargets()).map((t): DebuggerTarget => ({
          type: t.type,
          id: t.id,
          ...(t.tabId === undefined ? {} : { tabId: t.tabId }),
          ...(t.extensionId === undefined ? {} : { extensionId: t.extensionId }),
          attached: t.attached,
          title: t.title,
          url: t.url,
        })),
      onEvent: adaptEvent(
        chrome.debugger.onEvent,
        (listener: (source: Debuggee, method: string, params?: JsonObject) => void) =>
        (
          source: chrome.debugger.DebuggerSession,
          method: string,
          params?: { [key: string]: unknown },
        ) =>
          params === undefined
            ? listener(debuggee(source), method)
            : listener(debuggee(source), method, jsonObject(params)),
      ),
      onDetach: adaptEvent(
        chrome.debugger.onDetach,
        (listener: (source: Debuggee, reason: string) => void) =>
        (source: chrome.debugger.Debuggee, reason: string) => listener(debuggee(source), reason),
      ),
    },
    tabs: {
      get: async (tabId) => tabInfo(await chrome.tabs.get(tabId)),
      query: async (query) => (await chrome.tabs.query({ ...query })).map(tabInfo),
      create: async (properties) => tabInfo(await chrome.tabs.create({ ...properties })),
      update: async (tabId, properties) => {
        const tab = await chrome.tabs.update(tabId, { active: properties.active });
        if (tab === undefined) {
          throw new Error(`Cannot update tab ${tabId} as Chrome returned no tab`);
        }
        return tabInfo(tab);
      },
      remove: (tabId) => chrome.tabs.remove(tabId),
      onCreated: adaptEvent(
        chrome.tabs.onCreated,
        (listener: (tab: TabInfo) => void) => (tab: chrome.tabs.Tab) => listener(tabInfo(tab)),
      ),
      onRemoved: adaptEvent(
        chrome.tabs.onRemoved,
        (listener: (tabId: number) => void) => (tabId: number) => listener(tabId),
      ),
      onReplaced: adaptEvent(
        chrome.tabs.onReplaced,
        (listener: (addedTabId: number, removedTabId: number) => void) =>
        (addedTabId: number, removedTabId: number) => listener(addedTabId, removedTabId),
      ),
      onUpdated: adaptEvent(
        chrome.tabs.onUpdated,
        (
          listener: (
            tabId: number,
            changeInfo: { readonly url?: string; readonly title?: string },
          ) => void,
        ) =>
        (tabId: number, changeInfo: chrome.tabs.OnUpdatedInfo) => {
          if (changeInfo.url === undefined && changeInfo.title === undefined) return;
          listener(tabId, {
            ...(changeInfo.url === undefined ? {} : { url: changeInfo.url }),
            ...(changeInfo.title === undefined ? {} : { title: changeInfo.title }),
          });
        },
      ),
    },
    downloads: {
      cancel: (downloadId) => chrome.downloads.cancel(downloadId),
      state: async (downloadId) => (await chrome.downloads.search({ id: downloadId }))[0]?.state,
      removeFile: (downloadId) => chrome.downloads.removeFile(downloadId),
      erase: async (downloadId) => {
        await chrome.downloads.erase({ id: downloadId });
      },
      onCreated: adaptEvent(
        chrome.downloads.onCreated,
        (listener: (item: DownloadItemView) => void) => (item: chrome.downloads.DownloadItem) =>
          listener({
            id: item.id,
            url: item.url,
            ...(item.finalUrl === undefined ? {} : { finalUrl: item.finalUrl }),
            filename: item.filename,
            state: item.state,
          }),
      ),
      onChanged: adaptEvent(
        chrome.downloads.onChanged,
        (listener: (delta: DownloadDeltaView) => void) => (delta: chrome.downloads.DownloadDelta) =>
          listener({
            id: delta.id,
            ...(delta.filename === undefined ? {} : {
              filename: delta.filename.current === undefined
                ? {}
                : { current: delta.filename.current },
            }),
            ...(delta.state === undefined ? {} : {
              state: delta.state.current === undefined ? {} : { current: delta.state.current },
            }),
          }),
      ),
    },
    contentSettings: {
      clear: (type) => contentSetting(type).clear({}),
      set: (type, primaryPattern, setting) => contentSetting(type).set({ primaryPattern, setting }),
    },
    windows: {
      create: async (properties) => {
        const window = await chrome.windows.create({ ...properties });
        return {
          ...(window?.id === undefined ? {} : { id: window.id }),
          ...(window?.tabs === undefined ? {} : { tabs: window.tabs.map(tabInfo) }),
        };
      },
      update: async (windowId, properties) => {
        await chrome.windows.update(windowId, { focused: properties.focused });
      },
      getLastFocused: async () => {
        const window = await chrome.windows.getLastFocused();
        return window.id === undefined ? {} : { id: window.id };
      },
    },
    action: {
      setBadge: async (tabId, badge) => {
        const target = tabId === undefined ? {} : { tabId };
        await Promise.all([
          chrome.action.setBadgeText({ ...target, text: badge.text }),
          chrome.action.setBadgeBackgroundColor({ ...target, color: badge.color }),
          chrome.action.setBadgeTextColor({ ...target, color: "#FFFFFF" }),
          chrome.action.setTitle({ ...target, title: badge.title }),
        ]);
      },
      onClicked: adaptEvent(
        chrome.action.onClicked,
        (listener: (tab: TabInfo) => void) => (tab: chrome.tabs.Tab) => listener(tabInfo(tab)),
      ),
    },
    alarms: {
      create: (name, info) => chrome.alarms.create(name, { periodInMinutes: info.periodInMinutes }),
      get: async (name) => {
        const alarm = await chrome.alarms.get(name);
        return alarm === undefined ? undefined : { name: alarm.name };
      },
      onAlarm: adaptEvent(
        chrome.alarms.onAlarm,
        (listener: (alarm: { readonly name: string }) => void) => (alarm: chrome.alarms.Alarm) =>
          listener({ name: alarm.name }),
      ),
    },
    runtime: {
      openOptionsPage: () => chrome.runtime.openOptionsPage(),
      version: chrome.runtime.getManifest().version,
      userAgent: navigator.userAgent,
      onMessage: adaptEvent(
        chrome.runtime.onMessage,
        (listener: RuntimeMessageListener) =>
        (
          message: unknown,
          sender: chrome.runtime.MessageSender,
          sendResponse: (response?: unknown) => void,
        ) => {
          // Only this extension's own pages may talk to the worker.
          if (sender.id !== chrome.runtime.id) return undefined;
          return listener(message, sendResponse);
        },
      ),
      onInstalled: adaptEvent(
        chrome.runtime.onInstalled,
        (listener: (details: { readonly reason: string }) => void) =>
        (details: chrome.runtime.InstalledDetails) => listener({ reason: details.reason }),
      ),
      onStartup: adaptEvent(
        chrome.runtime.onStartup,
        (listener: () => void) => () => listener(),
      ),
    },
    socket: openSocket,
    http: httpGet,
    tabGroups: {
      get: async (groupId) => tabGroupInfo(await chrome.tabGroups.get(groupId)),
      query: async (query) =>
        (await chrome.tabGroups.query(
          query.windowId === undefined ? {} : { windowId: query.windowId },
        )).map(tabGroupInfo),
      group: (tabIds, into) =>
        chrome.tabs.group(
          "groupId" in into
            ? { tabIds: tabIdList(tabIds), groupId: into.groupId }
            : { tabIds: tabIdList(tabIds), createProperties: { windowId: into.windowId } },
        ),
      ungroup: (tabIds) => chrome.tabs.ungroup(tabIdList(tabIds)),
      update: async (groupId, properties) => {
        await chrome.tabGroups.update(groupId, {
          title: properties.title,
          color: groupColor(properties.color),
        });
      },
      tabsIn: async (groupId) => (await chrome.tabs.query({ groupId })).map(tabInfo),
      onTabGrouped: adaptEvent(
        chrome.tabs.onUpdated,
        (listener: (tabId: number, groupId: number) => void) =>
        (tabId: number, changeInfo: chrome.tabs.OnUpdatedInfo) => {
          if (changeInfo.groupId !== undefined) listener(tabId, changeInfo.groupId);
        },
      ),
      onRemoved: adaptEvent(
        chrome.tabGroups.onRemoved,
        (listener: (group: TabGroupInfo) => void) => (group: chrome.tabGroups.TabGroup) =>
          listener(tabGroupInfo(group)),
      ),
    },
    commands: {
      shortcut: async (command) =>
        (await chrome.commands.getAll()).find((c) => c.name === command)?.shortcut ?? "",
      onCommand: adaptEvent(
        chrome.commands.onCommand,
        (listener: (command: string, tab: TabInfo | undefined) => void) =>
        (command: string, tab?: chrome.tabs.Tab) =>
          listener(command, tab === undefined ? undefined : tabInfo(tab)),
      ),
    },
    pages: { openSetup },
  };
}

function debuggeeSession(target: Debuggee): chrome.debugger.DebuggerSession {
  return {
    ...(target.tabId === undefined ? {} : { tabId: target.tabId }),
    ...(target.targetId === undefined ? {} : { targetId: target.targetId }),
    ...(target.extensionId === undefined ? {} : { extensionId: target.extensionId }),
    ...(target.sessionId === undefined ? {} : { sessionId: target.sessionId }),
  };
}
