/**
 * The service worker's connection to the relay: preflight, socket, handshake, readiness,
 * liveness, reconnect and status (protocol §2–§4, §10). The tab side talks to it through
 * {@linkcode RelayLink} and is called back through {@linkcode ConnectionHooks}.
 *
 * Where things live: the phases and their legal transitions are the pure table in
 * `connection_state.ts`; how long to wait before the next attempt is the pure policy in
 * `reconnect_policy.ts`; what a phase owns (timers, deadlines, awaits) is a `PhaseScope`
 * (`phase_scope.ts`); what one attempt sends and checks, for either way to authenticate, is a
 * `ConnectAttempt` (`connect_attempt.ts`: credentials, preflight, socket URL, the answer to the
 * challenge and the meaning of the `connect` reply), over the pure `handshake.ts` and
 * `preflight.ts`. This file decides what each of those outcomes does to the phase, and never
 * asks which of the two flows runs.
 *
 * @module
 */

import { CloseCode, CloseReason, truncateCloseReason } from "../codec/close_codes.ts";
import { decodeExtensionFrame } from "../codec/decode_extension_frame.ts";
import { decodeFrameBatch, FrameBatcher, isFrameBatch } from "../codec/frame_batch.ts";
import { validateExtensionFrame } from "../codec/validate_extension_frame.ts";
import { encodeExtensionFrame } from "../codec/encode_extension_frame.ts";
import type { CdpCall, ExtensionFrame, Outcome } from "../codec/extension_frame.ts";
import type { DecodeResult } from "../codec/issue.ts";
import { formatIssues } from "../codec/format_issues.ts";
import { ErrorText, frameTooLargeError } from "./error_text.ts";
import {
  type AttemptFailure,
  type CheckedAnswer,
  ConnectAttempt,
  type ConnectAttemptContext,
  type ConnectAttemptOptions,
} from "./connect_attempt.ts";
import {
  type ConnectionError,
  type ConnectionErrorCode,
  type ConnectionEvent,
  type ConnectionState,
  type EffectivePolicy,
  INITIAL_STATE,
  nextState,
  stepOf,
} from "./connection_state.ts";
import { ConnectionClosedError, HandshakeTimeoutError } from "./errors.ts";
import { type ConnectReply, type ConnectRequestFrame, effectivePolicy } from "./handshake.ts";
import { PhaseScope, ScopeReleasedError } from "./phase_scope.ts";
import type {
  Clock,
  HttpGet,
  RuntimePort,
  SocketFactory,
  SocketHandlers,
  SocketPort,
  StorageChange,
  StoragePort,
} from "./ports.ts";
import {
  DEFAULT_RECONNECT_POLICY,
  reconnectDelay,
  type ReconnectPolicy,
} from "./reconnect_policy.ts";
import type { ConnectionHooks, ConnectionStatus, RelayLink } from "./relay_link.ts";
import {
  HELP_ON_ERROR_SHOWN_KEY,
  parseSettings,
  relayBaseUrl,
  type Settings,
  SETTINGS_KEYS,
} from "./settings.ts";
import { utf8ByteLength } from "../codec/utf8_byte_length.ts";
import { isJsonObject } from "../codec/is_json_object.ts";

/** The ports the connection uses. A full `Ports` object fits. */
export interface RelayConnectionPorts {
  readonly clock: Clock;
  readonly storage: StoragePort;
  readonly socket: SocketFactory;
  readonly http: HttpGet;
  readonly runtime: Pick<RuntimePort, "openOptionsPage" | "version" | "userAgent">;
}

/**
 * Options of {@linkcode RelayConnection}; the injectable steps of each attempt
 * (`deriveToken`, `mutualKey`, `clientNonce`, `answerChallenge`) are
 * {@linkcode ConnectAttemptOptions}.
 */
export interface RelayConnectionOptions extends ConnectAttemptOptions {
  /**
   * Deadline of each preflight request, in milliseconds.
   *
   * @default {2000}
   */
  readonly preflightTimeoutMs?: number;
  /**
   * Deadline for the socket to open, in milliseconds; on expiry the socket is closed.
   *
   * @default {5000}
   */
  readonly openTimeoutMs?: number;
  /**
   * Handshake deadline from `open` to `ready`, in milliseconds; on expiry the socket is closed
   * with 1008 `handshake timeout` and the attempt is retried with backoff.
   *
   * @default {8000}
   */
  readonly handshakeTimeoutMs?: number;
  /**
   * How long to wait for a challenge before treating a relay as legacy, in milliseconds.
   *
   * @default {500}
   */
  readonly legacyGraceMs?: number;
  /**
   * Liveness window when the relay announced no `tickIntervalMs`, in milliseconds.
   *
   * @default {15000}
   */
  readonly livenessMs?: number;
  /**
   * Reconnect policy.
   *
   * @default {DEFAULT_RECONNECT_POLICY}
   */
  readonly reconnectPolicy?: ReconnectPolicy;
  /**
   * Receives diagnostics (dropped oversize events, hook failures). Never receives tokens.
   *
   * @default {console.warn}
   */
  readonly log?: (message: string) => void;
}

