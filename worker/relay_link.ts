/**
 * The seam between the connection (`worker/relay_connection.ts`, owns the WebSocket) and the
 * tab side (`worker/tab_bridge.ts`, owns chrome.debugger attachments). Neither imports the
 * other's class; `worker/relay_client.ts` wires them together.
 *
 * @module
 */

import type { CdpCall, Outcome } from "../codec/extension_frame.ts";
import type { ConnectionClosedError } from "./errors.ts";

/** Connection phase as shown to the UI. */
export type ConnectionPhase =
  | "idle" // not connecting: no tabs attached, or never started
  | "connecting" // preflight / opening the socket
  | "handshaking" // socket open, waiting for challenge or hello-ok
  | "ready" // hello-ok received (or legacy readiness)
  | "backoff" // waiting before the next attempt
  | "stopped"; // non-retryable error until settings change (missing/rejected token, incompatible relay)

/** The typed status object the options page and badges read. */
export interface ConnectionStatus {
  readonly phase: ConnectionPhase;
  /** The relay base URL, e.g. `http://127.0.0.1:18792`. */
  readonly relayUrl: string;
  /** Last error, with a human message saying what to do. */
  readonly lastError?: { readonly code: string; readonly message: string };
  /** Failed attempts since the last ready. */
  readonly attempt: number;
  /** Epoch ms of the next retry while in `backoff`. */
  readonly nextRetryAt?: number;
  /** True when connected in legacy mode (no challenge). */
  readonly legacy?: boolean;
  /** Relay version from hello-ok, when known. */
  readonly relayVersion?: string;
  /** Attached tabs when the status was made (`ConnectionHooks.attachedTabCount()`). */
  readonly attachedTabCount?: number;
}

/** What the tab side may do with the connection. */
export interface RelayLink {
  /** True only in phase `ready`. */
  isReady(): boolean;
  /** Sends `forwardCDPEvent`. Returns false (and sends nothing) when not ready. */
  sendEvent(cdp: CdpCall): boolean;
  /** Sends the one response for a command id. Returns false when not ready. */
  sendResponse(id: number, outcome: Outcome): boolean;
  /** Asks for a connection attempt now (e.g. after a toolbar attach); single-flight. */
  requestConnect(reason: string): void;
}

/** What the connection calls on the tab side. */
export interface ConnectionHooks {
  /** Called once per successful handshake (hello-ok or legacy readiness): re-announce tabs. */
  onReady(): void;
  /** A `forwardCDPCommand` arrived on a ready connection; reply via `RelayLink.sendResponse`. */
  onCommand(id: number, cdp: CdpCall): void;
  /**
   * The socket closed (after ready or not). Attachments are kept. Commands received on that
   * socket can no longer be answered (`sendResponse` returns false for them); `error` says why.
   */
  onClosed(error?: ConnectionClosedError): void;
  /** Status changed: refresh badges and notify the options page. */
  onStatus(status: ConnectionStatus): void;
  /** Number of attached tabs: no tabs → no background reconnect loop. */
  attachedTabCount(): number;
}
