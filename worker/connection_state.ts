/**
 * The relay connection's state machine as data: a union on `phase` and the pure
 * {@linkcode nextState} table. `RelayConnection` holds one `#state` and changes it only through
 * this table. What a phase owns (its attempt, socket, timers and awaits) is held beside the state
 * in one object per phase and released by the same `#transition()` call that leaves the phase
 * (`worker/phase_scope.ts`); how long `backoff` waits is `worker/reconnect_policy.ts`.
 *
 * ```
 *            start                preflight_passed          socket_opened
 *  idle ─────────────▶ connecting/preflight ──▶ connecting/opening ──▶ handshaking/awaiting-challenge
 *  backoff ──┘ ▲           │                      │                        │ connect_sent
 *  stopped ──┘ │           │ failed / rested / stopped                     ▼
 *              │           ▼                                     handshaking/awaiting-hello
 *              └──── backoff / idle / stopped  ◀── dropped ── ready ◀──┘ handshake_done
 * ```
 *
 * `restart` (settings changed), `stopped` and `reset` (close) are legal from every phase.
 *
 * @module
 */

import type { ConnectionPhase } from "./relay_link.ts";

/** Why the connection is not ready; `message` says what to do. */
export type ConnectionErrorCode =
  | "missing_token"
  | "token_rejected"
  | "relay_unreachable"
  | "settings_unavailable"
  | "open_timeout"
  | "handshake_timeout"
  | "handshake_rejected"
  | "rate_limited"
  | "incompatible_relay"
  /** Scheme `mutual-v1`: the relay did not prove that it knows the gateway token. */
  | "relay_unproven"
  | "unexpected_frame"
  | "late_challenge"
  | "connection_closed"
  | "heartbeat_timeout"
  | "send_buffer_overflow";

/** The last error, as shown to the user. */
export interface ConnectionError {
  readonly code: ConnectionErrorCode;
  readonly message: string;
}

/** Progress of the current outage, for the reconnect policy. */
export interface RetryProgress {
  /** Failed attempts since the last `ready` (shown as `attempt`). */
  readonly failures: number;
  /** Failures that used the slow curve. */
  readonly slowFailures: number;
  /** Epoch ms when the relay was last seen (ready ended) or when this outage's first attempt began. */
  readonly outageSince: number;
}

/** The policy in force on a ready connection (hello-ok values or defaults). */
export interface EffectivePolicy {
  /** Largest outbound frame in UTF-8 bytes. */
  readonly maxPayload: number;
  /** Close with 4001 when `bufferedAmount` exceeds this; absent when the relay set no limit. */
  readonly maxBufferedBytes?: number;
  /** Close with 4000 after this long without an inbound frame. */
  readonly livenessMs: number;
  /**
   * Frames per frame batch, when both sides agreed (`policy.maxBatchFrames` ≥ 2 in answer to
   * `frame-batch-v1`); absent, every frame goes out alone.
   */
  readonly maxBatchFrames?: number;
}

/** Sub-steps of `connecting`. */
export type ConnectingStep = "preflight" | "opening";
/** Sub-steps of `handshaking` (protocol §3.1). */
export type HandshakingStep = "awaiting-challenge" | "awaiting-hello";

/** The connection state. Every field is readonly; a new object is made on each transition. */
export type ConnectionState =
  | {
    readonly phase: "idle";
    readonly retry: RetryProgress | undefined;
    readonly lastError: ConnectionError | undefined;
  }
  | {
    readonly phase: "connecting";
    readonly step: ConnectingStep;
    readonly retry: RetryProgress;
    readonly lastError: ConnectionError | undefined;
  }
  | {
    readonly phase: "handshaking";
    readonly step: HandshakingStep;
    readonly retry: RetryProgress;
    readonly lastError: ConnectionError | undefined;
  }
  | {
    readonly phase: "ready";
    readonly legacy: boolean;
    readonly policy: EffectivePolicy;
    readonly relayVersion: string | undefined;
    readonly since: number;
  }
  | {
    readonly phase: "backoff";
    readonly retryAt: number;
    readonly retry: RetryProgress;
    readonly lastError: ConnectionError;
  }
  | { readonly phase: "stopped"; readonly lastError: ConnectionError };

/** Events of the state machine. */
export type ConnectionEvent =
  /**
   * Begin an attempt. From `backoff` the outage continues; from `idle` or `stopped` (a user
   * action, the keepalive, worker start) a fresh outage begins.
   */
  | { readonly type: "start"; readonly now: number }
  /** Settings changed: drop whatever is going on and begin a fresh attempt. */
  | { readonly type: "restart"; readonly now: number }
  | { readonly type: "preflight_passed" }
  | { readonly type: "socket_opened" }
  | { readonly type: "connect_sent" }
  | {
    readonly type: "handshake_done";
    readonly legacy: boolean;
    readonly policy: EffectivePolicy;
    readonly relayVersion: string | undefined;
    readonly now: number;
  }
  /** A retryable attempt failure; wait until `retryAt`. */
  | {
    readonly type: "failed";
    readonly error: ConnectionError;
    readonly retryAt: number;
    readonly curve: "fast" | "slow";
  }
  /** A ready connection was lost; wait until `retryAt`. */
  | {
    readonly type: "dropped";
    readonly error: ConnectionError;
    readonly retryAt: number;
    readonly now: number;
  }
  /** Nothing to retry for (no tabs attached): go idle, keeping the error for the UI. */
  | { readonly type: "rested"; readonly error: ConnectionError; readonly now: number }
  /** A non-retryable failure. */
  | { readonly type: "stopped"; readonly error: ConnectionError }
  /** Back to the initial state: the owner closed the connection, or settings changed while idle. */
  | { readonly type: "reset" };

