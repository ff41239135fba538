/**
 * One connect attempt's side of the handshake: its credentials, its preflight and socket URL, its
 * answer to the challenge, and what the reply to its `connect` means. The pure pieces it uses are
 * in `handshake.ts` and `preflight.ts`.
 *
 * Two ways to authenticate, chosen only by the `openclawRelayCompat` setting, never by what a
 * relay says: scheme `mutual-v1` (the default: no credential leaves the extension before the
 * relay proved that it knows the gateway token, docs/protocol-extensions.md), or the OpenClaw
 * flow of protocol §2–§3 (relay token in the preflight and the URL, gateway token in `connect`).
 * The choice is made here, so `RelayConnection` never asks which flow runs.
 *
 * An attempt never changes the connection's phase: each step returns what happened, and
 * `RelayConnection` (`relay_connection.ts`) makes that the next phase, owns the scope each step
 * waits in, and is the one place that decides whether and when to retry.
 *
 * @module
 */

import { CloseCode, CloseReason } from "../codec/close_codes.ts";
import { deriveRelayToken } from "../codec/derive_relay_token.ts";
import { encodeNonce, mutualAuthKey, mutualSocketUrl } from "../codec/mutual_auth.ts";
import type { ConnectionError, EffectivePolicy } from "./connection_state.ts";
import { ErrorText } from "./error_text.ts";
import {
  answerMutualChallenge,
  buildConnectRequest,
  classifyConnectReply,
  type ConnectReply,
  type ConnectRequestFrame,
  type MutualAnswer,
  type MutualChallengeInput,
} from "./handshake.ts";
import { type PhaseScope, ScopeReleasedError } from "./phase_scope.ts";
import type { Clock, HttpGet, RuntimePort } from "./ports.ts";
import { preflight, type PreflightResult } from "./preflight.ts";
import { relayBaseUrl, type Settings } from "./settings.ts";

/** The ports an attempt uses. */
export interface ConnectAttemptPorts {
  /** Preflight deadlines; time and randomness of the `connect` request id. */
  readonly clock: Clock;
  /** The preflight requests. */
  readonly http: HttpGet;
  /** `client.version` and `userAgent` of the `connect` request. */
  readonly runtime: Pick<RuntimePort, "version" | "userAgent">;
}

/** The injectable steps of an attempt; `RelayConnectionOptions` extends these. */
export interface ConnectAttemptOptions {
  /**
   * Derives the relay token from the gateway token and port.
   *
   * @default {deriveRelayToken}
   */
  readonly deriveToken?: (gatewayToken: string, port: number) => Promise<string>;
  /**
   * Scheme `mutual-v1`: derives the per-port key from the gateway token and port.
   *
   * @default {mutualAuthKey}
   */
  readonly mutualKey?: (gatewayToken: string, port: number) => Promise<CryptoKey>;
  /**
   * Scheme `mutual-v1`: a fresh client nonce per socket (43 base64url characters).
   *
   * @default {32 bytes from crypto.getRandomValues}
   */
  readonly clientNonce?: () => string;
  /**
   * Scheme `mutual-v1`: checks the relay's proof and builds the `connect` request. WebCrypto
   * resolves outside fake time, so fake-time tests wrap this to await it.
   *
   * @default {answerMutualChallenge}
   */
  readonly answerChallenge?: (input: MutualChallengeInput) => Promise<MutualAnswer>;
}

/** What every attempt of one connection shares. */
export interface ConnectAttemptContext {
  /** The ports the attempt uses. */
  readonly ports: ConnectAttemptPorts;
  /** The injectable steps; each one absent uses its default. */
  readonly options: ConnectAttemptOptions;
  /** Deadline of each preflight request, in milliseconds (validated by the connection). */
  readonly preflightTimeoutMs: number;
  /** Liveness window when hello-ok announces no `tickIntervalMs`, in milliseconds. */
  readonly livenessMs: number;
}

/**
 * How a step of the attempt failed. It only describes the failure: the connection's one failure
 * path decides the next phase from it.
 */
