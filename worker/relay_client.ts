/**
 * The worker's composition root: one {@linkcode RelayClient} builds the relay connection, the tab
 * bridge, the tab groups and the user actions, and wires them to every port listener, the badges
 * and the keepalive alarm. What the person asks for (toolbar click, shortcut, the pages'
 * messages) is carried out by `worker/user_actions.ts`.
 *
 * @module
 */

import type { JsonObject } from "../codec/json.ts";
import { type Badge, BADGE_STYLE, badgeFor, type TabBadgeState } from "./badge.ts";
import { checkConnection, type CheckResult, type CheckTarget } from "./check_connection.ts";
import type {
  Debuggee,
  DownloadDeltaView,
  DownloadItemView,
  Ports,
  RuntimeMessageListener,
  StorageChange,
  TabGroupInfo,
  TabInfo,
} from "./ports.ts";
import { RelayConnection, type RelayConnectionOptions } from "./relay_connection.ts";
import type { ConnectionHooks } from "./relay_link.ts";
import {
  type PendingWork,
  TabBridge,
  type TabBridgeOptions,
  type ToggleResult,
} from "./tab_bridge.ts";
import { TabSessions } from "./tab_sessions.ts";
import type { StatusSnapshot } from "./messages.ts";
import {
  parseSettings,
  parseSharePopups,
  parseUseTabGroups,
  SETTINGS_KEYS,
  SHARE_POPUPS_KEY,
  TAB_GROUPS_KEY,
} from "./settings.ts";
import { TabGroups } from "./tab_groups.ts";
import { ContentSettingsBridge } from "./content_settings_bridge.ts";
import { DownloadBridge } from "./download_bridge.ts";
import { TOGGLE_COMMAND, UserActions } from "./user_actions.ts";
import { errorText } from "./errors.ts";

/** Name of the keepalive alarm (protocol §10). */
export const KEEPALIVE_ALARM = "relay-keepalive";

/** Period of the keepalive alarm in minutes: the packed-extension minimum (platform notes §1). */
export const KEEPALIVE_PERIOD_MINUTES = 0.5;

export type { ClientMessage, StatusSnapshot, StatusTab } from "./messages.ts";
export { TOGGLE_COMMAND } from "./user_actions.ts";

/** Options of {@linkcode RelayClient}. */
export interface RelayClientOptions {
  /** Deadlines and policy of the relay connection. */
  readonly connection?: RelayConnectionOptions;
  /** Timings of the tab bridge. */
  readonly bridge?: Omit<
    TabBridgeOptions,
    "debugger" | "tabs" | "windows" | "clock" | "sessions" | "link" | "onChange"
  >;
  /**
   * Runs the options page's connection check.
   *
   * @default {checkConnection over the client's http and clock ports}
   */
  readonly checkConnection?: (target: CheckTarget) => Promise<CheckResult>;
  /**
   * Receives diagnostics. Never receives tokens.
   *
   * @default {console.warn}
   */
  readonly log?: (message: string) => void;
}

/**
 * The single client of the service worker.
 *
 * **Listeners.** The constructor registers every port listener synchronously (`action`,
 * `debugger`, `tabs`, `alarms`, `runtime`; the connection registers `storage.onChanged`), so
 * constructing the client at module top level registers them during the worker's first
 * synchronous run. Each listener body waits for one init gate, the rehydration of the tab table
 * from `chrome.storage.session`, before it touches state; gated work runs in arrival order.
 *
 * @example
 * ```ts ignore
 * const client = new RelayClient(chromePorts());
 * void client.ensureKeepaliveAlarm();
 * ```
 */