/** One socket and what belongs to it; lives from `opening` until its phase ends it. */
interface Link {
  readonly port: number;
  socket: SocketPort | undefined;
  /** Commands received on this socket that still owe their one response. */
  readonly commands: Set<number>;
  /** Clock time of the last inbound frame, for the liveness window. */
  lastInboundAt: number;
  /** Frame batches, from ready on when both sides agreed in the handshake. */
  batcher?: FrameBatcher;
}

/**
 * What the current phase owns. A new one is made on every transition: the phase scope survives
 * step changes, the step scope does not, and an attempt or link that the next phase does not
 * carry is ended right there, in `#transition()`.
 */
interface Holding {
  /** Timers of the phase: handshake deadline, liveness, the backoff wait. */
  readonly scope: PhaseScope;
  /** Timers and awaits of the step: preflight requests, open deadline, legacy grace. */
  readonly step: PhaseScope;
  /** The attempt, in `connecting` and `handshaking`. */
  readonly attempt: ConnectAttempt | undefined;
  /** The socket, from `connecting/opening` through `ready`. */
  readonly link: Link | undefined;
}

/** How a link that is not carried into the next phase ends. */
interface LinkEnd {
  /** How to close the socket: a code and reason, a plain `close()`, or not at all (already closed). */
  readonly close: AttemptFailure["close"];
  /** Passed to `hooks.onClosed`; `undefined` (as in `close()`) calls no hook. */
  readonly error: ConnectionClosedError | undefined;
}

/** Why an attempt or a ready connection ended; an attempt's own steps report `AttemptFailure`s. */
interface Failure extends AttemptFailure {
  /** The close as the relay reported it, when it closed first. */
  readonly closed?: { readonly code: number; readonly reason: string };
}

const QUIET_END: LinkEnd = { close: { code: CloseCode.Normal, reason: "" }, error: undefined };

function linkEndOf(failure: Failure): LinkEnd {
  const closed = failure.closed ??
    (typeof failure.close === "object" ? failure.close : { code: CloseCode.Abnormal, reason: "" });
  return {
    close: failure.close,
    error: new ConnectionClosedError(
      `Relay connection closed: ${failure.message}`,
      { closeCode: closed.code, closeReason: closed.reason },
    ),
  };
}

/** UTF-8 byte length of `text` when it exceeds `max`, else `undefined`; no allocation. */
function oversize(text: string, max: number): number | undefined {
  if (text.length * 3 <= max) return undefined;
  const bytes = utf8ByteLength(text);
  return bytes > max ? bytes : undefined;
}

/** For frames the codec rejected: is it an object, and is it a gateway frame (string `type`)? */
function rawShape(data: string): RawShape {
  try {
    return shapeOf(JSON.parse(data));
  } catch {
    return { kind: "none" };
  }
}

type RawShape = { kind: "none" } | { kind: "gateway" | "relay"; method: unknown };

function shapeOf(record: unknown): RawShape {
  if (!isJsonObject(record)) return { kind: "none" };
  return {
    kind: typeof record["type"] === "string" ? "gateway" : "relay",
    method: record["method"],
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `Cannot create relay connection as "${name}" must be a positive number: current value is ${value}`,
    );
  }
  return value;
}

/**
 * The relay connection: one state machine, one `#transition()`, one socket at a time.
 *
 * - **Attempts** run preflight → open → handshake (challenge + `connect` + hello-ok, or legacy
 *   readiness). Only one attempt is ever in flight: `requestConnect()`, the keepalive, a
 *   settings change and a backoff timer all start attempts through `#beginAttempt()`.
 * - **Failures** all go through `#fail()`, the one place that decides between stopped, idle and
 *   backoff (per {@linkcode reconnectDelay}) and starts the backoff timer. Missing and rejected
 *   tokens and incompatible relays stop until the settings change or the user asks again, and
 *   open the options page once.
 * - **Ownership**: the current phase's {@linkcode Holding} owns its attempt, socket, timers and
 *   awaits; `#transition()` releases what the next phase does not carry. Stale sockets cannot
 *   touch state: a socket's handlers act only while it is the current phase's link.
 * - **Hooks run last**: a transition queues its status (and `onClosed`/`onReady`); the queue is
 *   flushed when the outermost entry point (public method, socket event, timer, async step)
 *   returns. A hook that re-enters therefore always finds a finished transition.
 *   {@linkcode RelayConnection.prototype.close} releases everything, idempotently.
 *
 * @example
 * ```ts
 * const connection = new RelayConnection(ports, hooks);
 * connection.requestConnect("user");
 * // … later
 * connection.close();
 * ```
 */
export class RelayConnection implements RelayLink {
  readonly #ports: RelayConnectionPorts;
  readonly #hooks: ConnectionHooks;
  readonly #openTimeoutMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #legacyGraceMs: number;
  readonly #livenessMs: number;
  readonly #policy: ReconnectPolicy;
  /** What every attempt shares: ports, the preflight deadline and the injectable steps. */
  readonly #attemptContext: ConnectAttemptContext;
  readonly #log: (message: string) => void;