export interface AttemptFailure extends ConnectionError {
  /** `never`: stop until the settings change; `backoff`: retry per the reconnect policy. */
  readonly retry: "never" | "backoff";
  /** Minimum wait before the next attempt (`AUTH_RATE_LIMITED`). */
  readonly retryAfterMs?: number;
  /**
   * How to close the socket: a code and reason, a plain `close()`, or not at all (there is none
   * yet, or it is already closed).
   */
  readonly close: { readonly code: CloseCode; readonly reason: string } | "plain" | "already";
}

/** What the connection's scope for a step offers the step's awaits; the connection releases it. */
export type AttemptStep = Pick<PhaseScope, "alive" | "signal">;

/** How {@linkcode ConnectAttempt.prototype.prepare} ended. */
export type AttemptPlan =
  /** Open the attempt's socket at `url`. */
  | { readonly kind: "open"; readonly url: string }
  | { readonly kind: "failed"; readonly failure: AttemptFailure };

/** What to do with a challenge, per {@linkcode ConnectAttempt.prototype.answer}. */
export type ChallengeAnswer =
  /** Send this `connect` now (the OpenClaw flow answers at once). */
  | { readonly kind: "send"; readonly request: ConnectRequestFrame }
  /** Scheme `mutual-v1`: the relay's proof is being checked; act when `checked` settles. */
  | { readonly kind: "checking"; readonly checked: Promise<CheckedAnswer> }
  /** A second challenge while the first is checked: one answer per socket. */
  | { readonly kind: "ignored" };

/** How the check of a `mutual-v1` challenge ended; the promise never rejects. */
export type CheckedAnswer =
  | { readonly kind: "send"; readonly request: ConnectRequestFrame }
  | { readonly kind: "failed"; readonly failure: AttemptFailure };

/** What the reply to the attempt's `connect` means, per {@linkcode ConnectAttempt.prototype.accept}. */
export type ReplyOutcome =
  | {
    readonly kind: "ready";
    readonly policy: EffectivePolicy;
    readonly relayVersion: string | undefined;
  }
  | { readonly kind: "failed"; readonly failure: AttemptFailure };

/** Scheme `mutual-v1`: this attempt's key and its socket's nonce. */
interface MutualCredentials {
  readonly key: CryptoKey;
  readonly clientNonce: string;
}

function randomNonce(): string {
  return encodeNonce(crypto.getRandomValues(new Uint8Array(32)));
}

function failed(
  failure: AttemptFailure,
): { readonly kind: "failed"; readonly failure: AttemptFailure } {
  return { kind: "failed", failure };
}

/**
 * The one failure of each refused preflight, for both flows: an unreachable relay is retried;
 * a refused token (asked only with a relay token) and a relay without mutual-v1 (asked only
 * without one) wait for the settings to change.
 */
function preflightFailure(
  result: Exclude<PreflightResult, { readonly kind: "ok" }>,
): AttemptFailure {
  switch (result.kind) {
    case "unreachable":
      return {
        code: "relay_unreachable",
        message: result.message,
        retry: "backoff",
        close: "already",
      };
    case "token_rejected":
      return {
        code: "token_rejected",
        message: result.message,
        retry: "never",
        close: "already",
      };
    case "mutual_unsupported":
      return {
        code: "incompatible_relay",
        message: result.message,
        retry: "never",
        close: "already",
      };
    default: {
      const _exhaustive: never = result;
      return _exhaustive;
    }
  }
}

/**
 * One connect attempt, from the stored settings to the reply to its `connect`. The connection
 * makes one per attempt and drops it when the attempt ends; its steps wait in the connection's
 * scopes, so a released scope stops them at their next await.
 *
 * @example
 * ```ts
 * const attempt = new ConnectAttempt(settings.relayPort, context);
 * const plan = await attempt.prepare(settings, step, new Set());
 * if (plan.kind === "open") openSocket(plan.url);
 * // on the challenge:
 * const answer = attempt.answer(nonce);
 * if (answer.kind === "send") socket.send(encodeExtensionFrame(answer.request));
 * ```
 */
export class ConnectAttempt {
  readonly #context: ConnectAttemptContext;
  #port: number;
  #gatewayToken = "";
  #expectsChallenge = false;
  #connectId: string | undefined;
  /** Scheme `mutual-v1`: set once the preflight passed; `undefined` in OpenClaw compatibility. */
  #mutual: MutualCredentials | undefined;
  /** Scheme `mutual-v1`: a challenge is being answered (its proof is being checked). */
  #answering = false;

