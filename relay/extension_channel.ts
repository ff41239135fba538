/**
 * The relay's one channel to the extension: which socket is current, whether the extension is
 * available, how long the relay waits for it to come back (the grace period), the commands held
 * meanwhile, and the table of commands awaiting the extension's reply (protocol §6.3, §7).
 *
 * @module
 */

import type { WebSocket } from "ws";
import { CloseCode, CloseReason } from "../codec/close_codes.ts";
import type { CdpCall, ExtensionFrame, Outcome } from "../codec/extension_frame.ts";
import type { DecodeResult } from "../codec/issue.ts";
import { ErrorText, requestTimeoutError } from "./error_text.ts";
import type { Clock } from "./clock.ts";
import { ExtensionLink, type ExtensionLinkOptions } from "./extension_link.ts";

/** A command for the extension. `settle` runs exactly once with its outcome. */
export interface ChannelCommand extends CdpCall {
  /**
   * Receives the outcome: synchronously when the reply frame arrives, so the reply reaches its
   * client before any event the extension sent after it; otherwise on deadline, disconnect,
   * grace expiry or stop.
   */
  settle(outcome: Outcome): void;
}

/** A running grace period: the extension dropped and targets and clients are kept until `endsAt`. */
export interface Grace {
  /** `clock.now()` at which the grace period ends. */
  readonly endsAt: number;
  /** Its timer. */
  readonly timer: unknown;
}

/**
 * Where the channel is. Each phase owns what it names; leaving a phase releases its grace timer
 * unless the next phase carries the same grace period on.
 * - `absent`: no extension and nothing to wait for; commands fail with `Extension not connected`.
 * - `handshaking`: a socket is open but has not completed `connect`; commands are held.
 * - `ready`: commands go out at once.
 * - `grace`: the extension dropped; commands are held until it returns or the period ends.
 * - `stopping`: the relay is stopping; commands fail with `server stopping`.
 */
export type ChannelPhase =
  | { readonly name: "absent" }
  | {
    readonly name: "handshaking";
    readonly link: ExtensionLink;
    readonly grace: Grace | undefined;
  }
  | { readonly name: "ready"; readonly link: ExtensionLink }
  | { readonly name: "grace"; readonly grace: Grace }
  | { readonly name: "stopping"; readonly link: ExtensionLink | undefined };

/** The link settings the channel passes through to each {@linkcode ExtensionLink}. */
export type ChannelLinkOptions = Omit<
  ExtensionLinkOptions,
  "clock" | "beforeSend" | "onReady" | "onFrame" | "onClose" | "log"
>;

/** Options of {@linkcode ExtensionChannel}. */
export interface ExtensionChannelOptions {
  /** Time source of every deadline. */
  readonly clock: Clock;
  /** Settings of each extension socket. */
  readonly link: ChannelLinkOptions;
  /** How long targets and clients survive the extension's absence. */
  readonly graceMs: number;
  /** How long a held command waits, at most; never past the grace period. */
  readonly commandWaitMs: number | undefined;
  /** Deadline of a command sent to the extension. */
  readonly commandTimeoutMs: number;
  /**
   * Whether the relay has anything a returning extension should find (targets or clients):
   * a socket that drops before its handshake completes starts a grace period only then.
   */
  readonly hasState: () => boolean;
  /** Receives every `forwardCDPEvent` of the current link. */
  readonly onEvent: (event: CdpCall) => void;
  /**
   * Called each time an extension link becomes ready, after held commands went out (the
   * permission emulation sends its rules again: the extension clears them on a new link).
   */
  readonly onReady?: () => void;
  /** Called when a grace period ends without the extension: drop targets, close clients. */
  readonly onGraceExpired: () => void;
  /** Log sink. */
  readonly log: (line: string) => void;
}

interface Pending {
  readonly command: ChannelCommand;
  readonly deadline: number;
}

function failure(error: string): Outcome {
  return { ok: false, error };
}

