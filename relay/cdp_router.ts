/**
 * The relay's CDP endpoint logic (protocol §6): clients with their auto-attach, discovery and
 * held-session state, the commands the relay answers itself, and event routing.
 *
 * @module
 */

import type { CdpFrame } from "../codec/cdp_frame.ts";
import type { CdpCall, Outcome } from "../codec/extension_frame.ts";
import type { JsonObject, JsonValue } from "../codec/json.ts";
import { ErrorText, isTargetGoneError, unsupportedMethodError } from "../codec/messages.ts";
import type { TargetEntry, TargetRegistry } from "./targets.ts";

/** A command as received from a CDP client. */
export interface CdpCommand {
  /** Client-chosen id, echoed in the response. */
  readonly id: number;
  /** CDP method. */
  readonly method: string;
  /** CDP params. */
  readonly params?: JsonObject;
  /** Flat session id. */
  readonly sessionId?: string;
}

/** One connected CDP client. */
export interface CdpClient {
  /** Relay-local client number, for logs. */
  readonly id: number;
  /** Whether a root `Target.setAutoAttach {autoAttach: true}` is in effect. */
  autoAttach: boolean;
  /** Whether `Target.setDiscoverTargets {discover: true}` is in effect. */
  discover: boolean;
  /** Top-level sessions this client holds: an attach was delivered and no detach since. */
  readonly held: Set<string>;
  /** `false` once the client is gone; its late replies are dropped. */
  open: boolean;
}

/** Options of {@linkcode CdpRouter}. */
export interface CdpRouterOptions {
  /** The target cache shared with the server. */
  readonly targets: TargetRegistry;
  /** Sends a frame to a client; called only while the client is open. */
  readonly send: (client: CdpClient, frame: CdpFrame) => void;
  /**
   * Forwards a command to the extension (§6.3) and calls `done` exactly once with the result
   * or the error text the client receives. A reply from the extension must be passed to `done`
   * synchronously, so that it reaches the client before any event the extension sent after it.
   */
  readonly forward: (call: CdpCall, done: (outcome: Outcome) => void) => void;
  /** The `userAgent` of the extension's browser, from `connect`, if known. */
  readonly userAgent: () => string | undefined;
  /** Called when the last client holding a top-level session goes away. */
  readonly onSessionReleased?: (sessionId: string) => void;
}

/** The browser target's id: 32 hex digits, fixed per router (§6.2). */
function browserTargetId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex.toUpperCase();
}

function str(value: JsonValue | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function obj(value: JsonValue | undefined): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as JsonObject
    : undefined;
}

/**
 * Routes CDP traffic between clients and the extension. Every command gets exactly one reply
 * while its client stays open.
 *
 * @example
 * ```ts
 * import { CdpRouter } from "./cdp_router.ts";
 * import { TargetRegistry } from "./targets.ts";
 *
 * const router = new CdpRouter({
 *   targets: new TargetRegistry(),
 *   send: (_client, frame) => console.log(frame),
 *   forward: (_call, done) => done({ ok: false, error: "Extension not connected" }),
 *   userAgent: () => undefined,
 * });
 * const client = router.addClient();
 * router.handleCommand(client, { id: 1, method: "Target.getTargets" });
 * ```
 */
export class CdpRouter {
  readonly #options: CdpRouterOptions;
  readonly #targets: TargetRegistry;
  readonly #clients = new Set<CdpClient>();
  readonly #browserTargetId = browserTargetId();
  #nextClientId = 0;

  /**
   * Creates a router without clients.
   *
   * @param options Target cache, transport and forwarding callbacks.
   */
  constructor(options: CdpRouterOptions) {
    this.#options = options;
    this.#targets = options.targets;
  }

  /** Number of connected clients. */
  get size(): number {
    return this.#clients.size;
  }

