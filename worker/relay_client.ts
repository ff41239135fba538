/**
 * The worker's composition root: one {@linkcode RelayClient} wires the relay connection, the tab
 * bridge, the badges, the keepalive alarm and the options page's messages.
 *
 * @module
 */

import type { JsonObject } from "../codec/json.ts";
import { type Badge, BADGE_STYLE, badgeFor, type TabBadgeState } from "./badge.ts";
import { checkConnection, type CheckResult, type CheckTarget } from "./check_connection.ts";
import type { Debuggee, Ports, RuntimeMessageListener, TabInfo } from "./ports.ts";
import { RelayConnection, type RelayConnectionOptions } from "./relay_connection.ts";
import type { ConnectionHooks, ConnectionStatus } from "./relay_link.ts";
import {
  type PendingWork,
  TabBridge,
  type TabBridgeOptions,
  type ToggleResult,
} from "./tab_bridge.ts";
import { TabSessions } from "./tab_sessions.ts";
import { parseSharePopups, SHARE_POPUPS_KEY } from "./settings.ts";
import { isJsonObject } from "../codec/is_json_object.ts";

/** Name of the keepalive alarm (protocol §10). */
export const KEEPALIVE_ALARM = "relay-keepalive";

/** Period of the keepalive alarm in minutes: the packed-extension minimum (platform notes §1). */
export const KEEPALIVE_PERIOD_MINUTES = 0.5;

/** One attached tab in the status snapshot. */
export interface StatusTab {
  readonly tabId: number;
  readonly sessionId: string;
  readonly title: string;
  readonly url: string;
  /** `attached` or `reattaching`. */
  readonly state: string;
}

/** The answer to `{type: "status"}`. */
export interface StatusSnapshot {
  readonly connection: ConnectionStatus;
  readonly tabs: readonly StatusTab[];
}

/**
 * Messages the options page (and tests) send with `chrome.runtime.sendMessage`:
 * - `{type: "status"}` → {@linkcode StatusSnapshot};
 * - `{type: "detachAll"}` → `{ok: true}` once every tab is detached;
 * - `{type: "checkConnection", port, token}` → the `CheckResult` of `worker/check_connection.ts`.
 *
 * A failure is answered with `{error: string}`.
 */
export type ClientMessage =
  | { readonly type: "status" }
  | { readonly type: "detachAll" }
  | {
    readonly type: "checkConnection";
    readonly port: number;
    readonly token: string;
    /** Check as the OpenClaw flow does (the form's checkbox). */
    readonly openclawRelayCompat?: boolean;
  };

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

