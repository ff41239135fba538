/**
 * The connection state in the person's words: one line and the one action that fixes it. The
 * popup, the options page, the setup page and the badge tooltip all show this summary, so they
 * always agree, and none of them shows storage key names or internal error texts.
 *
 * The wire-level messages in `ConnectionStatus.lastError.message` (some of them fixed by the
 * protocol in `codec/messages.ts`, such as `ErrorText.MissingGatewayToken`) stay for logs and
 * diagnostics; people see only the text made here from `lastError.code`.
 *
 * @module
 */

import type { ConnectionStatus } from "./relay_link.ts";

/** Visual tone: `ok` connected, `busy` on its way, `error` needs the person, `idle` nothing to do. */
export type SummaryTone = "ok" | "busy" | "error" | "idle";

/** The one action that moves the state forward. */
export type SummaryAction =
  /** Nothing to do. */
  | "none"
  /** The token is missing: the setup page explains the step. */
  | "setup"
  /** The settings are wrong (rejected token, wrong port): the options page. */
  | "settings"
  /** The relay is not there yet: try again now instead of waiting for the next retry. */
  | "retry";

/** What every surface shows for the connection. */
export interface ConnectionSummary {
  readonly tone: SummaryTone;
  /** One line, a sentence without a trailing period, e.g. `Connected to the relay on port 18792`. */
  readonly text: string;
  readonly action: SummaryAction;
  /** The action's button label, empty for `none`. */
  readonly actionLabel: string;
}

/** What {@linkcode summarizeConnection} needs besides the status. */
export interface SummaryContext {
  /** True when a gateway token is saved. */
  readonly configured: boolean;
  /** Number of shared tabs. */
  readonly sharedCount: number;
  /** Epoch ms, for the retry countdown; omit for a time-free text. */
  readonly now?: number;
}

const LABELS: { readonly [A in SummaryAction]: string } = {
  none: "",
  setup: "Finish setup",
  settings: "Open settings",
  retry: "Retry now",
};

function summary(tone: SummaryTone, text: string, action: SummaryAction): ConnectionSummary {
  return { tone, text, action, actionLabel: LABELS[action] };
}

function portOf(relayUrl: string): string {
  const match = /:(\d+)\/?$/.exec(relayUrl);
  return match?.[1] ?? "";
}

function where(status: ConnectionStatus): string {
  const port = portOf(status.relayUrl);
  return port === "" ? "" : ` on port ${port}`;
}

/** Why the last attempt failed, as a short clause about the relay. */
function problem(status: ConnectionStatus): string {
  switch (status.lastError?.code) {
    case "relay_unreachable":
    case "open_timeout":
      return `No relay is running${where(status)}`;
    case "handshake_timeout":
    case "heartbeat_timeout":
      return `The relay${where(status)} stopped answering`;
    case "connection_closed":
      return `Lost the connection to the relay${where(status)}`;
    default:
      return `Not connected to the relay${where(status)}`;
  }
}

/**
 * Summarises the connection for people.
 *
 * @param status The connection status.
 * @param context Whether a token is saved, how many tabs are shared, and the time.
 * @returns Tone, one line of text and the action that fixes the state.
 *
 * @example
 * ```ts
 * summarizeConnection(
 *   { phase: "ready", relayUrl: "http://127.0.0.1:18792", attempt: 0 },
 *   { configured: true, sharedCount: 1 },
 * ).text; // "Connected to the relay on port 18792"
 * ```
 */
export function summarizeConnection(
  status: ConnectionStatus,
  context: SummaryContext,
): ConnectionSummary {
  if (!context.configured || status.lastError?.code === "missing_token") {
    return summary("error", "Not set up yet: the relay's token is missing", "setup");
  }
  switch (status.phase) {
    case "ready":
      return summary(
        "ok",
        `Connected to the relay${where(status)}${status.legacy === true ? " (older relay)" : ""}`,
        "none",
      );
    case "connecting":
    case "handshaking":
      return summary(
        "busy",
        `${status.attempt > 0 ? "Reconnecting" : "Connecting"} to the relay${where(status)}…`,
        "none",
      );
    case "backoff": {
      const at = status.nextRetryAt;
      const wait = at !== undefined && context.now !== undefined
        ? ` in ${Math.max(0, Math.ceil((at - context.now) / 1_000))} s`
        : " shortly";
      return summary("busy", `${problem(status)}: retrying${wait}`, "retry");
    }
    case "stopped":
      switch (status.lastError?.code) {
        case "token_rejected":
          return summary(
            "error",
            "The relay refused the token: paste the one it printed in the settings",
            "settings",
          );
        case "relay_unproven":
          // mutual-v1: the relay could not prove this token, almost always a wrong token, so the
          // words are a refused token's; the connection's lastError adds that another program may
          // hold the port.
          return summary(
            "error",
            "The relay refused the token: paste the one it printed in the settings",
            "settings",
          );
        case "incompatible_relay":
          return summary(
            "error",
            `The program${where(status)} is not a compatible relay: update it or change the port`,
            "settings",
          );
        case "settings_unavailable":
          return summary(
            "error",
            "Cannot read the extension's settings: open them and save again",
            "settings",
          );
        default:
          return summary("error", `${problem(status)}: check the settings`, "settings");
      }
    case "idle":
      return context.sharedCount === 0
        ? summary("idle", "Ready: share a tab to connect to the relay", "none")
        : summary("busy", `${problem(status)}`, "retry");
    default: {
      const _exhaustive: never = status.phase;
      return _exhaustive;
    }
  }
}