/** The state before anything happened. */
export const INITIAL_STATE: ConnectionState = Object.freeze({
  phase: "idle",
  retry: undefined,
  lastError: undefined,
});

/** The UI phase of a state. */
export function phaseOf(state: ConnectionState): ConnectionPhase {
  return state.phase;
}

/** The sub-step of a state, or `undefined` for phases without steps. */
export function stepOf(state: ConnectionState): ConnectingStep | HandshakingStep | undefined {
  return state.phase === "connecting" || state.phase === "handshaking" ? state.step : undefined;
}

function describeState(state: ConnectionState): string {
  const step = stepOf(state);
  return step === undefined ? state.phase : `${state.phase}/${step}`;
}

function illegal(state: ConnectionState, event: ConnectionEvent): never {
  throw new TypeError(
    `Cannot apply connection event "${event.type}" in this state: current state is "${
      describeState(state)
    }"`,
  );
}

function freshRetry(now: number): RetryProgress {
  return { failures: 0, slowFailures: 0, outageSince: now };
}

function failedRetry(retry: RetryProgress, curve: "fast" | "slow"): RetryProgress {
  return {
    failures: retry.failures + 1,
    slowFailures: retry.slowFailures + (curve === "slow" ? 1 : 0),
    outageSince: retry.outageSince,
  };
}

function rested(
  state: ConnectionState,
  event: Extract<ConnectionEvent, { type: "rested" }>,
): ConnectionState {
  switch (state.phase) {
    case "connecting":
    case "handshaking":
      return { phase: "idle", retry: failedRetry(state.retry, "fast"), lastError: event.error };
    case "ready":
      return { phase: "idle", retry: freshRetry(event.now), lastError: event.error };
    case "backoff":
      return { phase: "idle", retry: state.retry, lastError: event.error };
    default:
      return illegal(state, event);
  }
}

/**
 * The transition table. Pure: the same state and event always give the same next state.
 *
 * @param state The current state.
 * @param event What happened.
 * @returns The next state.
 * @throws {TypeError} If `event` is not legal in `state` (e.g. `socket_opened` while idle).
 *
 * @example
 * ```ts
 * const s = nextState(INITIAL_STATE, { type: "start", now: 0 });
 * s.phase; // "connecting"
 * ```
 */
export function nextState(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  switch (event.type) {
    case "start": {
      if (state.phase !== "idle" && state.phase !== "backoff" && state.phase !== "stopped") {
        return illegal(state, event);
      }
      return {
        phase: "connecting",
        step: "preflight",
        retry: state.phase === "backoff" ? state.retry : freshRetry(event.now),
        lastError: state.lastError,
      };
    }
    case "restart":
      return {
        phase: "connecting",
        step: "preflight",
        retry: freshRetry(event.now),
        lastError: undefined,
      };
    case "preflight_passed":
      if (state.phase !== "connecting" || state.step !== "preflight") return illegal(state, event);
      return { ...state, step: "opening" };
    case "socket_opened":
      if (state.phase !== "connecting" || state.step !== "opening") return illegal(state, event);
      return {
        phase: "handshaking",
        step: "awaiting-challenge",
        retry: state.retry,
        lastError: state.lastError,
      };
    case "connect_sent":
      if (state.phase !== "handshaking" || state.step !== "awaiting-challenge") {
        return illegal(state, event);
      }
      return { ...state, step: "awaiting-hello" };
    case "handshake_done":
      if (state.phase !== "handshaking") return illegal(state, event);
      return {
        phase: "ready",
        legacy: event.legacy,
        policy: event.policy,
        relayVersion: event.relayVersion,
        since: event.now,
      };
    case "failed":
      if (state.phase !== "connecting" && state.phase !== "handshaking") {
        return illegal(state, event);
      }
      return {
        phase: "backoff",
        retryAt: event.retryAt,
        retry: failedRetry(state.retry, event.curve),
        lastError: event.error,
      };
    case "dropped":
      if (state.phase !== "ready") return illegal(state, event);
      return {
        phase: "backoff",
        retryAt: event.retryAt,
        retry: freshRetry(event.now),
        lastError: event.error,
      };
    case "rested":
      return rested(state, event);
    case "stopped":
      return { phase: "stopped", lastError: event.error };
    case "reset":
      return INITIAL_STATE;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}
