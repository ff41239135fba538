/**
 * The service worker's connection to the relay: preflight, socket, handshake, readiness,
 * liveness, reconnect and status (protocol §2–§4, §10). The tab side talks to it through
 * {@linkcode RelayLink} and is called back through {@linkcode ConnectionHooks}.
 *
 * @module
 */

import pTimeout from "p-timeout";
import { CloseCode, CloseReason, truncateCloseReason } from "../codec/close_codes.ts";
import { decodeExtensionFrame } from "../codec/decode_extension_frame.ts";
import { deriveRelayToken } from "../codec/derive_relay_token.ts";
import { encodeExtensionFrame } from "../codec/encode_extension_frame.ts";
import type { CdpCall, ExtensionFrame, Outcome } from "../codec/extension_frame.ts";
import { formatIssues } from "../codec/format_issues.ts";
import { ErrorText, frameTooLargeError } from "./error_text.ts";
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
import {
  buildConnectRequest,
  classifyConnectReply,
  type ConnectReply,
  effectivePolicy,
} from "./handshake.ts";
import type {
  Clock,
  HttpGet,
  RuntimePort,
  SocketFactory,
  SocketHandlers,
  SocketPort,
  StorageChange,
  StoragePort,
  TimerHandle,
} from "./ports.ts";
import { preflight } from "./preflight.ts";
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

/** Options of {@linkcode RelayConnection}. */
export interface RelayConnectionOptions {
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
   * Derives the relay token from the gateway token and port.
   *
   * @default {deriveRelayToken}
   */
  readonly deriveToken?: (gatewayToken: string, port: number) => Promise<string>;
  /**
   * Receives diagnostics (dropped oversize events, hook failures). Never receives tokens.
   *
   * @default {console.warn}
   */
  readonly log?: (message: string) => void;
}

/** One connect attempt, from preflight to ready or failure. */
interface Run {
  readonly controller: AbortController;
  port: number;
  gatewayToken: string;
  expectsChallenge: boolean;
  connectId: string | undefined;
}

/** One socket and what belongs to it. */
interface Link {
  readonly run: Run;
  socket: SocketPort | undefined;
  /** Commands received on this socket that still owe their one response. */
  readonly commands: Set<number>;
}

/** Why an attempt or a ready connection ended. */
interface Failure extends ConnectionError {
  readonly retry: "never" | "backoff";
  readonly retryAfterMs?: number;
  /** How to close the socket: a code and reason, a plain `close()`, or not at all (already closed). */
  readonly close: { readonly code: CloseCode; readonly reason: string } | "plain" | "already";
  /** The close as the relay reported it, when it closed first. */
  readonly closed?: { readonly code: number; readonly reason: string };
}

/** Clock-driven timers for p-timeout, which types them as the global overloads. */
function clockTimers(
  clock: Pick<Clock, "setTimeout" | "clearTimeout">,
): { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout } {
  const set = (callback: () => void, ms?: number) => clock.setTimeout(callback, ms ?? 0);
  const clear = (handle?: ReturnType<typeof setTimeout>) => clock.clearTimeout(handle);
  return {
    setTimeout: set as unknown as typeof setTimeout,
    clearTimeout: clear as unknown as typeof clearTimeout,
  };
}

/** UTF-8 byte length of `text` when it exceeds `max`, else `undefined`; no allocation. */
function oversize(text: string, max: number): number | undefined {
  if (text.length * 3 <= max) return undefined;
  const bytes = utf8ByteLength(text);
  return bytes > max ? bytes : undefined;
}