function errorText(error: unknown): string {
  return error instanceof Error && error.message !== "" ? error.message : String(error);
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
  readonly #check: (target: CheckTarget) => Promise<CheckResult>;
  readonly #sessions: TabSessions;
  readonly #connection: RelayConnection;
  readonly #bridge: TabBridge;
  readonly #init: Promise<void>;
  /** True once the tab table is restored: gated calls may then run at once. */
  #gateOpen = false;
  /** Gated calls still queued behind `#init`; later ones queue too, to keep arrival order. */
  #gateWaiting = 0;
  /** Tabs being attached by a click: their badge says `…` meanwhile. */
  readonly #attaching = new Set<number>();
  /** Tabs whose badge is not `off`, so a detach can reset it. */
  #badged = new Set<number>();
  /** Tabs whose last click failed, with the reason, shown as `!` until the next click. */
  readonly #tabErrors = new Map<number, string>();
  readonly #removers: (() => void)[] = [];
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
    this.#check = options.checkConnection ??
      ((target) => checkConnection({ http: ports.http, clock: ports.clock }, target));
    this.#sessions = new TabSessions(ports.storage.session, {
      onWriteError: (error) => this.#log(`Cannot save tab state: ${errorText(error)}`),
    });
    const hooks: ConnectionHooks = {
      onReady: () => this.#gated(() => this.#bridge.onReady()),
      onCommand: (id, cdp) => this.#gated(() => this.#bridge.onCommand(id, cdp)),
      onClosed: () => this.#gated(() => this.#bridge.onClosed()),
      onStatus: () => this.#refreshBadges(),
      attachedTabCount: () => this.#bridge.attachedTabCount(),
    };
    this.#connection = new RelayConnection(ports, hooks, options.connection ?? {});
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
      onChange: () => this.#refreshBadges(),
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
      await this.#bridge.restore();
    } catch (error) {
      this.#log(`Cannot restore attached tabs: ${errorText(error)}`);
    }
    this.#gateOpen = true;
    if (this.#closed) return;
    this.#connection.start();
    this.#refreshBadges();
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
      this.#gated(() => this.#bridge.handleDebuggerEvent(source, method, params));
    const onDetach = (source: Debuggee, reason: string) =>
      this.#gated(() => this.#bridge.handleDebuggerDetach(source, reason));
    const onCreated = (tab: TabInfo) => this.#gated(() => this.#bridge.handleTabCreated(tab));
    const onRemoved = (tabId: number) =>
      this.#gated(() => {
        this.#tabErrors.delete(tabId);
        this.#badged.delete(tabId);
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
      this.#onMessage(message, sendResponse);
    const onInstalled = (details: { readonly reason: string }) => {
      if (details.reason === "install") {
        void runtime.openOptionsPage().catch((error) =>
          this.#log(`Cannot open the options page: ${errorText(error)}`)
        );
      }
    };
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
   * The toolbar click: attaches or detaches the clicked tab. While the connection is `stopped`
   * (missing or rejected token, incompatible relay), a click on an attached tab only retries
   * the connection; on a detached tab it attaches and retries.
   *
   * @param tab The clicked tab.
   * @returns What happened to the tab, or undefined when nothing changed.
   */
  async clickAction(tab: TabInfo): Promise<ToggleResult | undefined> {
    await this.#init;
    const tabId = tab.id;
    if (this.#closed || tabId === undefined) return undefined;
    this.#tabErrors.delete(tabId);
    const stopped = this.#connection.status().phase === "stopped";
    if (stopped && this.#bridge.tabs().some((t) => t.tabId === tabId)) {
      this.#connection.requestConnect("user");
      this.#refreshBadges();
      return undefined;
    }
    this.#attaching.add(tabId);
    this.#refreshBadges();
    try {
      const result = await this.#bridge.toggleTab(tabId);
      if (result.attached) this.#connection.requestConnect("user");
      return result;
    } catch (error) {
      this.#tabErrors.set(tabId, errorText(error));
      return undefined;
    } finally {
      this.#attaching.delete(tabId);
      this.#refreshBadges();
    }
  }

  /**
   * Toggles a tab by id through the same path as a toolbar click (for tests and e2e hooks).
   *
   * @param tabId The tab.
   * @returns What happened to the tab.
   */
  async toggleTab(tabId: number): Promise<ToggleResult | undefined> {
    const tab = await this.#ports.tabs.get(tabId);
    return this.clickAction(tab);
  }

  /**
   * The connection status and the attached tabs.
   *
   * @returns The snapshot the options page shows.
   */
  status(): StatusSnapshot {
    return {
      connection: this.#connection.status(),
      tabs: this.#bridge.tabs().map(({ tabId, sessionId, title, url, state }) => ({
        tabId,
        sessionId,
        title,
        url,
        state,
      })),
    };
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

  #onMessage(message: unknown, sendResponse: (response: unknown) => void): boolean {
    if (!isJsonObject(message) || this.#closed) return false;
    const answer = (work: () => Promise<unknown>) => {
      void this.#init.then(work).then(
        (response) => sendResponse(response),
        (error) => sendResponse({ error: errorText(error) }),
      );
      return true;
    };
    switch (message.type) {
      case "status":
        return answer(() => Promise.resolve(this.status()));
      case "detachAll":
        return answer(async () => {
          await this.#bridge.detachAll("toggle");
          return { ok: true };
        });
      case "checkConnection": {
        const { port, token } = message;
        if (typeof port !== "number" || typeof token !== "string") {
          sendResponse({
            error: 'Cannot check the connection as "port" must be a number and "token" a string',
          });
          return false;
        }
        const compat = message.openclawRelayCompat === true ? { openclawRelayCompat: true } : {};
        return answer(() => this.#check({ port, token, ...compat }));
      }
      default:
        return false;
    }
  }

  #refreshBadges(): void {
    if (this.#closed) return;
    const status = this.#connection.status();
    const states = new Map<number, TabBadgeState>();
    for (const tab of this.#bridge.tabs()) states.set(tab.tabId, tab.state);
    for (const tabId of this.#attaching) states.set(tabId, "attaching");
    for (const tabId of this.#badged) if (!states.has(tabId)) states.set(tabId, "detached");
    const now = this.#ports.clock.now();
    const badged = new Set<number>();
    for (const [tabId, state] of states) {
      if (state !== "detached") badged.add(tabId);
      this.#setBadge(tabId, badgeFor(status, state, now));
    }
    for (const [tabId, message] of this.#tabErrors) {
      if (states.has(tabId) && states.get(tabId) !== "detached") continue;
      badged.add(tabId);
      this.#setBadge(tabId, {
        kind: "error",
        ...BADGE_STYLE.error,
        title: `Browser Relay: ${message}. Click to try again.`,
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
  }

  /** Same as {@linkcode RelayClient.prototype.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