/**
 * Owns the extension socket and everything that depends on it, as one {@linkcode ChannelPhase}.
 *
 * Deadlines cost no timer per command: commands sent to the extension all wait the same
 * `commandTimeoutMs`, so the pending table (a `Map`, in send order) is also in deadline order,
 * and so is the held queue. One sweep timer, armed for the earliest deadline, expires the head
 * of both and re-arms itself.
 *
 * @example
 * ```ts ignore
 * const channel = new ExtensionChannel({ clock: systemClock(), ... });
 * channel.connect(ws); // an upgraded /extension socket
 * channel.forward({ method: "Runtime.evaluate", sessionId: "cb-tab-1", settle: console.log });
 * ```
 */
export class ExtensionChannel {
  readonly #options: ExtensionChannelOptions;
  readonly #clock: Clock;
  /** The one id table: relay command id → command, in send (and so deadline) order. */
  readonly #pending = new Map<number, Pending>();
  readonly #held: Pending[] = [];
  #phase: ChannelPhase = { name: "absent" };
  #sweepTimer: unknown;
  #sweepAt = Infinity;
  // One relay-wide counter, never reset across extension reconnects (§4.2).
  #nextId = 0;
  #userAgent: string | undefined;

  /**
   * Creates a channel in phase `absent`.
   *
   * @param options Clock, deadlines, link settings and callbacks.
   */
  constructor(options: ExtensionChannelOptions) {
    this.#options = options;
    this.#clock = options.clock;
  }

  /** The current phase. */
  get phase(): ChannelPhase {
    return this.#phase;
  }

  /** Whether an extension completed its handshake and its socket is open. */
  get connected(): boolean {
    return this.#phase.name === "ready" && this.#phase.link.ready;
  }

  /** Whether a grace period is running. */
  get inGracePeriod(): boolean {
    const phase = this.#phase;
    return phase.name === "grace" || (phase.name === "handshaking" && phase.grace !== undefined);
  }

  /** Commands sent to the extension and awaiting a reply. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Commands held while the extension is away. */
  get heldCount(): number {
    return this.#held.length;
  }

  /** The `userAgent` of the last extension that sent one in `connect`. */
  get userAgent(): string | undefined {
    return this.#userAgent;
  }

  /**
   * Makes room for a new extension socket: `false` while the current one is open; a socket that
   * is already closing is terminated at once.
   *
   * @returns Whether a new socket may connect.
   */
  admit(): boolean {
    const phase = this.#phase;
    if (phase.name === "stopping") return false;
    if (phase.name !== "handshaking" && phase.name !== "ready") return true;
    if (phase.link.socket.readyState === phase.link.socket.OPEN) return false;
    phase.link.terminate();
    return true;
  }

  /**
   * Takes over an upgraded `/extension` socket and starts its handshake.
   *
   * @param ws The socket; it already has an `error` listener.
   * @param beforeSend Called before each frame the link sends, e.g. to batch writes.
   */
  connect(ws: WebSocket, beforeSend?: () => void): void {
    const phase = this.#phase;
    if (phase.name === "stopping") {
      ws.close(CloseCode.GoingAway, CloseReason.ServerStopping);
      return;
    }
    if (phase.name === "handshaking" || phase.name === "ready") phase.link.terminate();
    const current = this.#phase;
    const grace = current.name === "grace" ? current.grace : undefined;
    const link = new ExtensionLink(ws, {
      ...this.#options.link,
      clock: this.#clock,
      ...(beforeSend === undefined ? {} : { beforeSend }),
      onReady: (ready) => this.#onReady(ready),
      onFrame: (from, result) => this.#onFrame(from, result),
      onClose: (closed) => this.#onClose(closed),
      log: this.#options.log,
    });
    this.#options.log("Extension socket opened");
    // The link is stored before it starts: a legacy link is ready inside start().
    this.#enter({ name: "handshaking", link, grace });
    link.start();
  }

