/**
 * Turns the worker's answer to `{type: "status"}` into what the status panel shows. Pure: the
 * answer arrives over `chrome.runtime` messaging, so it is checked here rather than trusted.
 *
 * @module
 */

import type { ConnectionPhase } from "../worker/relay_link.ts";
import { isJsonObject } from "../codec/is_json_object.ts";

/** Visual tone of a status or result; the stylesheet colours each one. */
export type Tone = "ok" | "busy" | "error" | "idle";

/** One attached tab as listed on the page. */
export interface TabRow {
  readonly tabId: number;
  readonly title: string;
  readonly url: string;
  readonly sessionId: string;
  /** Human label of the tab's state, e.g. `Attached`. */
  readonly state: string;
}

/** What the status panel shows. */
export interface StatusView {
  readonly tone: Tone;
  /** Short phase label, e.g. `Connected` or `Reconnecting in 4 s`. */
  readonly label: string;
  /** One sentence with the reason or the next step; empty when there is nothing to add. */
  readonly detail: string;
  /** The relay base URL, or empty when unknown. */
  readonly relayUrl: string;
  readonly tabs: readonly TabRow[];
}

const PHASES: readonly ConnectionPhase[] = [
  "idle",
  "connecting",
  "handshaking",
  "ready",
  "backoff",
  "stopped",
];

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Labels for the worker's tab states (`TabState` in `worker/tab_sessions.ts`). */
function stateLabel(state: string): string {
  if (state === "attached") return "Attached";
  if (state === "reattaching") return "Re-attaching…";
  return state;
}

function readTabs(value: unknown): TabRow[] {
  if (!Array.isArray(value)) return [];
  const rows: TabRow[] = [];
  for (const entry of value) {
    if (!isJsonObject(entry) || typeof entry["tabId"] !== "number") continue;
    rows.push({
      tabId: entry["tabId"],
      title: text(entry["title"]),
      url: text(entry["url"]),
      sessionId: text(entry["sessionId"]),
      state: stateLabel(text(entry["state"])),
    });
  }
  return rows;
}

function errorMessage(connection: Record<string, unknown>): string {
  const lastError = connection["lastError"];
  return isJsonObject(lastError) ? text(lastError["message"]) : "";
}

/**
 * Describes the worker's status for the page. An answer that is not a status object (no worker,
 * an error reply) becomes an `error` view that says so.
 *
 * @param response The worker's reply to `{type: "status"}`, unchecked.
 * @param now The current time in epoch ms, for the reconnect countdown.
 * @returns The label, tone, detail, relay URL and attached tabs to show.
 *
 * @example Usage
 * ```ts
 * import { statusView } from "./_status_view.ts";
 *
 * const view = statusView({
 *   connection: { phase: "backoff", relayUrl: "http://127.0.0.1:18792", attempt: 2, nextRetryAt: 4_000 },
 *   tabs: [],
 * }, 1_000);
 * // view.label === "Reconnecting in 3 s"
 * ```
 */
export function statusView(response: unknown, now: number): StatusView {
  const connection = isJsonObject(response) ? response["connection"] : undefined;
  const phase = isJsonObject(connection) ? connection["phase"] : undefined;
  if (!isJsonObject(connection) || !PHASES.some((known) => known === phase)) {
    return {
      tone: "error",
      label: "No status",
      detail: "The extension's service worker did not report its status. Reload the extension.",
      relayUrl: "",
      tabs: [],
    };
  }
  const relayUrl = text(connection["relayUrl"]);
  const tabs = readTabs(isJsonObject(response) ? response["tabs"] : undefined);
  // The worker's one-line summary, when sent, is what every surface shows.
  const summary = isJsonObject(response) ? response["summary"] : undefined;
  if (isJsonObject(response) && isJsonObject(summary) && typeof summary["text"] === "string") {
    // The same view without the summary gives the pill label and the tabs.
    const base = statusView({ connection, tabs: response["tabs"] ?? [] }, now);
    const tone = summary["tone"];
    return {
      ...base,
      tone: tone === "ok" || tone === "busy" || tone === "error" || tone === "idle"
        ? tone
        : base.tone,
      label: summary["action"] === "setup" ? "Not set up" : base.label,
      detail: summary["text"],
    };
  }
  const error = errorMessage(connection);
  const relayVersion = text(connection["relayVersion"]);
  const legacy = connection["legacy"] === true;
  switch (phase) {
    case "ready": {
      const version = relayVersion === "" ? "" : ` (version ${relayVersion})`;
      return {
        tone: "ok",
        label: "Connected",
        detail: legacy
          ? `Connected to the relay${version} in legacy mode, without a handshake.`
          : `Connected to the relay${version}; the handshake succeeded.`,
        relayUrl,
        tabs,
      };
    }
    case "connecting":
      return { tone: "busy", label: "Connecting…", detail: error, relayUrl, tabs };
    case "handshaking":
      return { tone: "busy", label: "Handshaking…", detail: error, relayUrl, tabs };
    case "backoff": {
      const at = connection["nextRetryAt"];
      const seconds = typeof at === "number" && Number.isFinite(at)
        ? Math.max(0, Math.ceil((at - now) / 1_000))
        : undefined;
      return {
        tone: "busy",
        label: seconds === undefined ? "Reconnecting…" : `Reconnecting in ${seconds} s`,
        detail: error,
        relayUrl,
        tabs,
      };
    }
    case "stopped":
      return {
        tone: "error",
        label: "Error",
        detail: error === "" ? "Stopped until the settings change." : error,
        relayUrl,
        tabs,
      };
    default:
      return {
        tone: "idle",
        label: "Idle",
        detail: error !== ""
          ? error
          : tabs.length === 0
          ? "Not connected: the extension connects when a tab is attached."
          : "Not connected.",
        relayUrl,
        tabs,
      };
  }
}
