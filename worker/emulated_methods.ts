/**
 * CDP methods the extension answers itself instead of forwarding to a tab's debugger: the ones
 * `chrome.debugger` cannot run on a tab (`Target.createTarget`, `closeTarget`,
 * `activateTarget`) and the relay-private `BrowserRelay.*` ones. One method-keyed table: a new
 * emulated method (downloads, popups, …) is one more entry here and touches no tab lifecycle.
 *
 * @module
 */

import type { CdpCall } from "../codec/extension_frame.ts";
import type { JsonObject } from "../codec/json.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import { noSessionError } from "../codec/messages.ts";
import {
  CONTENT_SETTING_TYPES,
  type ContentSettingRuleView,
  type ContentSettingsBridge,
} from "./content_settings_bridge.ts";
import type { DownloadBridge } from "./download_bridge.ts";
import { ErrorText } from "./error_text.ts";
import type { ContentSettingType, DebuggerTarget, TabsPort, WindowsPort } from "./ports.ts";
import type { TabRecord } from "./tab_sessions.ts";

/** What an emulated method may use: the bridge hands itself over as this. */
export interface EmulationHost {
  readonly tabs: TabsPort;
  readonly windows: WindowsPort;
  /** The attached tab with this top-level targetId. */
  byTarget(targetId: string): TabRecord | undefined;
  /** The attached tab with this relay session id. */
  bySession(sessionId: string): TabRecord | undefined;
  /** `chrome.debugger.getTargets()` under the deadline; empty when Chrome does not answer. */
  targets(): Promise<readonly DebuggerTarget[]>;
  /** Attaches a tab and announces it (the toolbar's attach). */
  attachTab(tabId: number): Promise<TabRecord>;
  /** Resets a session's debugger through its attachment; rejects for an unknown session. */
  resetSession(sessionId: string): Promise<void>;
  /** Waits on the clock; never resolves once the bridge is closed. */
  sleep(ms: number): Promise<void>;
  /**
   * Wait between creating a tab for `Target.createTarget` and attaching to it.
   */
  readonly createTargetSettleMs: number;
  /** The download emulation's worker half; absent where `chrome.downloads` is not available. */
  readonly downloads?: DownloadBridge;
  /**
   * The permission emulation's worker half; absent where `chrome.contentSettings` is not
   * available.
   */
  readonly contentSettings?: ContentSettingsBridge;
}

/** One emulated method: the result object, or a rejection whose message is the error text. */
export type EmulatedMethod = (host: EmulationHost, cdp: CdpCall) => Promise<JsonObject>;

async function findTab(host: EmulationHost, cdp: CdpCall): Promise<number | undefined> {
  const targetId = cdp.params?.targetId;
  if (typeof targetId === "string") {
    const record = host.byTarget(targetId);
    if (record) return record.tabId;
    const target = (await host.targets()).find((t) => t.id === targetId && t.tabId !== undefined);
    if (target?.tabId !== undefined) return target.tabId;
  }
  if (cdp.sessionId !== undefined) return host.bySession(cdp.sessionId)?.tabId;
  return undefined;
}

/** `Target.createTarget`: an inactive tab (or a new window), attached and announced. */
async function createTarget(host: EmulationHost, cdp: CdpCall): Promise<JsonObject> {
  const params = cdp.params ?? {};
  const url = typeof params.url === "string" && params.url !== "" ? params.url : "about:blank";
  let tabId: number | undefined;
  if (params.newWindow === true) {
    const window = await host.windows.create({ url, focused: false });
    tabId = window.tabs?.[0]?.id;
  } else {
    const window = await host.windows.getLastFocused();
    const tab = await host.tabs.create(
      window.id === undefined
        ? { url, active: false }
        : { url, active: false, windowId: window.id },
    );
    tabId = tab.id;
  }
  if (tabId === undefined) {
    throw new Error(`Cannot create target as Chrome returned no tab: URL is "${url}"`);
  }
  await host.sleep(host.createTargetSettleMs);
  const record = await host.attachTab(tabId);
  return { targetId: record.targetId };
}

/** `Target.closeTarget`: closes the tab, never the last one. */
async function closeTarget(host: EmulationHost, cdp: CdpCall): Promise<JsonObject> {
  const tabId = await findTab(host, cdp);
  if (tabId === undefined) return { success: false };
  const all = await host.tabs.query({});
  if (all.filter((tab) => Number.isInteger(tab.id)).length <= 1) {
    throw new Error(ErrorText.CannotCloseLastTab);
  }
  await host.tabs.remove(tabId);
  return { success: true };
}

/** `Target.activateTarget`: focuses the window, then the tab; best effort (§6.4). */
async function activateTarget(host: EmulationHost, cdp: CdpCall): Promise<JsonObject> {
  try {
    const tabId = await findTab(host, cdp);
    if (tabId === undefined) return {};
    const tab = await host.tabs.get(tabId);
    await host.windows.update(tab.windowId, { focused: true });
    await host.tabs.update(tabId, { active: true });
  } catch {
    // Activation is best effort: the result is {} in every case (§6.4).
  }
  return {};
}