  /** The connected clients. */
  clients(): CdpClient[] {
    return [...this.#clients];
  }

  /** Registers a new client. */
  addClient(): CdpClient {
    const client: CdpClient = {
      id: ++this.#nextClientId,
      autoAttach: false,
      discover: false,
      held: new Set(),
      open: true,
    };
    this.#clients.add(client);
    return client;
  }

  /**
   * Forgets a client. Sessions that no other client holds are reported to
   * `onSessionReleased`.
   */
  removeClient(client: CdpClient): void {
    if (!this.#clients.delete(client)) return;
    client.open = false;
    for (const sessionId of client.held) {
      const stillHeld = [...this.#clients].some((other) => other.held.has(sessionId));
      if (!stillHeld && this.#targets.get(sessionId) !== undefined) {
        this.#options.onSessionReleased?.(sessionId);
      }
    }
    client.held.clear();
  }

  /**
   * Answers or forwards one command from a client (§6.2, §6.3).
   *
   * @param client The sending client.
   * @param command The decoded command.
   */
  handleCommand(client: CdpClient, command: CdpCommand): void {
    const local = this.#local(client, command);
    if (local === "forward") {
      this.#forward(client, command);
    } else if (typeof local === "string") {
      this.#fail(client, command, local);
    } else {
      this.#reply(client, command, local);
    }
  }

  /** Sends an error reply for a frame that could not be decoded but has a numeric id. */
  replyError(client: CdpClient, id: number, message: string): void {
    this.#send(client, {
      kind: "response",
      id,
      outcome: { ok: false, error: { code: -32000, message } },
    });
  }

  /**
   * Books and routes one `forwardCDPEvent` from the extension (§6.5).
   *
   * @param event The event's method, params and outer session id.
   */
  handleEvent(event: CdpCall): void {
    const params = event.params ?? {};
    const outer = event.sessionId;
    switch (event.method) {
      case "Target.attachedToTarget": {
        const sessionId = str(params.sessionId);
        const info = obj(params.targetInfo);
        if (outer !== undefined) {
          if (sessionId !== undefined) this.#targets.addChild(sessionId, outer);
          this.#routeSessionEvent(event);
        } else if (sessionId !== undefined && info !== undefined) {
          this.#announce(sessionId, info, params.waitingForDebugger === true);
        }
        return;
      }
      case "Target.detachedFromTarget": {
        const sessionId = str(params.sessionId);
        if (outer !== undefined) {
          if (sessionId !== undefined) this.#targets.removeChild(sessionId);
          this.#routeSessionEvent(event);
          return;
        }
        if (sessionId !== undefined && this.#targets.isChild(sessionId)) {
          // The legacy extension sends child detaches without the parent as outer session.
          const parent = this.#targets.topLevelOf(sessionId);
          this.#targets.removeChild(sessionId);
          this.#routeSessionEvent(parent === undefined ? event : { ...event, sessionId: parent });
          return;
        }
        const reason = str(params.reason);
        const entries = sessionId !== undefined
          ? [this.#targets.get(sessionId)].filter((e): e is TargetEntry => e !== undefined)
          : this.#targets.byTargetId(str(params.targetId) ?? "");
        for (const entry of entries) this.#detach(entry, reason);
        return;
      }
      case "Target.targetInfoChanged": {
        if (outer !== undefined) break;
        const info = obj(params.targetInfo);
        if (info === undefined) return;
        const updated = this.#targets.merge(info);
        const targetInfo = updated[0]?.targetInfo ?? info;
        const holders = new Set(updated.flatMap((entry) => this.#holders(entry.sessionId)));
        for (const client of this.#clients) {
          if (client.discover || holders.has(client)) {
            this.#event(client, "Target.targetInfoChanged", { targetInfo });
          }
        }
        return;
      }
      case "Target.targetDestroyed":
      case "Target.targetCrashed": {
        if (outer !== undefined) break;
        const targetId = str(params.targetId);
        if (targetId === undefined) return;
        const removed = this.#targets.byTargetId(targetId);
        const holders = new Set(removed.flatMap((entry) => this.#holders(entry.sessionId)));
        for (const entry of removed) this.#detach(entry, undefined, false);
        for (const client of this.#clients) {
          if (client.discover || holders.has(client)) this.#event(client, event.method, params);
        }
        return;
      }
    }
    this.#routeSessionEvent(event);
  }

  /**
   * Prunes the cache after a forwarded command failed with a target-gone message (§7).
   *
   * @param call The failed command.
   * @param message Its error message.
   */
  prune(call: CdpCall, message: string): void {
    if (!isTargetGoneError(message)) return;
    const entry = call.sessionId === undefined ? undefined : this.#targets.get(call.sessionId);
    if (entry !== undefined) {
      this.#detach(entry);
      return;
    }
    const targetId = str(call.params?.targetId);
    if (targetId === undefined) return;
    for (const stale of this.#targets.byTargetId(targetId)) this.#detach(stale);
  }

  // ---------------------------------------------------------------------------------------
  // Commands

  #local(client: CdpClient, command: CdpCommand): JsonObject | string | "forward" {
    const params = command.params ?? {};
    const { method } = command;
    if (method.startsWith("Browser.")) {
      switch (method) {
        case "Browser.getVersion": {
          const ua = this.#options.userAgent();
          const version = ua === undefined ? undefined : /Chrome\/([\d.]+)/.exec(ua)?.[1];
          return {
            protocolVersion: "1.3",
            product: version === undefined ? "Chrome/Browser-Relay" : `Chrome/${version}`,
            revision: "0",
            userAgent: ua ?? "Browser-Relay",
            jsVersion: "V8",
          };
        }
        case "Browser.setDownloadBehavior":
        case "Browser.close":
          return {};
        default:
          return unsupportedMethodError(method);
      }
    }
    switch (method) {
      case "Target.setAutoAttach": {
        if (command.sessionId !== undefined) return "forward";
        client.autoAttach = params.autoAttach === true;
        if (client.autoAttach) {
          for (const entry of this.#targets.list()) this.#attach(client, entry, false);
        }
        return {};
      }
      case "Target.setDiscoverTargets": {
        client.discover = params.discover === true;
        if (client.discover) {
          for (const entry of this.#targets.list()) {
            this.#event(client, "Target.targetCreated", { targetInfo: entry.targetInfo });
          }
        }
        return {};
      }
      case "Target.getTargets":
        return { targetInfos: this.#targets.list().map((entry) => entry.targetInfo) };
      case "Target.getTargetInfo": {
        const targetId = str(params.targetId);
        if (targetId !== undefined) {
          const entry = this.#targets.byTargetId(targetId)[0];
          return entry === undefined
            ? ErrorText.NoTargetWithGivenId
            : { targetInfo: entry.targetInfo };
        }
        if (command.sessionId === undefined) {
          return {
            targetInfo: {
              targetId: this.#browserTargetId,
              type: "browser",
              title: "",
              url: "",
              attached: true,
              canAccessOpener: false,
            },
          };
        }
        const entry = this.#targets.get(command.sessionId);
        return entry === undefined ? "forward" : { targetInfo: entry.targetInfo };
      }
      case "Target.attachToTarget": {
        const targetId = str(params.targetId);
        if (targetId === undefined || targetId === "") return ErrorText.TargetIdRequired;
        const entry = this.#targets.byTargetId(targetId)[0];
        if (entry === undefined) return ErrorText.NoTargetWithGivenId;
        this.#attach(client, entry, false);
        return { sessionId: entry.sessionId };
      }
      case "Target.detachFromTarget": {
        const sessionId = str(params.sessionId);
        const targetId = str(params.targetId);
        const topLevel = (sessionId !== undefined && this.#targets.get(sessionId) !== undefined) ||
          (sessionId === undefined && targetId !== undefined &&
            this.#targets.byTargetId(targetId).length > 0);
        return topLevel ? {} : "forward";
      }
      case "Target.getBrowserContexts":
        return { browserContextIds: [] };
      case "Target.createBrowserContext":
      case "Target.disposeBrowserContext":
        return unsupportedMethodError(method);
      default:
        return "forward";
    }
  }

  #forward(client: CdpClient, command: CdpCommand): void {
    const call: CdpCall = {
      method: command.method,
      ...(command.params === undefined ? {} : { params: command.params }),
      ...(command.sessionId === undefined ? {} : { sessionId: command.sessionId }),
    };
    this.#options.forward(call, (outcome) => {
      if (outcome.ok) {
        this.#reply(client, command, outcome.result);
      } else {
        this.#fail(client, command, outcome.error);
        this.prune(call, outcome.error);
      }
    });
  }

  #reply(client: CdpClient, command: CdpCommand, result: JsonObject): void {
    this.#send(client, {
      kind: "response",
      id: command.id,
      ...(command.sessionId === undefined ? {} : { sessionId: command.sessionId }),
      outcome: { ok: true, result },
    });
  }

  #fail(client: CdpClient, command: CdpCommand, message: string): void {
    this.#send(client, {
      kind: "response",
      id: command.id,
      ...(command.sessionId === undefined ? {} : { sessionId: command.sessionId }),
      outcome: { ok: false, error: { code: -32000, message } },
    });
  }

  // ---------------------------------------------------------------------------------------
  // Events

  #send(client: CdpClient, frame: CdpFrame): void {
    if (client.open) this.#options.send(client, frame);
  }

