/**
 * The message API between the extension's pages (popup, options, setup) and the worker, sent
 * with `chrome.runtime.sendMessage`. Every request gets exactly one reply; a failure is replied
 * as `{error: string}` in the person's words.
 *
 * @module
 */

import type { ConnectionSummary } from "./connection_summary.ts";
import type { ConnectionStatus } from "./relay_link.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import type { Placement } from "./tab_groups.ts";

/**
 * The requests:
 * - `status` → {@linkcode StatusSnapshot};
 * - `state` → {@linkcode PopupState} for the popup (`tabId` is the tab the popup acts on,
 *   default the active tab of the last focused window);
 * - `share`, `stop` → {@linkcode ShareReply}; `stopAll` (alias `detachAll`) → `{ok: true}`;
 * - `show` → `{ok: true}` once the tab and its window are in front;
 * - `retry` → `{ok: true}` (asks for a connection attempt now);
 * - `openSettings`, `openSetup` → `{ok: true}` once the page is open;
 * - `endpoints` → the `Endpoints` of `worker/endpoints.ts`, or `{error}` before setup;
 * - `checkConnection` → the `CheckResult` of `worker/check_connection.ts`.
 */
export type ClientMessage =
  | { readonly type: "status" }
  | { readonly type: "state"; readonly tabId?: number }
  | { readonly type: "share"; readonly tabId: number }
  | { readonly type: "stop"; readonly tabId: number }
  | { readonly type: "stopAll" }
  | { readonly type: "detachAll" }
  | { readonly type: "show"; readonly tabId: number }
  | { readonly type: "retry" }
  | { readonly type: "openSettings" }
  | { readonly type: "openSetup" }
  | { readonly type: "endpoints" }
  | {
    readonly type: "checkConnection";
    readonly port: number;
    readonly token: string;
    /** Check as the OpenClaw flow does (the options form's checkbox); absent means off. */
    readonly openclawRelayCompat?: true;
  };

/** One shared tab in the status snapshot. */
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
  /** The connection in the person's words; the badge and every page show this. */
  readonly summary: ConnectionSummary;
  readonly tabs: readonly StatusTab[];
}

/** Where a shared tab sits, as the popup says it: the tab groups' own placement. */
export type PlacementView = Placement;

/** One shared tab as the popup lists it. */
export interface SharedTabView {
  readonly tabId: number;
  readonly title: string;
  readonly url: string;
  /** `https://example.com`, or the URL itself when it has no origin. */
  readonly origin: string;
  readonly favIconUrl: string;
  /** `attached` or `reattaching`. */
  readonly state: string;
  readonly placement: PlacementView;
}

/** The tab the popup acts on. */
export interface CurrentTabView {
  readonly tabId: number;
  readonly title: string;
  readonly origin: string;
  readonly shared: boolean;
  /** False on pages Chrome never lets extensions debug (`chrome://`, the Web Store). */
  readonly shareable: boolean;
}

/** The answer to `{type: "state"}`. */
export interface PopupState {
  readonly summary: ConnectionSummary;
  /** True when a gateway token is saved. */
  readonly configured: boolean;
  /** The tab-group setting. */
  readonly groupsEnabled: boolean;
  /** The keyboard shortcut that toggles the current tab, empty when none is set. */
  readonly shortcut: string;
  readonly current?: CurrentTabView;
  readonly tabs: readonly SharedTabView[];
}

/** The answer to `share` and `stop`. */
export type ShareReply =
  | { readonly ok: true; readonly shared: boolean }
  | {
    readonly ok: false;
    /** `not_configured`: the setup page was opened instead; `refused`: Chrome said no. */
    readonly reason: "not_configured" | "refused";
    /** What happened, in the person's words. */
    readonly message: string;
  };

const NO_ARGS = new Set([
  "status",
  "stopAll",
  "detachAll",
  "retry",
  "openSettings",
  "openSetup",
  "endpoints",
]);

function tabIdOf(message: Readonly<Record<string, unknown>>): number | undefined {
  const tabId = message["tabId"];
  return typeof tabId === "number" && Number.isInteger(tabId) && tabId >= 0 ? tabId : undefined;
}

/**
 * Checks an incoming message.
 *
 * @param message The message as received.
 * @returns The typed request; `undefined` when it is not addressed to the worker (no known
 *   `type`), or `{error}` when it is but its fields are wrong.
 *
 * @example
 * ```ts
 * parseClientMessage({ type: "share", tabId: 3 }); // { type: "share", tabId: 3 }
 * parseClientMessage({ type: "share" }).error;
 * // 'Cannot read "share" as "tabId" must be a tab id: current value is undefined'
 * ```
 */
export function parseClientMessage(
  message: unknown,
): ClientMessage | { readonly error: string } | undefined {
  if (!isJsonObject(message)) return undefined;
  const type = message["type"];
  if (typeof type !== "string") return undefined;
  if (NO_ARGS.has(type)) return { type } as ClientMessage;
  switch (type) {
    case "state": {
      if (message["tabId"] === undefined) return { type };
      const tabId = tabIdOf(message);
      return tabId === undefined ? badTabId(type, message["tabId"]) : { type, tabId };
    }
    case "share":
    case "stop":
    case "show": {
      const tabId = tabIdOf(message);
      return tabId === undefined ? badTabId(type, message["tabId"]) : { type, tabId };
    }
    case "checkConnection": {
      const { port, token } = message;
      if (typeof port !== "number" || typeof token !== "string") {
        return {
          error: 'Cannot check the connection as "port" must be a number and "token" a string',
        };
      }
      // Only an explicit `true` checks the OpenClaw way (the relay token without a proof).
      return message["openclawRelayCompat"] === true
        ? { type, port, token, openclawRelayCompat: true }
        : { type, port, token };
    }
    default:
      return undefined;
  }
}

function badTabId(type: string, value: unknown): { readonly error: string } {
  return {
    error: `Cannot read "${type}" as "tabId" must be a tab id: current value is ${
      value === undefined ? "undefined" : JSON.stringify(value)
    }`,
  };
}