export class RelayClient {
  readonly #ports: Ports;
  readonly #log: (message: string) => void;
  readonly #sessions: TabSessions;
  readonly #connection: RelayConnection;
  readonly #bridge: TabBridge;
  readonly #downloads: DownloadBridge | undefined;
  readonly #contentSettings: ContentSettingsBridge | undefined;
  readonly #actions: UserActions;
  readonly #init: Promise<void>;
  /** True once the tab table is restored: gated calls may then run at once. */
  #gateOpen = false;
  /** Gated calls still queued behind `#init`; later ones queue too, to keep arrival order. */
  #gateWaiting = 0;
  /** Tabs whose badge is not `off`, so a detach can reset it. */
  #badged = new Set<number>();
  readonly #removers: (() => void)[] = [];
  /** Tab groups as visible consent; undefined without a `tabGroups` port. */
  readonly #groups: TabGroups | undefined;
  /** True when a gateway token is saved (kept in step with `storage.onChanged`). */
  #configured = false;
  #groupsEnabled = true;
  /** Tabs shared as last told to the groups, to turn bridge changes into shared/unshared. */
  #shared = new Set<number>();
  /** False until the init gate has restored the tab table and the groups. */
  #groupsReady = false;
  #closed = false;

  /**
   * Builds the connection and the bridge, registers every listener and starts the init gate.
   *
   * @param ports Every port.
   * @param options Connection and bridge options, the check function and the logger.
   */
  constructor(ports: Ports, options: RelayClientOptions = {}) {
    this.#ports = ports;
    this.#log = options.log ?? ((message) => console.warn(message));
    this.#sessions = new TabSessions(ports.storage.session, {
      onWriteError: (error) => this.#log(`Cannot save tab state: ${errorText(error)}`),
    });
    const hooks: ConnectionHooks = {
      onReady: () =>
        this.#gated(() => {
          // Grants belong to the relay's clients: a new connection starts with none.
          this.#clearContentSettings();
          this.#bridge.onReady();
        }),
      onCommand: (id, cdp) => this.#gated(() => this.#bridge.onCommand(id, cdp)),
      onClosed: () =>
        this.#gated(() => {
          this.#bridge.onClosed();
          this.#clearContentSettings();
        }),
      onStatus: () => this.#refreshBadges(),
      attachedTabCount: () => this.#bridge.attachedTabCount(),
    };
    this.#connection = new RelayConnection(ports, hooks, options.connection ?? {});
    this.#downloads = ports.downloads === undefined ? undefined : new DownloadBridge({
      downloads: ports.downloads,
      sendEvent: (cdp) => void this.#connection.sendEvent(cdp),
      log: this.#log,
    });
    this.#contentSettings = ports.contentSettings === undefined
      ? undefined
      : new ContentSettingsBridge(ports.contentSettings);
    this.#bridge = new TabBridge({
      sharePopups: async () =>
        parseSharePopups((await ports.storage.local.get([SHARE_POPUPS_KEY]))[SHARE_POPUPS_KEY]),
      ...options.bridge,
      debugger: ports.debugger,
      tabs: ports.tabs,
      windows: ports.windows,
      clock: ports.clock,
      sessions: this.#sessions,
      link: this.#connection,
      onChange: () => {
        this.#refreshBadges();
        this.#syncGroups();
      },
      ...(this.#downloads === undefined ? {} : { downloads: this.#downloads }),
      ...(this.#contentSettings === undefined ? {} : { contentSettings: this.#contentSettings }),
    });
    this.#groups = ports.tabGroups === undefined ? undefined : new TabGroups({
      groups: ports.tabGroups,
      tabs: ports.tabs,
      storage: ports.storage.session,
      clock: ports.clock,
      isShared: (tabId) => this.#isShared(tabId),
      share: async (tabId) => (await this.#actions.share(tabId)).ok,
      unshare: async (tabId) => {
        await this.#bridge.detachTab(tabId, "toggle");
      },
      log: (message) => this.#log(message),
    });
    this.#actions = new UserActions({
      ports,
      bridge: this.#bridge,
      connection: this.#connection,
      groups: this.#groups,
      host: {
        ready: () => this.#init,
        closed: () => this.#closed,
        configured: () => this.#configured,
        groupsEnabled: () => this.#groupsEnabled,
        readSettings: () => this.#readSettings(),
        refreshBadges: () => this.#refreshBadges(),
      },
      check: options.checkConnection ??
        ((target) => checkConnection({ http: ports.http, clock: ports.clock }, target)),
      log: this.#log,
    });
    this.#listen();
    this.#init = this.#initialize();
  }

  /** Resolves once the tab table is restored and the connection started (never rejects). */
  get ready(): Promise<void> {
    return this.#init;
  }

  async #initialize(): Promise<void> {
    try {
      const { orphans, released } = await this.#bridge.restore();
      // Every orphan's badge goes off: the released ones are no longer attached, and the
      // others are held by another client, not by this extension.
      for (const tabId of orphans) this.#badged.add(tabId);
      for (const tabId of released) {
        this.#log(
          `Released the debugger of tab ${tabId}: it was attached but missing from the saved tab table`,
        );
      }
    } catch (error) {
      this.#log(`Cannot restore attached tabs: ${errorText(error)}`);
    }
    this.#gateOpen = true;
    if (this.#closed) return;
    await this.#readSettings();
    this.#shared = new Set(this.#bridge.tabs().map((tab) => tab.tabId));
    this.#groupsReady = true;
    // Queued first on the groups' chain: events that woke the worker are read after it.
    void this.#groups?.restore(this.#groupsEnabled, [...this.#shared]);
    if (this.#closed) return;
    this.#connection.start();
    this.#refreshBadges();
  }

  async #readSettings(): Promise<void> {
    try {
      const raw = await this.#ports.storage.local.get([...SETTINGS_KEYS, TAB_GROUPS_KEY]);
      this.#configured = parseSettings(raw).gatewayToken !== "";
      this.#groupsEnabled = parseUseTabGroups(raw[TAB_GROUPS_KEY]);
    } catch (error) {
      this.#log(`Cannot read the settings: ${errorText(error)}`);
    }
  }

  /** Removes the extension's content settings rules (the permission emulation's grants). */
  #clearContentSettings(): void {
    this.#contentSettings?.clearAll().catch((error: unknown) =>
      this.#log(
        `Cannot clear content settings: ${error instanceof Error ? error.message : String(error)}`,
      )
    );
  }

  #isShared(tabId: number): boolean {
    return this.#bridge.tabs().some((tab) => tab.tabId === tabId);
  }

  /** Tells the groups which tabs started or stopped being shared since the last call. */
  #syncGroups(): void {
    if (!this.#groupsReady || this.#closed) return;
    const now = new Set(this.#bridge.tabs().map((tab) => tab.tabId));
    for (const tabId of now) if (!this.#shared.has(tabId)) void this.#groups?.shared(tabId);
    for (const tabId of this.#shared) if (!now.has(tabId)) void this.#groups?.unshared(tabId);
    this.#shared = now;
  }

  /**
   * Runs `work` after the init gate, in arrival order with every other gated call. Once the gate
   * is open and nothing waits behind it, `work` runs at once: a relayed command costs no promise
   * hop on its way to the bridge.
   */
  #gated(work: () => void | Promise<void>): void {
    if (this.#gateOpen && this.#gateWaiting === 0) {
      if (this.#closed) return;
      try {
        const pending = work();
        if (pending !== undefined) pending.catch((error) => this.#listenerFailed(error));
      } catch (error) {
        this.#listenerFailed(error);
      }
      return;
    }
    this.#gateWaiting++;
    void this.#init.then(() => {
      this.#gateWaiting--;
      if (this.#closed) return;
      return work();
    }).catch((error) => this.#listenerFailed(error));
  }

  #listenerFailed(error: unknown): void {
    this.#log(`Listener failed: ${errorText(error)}`);
  }

  #listen(): void {
    const { action, alarms, runtime, tabs } = this.#ports;
    const dbg = this.#ports.debugger;
    const onClicked = (tab: TabInfo) => void this.clickAction(tab);
    const onEvent = (source: Debuggee, method: string, params?: JsonObject) =>
      this.#gated(() => {
        // Only shared tabs have our debugger attached, so only their downloads are seen.
        if (source.tabId !== undefined) this.#downloads?.pageEvent(source.tabId, method, params);
        this.#bridge.handleDebuggerEvent(source, method, params);
      });
    const onDetach = (source: Debuggee, reason: string) =>
      this.#gated(() => this.#bridge.handleDebuggerDetach(source, reason));
    const onCreated = (tab: TabInfo) => this.#gated(() => this.#bridge.handleTabCreated(tab));
    const onRemoved = (tabId: number) =>
      this.#gated(() => {
        this.#actions.forgetTab(tabId);
        this.#badged.delete(tabId);
        this.#groups?.handleTabRemoved(tabId);
        this.#bridge.handleTabRemoved(tabId);
      });
    const onReplaced = (added: number, removed: number) =>
      this.#gated(() => this.#bridge.handleTabReplaced(added, removed));
    const onUpdated = (tabId: number, change: { readonly url?: string; readonly title?: string }) =>
      this.#gated(() => this.#bridge.handleTabUpdated(tabId, change));
    const onAlarm = (alarm: { readonly name: string }) => {
      if (alarm.name !== KEEPALIVE_ALARM) return;
      this.#gated(() => {
        this.#connection.onKeepalive();
        this.#refreshBadges();
      });
    };
    const onMessage: RuntimeMessageListener = (message, sendResponse) =>
      this.#actions.handleMessage(message, sendResponse);
    const onInstalled = (details: { readonly reason: string }) => {
      if (details.reason !== "install") return;
      const open = this.#ports.pages === undefined
        ? runtime.openOptionsPage()
        : this.#ports.pages.openSetup();
      void open.catch((error) => this.#log(`Cannot open the setup page: ${errorText(error)}`));
    };
    const onLocalChanged = (changes: Record<string, StorageChange>, areaName: string) => {
      if (areaName !== "local") return;
      if (!("gatewayToken" in changes) && !(TAB_GROUPS_KEY in changes)) return;
      this.#gated(async () => {
        const enabled = this.#groupsEnabled;
        await this.#readSettings();
        this.#refreshBadges();
        if (enabled !== this.#groupsEnabled) {
          await this.#groups?.setEnabled(this.#groupsEnabled, [...this.#shared]);
        }
      });
    };
    const onCommand = (command: string, tab: TabInfo | undefined) => {
      if (command !== TOGGLE_COMMAND) return;
      this.#gated(async () => {
        const target = tab ??
          (await this.#ports.tabs.query({ active: true, lastFocusedWindow: true }))[0];
        if (target !== undefined) await this.clickAction(target);
      });
    };
    const onTabGrouped = (tabId: number, groupId: number) =>
      this.#gated(() => this.#groups?.handleTabGrouped(tabId, groupId));
    const onGroupRemoved = (group: TabGroupInfo) =>
      this.#gated(() => this.#groups?.handleGroupRemoved(group));
    // onStartup only has to wake the worker; the init gate does the rest.
    const onStartup = () => this.#gated(() => {});

    action.onClicked.addListener(onClicked);
    dbg.onEvent.addListener(onEvent);
    dbg.onDetach.addListener(onDetach);
    tabs.onCreated.addListener(onCreated);
    tabs.onRemoved.addListener(onRemoved);
    tabs.onReplaced.addListener(onReplaced);
    tabs.onUpdated.addListener(onUpdated);
    alarms.onAlarm.addListener(onAlarm);
    runtime.onMessage.addListener(onMessage);
    runtime.onInstalled.addListener(onInstalled);
    runtime.onStartup.addListener(onStartup);
    this.#removers.push(
      () => action.onClicked.removeListener(onClicked),
      () => dbg.onEvent.removeListener(onEvent),
      () => dbg.onDetach.removeListener(onDetach),
      () => tabs.onCreated.removeListener(onCreated),
      () => tabs.onRemoved.removeListener(onRemoved),
      () => tabs.onReplaced.removeListener(onReplaced),
      () => tabs.onUpdated.removeListener(onUpdated),
      () => alarms.onAlarm.removeListener(onAlarm),
      () => runtime.onMessage.removeListener(onMessage),
      () => runtime.onInstalled.removeListener(onInstalled),
      () => runtime.onStartup.removeListener(onStartup),
    );
    this.#ports.storage.onChanged.addListener(onLocalChanged);
    this.#removers.push(() => this.#ports.storage.onChanged.removeListener(onLocalChanged));
    const { commands, tabGroups } = this.#ports;
    if (commands !== undefined) {
      commands.onCommand.addListener(onCommand);
      this.#removers.push(() => commands.onCommand.removeListener(onCommand));
    }
    if (tabGroups !== undefined) {
      tabGroups.onTabGrouped.addListener(onTabGrouped);
      tabGroups.onRemoved.addListener(onGroupRemoved);
      this.#removers.push(
        () => tabGroups.onTabGrouped.removeListener(onTabGrouped),
        () => tabGroups.onRemoved.removeListener(onGroupRemoved),
      );
    }
    const { downloads } = this.#ports;
    const bridge = this.#downloads;
    if (downloads !== undefined && bridge !== undefined) {
      // Gated like the debugger events, so a download's page events and items keep their order.
      const onCreated = (item: DownloadItemView) => this.#gated(() => bridge.itemCreated(item));
      const onChanged = (delta: DownloadDeltaView) => this.#gated(() => bridge.itemChanged(delta));
      downloads.onCreated.addListener(onCreated);
      downloads.onChanged.addListener(onChanged);
      this.#removers.push(
        () => downloads.onCreated.removeListener(onCreated),
        () => downloads.onChanged.removeListener(onChanged),
      );
    }
  }

  /**
   * Creates the `relay-keepalive` alarm (every 0.5 min) unless it exists.
   *
   * @returns Resolves when the alarm exists.
   */
  async ensureKeepaliveAlarm(): Promise<void> {
    const existing = await this.#ports.alarms.get(KEEPALIVE_ALARM);
    if (existing === undefined) {
      await this.#ports.alarms.create(KEEPALIVE_ALARM, {
        periodInMinutes: KEEPALIVE_PERIOD_MINUTES,
      });
    }
  }

  /**
   * The toolbar click and the keyboard shortcut: shares or stops sharing the tab (see
   * {@linkcode UserActions.prototype.clickAction}).
   *
   * @param tab The tab.
   * @returns What happened to the tab, or undefined when nothing changed.
   */
  clickAction(tab: TabInfo): Promise<ToggleResult | undefined> {
    return this.#actions.clickAction(tab);
  }

  /**
   * Toggles a tab by id through the same path as a toolbar click (for tests and e2e hooks).
   *
   * @param tabId The tab.
   * @returns What happened to the tab.
   */
  toggleTab(tabId: number): Promise<ToggleResult | undefined> {
    return this.#actions.toggleTab(tabId);
  }

  /**
   * The connection status, its summary and the shared tabs.
   *
   * @returns The snapshot the pages show.
   */
  status(): StatusSnapshot {
    return this.#actions.status();
  }

  /**
   * Work still held by the tab side (in-flight and buffered commands, re-attach loops), for
   * tests and the e2e hook.
   *
   * @returns The counts.
   */
  pendingWork(): PendingWork {
    return this.#bridge.pendingWork();
  }
  #refreshBadges(): void {
    if (this.#closed) return;
    const status = this.#connection.status();
    const states = new Map<number, TabBadgeState>();
    for (const tab of this.#bridge.tabs()) states.set(tab.tabId, tab.state);
    for (const tabId of this.#actions.attaching()) states.set(tabId, "attaching");
    for (const tabId of this.#badged) if (!states.has(tabId)) states.set(tabId, "detached");
    const now = this.#ports.clock.now();
    const badged = new Set<number>();
    for (const [tabId, state] of states) {
      if (state !== "detached") badged.add(tabId);
      this.#setBadge(tabId, badgeFor(status, state, now, { configured: this.#configured }));
    }
    for (const [tabId, message] of this.#actions.tabErrors()) {
      if (states.has(tabId) && states.get(tabId) !== "detached") continue;
      badged.add(tabId);
      this.#setBadge(tabId, {
        kind: "error",
        ...BADGE_STYLE.error,
        title: `Browser Relay: ${message}`,
      });
    }
    this.#badged = badged;
  }

  #setBadge(tabId: number, badge: Badge): void {
    void this.#ports.action.setBadge(tabId, {
      text: badge.text,
      color: badge.color,
      title: badge.title,
    }).catch(() => {
      // The tab may be gone; badges are best effort.
    });
  }

  /**
   * Removes every listener, closes the connection and releases the bridge's timers.
   * Attachments are kept. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const remove of this.#removers.splice(0)) remove();
    this.#connection.close();
    this.#bridge.close();
    this.#groups?.close();
  }

  /** Same as {@linkcode RelayClient.prototype.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