/** For frames the codec rejected: is it an object, and is it a gateway frame (string `type`)? */
function rawShape(data: string): { kind: "none" } | {
  kind: "gateway" | "relay";
  method: unknown;
} {
  try {
    const record: unknown = JSON.parse(data);
    if (!isJsonObject(record)) return { kind: "none" };
    return {
      kind: typeof record["type"] === "string" ? "gateway" : "relay",
      method: record["method"],
    };
  } catch {
    return { kind: "none" };
  }
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
 *   settings change and a backoff timer all start attempts through the same guarded path.
 * - **Failures** are retried per {@linkcode reconnectDelay} while tabs are attached; with none,
 *   the connection goes idle. Missing and rejected tokens and incompatible relays stop until
 *   the settings change or the user asks again, and open the options page once.
 * - **Stale sockets** cannot touch state: every handler checks that its socket is current.
 * - **Resources**: each phase and step owns its timers; leaving it releases them.
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
  readonly #preflightTimeoutMs: number;
  readonly #openTimeoutMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #legacyGraceMs: number;
  readonly #livenessMs: number;
  readonly #policy: ReconnectPolicy;
  readonly #deriveToken: (gatewayToken: string, port: number) => Promise<string>;
  readonly #log: (message: string) => void;

  #state: ConnectionState = INITIAL_STATE;
  #run: Run | undefined;
  #link: Link | undefined;
  #phaseCleanups: (() => void)[] = [];
  #stepCleanups: (() => void)[] = [];
  #closed = false;
  #relayPort: number = parseSettings({}).relayPort;
  /** Ports that sent a late challenge: later attempts wait for a challenge (§3.7). */
  readonly #challengePorts = new Set<number>();
  #lastInboundAt = 0;
  #helpQueue: Promise<void> = Promise.resolve();

  readonly #onStorageChanged = (
    changes: Record<string, StorageChange>,
    areaName: string,
  ): void => {
    if (this.#closed || areaName !== "local") return;
    if (!SETTINGS_KEYS.some((key) => key in changes)) return;
    this.#settingsChanged();
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
    this.#preflightTimeoutMs = positive("preflightTimeoutMs", options.preflightTimeoutMs, 2_000);
    this.#openTimeoutMs = positive("openTimeoutMs", options.openTimeoutMs, 5_000);
    this.#handshakeTimeoutMs = positive("handshakeTimeoutMs", options.handshakeTimeoutMs, 8_000);
    this.#legacyGraceMs = positive("legacyGraceMs", options.legacyGraceMs, 500);
    this.#livenessMs = positive("livenessMs", options.livenessMs, 15_000);
    this.#policy = options.reconnectPolicy ?? DEFAULT_RECONNECT_POLICY;
    this.#deriveToken = options.deriveToken ?? deriveRelayToken;
    this.#log = options.log ?? ((message) => console.warn(message));
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
    const link = this.#readyLink();
    if (!link || this.#state.phase !== "ready") return false;
    const text = encodeExtensionFrame({ kind: "event", cdp });
    const max = this.#state.policy.maxPayload;
    const size = oversize(text, max);
    if (size !== undefined) {
      this.#log(`Dropped forwardCDPEvent "${cdp.method}": ${frameTooLargeError(size, max)}`);
      return false;
    }
    return this.#sendReady(link, text);
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
    const link = this.#readyLink();
    if (!link || this.#state.phase !== "ready" || !link.commands.delete(id)) return false;
    const max = this.#state.policy.maxPayload;
    let text = encodeExtensionFrame({ kind: "response", id, outcome });
    const size = oversize(text, max);
    if (size !== undefined) {
      text = encodeExtensionFrame({
        kind: "response",
        id,
        outcome: { ok: false, error: frameTooLargeError(size, max) },
      });
    }
    return this.#sendReady(link, text);
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
    if (phase === "idle" || phase === "stopped" || phase === "backoff") this.#startAttempt();
  }

  /**
   * The `relay-keepalive` alarm handler: refreshes the status (badges) and, when tabs are
   * attached and nothing is connecting, waiting on backoff or stopped, starts an attempt. Never
   * replaces a live connection or an attempt in flight.
   */
  onKeepalive(): void {
    if (this.#closed) return;
    if (this.#state.phase === "idle" && this.#tabs() > 0) this.#startAttempt();
    else this.#emitStatus();
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
    this.#ports.storage.onChanged.removeListener(this.#onStorageChanged);
    this.#endRun();
    this.#endLink({ code: CloseCode.Normal, reason: "" }, undefined);
    this.#transition({ type: "reset" });
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ------------------------------------------------------------------ state and resources

  /**
   * The only place `#state` changes. Returns the new state: hooks run inside (`onStatus`) and may
   * re-enter, so callers that register resources afterwards first check `this.#state === next`.
   */
  #transition(event: ConnectionEvent): ConnectionState {
    const previous = this.#state;
    const next = nextState(previous, event);
    const phaseLeft = next.phase !== previous.phase || event.type === "start" ||
      event.type === "restart" || event.type === "reset";
    if (phaseLeft || stepOf(next) !== stepOf(previous)) this.#release("step");
    if (phaseLeft) this.#release("phase");
    this.#state = next;
    this.#emitStatus();
    return next;
  }

  #release(scope: "phase" | "step"): void {
    const cleanups = scope === "phase" ? this.#phaseCleanups : this.#stepCleanups;
    if (scope === "phase") this.#phaseCleanups = [];
    else this.#stepCleanups = [];
    for (const cleanup of cleanups) cleanup();
  }

  #own(scope: "phase" | "step", cleanup: () => void): void {
    (scope === "phase" ? this.#phaseCleanups : this.#stepCleanups).push(cleanup);
  }

  /** A Clock timer owned by the current phase or step. */
  #timer(scope: "phase" | "step", ms: number, callback: () => void): void {
    const handle: TimerHandle = this.#ports.clock.setTimeout(callback, ms);
    this.#own(scope, () => this.#ports.clock.clearTimeout(handle));
  }

  /**
   * A p-timeout deadline owned by the current phase or step. `error` is built by the caller
   * before the deadline starts. Leaving the scope clears the timer and settles the gate.
   */
  #deadline(scope: "phase" | "step", ms: number, error: Error, onExpire: () => void): void {
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const timed = pTimeout(gate, {
      milliseconds: ms,
      message: error,
      customTimers: clockTimers(this.#ports.clock),
    });
    timed.then(undefined, (reason: unknown) => {
      if (reason === error) onExpire();
    });
    this.#own(scope, () => {
      timed.clear();
      open();
    });
  }

  #emitStatus(): void {
    if (this.#closed) return;
    try {
      this.#hooks.onStatus(this.status());
    } catch (error) {
      this.#log(`Status hook failed: ${String(error)}`);
    }
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

  // ------------------------------------------------------------------ attempts

  #startAttempt(): void {
    this.#endRun();
    this.#beginRun("start");
  }

  /** Creates the attempt's run, enters `connecting` and, unless a hook moved on, prepares it. */
  #beginRun(type: "start" | "restart"): void {
    const run: Run = {
      controller: new AbortController(),
      port: this.#relayPort,
      gatewayToken: "",
      expectsChallenge: false,
      connectId: undefined,
    };
    this.#run = run;
    const next = this.#transition({ type, now: this.#now() });
    if (this.#state === next) void this.#prepare(run);
  }

  #settingsChanged(): void {
    this.#challengePorts.clear();
    const phase = this.#state.phase;
    const active = phase !== "idle" && phase !== "stopped";
    this.#endRun();
    this.#endLink(
      { code: CloseCode.Normal, reason: CloseReason.SettingsChanged },
      new ConnectionClosedError(
        `Relay connection closed: code ${CloseCode.Normal} "${CloseReason.SettingsChanged}"`,
        { closeCode: CloseCode.Normal, closeReason: CloseReason.SettingsChanged },
      ),
    );
    if (!active && this.#tabs() === 0) {
      this.#transition({ type: "reset" });
      return;
    }
    this.#beginRun("restart");
  }

  #endRun(): void {
    const run = this.#run;
    this.#run = undefined;
    run?.controller.abort();
  }

  /** Settings → token → preflight → socket. Every await re-checks that the run is current. */
  async #prepare(run: Run): Promise<void> {
    let settings: Settings;
    try {
      settings = parseSettings(await this.#ports.storage.local.get(SETTINGS_KEYS));
    } catch (error) {
      if (this.#run !== run) return;
      return this.#failAttempt({
        code: "settings_unavailable",
        message: `Cannot read the extension settings: ${String(error)}`,
        retry: "backoff",
        close: "already",
      });
    }
    if (this.#run !== run) return;
    run.port = settings.relayPort;
    run.gatewayToken = settings.gatewayToken;
    if (this.#relayPort !== settings.relayPort) {
      this.#relayPort = settings.relayPort;
      this.#emitStatus();
    }
    if (settings.gatewayToken === "") {
      // §2.3 rule 1: no network I/O at all.
      return this.#failAttempt({
        code: "missing_token",
        message: ErrorText.MissingGatewayToken,
        retry: "never",
        close: "already",
      });
    }
    let relayToken: string;
    try {
      relayToken = await this.#deriveToken(settings.gatewayToken, settings.relayPort);
    } catch (error) {
      if (this.#run !== run) return;
      return this.#failAttempt({
        code: "settings_unavailable",
        message: `Cannot derive the relay token: ${String(error)}`,
        retry: "backoff",
        close: "already",
      });
    }
    if (this.#run !== run) return;
    let result;
    try {
      result = await preflight(
        { port: settings.relayPort, relayToken },
        { http: this.#ports.http, clock: this.#ports.clock },
        { timeoutMs: this.#preflightTimeoutMs, signal: run.controller.signal },
      );
    } catch {
      return; // aborted: whoever aborted owns the state now
    }
    if (this.#run !== run) return;
    switch (result.kind) {
      case "unreachable":
        return this.#failAttempt({
          code: "relay_unreachable",
          message: result.message,
          retry: "backoff",
          close: "already",
        });
      case "token_rejected":
        return this.#failAttempt({
          code: "token_rejected",
          message: result.message,
          retry: "never",
          close: "already",
        });
      case "ok": {
        run.expectsChallenge = result.expectsChallenge || this.#challengePorts.has(run.port);
        const next = this.#transition({ type: "preflight_passed" });
        if (this.#state === next) this.#openSocket(run, relayToken);
        return;
      }
      default: {
        const _exhaustive: never = result;
        return _exhaustive;
      }
    }
  }

  #openSocket(run: Run, relayToken: string): void {
    const link: Link = { run, socket: undefined, commands: new Set() };
    // Handlers are bound at creation and each first checks that its socket is current, so a
    // challenge sent on open is never missed and a replaced socket never touches state.
    const handlers: SocketHandlers = {
      onOpen: () => {
        if (this.#link === link) this.#onOpen(link);
      },
      onMessage: (data) => {
        if (this.#link === link) this.#onMessage(link, data);
      },
      onClose: (code, reason) => {
        if (this.#link === link) this.#onSocketClose(link, code, reason);
      },
      onError: () => {
        // A close event always follows; it carries the code.
      },
    };
    this.#link = link;
    const url = `ws://127.0.0.1:${run.port}/extension?token=${encodeURIComponent(relayToken)}`;
    try {
      link.socket = this.#ports.socket(url, handlers);
    } catch (error) {
      return this.#failAttempt({
        code: "relay_unreachable",
        message: `Relay server not reachable at ${relayBaseUrl(run.port)} (${String(error)})`,
        retry: "backoff",
        close: "already",
      });
    }
    const timeout = new Error(`Relay socket did not open within ${this.#openTimeoutMs} ms`);
    this.#deadline("step", this.#openTimeoutMs, timeout, () => {
      if (this.#link !== link) return;
      // §11: the legacy extension left this socket dangling; close and discard it.
      this.#failAttempt({
        code: "open_timeout",
        message: `${timeout.message} at ${relayBaseUrl(run.port)}`,
        retry: "backoff",
        close: "plain",
      });
    });
  }

  #onOpen(link: Link): void {
    const state = this.#state;
    if (state.phase !== "connecting" || state.step !== "opening") return;
    const next = this.#transition({ type: "socket_opened" });
    if (this.#state !== next) return;
    const timeout = new HandshakeTimeoutError(
      `Relay did not complete the handshake within ${this.#handshakeTimeoutMs} ms`,
      { timeoutMs: this.#handshakeTimeoutMs },
    );
    // Owned by the handshaking phase: it covers both awaiting-* steps (§3.1).
    this.#deadline("phase", this.#handshakeTimeoutMs, timeout, () => {
      if (this.#link !== link) return;
      this.#failAttempt({
        code: "handshake_timeout",
        message: `${timeout.message} at ${relayBaseUrl(link.run.port)}`,
        retry: "backoff",
        close: { code: CloseCode.PolicyViolation, reason: CloseReason.HandshakeTimeout },
      });
    });
    if (!link.run.expectsChallenge) {
      this.#timer("step", this.#legacyGraceMs, () => {
        if (this.#link !== link) return;
        this.#becomeReady(link, true, effectivePolicy(undefined, this.#livenessMs), undefined);
      });
    }
  }

  #failAttempt(failure: Failure): void {
    const state = this.#state;
    if (state.phase !== "connecting" && state.phase !== "handshaking") return;
    this.#endRun();
    this.#endLinkFor(failure);
    const error: ConnectionError = { code: failure.code, message: failure.message };
    if (failure.retry === "never") {
      this.#transition({ type: "stopped", error });
      this.#showHelpOnce();
      return;
    }
    const now = this.#now();
    const decision = reconnectDelay(
      {
        tabsAttached: this.#tabs(),
        outageMs: now - state.retry.outageSince,
        slowFailures: state.retry.slowFailures,
        ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
      },
      this.#policy,
      () => this.#ports.clock.random(),
    );
    if (decision.kind === "idle") {
      this.#transition({ type: "rested", error, now });
      return;
    }
    const next = this.#transition({
      type: "failed",
      error,
      retryAt: now + decision.delayMs,
      curve: decision.curve,
    });
    if (this.#state === next) this.#timer("phase", decision.delayMs, () => this.#startAttempt());
  }

  // ------------------------------------------------------------------ socket events

  #onSocketClose(link: Link, code: number, reason: string): void {
    const phase = this.#state.phase;
    const described = `code ${code}${reason === "" ? "" : ` "${reason}"`}`;
    if (phase === "ready") {
      return this.#dropLink(link, {
        code: "connection_closed",
        message: `Relay connection closed (${described}): reconnecting`,
        retry: "backoff",
        close: "already",
        closed: { code, reason },
      });
    }
    const incompatible = code === CloseCode.ProtocolError;
    this.#failAttempt({
      code: incompatible ? "incompatible_relay" : "connection_closed",
      message: incompatible
        ? `Relay at ${
          relayBaseUrl(link.run.port)
        } closed the connection as incompatible (${described})`
        : `Relay at ${
          relayBaseUrl(link.run.port)
        } closed the connection before it was ready (${described})`,
      retry: incompatible ? "never" : "backoff",
      close: "already",
      closed: { code, reason },
    });
  }

  #onMessage(link: Link, data: string): void {
    this.#lastInboundAt = this.#now();
    const decoded = decodeExtensionFrame(data);
    if (!decoded.ok) {
      const shape = rawShape(data);
      if (shape.kind !== "relay") return; // not an object, or a gateway frame: ignored (§4.5)
      if (!this.#relayFrameAllowed(link, undefined)) return;
      if (
        this.#state.phase === "ready" && typeof decoded.id === "number" &&
        shape.method === "forwardCDPCommand"
      ) {
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
      case "connect_challenge":
        return this.#onChallenge(link);
      case "hello_ok":
      case "gateway_response":
      case "gateway_error":
        return this.#onGatewayReply(link, frame);
      case "gateway_event":
      case "gateway_request":
      case "connect_request":
        return; // other gateway frames are ignored; they still counted for liveness
      case "command":
      case "response":
      case "event":
      case "ping":
      case "pong":
        if (!this.#relayFrameAllowed(link, frame)) return;
        return this.#dispatchReady(link, frame);
      default: {
        const _exhaustive: never = frame;
        return _exhaustive;
      }
    }
  }

  #onChallenge(link: Link): void {
    const state = this.#state;
    if (state.phase === "handshaking" && state.step === "awaiting-challenge") {
      const request = buildConnectRequest({
        token: link.run.gatewayToken,
        version: this.#ports.runtime.version,
        userAgent: this.#ports.runtime.userAgent,
        now: this.#now(),
        random: () => this.#ports.clock.random(),
      });
      link.run.connectId = request.id;
      // Leaves awaiting-challenge first: that releases the legacy grace timer.
      const next = this.#transition({ type: "connect_sent" });
      if (this.#state === next) this.#sendRaw(link, encodeExtensionFrame(request));
      return;
    }
    if (state.phase === "ready" && state.legacy) {
      // §3.7: a challenge after legacy readiness; wait for one on every later attempt here.
      this.#challengePorts.add(link.run.port);
      this.#dropLink(link, {
        code: "late_challenge",
        message: `Relay at ${
          relayBaseUrl(link.run.port)
        } sent a challenge after legacy readiness: reconnecting with the handshake`,
        retry: "backoff",
        close: { code: CloseCode.PolicyViolation, reason: CloseReason.LateChallenge },
      });
    }
    // Otherwise ignored: a connect is pending, or hello-ok already arrived (§4.5).
  }

  #onGatewayReply(link: Link, reply: ConnectReply): void {
    const state = this.#state;
    if (
      state.phase !== "handshaking" || state.step !== "awaiting-hello" ||
      reply.id !== link.run.connectId
    ) {
      return;
    }
    const outcome = classifyConnectReply(reply, this.#livenessMs);
    if (outcome.kind === "accepted") {
      this.#becomeReady(link, false, outcome.policy, outcome.hello.server?.version);
      return;
    }
    this.#failAttempt({
      code: outcome.code,
      message: outcome.code === "token_rejected"
        ? `${outcome.error.message}: enter the gateway token the relay printed at start in the extension options`
        : outcome.error.message,
      retry: outcome.retry,
      ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
      close: { code: CloseCode.PolicyViolation, reason: CloseReason.GatewayConnectFailed },
    });
  }

  /**
   * Gating before ready (§4.5 step 3). Returns true when the frame may be dispatched as a relay
   * frame on a ready connection; may make a legacy relay ready first.
   */
  #relayFrameAllowed(link: Link, frame: ExtensionFrame | undefined): boolean {
    const state = this.#state;
    if (state.phase === "ready") return true;
    if (state.phase !== "handshaking") return false;
    if (state.step === "awaiting-challenge" && !link.run.expectsChallenge) {
      this.#becomeReady(link, true, effectivePolicy(undefined, this.#livenessMs), undefined);
      // onReady may have closed or replaced the connection.
      return this.#link === link && this.#state.phase === "ready";
    }
    if (frame?.kind === "ping") return false;
    this.#failAttempt({
      code: "unexpected_frame",
      message: `Relay at ${
        relayBaseUrl(link.run.port)
      } sent a relay frame before hello-ok: it does not follow the handshake`,
      retry: "backoff",
      close: { code: CloseCode.PolicyViolation, reason: CloseReason.UnexpectedFrameBeforeHello },
    });
    return false;
  }

  #dispatchReady(link: Link, frame: ExtensionFrame): void {
    switch (frame.kind) {
      case "ping":
        this.#sendReady(link, encodeExtensionFrame({ kind: "pong" }));
        return;
      case "command":
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
      default:
        return; // responses, events and pongs from the relay are ignored (§4.5 step 6)
    }
  }

  #becomeReady(
    link: Link,
    legacy: boolean,
    policy: EffectivePolicy,
    relayVersion: string | undefined,
  ): void {
    if (this.#state.phase !== "handshaking" || this.#link !== link) return;
    this.#run = undefined; // the attempt is over; its socket lives on in the link
    const next = this.#transition({
      type: "handshake_done",
      legacy,
      policy,
      relayVersion,
      now: this.#now(),
    });
    if (this.#state !== next) return;
    this.#lastInboundAt = this.#now();
    this.#armLiveness(link, policy.livenessMs);
    this.#ports.storage.local.remove([HELP_ON_ERROR_SHOWN_KEY]).catch(() => {});
    try {
      this.#hooks.onReady();
    } catch (error) {
      this.#log(`Ready hook failed: ${String(error)}`);
    }
  }

  #armLiveness(link: Link, windowMs: number): void {
    const clock = this.#ports.clock;
    let handle: TimerHandle | undefined;
    const check = () => {
      if (this.#link !== link || this.#state.phase !== "ready") return;
      const quiet = clock.now() - this.#lastInboundAt;
      if (quiet >= windowMs) {
        this.#dropLink(link, {
          code: "heartbeat_timeout",
          message: `Relay at ${
            relayBaseUrl(link.run.port)
          } sent nothing for ${quiet} ms: reconnecting`,
          retry: "backoff",
          close: { code: CloseCode.HeartbeatTimeout, reason: CloseReason.HeartbeatTimeout },
        });
        return;
      }
      handle = clock.setTimeout(check, windowMs - quiet);
    };
    handle = clock.setTimeout(check, windowMs);
    this.#own("phase", () => clock.clearTimeout(handle));
  }

  // ------------------------------------------------------------------ sending and closing

  #readyLink(): Link | undefined {
    return this.#state.phase === "ready" ? this.#link : undefined;
  }

  #sendRaw(link: Link, text: string): boolean {
    try {
      link.socket?.send(text);
      return link.socket !== undefined;
    } catch (error) {
      const failure: Failure = {
        code: "connection_closed",
        message: `Cannot send to the relay: ${String(error)}`,
        retry: "backoff",
        close: "plain",
      };
      if (this.#state.phase === "ready") this.#dropLink(link, failure);
      else this.#failAttempt(failure);
      return false;
    }
  }

  #sendReady(link: Link, text: string): boolean {
    if (!this.#sendRaw(link, text)) return false;
    const state = this.#state;
    const max = state.phase === "ready" ? state.policy.maxBufferedBytes : undefined;
    const buffered = link.socket?.bufferedAmount ?? 0;
    if (max !== undefined && buffered > max && this.#link === link) {
      this.#dropLink(link, {
        code: "send_buffer_overflow",
        message: `Relay at ${
          relayBaseUrl(link.run.port)
        } is not reading: ${buffered} bytes buffered exceeds maxBufferedBytes ${max}`,
        retry: "backoff",
        close: { code: CloseCode.SendBufferOverflow, reason: CloseReason.SendBufferOverflow },
      });
      return false;
    }
    return true;
  }

  /** A ready connection ended: fail its work, keep attachments, reconnect (or rest). */
  #dropLink(link: Link, failure: Failure): void {
    if (this.#state.phase !== "ready" || this.#link !== link) return;
    this.#endLinkFor(failure);
    const error: ConnectionError = { code: failure.code, message: failure.message };
    const now = this.#now();
    const decision = reconnectDelay(
      { tabsAttached: this.#tabs(), outageMs: 0, slowFailures: 0 },
      this.#policy,
      () => this.#ports.clock.random(),
    );
    if (decision.kind === "idle") {
      this.#transition({ type: "rested", error, now });
      return;
    }
    const next = this.#transition({ type: "dropped", error, retryAt: now + decision.delayMs, now });
    if (this.#state === next) this.#timer("phase", decision.delayMs, () => this.#startAttempt());
  }

  #endLinkFor(failure: Failure): void {
    const link = this.#link;
    if (!link) return;
    const closed = failure.closed ??
      (typeof failure.close === "object"
        ? failure.close
        : { code: CloseCode.Abnormal, reason: "" });
    const error = new ConnectionClosedError(
      `Relay connection closed: ${failure.message}`,
      { closeCode: closed.code, closeReason: closed.reason },
    );
    this.#endLink(failure.close === "already" ? "already" : failure.close, error);
  }

  /**
   * Detaches the current socket: from here on its handlers are stale. Closes it unless it is
   * already closed, drops its unanswered commands and tells the tab side (unless `error` is
   * undefined, as in `close()`).
   */
  #endLink(
    close: { readonly code: CloseCode; readonly reason: string } | "plain" | "already",
    error: ConnectionClosedError | undefined,
  ): void {
    const link = this.#link;
    if (!link) return;
    this.#link = undefined;
    link.commands.clear();
    if (close !== "already") {
      try {
        if (close === "plain") link.socket?.close();
        else link.socket?.close(close.code, truncateCloseReason(close.reason));
      } catch {
        // Closing a socket that is already closing cannot fail in a way we could act on.
      }
    }
    if (error === undefined || this.#closed) return;
    try {
      this.#hooks.onClosed(error);
    } catch (hookError) {
      this.#log(`Closed hook failed: ${String(hookError)}`);
    }
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