  #event(client: CdpClient, method: string, params: JsonObject, sessionId?: string): void {
    this.#send(client, {
      kind: "event",
      method,
      params,
      ...(sessionId === undefined ? {} : { sessionId }),
    });
  }

  #holders(sessionId: string): CdpClient[] {
    return [...this.#clients].filter((client) => client.held.has(sessionId));
  }

  /** Delivers an attach unless the client already holds the session (§5.3). */
  #attach(client: CdpClient, entry: TargetEntry, waitingForDebugger: boolean): void {
    if (client.held.has(entry.sessionId)) return;
    client.held.add(entry.sessionId);
    this.#event(client, "Target.attachedToTarget", {
      sessionId: entry.sessionId,
      targetInfo: entry.targetInfo,
      waitingForDebugger,
    });
  }

  /**
   * Removes a top-level entry, tells its holders (always with `targetId`, which Playwright
   * matches pages by) and then discovery clients.
   */
  #detach(entry: TargetEntry, reason?: string, destroyed = true): void {
    this.#targets.delete(entry.sessionId);
    for (const client of this.#holders(entry.sessionId)) {
      client.held.delete(entry.sessionId);
      this.#event(client, "Target.detachedFromTarget", {
        sessionId: entry.sessionId,
        targetId: entry.targetId,
        ...(reason === undefined ? {} : { reason }),
      });
    }
    if (destroyed && this.#targets.byTargetId(entry.targetId).length === 0) {
      for (const client of this.#clients) {
        if (client.discover) {
          this.#event(client, "Target.targetDestroyed", { targetId: entry.targetId });
        }
      }
    }
  }

  /** A top-level attach from the extension (§5.3, §6.5). */
  #announce(sessionId: string, info: JsonObject, waitingForDebugger: boolean): void {
    const targetId = str(info.targetId);
    if (targetId === undefined || (str(info.type) ?? "page") !== "page") return;
    const existing = this.#targets.get(sessionId);
    if (existing !== undefined && existing.targetId === targetId) {
      // A re-announce: silent for holders.
      const before = existing.targetInfo;
      const entry = this.#targets.set(sessionId, info);
      if (before.title !== entry.targetInfo.title || before.url !== entry.targetInfo.url) {
        for (const client of this.#clients) {
          if (client.discover || client.held.has(sessionId)) {
            this.#event(client, "Target.targetInfoChanged", { targetInfo: entry.targetInfo });
          }
        }
      }
      for (const client of this.#clients) {
        if (client.autoAttach) this.#attach(client, entry, waitingForDebugger);
      }
      return;
    }
    // Same session with a new target, or the target held under another session: the old
    // detach goes first, or Playwright asserts "Duplicate target".
    if (existing !== undefined) this.#detach(existing);
    const moved = this.#targets.byTargetId(targetId);
    for (const stale of moved) this.#detach(stale, undefined, false);
    const entry = this.#targets.set(sessionId, info);
    for (const client of this.#clients) {
      if (client.discover && moved.length === 0) {
        this.#event(client, "Target.targetCreated", { targetInfo: entry.targetInfo });
      }
    }
    for (const client of this.#clients) {
      if (client.autoAttach) this.#attach(client, entry, waitingForDebugger);
    }
  }

  /** Session events go to the holders of their top-level session; unknown ones to everyone. */
  #routeSessionEvent(event: CdpCall): void {
    const topLevel = event.sessionId === undefined
      ? undefined
      : this.#targets.topLevelOf(event.sessionId);
    const recipients = topLevel === undefined ? this.clients() : this.#holders(topLevel);
    for (const client of recipients) {
      this.#event(client, event.method, event.params ?? {}, event.sessionId);
    }
  }
}
