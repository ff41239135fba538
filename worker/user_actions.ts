/**
 * What the person asks of the worker: the toolbar click and the keyboard shortcut (share or stop
 * sharing the current tab) and the messages of the popup, options and setup pages (share, stop,
 * stop all, show, retry, status, popup state, endpoints, connection check, open a page). The
 * {@linkcode UserActions} of the worker is built and wired by `RelayClient`.
 *
 * @module
 */

import { deriveRelayToken } from "../codec/derive_relay_token.ts";
import type { CheckResult, CheckTarget } from "./check_connection.ts";
import { type ConnectionSummary, summarizeConnection } from "./connection_summary.ts";
import { type Endpoints, endpoints } from "./endpoints.ts";
import { isShareableUrl } from "./is_shareable_url.ts";
import {
  parseClientMessage,
  type PopupState,
  type SharedTabView,
  type ShareReply,
  type StatusSnapshot,
} from "./messages.ts";
import { originOf } from "./origin_of.ts";
import type { Ports, TabInfo } from "./ports.ts";
import type { RelayConnection } from "./relay_connection.ts";
import { parseSettings, SETTINGS_KEYS } from "./settings.ts";
import type { TabBridge, ToggleResult } from "./tab_bridge.ts";
import type { TabGroups } from "./tab_groups.ts";
import { errorText } from "./errors.ts";

/** The `commands` entry whose shortcut toggles sharing of the current tab. */
export const TOGGLE_COMMAND = "toggle-sharing";

/** The ports the actions use: tabs and windows, pages to open, settings, time, shortcuts. */
export type UserActionsPorts = Pick<
  Ports,
  "tabs" | "windows" | "runtime" | "storage" | "clock" | "pages" | "commands"
>;

/** What the actions use of the tab bridge: the shared tabs, attaching and detaching them. */
export type UserActionsBridge = Pick<
  TabBridge,
  "tabs" | "attachTab" | "detachTab" | "detachAll" | "attachedTabCount"
>;

/** What the actions use of the relay connection: its status and a connection request. */
export type UserActionsConnection = Pick<RelayConnection, "status" | "requestConnect">;

/** What the actions use of the tab groups: where a shared tab sits. */
export type UserActionsGroups = Pick<TabGroups, "placement">;

/** What the actions need from the client that owns them. */
export interface UserActionsHost {
  /** Resolves once the tab table is restored (the client's init gate); never rejects. */
  ready(): Promise<void>;
  /** True once the client is closed. */
  closed(): boolean;
  /** True when a gateway token is saved, as last read. */
  configured(): boolean;
  /** The tab-group setting, as last read. */
  groupsEnabled(): boolean;
  /** Reads the settings again: the token may have been saved since they were last read. */
  readSettings(): Promise<void>;
  /** Redraws every badge (the tabs being attached and the tab errors changed). */
  refreshBadges(): void;
}

/** Options of {@linkcode UserActions}. */
export interface UserActionsOptions {
  /** The ports. */
  readonly ports: UserActionsPorts;
  /** The tab bridge. */
  readonly bridge: UserActionsBridge;
  /** The relay connection. */
  readonly connection: UserActionsConnection;
  /** The tab groups; absent without a `tabGroups` port. */
  readonly groups: UserActionsGroups | undefined;
  /** The client's gate, settings and badges. */
  readonly host: UserActionsHost;
  /** Runs the options page's connection check. */
  readonly check: (target: CheckTarget) => Promise<CheckResult>;
  /** Receives diagnostics. Never receives tokens. */
  readonly log: (message: string) => void;
}

/**
 * Shares and stops sharing tabs on the person's request and answers the pages' messages. It
 * also keeps what the badges show for those requests: the tabs being attached (`…`) and the
 * reason the last share of a tab failed (`!`).
 *
 * @example
 * ```ts ignore
 * const actions = new UserActions({ ports, bridge, connection, groups, host, check, log });
 * runtime.onMessage.addListener((message, reply) => actions.handleMessage(message, reply));
 * ```
 */
export class UserActions {
  readonly #ports: UserActionsPorts;
  readonly #bridge: UserActionsBridge;
  readonly #connection: UserActionsConnection;
  readonly #groups: UserActionsGroups | undefined;
  readonly #host: UserActionsHost;
  readonly #check: (target: CheckTarget) => Promise<CheckResult>;
  readonly #log: (message: string) => void;
  /** Tabs being attached by a click: their badge says `…` meanwhile. */
  readonly #attaching = new Set<number>();
  /** Tabs whose last click failed, with the reason, shown as `!` until the next click. */
  readonly #tabErrors = new Map<number, string>();

  /**
   * Keeps the parts the actions use; registers nothing.
   *
   * @param options The ports, bridge, connection, groups, host, check function and logger.
   */
  constructor(options: UserActionsOptions) {
    this.#ports = options.ports;
    this.#bridge = options.bridge;
    this.#connection = options.connection;
    this.#groups = options.groups;
    this.#host = options.host;
    this.#check = options.check;
    this.#log = options.log;
  }