  /**
   * Creates an attempt that has asked nothing yet.
   *
   * @param port The relay port until the settings are read.
   * @param context Ports, deadlines and injectables shared by the connection's attempts.
   */
  constructor(port: number, context: ConnectAttemptContext) {
    this.#port = port;
    this.#context = context;
  }

  /** The relay port this attempt dials. */
  get port(): number {
    return this.#port;
  }

  /** True when the relay must send a challenge: no legacy readiness for this attempt. */
  get expectsChallenge(): boolean {
    return this.#expectsChallenge;
  }

  /** The id of the `connect` request this attempt handed out, once it did. */
  get connectId(): string | undefined {
    return this.#connectId;
  }

  /**
   * Settings → credentials → preflight → the socket URL. Without a gateway token nothing is
   * asked at all. Scheme `mutual-v1` (unless `openclawRelayCompat`): key, credential-free
   * preflight, tokenless URL with a fresh nonce, and a relay that does not offer the scheme ends
   * the attempt: never a fallback to the token flow.
   *
   * @param settings The stored settings, read for this attempt.
   * @param step The scope of the `preflight` step: its signal aborts the requests.
   * @param challengePorts Ports that sent a late challenge: the attempt then waits for one (§3.7).
   * @returns `open` with the URL, or `failed` with why.
   * @throws {ScopeReleasedError} If `step` was released while a step waited.
   */
  async prepare(
    settings: Settings,
    step: AttemptStep,
    challengePorts: ReadonlySet<number>,
  ): Promise<AttemptPlan> {
    this.#port = settings.relayPort;
    this.#gatewayToken = settings.gatewayToken;
    if (settings.gatewayToken === "") {
      // §2.3 rule 1: no network I/O at all.
      return failed({
        code: "missing_token",
        message: ErrorText.MissingGatewayToken,
        retry: "never",
        close: "already",
      });
    }
    if (settings.openclawRelayCompat !== true) return await this.#prepareMutual(step);
    const derive = this.#context.options.deriveToken ?? deriveRelayToken;
    let relayToken: string;
    try {
      relayToken = await step.alive(derive(settings.gatewayToken, settings.relayPort));
    } catch (error) {
      if (error instanceof ScopeReleasedError) throw error;
      return failed({
        code: "settings_unavailable",
        message: `Cannot derive the relay token: ${String(error)}`,
        retry: "backoff",
        close: "already",
      });
    }
    const result = await this.#preflight({ port: settings.relayPort, relayToken }, step);
    if (result.kind !== "ok") return failed(preflightFailure(result));
    this.#expectsChallenge = result.expectsChallenge || challengePorts.has(this.#port);
    return {
      kind: "open",
      url: `ws://127.0.0.1:${this.#port}/extension?token=${encodeURIComponent(relayToken)}`,
    };
  }