/**
 * `BrowserRelay.resetSession`: detaches and re-attaches the tab's debugger under the same
 * session id (see `TabAttachment.reset`).
 */
async function resetSession(host: EmulationHost, cdp: CdpCall): Promise<JsonObject> {
  const fromParams = cdp.params?.sessionId;
  const sessionId = cdp.sessionId ?? (typeof fromParams === "string" ? fromParams : undefined);
  if (sessionId === undefined) {
    throw new Error('Cannot reset session as "sessionId" is missing');
  }
  if (!host.bySession(sessionId)) throw new Error(noSessionError(sessionId));
  await host.resetSession(sessionId);
  return {};
}

function downloadsOf(host: EmulationHost, method: string): DownloadBridge {
  if (host.downloads === undefined) {
    throw new Error(`Cannot run "${method}" as chrome.downloads is not available`);
  }
  return host.downloads;
}

/**
 * `BrowserRelay.setDownloadBehavior {behavior}`: the relay's behavior in force; `deny` cancels
 * downloads of shared tabs.
 */
// deno-lint-ignore require-await -- async so that every throw becomes the one error reply
async function setDownloadBehavior(host: EmulationHost, cdp: CdpCall): Promise<JsonObject> {
  const behavior = cdp.params?.behavior;
  if (typeof behavior !== "string") {
    throw new TypeError('Cannot set download behavior as "behavior" is not a string');
  }
  downloadsOf(host, cdp.method).setBehavior(behavior);
  return {};
}

/** `BrowserRelay.cancelDownload {guid}`: cancels a shared tab's download (its client left). */
// deno-lint-ignore require-await -- async so that every throw becomes the one error reply
async function cancelDownload(host: EmulationHost, cdp: CdpCall): Promise<JsonObject> {
  const guid = cdp.params?.guid;
  if (typeof guid !== "string") {
    throw new TypeError('Cannot cancel download as "guid" is not a string');
  }
  return { known: downloadsOf(host, cdp.method).cancel(guid) };
}

/** `BrowserRelay.eraseDownload {downloadId}`: drops the list entry of a file the relay moved. */
async function eraseDownload(host: EmulationHost, cdp: CdpCall): Promise<JsonObject> {
  const downloadId = cdp.params?.downloadId;
  if (typeof downloadId !== "number" || !Number.isInteger(downloadId)) {
    throw new TypeError('Cannot erase download as "downloadId" is not an integer');
  }
  await downloadsOf(host, cdp.method).erase(downloadId);
  return {};
}

function isContentSettingType(value: unknown): value is ContentSettingType {
  return CONTENT_SETTING_TYPES.some((type) => type === value);
}

/**
 * `BrowserRelay.setContentSettings {type, rules: [{pattern, setting}]}`: the relay's rules in
 * force for one content type replace the extension's.
 */
async function setContentSettings(host: EmulationHost, cdp: CdpCall): Promise<JsonObject> {
  const params = cdp.params ?? {};
  const { type, rules } = params;
  if (!isContentSettingType(type)) {
    throw new TypeError(
      `Cannot set content settings as "type" is not one of ${
        CONTENT_SETTING_TYPES.map((t) => `"${t}"`).join(", ")
      }: current value is ${JSON.stringify(type ?? null)}`,
    );
  }
  if (!Array.isArray(rules)) {
    throw new TypeError('Cannot set content settings as "rules" is not an array');
  }
  const checked: ContentSettingRuleView[] = [];
  for (const rule of rules) {
    const pattern = isJsonObject(rule) ? rule.pattern : undefined;
    const setting = isJsonObject(rule) ? rule.setting : undefined;
    if (
      typeof pattern !== "string" ||
      (setting !== "allow" && setting !== "block" && setting !== "ask")
    ) {
      throw new TypeError(
        `Cannot set content settings as a rule is not {pattern, setting: "allow" | "block" | "ask"}: current value is ${
          JSON.stringify(rule)
        }`,
      );
    }
    checked.push({ pattern, setting });
  }
  if (host.contentSettings === undefined) {
    throw new Error(`Cannot run "${cdp.method}" as chrome.contentSettings is not available`);
  }
  await host.contentSettings.replace(type, checked);
  return {};
}

/**
 * The emulated methods by CDP method name. A method found here is never forwarded to a tab.
 *
 * @example
 * ```ts
 * const method = EMULATED_METHODS.get(cdp.method);
 * if (method) reply(await method(host, cdp));
 * ```
 */
export const EMULATED_METHODS: ReadonlyMap<string, EmulatedMethod> = new Map<
  string,
  EmulatedMethod
>([
  ["Target.createTarget", createTarget],
  ["Target.closeTarget", closeTarget],
  ["Target.activateTarget", activateTarget],
  ["BrowserRelay.resetSession", resetSession],
  ["BrowserRelay.setDownloadBehavior", setDownloadBehavior],
  ["BrowserRelay.cancelDownload", cancelDownload],
  ["BrowserRelay.eraseDownload", eraseDownload],
  ["BrowserRelay.setContentSettings", setContentSettings],
]);