  /**
   * Tabs being attached on the person's request; their badge says `…`.
   *
   * @returns The tab ids, in the order the attaches started.
   */
  attaching(): ReadonlySet<number> {
    return this.#attaching;
  }

  /**
   * Tabs whose last share failed, with the reason in the person's words; their badge says `!`.
   *
   * @returns Tab id → reason.
   */
  tabErrors(): ReadonlyMap<number, string> {
    return this.#tabErrors;
  }

  /**
   * Forgets a closed tab's error.
   *
   * @param tabId The tab.
   */
  forgetTab(tabId: number): void {
    this.#tabErrors.delete(tabId);
  }

  #isShared(tabId: number): boolean {
    return this.#bridge.tabs().some((tab) => tab.tabId === tabId);
  }

  /**
   * The toolbar click and the keyboard shortcut: shares or stops sharing the tab. Before a
   * token is saved, sharing opens the setup page instead and attaches nothing. While the
   * connection is `stopped` (rejected token, incompatible relay), toggling a shared tab only
   * retries the connection; a tab that is not shared is shared and the connection retried.
   *
   * @param tab The tab.
   * @returns What happened to the tab, or undefined when nothing changed.
   */
  async clickAction(tab: TabInfo): Promise<ToggleResult | undefined> {
    await this.#host.ready();
    const tabId = tab.id;
    if (this.#host.closed() || tabId === undefined) return undefined;
    this.#tabErrors.delete(tabId);
    const shared = this.#isShared(tabId);
    if (shared && this.#connection.status().phase === "stopped") {
      this.#connection.requestConnect("user");
      this.#host.refreshBadges();
      return undefined;
    }
    if (shared) {
      await this.#bridge.detachTab(tabId, "toggle");
      return { attached: false };
    }
    const reply = await this.share(tabId);
    if (!reply.ok) return undefined;
    const sessionId = this.#bridge.tabs().find((t) => t.tabId === tabId)?.sessionId;
    return sessionId === undefined ? undefined : { attached: true, sessionId };
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
   * Shares a tab (the popup's "Share this tab", a tab dragged into the group). Before a token
   * is saved it opens the setup page and attaches nothing.
   *
   * @param tabId The tab.
   * @returns Whether the tab is shared, or why not in the person's words.
   */
  async share(tabId: number): Promise<ShareReply> {
    await this.#host.ready();
    if (this.#host.closed()) {
      return { ok: false, reason: "refused", message: "The extension is restarting: try again" };
    }
    if (this.#isShared(tabId)) return { ok: true, shared: true };
    await this.#host.readSettings();
    if (!this.#host.configured()) {
      void this.#ports.pages?.openSetup("share").catch((error) =>
        this.#log(`Cannot open the setup page: ${errorText(error)}`)
      );
      return {
        ok: false,
        reason: "not_configured",
        message: "Nothing was shared: finish the setup first (the relay's token is missing)",
      };
    }
    this.#tabErrors.delete(tabId);
    const tab = await this.#ports.tabs.get(tabId).catch(() => undefined);
    if (tab === undefined) {
      return { ok: false, reason: "refused", message: "This tab is gone" };
    }
    if (!isShareableUrl(tab.url)) {
      const message = "Chrome does not let extensions share this page";
      this.#tabErrors.set(tabId, message);
      this.#host.refreshBadges();
      return { ok: false, reason: "refused", message };
    }
    this.#attaching.add(tabId);
    this.#host.refreshBadges();
    try {
      await this.#bridge.attachTab(tabId);
      this.#connection.requestConnect("user");
      return { ok: true, shared: true };
    } catch (error) {
      this.#log(`Cannot share tab ${tabId}: ${errorText(error)}`);
      const message = /already attached/i.test(errorText(error))
        ? "Another tool (DevTools or an extension) is already debugging this tab"
        : "Chrome did not let the extension share this tab";
      this.#tabErrors.set(tabId, message);
      return { ok: false, reason: "refused", message };
    } finally {
      this.#attaching.delete(tabId);
      this.#host.refreshBadges();
    }
  }

  /**
   * Stops sharing a tab.
   *
   * @param tabId The tab.
   * @returns `{ok: true, shared: false}`.
   */
  async stop(tabId: number): Promise<ShareReply> {
    await this.#host.ready();
    this.#tabErrors.delete(tabId);
    await this.#bridge.detachTab(tabId, "toggle");
    this.#host.refreshBadges();
    return { ok: true, shared: false };
  }

  #summary(): ConnectionSummary {
    return summarizeConnection(this.#connection.status(), {
      configured: this.#host.configured(),
      sharedCount: this.#bridge.attachedTabCount(),
      now: this.#ports.clock.now(),
    });
  }

  /**
   * The connection status, its summary and the shared tabs.
   *
   * @returns The snapshot the pages show.
   */
  status(): StatusSnapshot {
    return {
      connection: this.#connection.status(),
      summary: this.#summary(),
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
   * What the popup shows: the summary, the tab it acts on and every shared tab with its
   * favicon, origin and place (our group, the person's own group, none).
   *
   * @param tabId The tab the popup acts on; default the active tab of the last focused window.
   * @returns The popup state.
   */
  async popupState(tabId?: number): Promise<PopupState> {
    await this.#host.ready();
    const current = tabId === undefined
      ? (await this.#ports.tabs.query({ active: true, lastFocusedWindow: true }))[0]
      : await this.#ports.tabs.get(tabId).catch(() => undefined);
    const tabs = await Promise.all(
      this.#bridge.tabs().map(async (view) => {
        const info = await this.#ports.tabs.get(view.tabId).catch(() => undefined);
        const url = info?.url ?? view.url;
        const shared: SharedTabView = {
          tabId: view.tabId,
          title: info?.title ?? view.title,
          url,
          origin: originOf(url),
          favIconUrl: info?.favIconUrl ?? "",
          state: view.state,
          placement: this.#groups?.placement(view.tabId) ?? { kind: "none" },
        };
        return shared;
      }),
    );
    const shortcut = await this.#ports.commands?.shortcut(TOGGLE_COMMAND).catch(() => "") ?? "";
    return {
      summary: this.#summary(),
      configured: this.#host.configured(),
      groupsEnabled: this.#groups !== undefined && this.#host.groupsEnabled(),
      shortcut,
      ...(current?.id === undefined ? {} : {
        current: {
          tabId: current.id,
          title: current.title ?? "",
          origin: originOf(current.url ?? ""),
          shared: this.#isShared(current.id),
          shareable: isShareableUrl(current.url),
        },
      }),
      tabs,
    };
  }

  /**
   * The copyable endpoint texts for the saved settings.
   *
   * @returns The texts.
   * @throws {Error} Before a token is saved.
   */
  async endpoints(): Promise<Endpoints> {
    const settings = parseSettings(await this.#ports.storage.local.get(SETTINGS_KEYS));
    if (settings.gatewayToken === "") {
      throw new Error("Not set up yet: the relay's token is missing");
    }
    const relayToken = await deriveRelayToken(settings.gatewayToken, settings.relayPort);
    return endpoints(settings.relayPort, relayToken);
  }

  async #show(tabId: number): Promise<{ ok: true }> {
    const tab = await this.#ports.tabs.update(tabId, { active: true });
    await this.#ports.windows.update(tab.windowId, { focused: true });
    return { ok: true };
  }

  /**
   * The `runtime.onMessage` listener: answers a page's message (`worker/messages.ts`) once the
   * init gate is open. Messages not addressed to the worker are left to other listeners.
   *
   * @param message The message as received.
   * @param sendResponse Receives the one reply; a failure is replied as `{error}`.
   * @returns True when the reply comes later (Chrome keeps the channel open), false otherwise.
   */
  handleMessage(message: unknown, sendResponse: (response: unknown) => void): boolean {
    if (this.#host.closed()) return false;
    const request = parseClientMessage(message);
    if (request === undefined) return false;
    if ("error" in request) {
      sendResponse({ error: request.error });
      return false;
    }
    const answer = (work: () => Promise<unknown>) => {
      void this.#host.ready().then(work).then(
        (response) => sendResponse(response),
        (error) => sendResponse({ error: errorText(error) }),
      );
      return true;
    };
    switch (request.type) {
      case "status":
        return answer(() => Promise.resolve(this.status()));
      case "state":
        return answer(() => this.popupState(request.tabId));
      case "share":
        return answer(() => this.share(request.tabId));
      case "stop":
        return answer(() => this.stop(request.tabId));
      case "stopAll":
      case "detachAll":
        return answer(async () => {
          await this.#bridge.detachAll("toggle");
          return { ok: true };
        });
      case "show":
        return answer(() => this.#show(request.tabId));
      case "retry":
        return answer(() => {
          this.#connection.requestConnect("user");
          this.#host.refreshBadges();
          return Promise.resolve({ ok: true });
        });
      case "openSettings":
        return answer(async () => {
          await this.#ports.runtime.openOptionsPage();
          return { ok: true };
        });
      case "openSetup":
        return answer(async () => {
          await (this.#ports.pages?.openSetup() ?? this.#ports.runtime.openOptionsPage());
          return { ok: true };
        });
      case "endpoints":
        return answer(() => this.endpoints());
      case "checkConnection":
        return answer(() =>
          this.#check({
            port: request.port,
            token: request.token,
            ...(request.openclawRelayCompat === true ? { openclawRelayCompat: true } : {}),
          })
        );
      default: {
        const _exhaustive: never = request;
        return _exhaustive;
      }
    }
  }
}