  /**
   * Answers a challenge. The OpenClaw flow sends its `connect` with the gateway token at once;
   * scheme `mutual-v1` first checks the relay's proof and sends only if it holds, with the
   * extension's proof in place of the token.
   *
   * @param nonce `payload.nonce` of the challenge.
   * @returns `send` (the request to send now), `checking` (a promise that never rejects), or
   *   `ignored` for a challenge while another is checked.
   */
  answer(nonce: string): ChallengeAnswer {
    const { runtime, clock } = this.#context.ports;
    const mutual = this.#mutual;
    if (mutual === undefined) {
      const request = buildConnectRequest({
        token: this.#gatewayToken,
        version: runtime.version,
        userAgent: runtime.userAgent,
        now: clock.now(),
        random: () => clock.random(),
      });
      this.#connectId = request.id;
      return { kind: "send", request };
    }
    if (this.#answering) return { kind: "ignored" };
    this.#answering = true;
    return { kind: "checking", checked: this.#check(mutual, nonce) };
  }

  /**
   * What the reply to this attempt's `connect` means: ready with the relay's policy (batches
   * only where the extension offered them, in scheme `mutual-v1`), or why not.
   *
   * @param reply The reply whose id is {@linkcode ConnectAttempt.prototype.connectId}.
   * @returns `ready` with policy and relay version, or `failed`.
   */
  accept(reply: ConnectReply): ReplyOutcome {
    const outcome = classifyConnectReply(reply, this.#context.livenessMs);
    if (outcome.kind === "accepted") {
      // Batches only where the extension offered them (mutual-v1); the OpenClaw flow never does.
      const { maxBatchFrames: _, ...unbatched } = outcome.policy;
      return {
        kind: "ready",
        policy: this.#mutual === undefined ? unbatched : outcome.policy,
        relayVersion: outcome.hello.server?.version,
      };
    }
    return failed({
      code: outcome.code,
      message: outcome.code === "token_rejected"
        ? `${outcome.error.message}: enter the gateway token the relay printed at start in the extension options`
        : outcome.error.message,
      retry: outcome.retry,
      ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
      close: { code: CloseCode.PolicyViolation, reason: CloseReason.GatewayConnectFailed },
    });
  }

  /** Scheme `mutual-v1`: key → credential-free preflight → tokenless URL with a fresh nonce. */
  async #prepareMutual(step: AttemptStep): Promise<AttemptPlan> {
    const deriveKey = this.#context.options.mutualKey ?? mutualAuthKey;
    let key: CryptoKey;
    try {
      key = await step.alive(deriveKey(this.#gatewayToken, this.#port));
    } catch (error) {
      if (error instanceof ScopeReleasedError) throw error;
      return failed({
        code: "settings_unavailable",
        message: `Cannot derive the mutual authentication key: ${String(error)}`,
        retry: "backoff",
        close: "already",
      });
    }
    const result = await this.#preflight({ port: this.#port }, step);
    if (result.kind !== "ok") return failed(preflightFailure(result));
    const clientNonce = (this.#context.options.clientNonce ?? randomNonce)();
    this.#mutual = { key, clientNonce };
    this.#expectsChallenge = true;
    return { kind: "open", url: mutualSocketUrl(this.#port, clientNonce) };
  }

  /**
   * The attempt's preflight: a throw other than the step's release counts as an unreachable
   * relay, as a failed request does.
   */
  async #preflight(
    target: { readonly port: number; readonly relayToken?: string },
    step: AttemptStep,
  ): Promise<PreflightResult> {
    const { http, clock } = this.#context.ports;
    try {
      return await step.alive(preflight(
        target,
        { http, clock },
        { timeoutMs: this.#context.preflightTimeoutMs, signal: step.signal },
      ));
    } catch (error) {
      if (error instanceof ScopeReleasedError) throw error;
      return {
        kind: "unreachable",
        message: `Relay server not reachable at ${relayBaseUrl(target.port)} (${String(error)})`,
      };
    }
  }

  /**
   * Scheme `mutual-v1`: checks the relay's proof and, only if it holds, hands out the `connect`
   * with the extension's proof. A refused challenge sends nothing and stops; a check that throws
   * is retried with backoff.
   */
  async #check(mutual: MutualCredentials, challengeNonce: string): Promise<CheckedAnswer> {
    const { runtime, clock } = this.#context.ports;
    const answerChallenge = this.#context.options.answerChallenge ?? answerMutualChallenge;
    let answer: MutualAnswer;
    try {
      answer = await answerChallenge({
        key: mutual.key,
        port: this.#port,
        clientNonce: mutual.clientNonce,
        challengeNonce,
        version: runtime.version,
        userAgent: runtime.userAgent,
        now: clock.now(),
        random: () => clock.random(),
      });
    } catch (error) {
      return failed({
        code: "handshake_rejected",
        message: `Cannot answer the relay's challenge: ${String(error)}`,
        retry: "backoff",
        close: { code: CloseCode.PolicyViolation, reason: CloseReason.GatewayConnectFailed },
      });
    }
    if (answer.kind === "refused") {
      const proven = answer.reason === "bad_proof";
      return failed({
        code: proven ? "relay_unproven" : "incompatible_relay",
        message: answer.error.message,
        retry: "never",
        close: {
          code: CloseCode.PolicyViolation,
          reason: proven ? CloseReason.RelayProofInvalid : CloseReason.MutualAuthMissing,
        },
      });
    }
    this.#connectId = answer.request.id;
    return { kind: "send", request: answer.request };
  }
}
