/**
 * Per-tab badges (protocol §10): a pure function of the connection status and the tab's own
 * state. Titles say what is going on and what a click on the action does.
 *
 * @module
 */

import type { ConnectionStatus } from "./relay_link.ts";

/** The tab's side of the badge. */
export type TabBadgeState =
  /** Not attached. */
  | "detached"
  /** The user clicked the action; the attach waits for the connection. */
  | "attaching"
  /** Attached to `chrome.debugger`. */
  | "attached"
  /** Lost the debugger in a navigation; the re-attach schedule is running (§5.4). */
  | "reattaching";

/** The badge kinds of protocol §10. */
export type BadgeKind = "on" | "connecting" | "error" | "off";

/** What `ActionPort.setBadge` takes, plus the kind for tests and the options page. */
export interface Badge {
  readonly kind: BadgeKind;
  readonly text: string;
  /** Background colour. The text colour is always `#FFFFFF`. */
  readonly color: string;
  readonly title: string;
}

/** Badge text and background colour per kind (protocol §10). */
export const BADGE_STYLE: {
  readonly [K in BadgeKind]: { readonly text: string; readonly color: string };
} = Object.freeze({
  on: Object.freeze({ text: "ON", color: "#FF5A36" }),
  connecting: Object.freeze({ text: "\u2026", color: "#F59E0B" }),
  error: Object.freeze({ text: "!", color: "#B91C1C" }),
  off: Object.freeze({ text: "", color: "#000000" }),
});

/** Badge text colour. */
export const BADGE_TEXT_COLOR = "#FFFFFF";

function badge(kind: BadgeKind, title: string): Badge {
  return { kind, ...BADGE_STYLE[kind], title: `Browser Relay: ${title}` };
}

function relayOf(status: ConnectionStatus): string {
  return status.relayUrl;
}

function errorSentence(status: ConnectionStatus): string {
  return status.lastError ? ` Last error: ${status.lastError.message}.` : "";
}

function stoppedTitle(status: ConnectionStatus, click: string): string {
  const message = status.lastError?.message ?? `Not connected to the relay at ${relayOf(status)}`;
  const fix = status.lastError?.code === "incompatible_relay"
    ? "Update the relay or point the extension at a compatible one in the options"
    : "Fix the relay port or gateway token in the extension options";
  return `${message}. ${fix}; the extension retries as soon as they change. ${click}`;
}

function connectingTitle(status: ConnectionStatus, now: number | undefined): string {
  switch (status.phase) {
    case "connecting":
    case "handshaking":
      return status.attempt > 0
        ? `reconnecting to the relay at ${relayOf(status)} (attempt ${status.attempt + 1}).${
          errorSentence(status)
        }`
        : `connecting to the relay at ${relayOf(status)}.`;
    case "backoff": {
      const wait = status.nextRetryAt !== undefined && now !== undefined
        ? ` in ${Math.max(0, Math.ceil((status.nextRetryAt - now) / 1000))} s`
        : " shortly";
      return `relay at ${relayOf(status)} is not connected; retrying${wait}.${
        errorSentence(status)
      }`;
    }
    default:
      return `waiting to reconnect to the relay at ${relayOf(status)}.${errorSentence(status)}`;
  }
}

/**
 * Computes the badge of one tab.
 *
 * - `ON`: the tab is attached and the connection is `ready`.
 * - `…`: attached (or attaching, or re-attaching) while connecting, handshaking, waiting on
 *   backoff or idle before the next attempt.
 * - `!`: the connection is `stopped` (missing or rejected token, incompatible relay) and the tab
 *   is attached or waiting to attach.
 * - empty: not attached.
 *
 * @param status The connection status.
 * @param tab The tab's state.
 * @param now Epoch ms, to say how long until the next retry; omit for a time-free title.
 * @returns Text, background colour and title.
 *
 * @example
 * ```ts
 * badgeFor({ phase: "ready", relayUrl: "http://127.0.0.1:18792", attempt: 0 }, "attached").text; // "ON"
 * ```
 */
export function badgeFor(status: ConnectionStatus, tab: TabBadgeState, now?: number): Badge {
  const detach = "Click to detach this tab.";
  if (tab === "detached") {
    if (status.phase === "stopped") {
      return badge(
        "off",
        `not attached. ${stoppedTitle(status, "Click to retry and attach this tab.")}`,
      );
    }
    return badge("off", "not attached. Click to attach this tab to the relay.");
  }
  if (status.phase === "stopped") {
    return badge(
      "error",
      stoppedTitle(
        status,
        tab === "attaching" ? "Click to retry." : "Click to retry, or detach this tab.",
      ),
    );
  }
  if (tab === "reattaching") {
    return badge(
      "connecting",
      `re-attaching the debugger after a navigation. ${detach}`,
    );
  }
  if (status.phase === "ready") {
    if (tab === "attaching") return badge("connecting", `attaching this tab. ${detach}`);
    const mode = status.legacy ? " (legacy relay)" : "";
    return badge(
      "on",
      `attached and connected to the relay at ${relayOf(status)}${mode}. ${detach}`,
    );
  }
  return badge("connecting", `${connectingTitle(status, now)} ${detach}`);
}