  /**
   * Sends a command now, holds it while the extension is away, or fails it (§6.3, §7).
   *
   * @param command The command; its `settle` runs exactly once.
   */
  forward(command: ChannelCommand): void {
    const phase = this.#phase;
    if (phase.name === "ready" && phase.link.ready) {
      this.#send(phase.link, command);
      return;
    }
    switch (phase.name) {
      case "stopping":
        command.settle(failure(ErrorText.ServerStopping));
        return;
      case "absent":
        command.settle(failure(ErrorText.ExtensionNotConnected));
        return;
      case "ready":
      case "handshaking":
      case "grace": {
        // Held during the grace period, and while a socket is handshaking or closing: its close
        // event (and so the grace period) may still be on its way.
        const now = this.#clock.now();
        const grace = phase.name === "ready" ? undefined : phase.grace;
        const remaining = grace === undefined ? this.#options.graceMs : grace.endsAt - now;
        const waitMs = Math.max(0, Math.min(this.#options.commandWaitMs ?? remaining, remaining));
        const held: Pending = { command, deadline: now + waitMs };
        this.#held.push(held);
        this.#armSweep(held.deadline);
        return;
      }
      default: {
        const _exhaustive: never = phase;
        return _exhaustive;
      }
    }
  }

  /**
   * Stops the channel: fails every pending and held command with `server stopping` and keeps
   * the link only so that {@linkcode ExtensionChannel.prototype.close} can close it.
   */
  stop(): void {
    const phase = this.#phase;
    if (phase.name === "stopping") return;
    const link = phase.name === "handshaking" || phase.name === "ready" ? phase.link : undefined;
    this.#enter({ name: "stopping", link });
    this.#failAll(ErrorText.ServerStopping);
  }

  /**
   * Closes the extension socket, if any.
   *
   * @param code Close code from `CloseCode`.
   * @param reason Close reason.
   */
  closeLink(code: number, reason: string): void {
    const phase = this.#phase;
    const link = phase.name === "grace" || phase.name === "absent" ? undefined : phase.link;
    link?.close(code, reason);
  }

  // ---------------------------------------------------------------------------------------
  // Phases

  /** The only place `#phase` changes. A grace timer not carried into `next` is cleared. */
  #enter(next: ChannelPhase): void {
    const before = this.#phase;
    const grace = before.name === "grace" || before.name === "handshaking"
      ? before.grace
      : undefined;
    const kept = next.name === "grace" || next.name === "handshaking" ? next.grace : undefined;
    if (grace !== undefined && grace !== kept) this.#clock.clearTimeout(grace.timer);
    this.#phase = next;
  }

  #startGrace(): Grace {
    const timer = this.#clock.setTimeout(() => this.#onGraceExpired(), this.#options.graceMs);
    return { endsAt: this.#clock.now() + this.#options.graceMs, timer };
  }

  #onReady(link: ExtensionLink): void {
    const phase = this.#phase;
    if (phase.name !== "handshaking" || phase.link !== link) return;
    this.#options.log(
      this.#options.link.legacy ? "Extension connected (legacy)" : "Extension connected",
    );
    if (link.userAgent !== undefined) this.#userAgent = link.userAgent;
    this.#enter({ name: "ready", link });
    // Commands held during the gap go out in arrival order.
    const held = this.#held.splice(0);
    this.#clearSweep();
    for (const entry of held) this.forward(entry.command);
    this.#options.onReady?.();
  }

  #onClose(link: ExtensionLink): void {
    const phase = this.#phase;
    if ((phase.name !== "handshaking" && phase.name !== "ready") || phase.link !== link) return;
    this.#options.log("Extension disconnected");
    // In-flight commands may already have run: fail them, never re-send (§7).
    this.#failPending(ErrorText.ExtensionDisconnected);
    const carried = phase.name === "handshaking" ? phase.grace : undefined;
    if (carried !== undefined) {
      this.#enter({ name: "grace", grace: carried });
    } else if (link.wasReady || this.#held.length > 0 || this.#options.hasState()) {
      this.#enter({ name: "grace", grace: this.#startGrace() });
    } else {
      this.#enter({ name: "absent" });
    }
  }

  #onGraceExpired(): void {
    const phase = this.#phase;
    if (phase.name !== "grace") return;
    this.#options.log("Extension did not return within the grace period");
    this.#enter({ name: "absent" });
    this.#failHeld(ErrorText.ExtensionNotConnected);
    this.#options.onGraceExpired();
  }

  // ---------------------------------------------------------------------------------------
  // Commands

  #send(link: ExtensionLink, command: ChannelCommand): void {
    const id = ++this.#nextId;
    const entry: Pending = {
      command,
      deadline: this.#clock.now() + this.#options.commandTimeoutMs,
    };
    // Registered before the send, so a reply can never find the table without it.
    this.#pending.set(id, entry);
    if (!link.send({ kind: "command", id, cdp: command })) {
      this.#pending.delete(id);
      command.settle(failure(ErrorText.ExtensionDisconnected));
      return;
    }
    this.#armSweep(entry.deadline);
  }

  #onFrame(link: ExtensionLink, result: DecodeResult<ExtensionFrame>): void {
    const phase = this.#phase;
    if (phase.name !== "ready" || phase.link !== link) return;
    if (!result.ok) {
      // A reply we are waiting for, but with a malformed result or error (§4.3).
      if (typeof result.id === "number") {
        this.#settle(result.id, failure(ErrorText.MalformedExtensionError));
      }
      return;
    }
    const frame = result.frame;
    switch (frame.kind) {
      case "response":
        this.#settle(frame.id, frame.outcome);
        return;
      case "event":
        this.#options.onEvent(frame.cdp);
        return;
      default:
        // pong counts for liveness only; gateway frames and anything else are ignored.
        return;
    }
  }

  /** Settles a pending command at once. Unknown and late ids are ignored. */
  #settle(id: number, outcome: Outcome): void {
    const entry = this.#pending.get(id);
    if (entry === undefined) return;
    this.#pending.delete(id);
    entry.command.settle(outcome);
  }

  #failPending(error: string): void {
    const entries = [...this.#pending.values()];
    this.#pending.clear();
    if (this.#held.length === 0) this.#clearSweep();
    for (const entry of entries) entry.command.settle(failure(error));
  }

  #failHeld(error: string): void {
    const held = this.#held.splice(0);
    if (this.#pending.size === 0) this.#clearSweep();
    for (const entry of held) entry.command.settle(failure(error));
  }

  #failAll(error: string): void {
    this.#failPending(error);
    this.#failHeld(error);
    this.#clearSweep();
  }

  // ---------------------------------------------------------------------------------------
  // Deadlines: one timer for both tables

  #armSweep(deadline: number): void {
    if (this.#sweepTimer !== undefined && this.#sweepAt <= deadline) return;
    this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepAt = deadline;
    this.#sweepTimer = this.#clock.setTimeout(
      () => this.#sweep(),
      Math.max(0, deadline - this.#clock.now()),
    );
  }

  #clearSweep(): void {
    this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#sweepAt = Infinity;
  }

  #sweep(): void {
    this.#sweepTimer = undefined;
    this.#sweepAt = Infinity;
    const now = this.#clock.now();
    const expired: Pending[] = [];
    let nextPending: number | undefined;
    for (const [id, entry] of this.#pending) {
      if (entry.deadline > now) {
        nextPending = entry.deadline;
        break;
      }
      this.#pending.delete(id);
      expired.push(entry);
    }
    let heldExpired = 0;
    while ((this.#held[heldExpired]?.deadline ?? Infinity) <= now) heldExpired++;
    const held = this.#held.splice(0, heldExpired);
    const nextHeld = this.#held[0]?.deadline;
    const next = Math.min(nextPending ?? Infinity, nextHeld ?? Infinity);
    if (next !== Infinity) this.#armSweep(next);
    for (const entry of expired) {
      entry.command.settle(failure(requestTimeoutError(entry.command.method)));
    }
    for (const entry of held) entry.command.settle(failure(ErrorText.ExtensionNotConnected));
  }
}
