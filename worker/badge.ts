/**
 * Per-tab badges (protocol §10): a pure function of the connection status and the tab's own
 * state. Titles say whether the tab is shared and how the connection is, in a few words.
 *
 * @module
 */

import { summarizeConnection } from "./connection_summary.ts";
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

/** What {@linkcode badgeFor} needs besides the status. */
export interface BadgeContext {
  /**
   * True when a gateway token is saved.
   *
   * @default {true}
   */
  readonly configured?: boolean;
}

/**
 * Computes the badge of one tab. The tooltip is short: the tab's state, then the same one-line
 * connection summary the popup and the options page show (`worker/connection_summary.ts`).
 *
 * - `ON`: the tab is shared and the connection is `ready`.
 * - `…`: shared (or being shared, or re-attaching) while connecting, handshaking, waiting on
 *   backoff or idle before the next attempt.
 * - `!`: the connection is `stopped` (missing or rejected token, incompatible relay) and the tab
 *   is shared or being shared.
 * - empty: not shared.
 *
 * @param status The connection status.
 * @param tab The tab's state.
 * @param now Epoch ms, to say how long until the next retry; omit for a time-free title.
 * @param context Whether a token is saved.
 * @returns Text, background colour and title.
 *
 * @example
 * ```ts
 * badgeFor({ phase: "ready", relayUrl: "http://127.0.0.1:18792", attempt: 0 }, "attached").text; // "ON"
 * ```
 */
export function badgeFor(
  status: ConnectionStatus,
  tab: TabBadgeState,
  now?: number,
  context: BadgeContext = {},
): Badge {
  const summary = summarizeConnection(status, {
    configured: context.configured ?? true,
    sharedCount: tab === "detached" ? 0 : 1,
    ...(now === undefined ? {} : { now }),
  });
  if (tab === "detached") {
    return badge("off", `this tab is not shared. ${summary.text}`);
  }
  const what = tab === "attaching"
    ? "sharing this tab…"
    : tab === "reattaching"
    ? "this tab is shared, resuming after a navigation"
    : "this tab is shared";
  if (status.phase === "stopped") return badge("error", `${what}. ${summary.text}`);
  if (tab === "reattaching" || tab === "attaching") {
    return badge("connecting", `${what}. ${summary.text}`);
  }
  if (status.phase === "ready") return badge("on", `${what}. ${summary.text}`);
  return badge("connecting", `${what}. ${summary.text}`);
}