  #state: ConnectionState = INITIAL_STATE;
  #holding: Holding;
  #closed = false;
  #relayPort: number = parseSettings({}).relayPort;
  /** Ports that sent a late challenge: later attempts wait for a challenge (§3.7). */
  readonly #challengePorts = new Set<number>();
  /** Hook calls queued by transitions, run by `#flush()`. */
  readonly #outbox: (() => void)[] = [];
  /** Nesting of entry points; the outermost one flushes the outbox when it returns. */
  #depth = 0;
  #flushing = false;
  #helpQueue: Promise<void> = Promise.resolve();

  readonly #onStorageChanged = (
    changes: Record<string, StorageChange>,
    areaName: string,
  ): void => {
    if (this.#closed || areaName !== "local") return;
    if (!SETTINGS_KEYS.some((key) => key in changes)) return;
    this.#act(() => this.#settingsChanged());
  };

  /**
   * Registers the `storage.onChanged` listener synchronously; starts nothing by itself.
   *
   * @param ports Clock, storage, socket factory, HTTP and runtime.
   * @param hooks The tab side.
   * @param options Deadlines, policy and injectables.
   * @throws {RangeError} If a deadline option is not a positive number.
   */
  constructor(
    ports: RelayConnectionPorts,
    hooks: ConnectionHooks,
    options: RelayConnectionOptions = {},
  ) {
    this.#ports = ports;
    this.#hooks = hooks;
    const preflightTimeoutMs = positive("preflightTimeoutMs", options.preflightTimeoutMs, 2_000);
    this.#openTimeoutMs = positive("openTimeoutMs", options.openTimeoutMs, 5_000);
    this.#handshakeTimeoutMs = positive("handshakeTimeoutMs", options.handshakeTimeoutMs, 8_000);
    this.#legacyGraceMs = positive("legacyGraceMs", options.legacyGraceMs, 500);
    this.#livenessMs = positive("livenessMs", options.livenessMs, 15_000);
    this.#policy = options.reconnectPolicy ?? DEFAULT_RECONNECT_POLICY;
    this.#attemptContext = {
      ports: { clock: ports.clock, http: ports.http, runtime: ports.runtime },
      options,
      preflightTimeoutMs,
      livenessMs: this.#livenessMs,
    };
    this.#log = options.log ?? ((message) => console.warn(message));
    this.#holding = this.#hold(undefined, undefined, undefined, undefined);
    ports.storage.onChanged.addListener(this.#onStorageChanged);
  }

  // ------------------------------------------------------------------ public API

  /** The current status, as sent to `hooks.onStatus`. */
  status(): ConnectionStatus {
    const state = this.#state;
    const base = {
      phase: state.phase,
      relayUrl: relayBaseUrl(this.#relayPort),
      attachedTabCount: this.#tabs(),
    };
    switch (state.phase) {
      case "ready":
        return {
          ...base,
          attempt: 0,
          legacy: state.legacy,
          ...(state.relayVersion === undefined ? {} : { relayVersion: state.relayVersion }),
        };
      case "stopped":
        return { ...base, attempt: 0, lastError: state.lastError };
      case "backoff":
        return {
          ...base,
          attempt: state.retry.failures,
          lastError: state.lastError,
          nextRetryAt: state.retryAt,
        };
      case "idle":
      case "connecting":
      case "handshaking":
        return {
          ...base,
          attempt: state.retry?.failures ?? 0,
          ...(state.lastError === undefined ? {} : { lastError: state.lastError }),
        };
      default: {
        const _exhaustive: never = state;
        return _exhaustive;
      }
    }
  }

  /** True only in phase `ready`. */
  isReady(): boolean {
    return this.#state.phase === "ready";
  }

  /**
   * Sends `forwardCDPEvent`. An event larger than the relay's `maxPayload` is dropped and its
   * method logged; it never costs the connection.
   *
   * @param cdp The event.
   * @returns True when the frame was handed to the socket.
   */
  sendEvent(cdp: CdpCall): boolean {
    const state = this.#state;
    const link = this.#holding.link;
    if (state.phase !== "ready" || link === undefined) return false;
    const text = encodeExtensionFrame({ kind: "event", cdp });
    const max = state.policy.maxPayload;
    const size = oversize(text, max);
    if (size !== undefined) {
      this.#log(`Dropped forwardCDPEvent "${cdp.method}": ${frameTooLargeError(size, max)}`);
      return false;
    }
    this.#depth++;
    try {
      return this.#sendBatched(link, state.policy, text);
    } finally {
      this.#leave();
    }
  }

  /**
   * Sends the one response for a command received on the current socket. A response larger
   * than `maxPayload` is replaced by `{id, error: "frame too large: …"}`.
   *
   * @param id The command id from `hooks.onCommand`.
   * @param outcome The result or error.
   * @returns False when not ready, or when `id` is not an unanswered command of the current
   *   socket (the relay already failed commands of a closed socket).
   */
  sendResponse(id: number, outcome: Outcome): boolean {
    const state = this.#state;
    const link = this.#holding.link;
    if (state.phase !== "ready" || link === undefined || !link.commands.delete(id)) return false;
    const max = state.policy.maxPayload;
    let text = encodeExtensionFrame({ kind: "response", id, outcome });
    const size = oversize(text, max);
    if (size !== undefined) {
      text = encodeExtensionFrame({
        kind: "response",
        id,
        outcome: { ok: false, error: frameTooLargeError(size, max) },
      });
    }
    this.#depth++;
    try {
      return this.#sendBatched(link, state.policy, text);
    } finally {
      this.#leave();
    }
  }

  /**
   * Asks for an attempt now, for a user action (a toolbar click, the options page). Idle or
   * stopped: starts a fresh attempt. Backoff: cuts the wait short. Connecting, handshaking or
   * ready: nothing (single flight). Background callers use {@linkcode onKeepalive}.
   *
   * @param reason Why, for diagnostics (e.g. `"user"`).
   */
  requestConnect(reason: string): void {
    void reason;
    if (this.#closed) return;
    const phase = this.#state.phase;
    if (phase === "idle" || phase === "stopped" || phase === "backoff") {
      this.#act(() => this.#beginAttempt("start", QUIET_END));
    }
  }

  /**
   * The `relay-keepalive` alarm handler: refreshes the status (badges) and, when tabs are
   * attached and nothing is connecting, waiting on backoff or stopped, starts an attempt. Never
   * replaces a live connection or an attempt in flight.
   */
  onKeepalive(): void {
    if (this.#closed) return;
    this.#act(() => {
      if (this.#state.phase === "idle" && this.#tabs() > 0) this.#beginAttempt("start", QUIET_END);
      else this.#queueStatus();
    });
  }

  /** Worker start, after the tab side rehydrated: connects when tabs are attached. */
  start(): void {
    this.onKeepalive();
  }

  /**
   * Stops everything: aborts the attempt, closes the socket (1000), clears every timer and
   * removes the storage listener. Idempotent; no hook is called afterwards.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#outbox.length = 0;
    this.#ports.storage.onChanged.removeListener(this.#onStorageChanged);
    this.#transition({ type: "reset" }, undefined, undefined, QUIET_END);
    this.#outbox.length = 0;
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ------------------------------------------------------------------ state and resources

  #hold(
    scope: PhaseScope | undefined,
    step: PhaseScope | undefined,
    attempt: ConnectAttempt | undefined,
    link: Link | undefined,
  ): Holding {
    const clock = this.#ports.clock;
    return {
      scope: scope ?? new PhaseScope(clock),
      step: step ?? new PhaseScope(clock),
      attempt,
      link,
    };
  }

  /**
   * The only place `#state` changes, and the one place resources are released: leaving a step
   * releases the step scope, leaving a phase the phase scope, and a link that the next phase
   * does not carry is closed per `end`. Hooks are only queued here (see `#flush()`), so the
   * caller may set up the new phase right after without checking that it is still current.
   */
  #transition(
    event: ConnectionEvent,
    attempt: ConnectAttempt | undefined,
    link: Link | undefined,
    end: LinkEnd,
  ): void {
    const previous = this.#state;
    const next = nextState(previous, event);
    const held = this.#holding;
    const phaseLeft = next.phase !== previous.phase || event.type === "start" ||
      event.type === "restart" || event.type === "reset";
    const stepLeft = phaseLeft || stepOf(next) !== stepOf(previous);
    if (stepLeft) held.step.release();
    if (phaseLeft) held.scope.release();
    if (held.link !== undefined && held.link !== link) this.#endLink(held.link, end);
    this.#state = next;
    this.#holding = this.#hold(
      phaseLeft ? undefined : held.scope,
      stepLeft ? undefined : held.step,
      attempt,
      link,
    );
    this.#queueStatus();
  }

  /** Closes a link's socket (unless already closed), drops its commands, queues `onClosed`. */
  #endLink(link: Link, end: LinkEnd): void {
    link.commands.clear();
    const close = end.close;
    if (close !== "already") {
      try {
        if (close === "plain") link.socket?.close();
        else link.socket?.close(close.code, truncateCloseReason(close.reason));
      } catch {
        // Closing a socket that is already closing cannot fail in a way we could act on.
      }
    }
    const error = end.error;
    if (error === undefined) return;
    this.#queue(() => {
      try {
        this.#hooks.onClosed(error);
      } catch (hookError) {
        this.#log(`Closed hook failed: ${String(hookError)}`);
      }
    });
  }

  /** Runs `body` as an entry point: hooks it queues run when the outermost entry returns. */
  #act(body: () => void): void {
    this.#depth++;
    try {
      body();
    } finally {
      this.#leave();
    }
  }

  #leave(): void {
    if (--this.#depth === 0 && this.#outbox.length > 0) this.#flush();
  }

  #queue(effect: () => void): void {
    if (!this.#closed) this.#outbox.push(effect);
  }

  /**
   * Runs queued hook calls in order. A hook that re-enters queues behind the current ones; a
   * hook that calls `close()` empties the queue, so nothing runs after it.
   */
  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (let effect = this.#outbox.shift(); effect !== undefined; effect = this.#outbox.shift()) {
        effect();
      }
    } finally {
      this.#flushing = false;
    }
  }

  #queueStatus(): void {
    if (this.#closed) return;
    const status = this.status();
    this.#queue(() => {
      try {
        this.#hooks.onStatus(status);
      } catch (error) {
        this.#log(`Status hook failed: ${String(error)}`);
      }
    });
  }

  #tabs(): number {
    try {
      return this.#hooks.attachedTabCount();
    } catch {
      return 0;
    }
  }

  #now(): number {
    return this.#ports.clock.now();
  }

  // ------------------------------------------------------------------ attempts and retries

  /** Enters `connecting/preflight` with a fresh attempt and starts preparing it. */
  #beginAttempt(type: "start" | "restart", end: LinkEnd): void {
    const attempt = new ConnectAttempt(this.#relayPort, this.#attemptContext);
    this.#transition({ type, now: this.#now() }, attempt, undefined, end);
    void this.#prepare(attempt, this.#holding.step);
  }

  /**
   * The one place a failure becomes the next phase: `stopped` for what retrying cannot fix,
   * `idle` when no tab waits, otherwise `backoff` with its timer, per {@linkcode reconnectDelay}
   * (fast window, slow curve, `retryAfterMs`). A dropped ready connection starts a fresh outage.
   */
  #fail(failure: Failure): void {
    const state = this.#state;
    const error: ConnectionError = { code: failure.code, message: failure.message };
    const end = linkEndOf(failure);
    if (failure.retry === "never") {
      this.#transition({ type: "stopped", error }, undefined, undefined, end);
      this.#showHelpOnce();
      return;
    }
    const now = this.#now();
    const retry = state.phase === "connecting" || state.phase === "handshaking"
      ? state.retry
      : undefined; // a ready connection was dropped
    const decision = reconnectDelay(
      {
        tabsAttached: this.#tabs(),
        outageMs: retry === undefined ? 0 : now - retry.outageSince,
        slowFailures: retry?.slowFailures ?? 0,
        ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
      },
      this.#policy,
      () => this.#ports.clock.random(),
    );
    if (decision.kind === "idle") {
      this.#transition({ type: "rested", error, now }, undefined, undefined, end);
      return;
    }
    const retryAt = now + decision.delayMs;
    this.#transition(
      retry === undefined
        ? { type: "dropped", error, retryAt, now }
        : { type: "failed", error, retryAt, curve: decision.curve },
      undefined,
      undefined,
      end,
    );
    this.#holding.scope.timer(
      decision.delayMs,
      () => this.#act(() => this.#beginAttempt("start", QUIET_END)),
    );
  }

  #settingsChanged(): void {
    this.#challengePorts.clear();
    const phase = this.#state.phase;
    const active = phase !== "idle" && phase !== "stopped";
    const end: LinkEnd = {
      close: { code: CloseCode.Normal, reason: CloseReason.SettingsChanged },
      error: new ConnectionClosedError(
        `Relay connection closed: code ${CloseCode.Normal} "${CloseReason.SettingsChanged}"`,
        { closeCode: CloseCode.Normal, closeReason: CloseReason.SettingsChanged },
      ),
    };
    if (!active && this.#tabs() === 0) {
      this.#transition({ type: "reset" }, undefined, undefined, end);
      return;
    }
    this.#beginAttempt("restart", end);
  }

  /**
   * Settings → the attempt's credentials and preflight → socket, all owned by the `preflight`
   * step: leaving the step aborts the requests, and `step.alive()` stops this run at its next
   * await.
   */
  async #prepare(attempt: ConnectAttempt, step: PhaseScope): Promise<void> {
    try {
      await this.#prepareSteps(attempt, step);
    } catch (error) {
      if (!(error instanceof ScopeReleasedError)) throw error;
    }
  }

  async #prepareSteps(attempt: ConnectAttempt, step: PhaseScope): Promise<void> {
    let settings: Settings;
    try {
      settings = parseSettings(await step.alive(this.#ports.storage.local.get(SETTINGS_KEYS)));
    } catch (error) {
      if (error instanceof ScopeReleasedError) throw error;
      return this.#act(() =>
        this.#fail({
          code: "settings_unavailable",
          message: `Cannot read the extension settings: ${String(error)}`,
          retry: "backoff",
          close: "already",
        })
      );
    }
    if (this.#relayPort !== settings.relayPort) {
      this.#relayPort = settings.relayPort;
      this.#act(() => this.#queueStatus());
    }
    const plan = await step.alive(attempt.prepare(settings, step, this.#challengePorts));
    this.#act(() => {
      if (plan.kind === "failed") return this.#fail(plan.failure);
      this.#openSocket(attempt, plan.url);
    });
  }

  #openSocket(attempt: ConnectAttempt, url: string): void {
    const link: Link = {
      port: attempt.port,
      socket: undefined,
      commands: new Set(),
      lastInboundAt: 0,
    };
    this.#transition({ type: "preflight_passed" }, attempt, link, QUIET_END);
    // Handlers are bound at creation, so a challenge sent on open is never missed. Each acts
    // only while its socket is the current phase's link: a replaced socket never touches state.
    const handlers: SocketHandlers = {
      onOpen: () => {
        if (this.#holding.link === link) this.#act(() => this.#onOpen(link));
      },
      onMessage: (data) => {
        if (this.#holding.link !== link) return;
        this.#depth++;
        try {
          this.#onMessage(link, data);
        } finally {
          this.#leave();
        }
      },
      onClose: (code, reason) => {
        if (this.#holding.link === link) this.#act(() => this.#onSocketClose(link, code, reason));
      },
      onError: () => {
        // A close event always follows; it carries the code.
      },
    };
    try {
      link.socket = this.#ports.socket(url, handlers);
    } catch (error) {
      return this.#fail({
        code: "relay_unreachable",
        message: `Relay server not reachable at ${relayBaseUrl(attempt.port)} (${String(error)})`,
        retry: "backoff",
        close: "already",
      });
    }
    const timeout = new Error(`Relay socket did not open within ${this.#openTimeoutMs} ms`);
    this.#holding.step.deadline(this.#openTimeoutMs, timeout, () =>
      // §11: the legacy extension left this socket dangling; close and discard it.
      this.#act(() =>
        this.#fail({
          code: "open_timeout",
          message: `${timeout.message} at ${relayBaseUrl(attempt.port)}`,
          retry: "backoff",
          close: "plain",
        })
      ));
  }

  #onOpen(link: Link): void {
    const state = this.#state;
    const attempt = this.#holding.attempt;
    if (state.phase !== "connecting" || state.step !== "opening" || attempt === undefined) return;
    this.#transition({ type: "socket_opened" }, attempt, link, QUIET_END);
    const held = this.#holding;
    const timeout = new HandshakeTimeoutError(
      `Relay did not complete the handshake within ${this.#handshakeTimeoutMs} ms`,
      { timeoutMs: this.#handshakeTimeoutMs },
    );
    // Owned by the handshaking phase: it covers both awaiting-* steps (§3.1).
    held.scope.deadline(this.#handshakeTimeoutMs, timeout, () =>
      this.#act(() =>
        this.#fail({
          code: "handshake_timeout",
          message: `${timeout.message} at ${relayBaseUrl(link.port)}`,
          retry: "backoff",
          close: { code: CloseCode.PolicyViolation, reason: CloseReason.HandshakeTimeout },
        })
      ));
    if (!attempt.expectsChallenge) {
      held.step.timer(
        this.#legacyGraceMs,
        () =>
          this.#act(() =>
            this.#becomeReady(link, true, effectivePolicy(undefined, this.#livenessMs), undefined)
          ),
      );
    }
  }

  // ------------------------------------------------------------------ socket events

  #onSocketClose(link: Link, code: number, reason: string): void {
    const described = `code ${code}${reason === "" ? "" : ` "${reason}"`}`;
    const closed = { code, reason };
    if (this.#state.phase === "ready") {
      return this.#fail({
        code: "connection_closed",
        message: `Relay connection closed (${described}): reconnecting`,
        retry: "backoff",
        close: "already",
        closed,
      });
    }
    const base = relayBaseUrl(link.port);
    const incompatible = code === CloseCode.ProtocolError;
    this.#fail({
      code: incompatible ? "incompatible_relay" : "connection_closed",
      message: incompatible
        ? `Relay at ${base} closed the connection as incompatible (${described})`
        : `Relay at ${base} closed the connection before it was ready (${described})`,
      retry: incompatible ? "never" : "backoff",
      close: "already",
      closed,
    });
  }

  #onMessage(link: Link, data: string): void {
    link.lastInboundAt = this.#ports.clock.now();
    if (link.batcher !== undefined && isFrameBatch(data)) {
      this.#onBatch(link, data);
      return;
    }
    this.#onDecoded(link, decodeExtensionFrame(data), () => rawShape(data));
  }

  /**
   * A frame batch from a relay that agreed to batches: each element is handled in order, as if
   * it had come alone, while the socket is still this phase's.
   */
  #onBatch(link: Link, data: string): void {
    const batch = decodeFrameBatch(data);
    if (!batch.ok) return; // not JSON: ignored, like any unparseable frame (§4.5)
    for (const value of batch.frame) {
      if (this.#holding.link !== link) return; // a frame of the batch ended the socket
      this.#onDecoded(link, validateExtensionFrame(value), () => shapeOf(value));
    }
  }

  #onDecoded(
    link: Link,
    decoded: DecodeResult<ExtensionFrame>,
    raw: () => RawShape,
  ): void {
    if (!decoded.ok) {
      const shape = raw();
      if (shape.kind !== "relay") return; // not an object, or a gateway frame: ignored (§4.5)
      if (!this.#relayFrameAllowed(link, undefined)) return;
      if (typeof decoded.id === "number" && shape.method === "forwardCDPCommand") {
        // A malformed command still gets its one reply. The codec reports an id only when it
        // can be echoed, so 1e400 never goes back out as `"id":null`.
        link.commands.add(decoded.id);
        this.sendResponse(decoded.id, {
          ok: false,
          error: `Invalid forwardCDPCommand: ${formatIssues(decoded.issues)}`,
        });
      }
      return;
    }
    const frame = decoded.frame;
    switch (frame.kind) {
      case "command":
        // The hot path: a ready connection hands the command over without further checks.
        if (this.#state.phase !== "ready" && !this.#relayFrameAllowed(link, frame)) return;
        link.commands.add(frame.id);
        try {
          this.#hooks.onCommand(frame.id, frame.cdp);
        } catch (error) {
          this.sendResponse(frame.id, {
            ok: false,
            error: error instanceof Error && error.message !== ""
              ? error.message
              : ErrorText.UnknownError,
          });
        }
        return;
      case "ping": {
        if (!this.#relayFrameAllowed(link, frame)) return;
        const state = this.#state;
        if (state.phase === "ready") {
          this.#sendBatched(link, state.policy, encodeExtensionFrame({ kind: "pong" }));
        }
        return;
      }
      case "response":
      case "event":
      case "pong":
        // Responses, events and pongs from the relay are ignored once ready (§4.5 step 6), but
        // before ready they still count as relay frames.
        this.#relayFrameAllowed(link, frame);
        return;
      case "connect_challenge":
        return this.#onChallenge(link, frame.nonce);
      case "hello_ok":
      case "gateway_response":
      case "gateway_error":
        return this.#onGatewayReply(link, frame);
      case "gateway_event":
      case "gateway_request":
      case "connect_request":
        return; // other gateway frames are ignored; they still counted for liveness
      default: {
        const _exhaustive: never = frame;
        return _exhaustive;
      }
    }
  }

  #onChallenge(link: Link, nonce: string): void {
    const state = this.#state;
    const attempt = this.#holding.attempt;
    if (
      state.phase === "handshaking" && state.step === "awaiting-challenge" && attempt !== undefined
    ) {
      const answer = attempt.answer(nonce);
      switch (answer.kind) {
        case "send":
          return this.#sendConnect(link, attempt, answer.request);
        case "checking":
          void this.#awaitAnswer(link, attempt, answer.checked, this.#holding.step);
          return;
        case "ignored":
          return; // a second challenge while the first is checked: one answer per socket
        default: {
          const _exhaustive: never = answer;
          return _exhaustive;
        }
      }
    }
    if (state.phase === "ready" && state.legacy) {
      // §3.7: a challenge after legacy readiness; wait for one on every later attempt here.
      this.#challengePorts.add(link.port);
      this.#fail({
        code: "late_challenge",
        message: `Relay at ${
          relayBaseUrl(link.port)
        } sent a challenge after legacy readiness: reconnecting with the handshake`,
        retry: "backoff",
        close: { code: CloseCode.PolicyViolation, reason: CloseReason.LateChallenge },
      });
    }
    // Otherwise ignored: a connect is pending, or hello-ok already arrived (§4.5).
  }

  /**
   * Scheme `mutual-v1`: waits for the check of the relay's proof. Owned by the awaiting-challenge
   * step: a deadline, close or settings change that ends the step drops the answer.
   */
  async #awaitAnswer(
    link: Link,
    attempt: ConnectAttempt,
    checked: Promise<CheckedAnswer>,
    step: PhaseScope,
  ): Promise<void> {
    let answer: CheckedAnswer;
    try {
      answer = await step.alive(checked);
    } catch (error) {
      if (error instanceof ScopeReleasedError) return;
      throw error;
    }
    this.#act(() => {
      if (this.#holding.link !== link || this.#holding.attempt !== attempt) return;
      if (answer.kind === "failed") return this.#fail(answer.failure);
      this.#sendConnect(link, attempt, answer.request);
    });
  }

  /** Sends the attempt's `connect`; leaves awaiting-challenge first, which releases the legacy grace timer. */
  #sendConnect(link: Link, attempt: ConnectAttempt, request: ConnectRequestFrame): void {
    this.#transition({ type: "connect_sent" }, attempt, link, QUIET_END);
    this.#sendRaw(link, encodeExtensionFrame(request));
  }

  #onGatewayReply(link: Link, reply: ConnectReply): void {
    const state = this.#state;
    const attempt = this.#holding.attempt;
    if (
      state.phase !== "handshaking" || state.step !== "awaiting-hello" ||
      reply.id !== attempt?.connectId
    ) {
      return;
    }
    const outcome = attempt.accept(reply);
    if (outcome.kind === "failed") return this.#fail(outcome.failure);
    this.#becomeReady(link, false, outcome.policy, outcome.relayVersion);
  }

  /**
   * Gating before ready (§4.5 step 3). Returns true when the frame may be dispatched as a relay
   * frame on a ready connection; may make a legacy relay ready first, or fail the attempt.
   */
  #relayFrameAllowed(link: Link, frame: ExtensionFrame | undefined): boolean {
    const state = this.#state;
    if (state.phase === "ready") return true;
    if (state.phase !== "handshaking") return false;
    if (state.step === "awaiting-challenge" && this.#holding.attempt?.expectsChallenge === false) {
      this.#becomeReady(link, true, effectivePolicy(undefined, this.#livenessMs), undefined);
      return true;
    }
    if (frame?.kind === "ping") return false;
    this.#fail({
      code: "unexpected_frame",
      message: `Relay at ${
        relayBaseUrl(link.port)
      } sent a relay frame before hello-ok: it does not follow the handshake`,
      retry: "backoff",
      close: { code: CloseCode.PolicyViolation, reason: CloseReason.UnexpectedFrameBeforeHello },
    });
    return false;
  }

  #becomeReady(
    link: Link,
    legacy: boolean,
    policy: EffectivePolicy,
    relayVersion: string | undefined,
  ): void {
    const now = this.#now();
    // The attempt is over; its socket lives on as the ready phase's link.
    this.#transition(
      { type: "handshake_done", legacy, policy, relayVersion, now },
      undefined,
      link,
      QUIET_END,
    );
    link.lastInboundAt = now;
    const maxFrames = policy.maxBatchFrames;
    if (maxFrames !== undefined) {
      link.batcher = new FrameBatcher(
        (text) =>
          this.#act(() => {
            if (this.#holding.link === link) this.#sendReady(link, policy, text);
          }),
        { maxFrames },
      );
    }
    this.#armLiveness(link, policy.livenessMs, this.#holding.scope);
    this.#ports.storage.local.remove([HELP_ON_ERROR_SHOWN_KEY]).catch(() => {});
    this.#queue(() => {
      try {
        this.#hooks.onReady();
      } catch (error) {
        this.#log(`Ready hook failed: ${String(error)}`);
      }
    });
  }

  /** Checks the liveness window on the ready phase's scope, re-arming for the time left. */
  #armLiveness(link: Link, windowMs: number, scope: PhaseScope): void {
    const check = (): void => {
      const quiet = this.#ports.clock.now() - link.lastInboundAt;
      if (quiet < windowMs) {
        scope.timer(windowMs - quiet, () => this.#act(check));
        return;
      }
      this.#fail({
        code: "heartbeat_timeout",
        message: `Relay at ${relayBaseUrl(link.port)} sent nothing for ${quiet} ms: reconnecting`,
        retry: "backoff",
        close: { code: CloseCode.HeartbeatTimeout, reason: CloseReason.HeartbeatTimeout },
      });
    };
    scope.timer(windowMs, () => this.#act(check));
  }

  // ------------------------------------------------------------------ sending

  #sendRaw(link: Link, text: string): boolean {
    const socket = link.socket;
    if (socket === undefined) return false;
    try {
      socket.send(text);
      return true;
    } catch (error) {
      this.#fail({
        code: "connection_closed",
        message: `Cannot send to the relay: ${String(error)}`,
        retry: "backoff",
        close: "plain",
      });
      return false;
    }
  }

  /**
   * Sends a response or event: into the socket's batch when batches were agreed (the batch goes
   * out at the end of the turn, through `#sendReady`), else at once.
   */
  #sendBatched(link: Link, policy: EffectivePolicy, text: string): boolean {
    if (link.batcher === undefined) return this.#sendReady(link, policy, text);
    link.batcher.push(text);
    return true;
  }

  #sendReady(link: Link, policy: EffectivePolicy, text: string): boolean {
    if (!this.#sendRaw(link, text)) return false;
    const max = policy.maxBufferedBytes;
    if (max === undefined) return true;
    const buffered = link.socket?.bufferedAmount ?? 0;
    if (buffered <= max) return true;
    this.#fail({
      code: "send_buffer_overflow",
      message: `Relay at ${
        relayBaseUrl(link.port)
      } is not reading: ${buffered} bytes buffered exceeds maxBufferedBytes ${max}`,
      retry: "backoff",
      close: { code: CloseCode.SendBufferOverflow, reason: CloseReason.SendBufferOverflow },
    });
    return false;
  }

  /** Opens the options page at most once per error streak (latch `helpOnErrorShown`). */
  #showHelpOnce(): void {
    const { storage, runtime } = this.#ports;
    this.#helpQueue = this.#helpQueue.then(async () => {
      const stored = await storage.local.get([HELP_ON_ERROR_SHOWN_KEY]);
      if (stored[HELP_ON_ERROR_SHOWN_KEY] === true) return;
      await storage.local.set({ [HELP_ON_ERROR_SHOWN_KEY]: true });
      await runtime.openOptionsPage();
    }).catch((error) => this.#log(`Cannot open the options page: ${String(error)}`));
  }
}

/** Re-exported for callers that branch on `lastError.code`. */
export type { ConnectionErrorCode };
