/**
 * The relay's CDP endpoint logic (protocol §6): the one registry of clients with their
 * auto-attach, discovery and held-session state, command and event routing. The commands the
 * relay answers itself live in `local_methods.ts`, relay-made sessions in `client_sessions.ts`.
 *
 * @module
 */

import type { CdpError, CdpFrame, CdpOutcome } from "../codec/cdp_frame.ts";
import { encodeCdpFrame } from "../codec/encode_cdp_frame.ts";
import type { CdpCall, Outcome } from "../codec/extension_frame.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import type { JsonObject, JsonValue } from "../codec/json.ts";
import { isTargetGoneError } from "../codec/messages.ts";
import { CreatedTargets } from "./created_targets.ts";
import { SessionOverrides } from "./session_overrides.ts";
import { SharedDomains } from "./shared_domains.ts";
import { ExecutionContexts } from "./execution_contexts.ts";
import { ChildAttachments } from "./child_attachments.ts";
import { cdpError } from "./error_text.ts";
import type { ChannelCommand } from "./extension_channel.ts";
import { type ClientSession, ClientSessions } from "./client_sessions.ts";
import { MAX_CLIENT_SESSIONS } from "./bounds.ts";
import { type LocalCommand, LocalMethods, type LocalMethodsOptions } from "./local_methods.ts";
import { randomHexId, type TargetEntry, type TargetRegistry } from "./targets.ts";
import { str } from "./json_fields.ts";

/** A command as decoded from a CDP client's frame. */
export type CdpCommand = Extract<CdpFrame, { kind: "command" }>;

/** One connected CDP client. */
export interface CdpClient {
  /** Relay-local client number, for logs. */
  readonly id: number;
  /** Writes one encoded frame to the client's socket; called only while the client is open. */
  readonly write: (text: string) => void;
  /** Closes the client's socket. */
  readonly close: (code: number, reason: string) => void;
  /** Whether a root `Target.setAutoAttach {autoAttach: true}` is in effect. */
  autoAttach: boolean;
  /** Whether `Target.setDiscoverTargets {discover: true}` is in effect. */
  discover: boolean;
  /** Top-level sessions this client holds: an attach was delivered and no detach since. */
  readonly held: Set<string>;
  /** Browser sessions and aliases made for this client. */
  readonly sessions: ClientSessions;
  /**
   * Sessions (held, alias or child, under the client's own ids) on which this client sent
   * `Page.enable` and no `Page.disable` since: only they receive `Page` events.
   */
  readonly pageEnabled: Set<string>;
  /** `false` once the client is gone; its late replies are dropped. */
  open: boolean;
}

/**
 * A command on its way to the extension. The reply goes back to `client` under the client's
 * own id and session id; `method`, `params` and `sessionId` are what the extension sees.
 */
class ForwardedCommand implements ChannelCommand {
  readonly params?: JsonObject;
  readonly sessionId?: string;
  constructor(
    readonly router: Replies,
    readonly client: CdpClient,
    readonly clientId: number,
    readonly replySessionId: string | undefined,
    readonly method: string,
    params: JsonObject | undefined,
    sessionId: string | undefined,
  ) {
    if (params !== undefined) this.params = params;
    if (sessionId !== undefined) this.sessionId = sessionId;
  }

  settle(outcome: Outcome): void {
    this.router.deliver(this, outcome);
  }
}

interface Replies {
  deliver(command: ForwardedCommand, outcome: Outcome): void;
}

/**
 * Options of {@linkcode CdpRouter}. The user agent and the download and permission emulations
 * ({@linkcode LocalMethodsOptions}) serve the methods the relay answers itself.
 */
export interface CdpRouterOptions extends LocalMethodsOptions<CdpClient> {
  /** The target cache shared with the server. */
  readonly targets: TargetRegistry;
  /**
   * Forwards a command to the extension (§6.3); its `settle` runs exactly once, synchronously
   * when the reply arrives, so the reply reaches the client before any later event.
   */
  readonly forward: (command: ChannelCommand) => void;
  /** Called when the last client holding a top-level session goes away. */
  readonly onSessionReleased?: (sessionId: string) => void;
  /** Called once when a client is removed, after its sessions are released. */
  readonly onClientRemoved?: (client: CdpClient) => void;
  /**
   * Relay-made sessions one client may hold at once.
   *
   * @default {MAX_CLIENT_SESSIONS}
   */
  readonly maxClientSessions?: number;
}

/**
 * `Page` events Chrome sends to a session that never sent `Page.enable` (measured on Chromium:
 * only the screencast's). Every other `Page` event reaches only sessions that enabled `Page`.
 * The relay's sessions of one tab share one debugger session, on which the extension keeps
 * `Page` enabled for its download emulation, so the relay filters per client session as Chrome
 * does per session. This matters most for dialogs: a client answers them on any session it gets
 * them on, and Playwright dismisses a dialog at once on a session whose page has no `dialog`
 * listener.
 */
const PAGE_EVENTS_WITHOUT_ENABLE: ReadonlySet<string> = new Set([
  "Page.screencastFrame",
  "Page.screencastVisibilityChanged",
]);

/**
 * Top-level target types the extension announces: its tabs, and the service workers of their
 * origins (`worker/service_worker_targets.ts`), which Chrome's own endpoint attaches at the
 * browser level too.
 */
const ANNOUNCED_TYPES: ReadonlySet<string> = new Set(["page", "service_worker"]);

/** Whether `method` is an event Chrome sends only to sessions that enabled `Page`. */
function needsPageEnabled(method: string): boolean {
  return method.startsWith("Page.") && !PAGE_EVENTS_WITHOUT_ENABLE.has(method);
}

function obj(value: JsonValue | undefined): JsonObject | undefined {
  return isJsonObject(value) ? value : undefined;
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
 *   forward: (command) => command.settle({ ok: false, error: "Extension not connected" }),
 *   userAgent: () => undefined,
 * });
 * const client = router.addClient({ write: console.log, close: () => {} });
 * router.handleCommand(client, { kind: "command", id: 1, method: "Target.getTargets" });
 * ```
 */
export class CdpRouter {
  readonly #options: CdpRouterOptions;
  readonly #targets: TargetRegistry;
  readonly #clients = new Set<CdpClient>();
  /** The browser target's id: 32 hex digits, fixed per router (§6.2). */
  readonly #browserTargetId = randomHexId();
  readonly #replies: Replies = { deliver: (command, outcome) => this.#deliver(command, outcome) };
  readonly #maxSessions: number;
  /** Tabs each client opened with `Target.createTarget`: what its `Browser.close` closes. */
  readonly #created = new CreatedTargets<CdpClient>();
  /** What each client turned on in shared debugger sessions: undone when it goes. */
  readonly #overrides = new SessionOverrides<CdpClient>();
  /** Domain enables per client on shared sessions: one client's disable never silences another. */
  readonly #domains = new SharedDomains<CdpClient>();
  /** Live execution contexts per session: a second client's `Runtime.enable` is answered here. */
  readonly #contexts = new ExecutionContexts();
  /** Child sessions per parent session and the clients told of each. */
  readonly #children = new ChildAttachments<CdpClient>();
  /**
   * Top-level sessions whose worker script has loaded (`Inspector.workerScriptLoaded`). Chrome
   * sends that event once to every new session of a worker, and Playwright waits for it before
   * it evaluates; the extension's one session got it long before a client attaches, so the
   * relay repeats it to each client that attaches.
   */
  readonly #scriptLoaded = new Set<string>();
  /** The `Target.*` and `Browser.*` methods the relay answers itself. */
  readonly #methods: LocalMethods<CdpClient>;
  #nextClientId = 0;

  /**
   * Creates a router without clients.
   *
   * @param options Target cache, forwarding and the extension's user agent.
   */
  constructor(options: CdpRouterOptions) {
    this.#options = options;
    this.#targets = options.targets;
    this.#maxSessions = options.maxClientSessions ?? MAX_CLIENT_SESSIONS;
    this.#methods = new LocalMethods<CdpClient>(options, {
      targets: this.#targets,
      browserTargetId: this.#browserTargetId,
      maxSessions: this.#maxSessions,
      takeCreated: (client) => this.#created.take(client),
      forward: (command) => this.#options.forward(command),
      respond: (client, command, outcome) => this.#answer(client, command, outcome),
      event: (client, method, params, sessionId) => this.#event(client, method, params, sessionId),
      attach: (client, entry) => this.#attach(client, entry, false),
      replayScriptLoaded: (client, topLevel, sessionId) =>
        this.#replayScriptLoaded(client, topLevel, sessionId),
      dropSession: (client, session) => this.#dropSession(client, session, true),
    });
  }

  /** Number of connected clients. */
  get size(): number {
    return this.#clients.size;
  }

  /** The connected clients. */
  clients(): CdpClient[] {
    return [...this.#clients];
  }

  /**
   * Registers a new client.
   *
   * @param socket Writes one encoded frame to the client's socket, and closes it.
   * @returns The client.
   */
  addClient(socket: Pick<CdpClient, "write" | "close">): CdpClient {
    const client: CdpClient = {
      id: ++this.#nextClientId,
      write: socket.write,
      close: socket.close,
      autoAttach: false,
      discover: false,
      held: new Set(),
      sessions: new ClientSessions(),
      pageEnabled: new Set(),
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
    // Tabs a client opened outlive its disconnect, as pages do on Chrome's endpoint.
    this.#created.take(client);
    // Overrides it left in sessions other clients still use end with it, as its own session
    // would on Chrome's endpoint.
    const undo = this.#overrides.release(client, (sessionId) => {
      const topLevel = this.#targets.topLevelOf(sessionId);
      return topLevel !== undefined && this.#inUse(topLevel);
    });
    for (const call of undo) this.#options.forward({ ...call, settle: () => {} });
    this.#domains.release(client);
    this.#children.release(client);
    // An alias uses the debugger session as much as holding it does.
    const used = new Set([...client.held, ...client.sessions.aliasedTopLevels()]);
    client.held.clear();
    client.sessions.clear();
    client.pageEnabled.clear();
    for (const sessionId of used) {
      if (!this.#inUse(sessionId) && this.#targets.get(sessionId) !== undefined) {
        // The session is reset: what was learnt about its contexts and children is void.
        const reset = [sessionId, ...this.#targets.childrenOf(sessionId)];
        this.#contexts.forgetSessions(reset);
        this.#children.forgetSessions(reset);
        this.#options.onSessionReleased?.(sessionId);
      }
    }
    this.#options.onClientRemoved?.(client);
  }

  /**
   * Sends one event to one open client: a browser-level event (no `sessionId`) or one on a
   * session the client holds.
   *
   * @param client The client.
   * @param method The CDP event.
   * @param params Its params.
   * @param sessionId The session it belongs to, if any.
   */
  sendEvent(client: CdpClient, method: string, params: JsonObject, sessionId?: string): void {
    this.#event(client, method, params, sessionId);
  }

  /**
   * Answers or forwards one command from a client (§6.2, §6.3).
   *
   * @param client The sending client.
   * @param command The decoded command frame.
   */
  handleCommand(client: CdpClient, command: CdpCommand): void {
    const { method, sessionId } = command;
    // Page events stop at once; they start with Chrome's reply to Page.enable (see #deliver).
    if (sessionId !== undefined && method === "Page.disable") client.pageEnabled.delete(sessionId);
    const via = sessionId === undefined ? undefined : client.sessions.get(sessionId);
    // The hot path: a CDP method on a tab's (or child's) own session goes out unchanged.
    // `Browser` also catches the relay-private `BrowserRelay.*`.
    if (via === undefined && !method.startsWith("Target.") && !method.startsWith("Browser")) {
      this.#forward(client, command, sessionId);
      return;
    }
    // What the cache and the extension see: a browser session is sessionless, an alias names
    // its top-level session. Replies still echo the client's session id.
    const effective = via === undefined
      ? sessionId
      : via.kind === "browser"
      ? undefined
      : via.topLevel;
    const local = this.#methods.answer(client, command, effective, via);
    if (local === "answered") return;
    if (local === "forward") {
      this.#forward(client, command, effective);
    } else if (typeof local === "string") {
      this.#fail(client, command.id, sessionId, local);
    } else {
      this.#reply(client, command.id, sessionId, local);
    }
  }

  /** Sends an error reply for a frame that could not be decoded but has a numeric id. */
  replyError(client: CdpClient, id: number, message: string): void {
    this.#fail(client, id, undefined, message);
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
          if (sessionId !== undefined) this.#removeChild(sessionId);
          this.#routeSessionEvent(event);
          return;
        }
        if (sessionId !== undefined && this.#targets.isChild(sessionId)) {
          // The legacy extension sends child detaches without the parent as outer session.
          const parent = this.#targets.topLevelOf(sessionId);
          this.#removeChild(sessionId);
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
        this.#created.forgetTarget(targetId);
        const removed = this.#targets.byTargetId(targetId);
        const holders = new Set(removed.flatMap((entry) => this.#holders(entry.sessionId)));
        for (const entry of removed) this.#detach(entry, undefined, false);
        for (const client of this.#clients) {
          if (client.discover || holders.has(client)) this.#event(client, event.method, params);
        }
        return;
      }
      case "Inspector.workerScriptLoaded":
        if (outer !== undefined && this.#targets.get(outer) !== undefined) {
          this.#scriptLoaded.add(outer);
        }
        break;
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
    if (call.sessionId !== undefined) {
      // A `Target.*` command that names a session or a target in its params fails about that
      // one, never about the session it was sent on: `Target.detachFromTarget {sessionId}` for a
      // page's service worker child that another client detached first, or
      // `Target.activateTarget {targetId}` for a tab that is gone, and the page lives on.
      if (
        call.method.startsWith("Target.") &&
        (call.params?.sessionId !== undefined || call.params?.targetId !== undefined)
      ) return;
      // Only the session the command named can be gone. A session the relay does not know (a
      // child, or one made up by the client) says nothing about a live target, whatever
      // `params.targetId` claims.
      const entry = this.#targets.get(call.sessionId);
      if (entry !== undefined) this.#detach(entry);
      return;
    }
    // A root `Target.*` command names its target in `params.targetId` (§7).
    if (!call.method.startsWith("Target.")) return;
    const targetId = str(call.params?.targetId);
    if (targetId === undefined) return;
    for (const stale of this.#targets.byTargetId(targetId)) this.#detach(stale);
  }

  // ---------------------------------------------------------------------------------------
  // Commands

  /** Forwards `command` under the `effective` session; the reply echoes the client's. */
  #forward(client: CdpClient, command: CdpCommand, effective: string | undefined): void {
    if (effective !== undefined) {
      if (
        command.method === "Runtime.enable" &&
        this.#domains.enabledByOthers(client, effective, "Runtime")
      ) {
        // Chrome announces the existing contexts to the enabling session only, then answers.
        // A harmless command on the same session keeps the order: the contexts and the reply
        // come after the replies to what the client sent before (Playwright listens for
        // contexts only once its `Page.getFrameTree` is answered).
        this.#domains.shouldForward(client, effective, command.method);
        this.#options.forward({
          method: "Runtime.getIsolateId",
          sessionId: effective,
          settle: (outcome) => {
            if (!outcome.ok) {
              this.#fail(client, command.id, command.sessionId, cdpError(outcome.error));
              return;
            }
            for (const context of this.#contexts.list(effective)) {
              this.#event(
                client,
                "Runtime.executionContextCreated",
                { context },
                command.sessionId,
              );
            }
            this.#reply(client, command.id, command.sessionId, {});
          },
        });
        return;
      }
      if (!this.#domains.shouldForward(client, effective, command.method)) {
        this.#reply(client, command.id, command.sessionId, {});
        return;
      }
      if (command.method === "Runtime.disable") this.#contexts.forgetSessions([effective]);
      this.#overrides.record(client, effective, command.method, command.params);
    }
    this.#options.forward(
      new ForwardedCommand(
        this.#replies,
        client,
        command.id,
        command.sessionId,
        command.method,
        command.params,
        effective,
      ),
    );
  }

  #deliver(command: ForwardedCommand, outcome: Outcome): void {
    if (outcome.ok) {
      const { client } = command;
      if (!client.open) return;
      if (command.method === "Target.createTarget" && typeof outcome.result.targetId === "string") {
        this.#created.add(client, outcome.result.targetId);
      }
      if (
        command.method === "Target.setAutoAttach" && command.sessionId !== undefined &&
        command.sessionId === command.replySessionId && command.params?.autoAttach === true
      ) {
        // Children Chrome attached for another client before this one asked: on Chrome's
        // endpoint its own session would announce them, before the reply.
        for (const params of this.#children.unknownTo(client, command.sessionId)) {
          // Only children the target cache still links: a stale one would be a dead session.
          if (this.#targets.topLevelOf(str(params.sessionId) ?? "") === undefined) continue;
          this.#event(
            client,
            "Target.attachedToTarget",
            { ...params, waitingForDebugger: false },
            command.sessionId,
          );
        }
      }
      // The extension keeps Page enabled, so Chrome sends Page events all along: this session
      // gets those after Chrome's reply to its Page.enable (the events and replies of one tab
      // arrive in Chrome's order), as on Chrome's own endpoint, where Page events start once
      // Page.enable is processed. A session that ended meanwhile is not recorded.
      const session = command.replySessionId;
      if (
        command.method === "Page.enable" && session !== undefined && this.#knows(client, session)
      ) {
        client.pageEnabled.add(session);
      }
      client.write(encodeCdpFrame(
        command.replySessionId === undefined
          ? { kind: "response", id: command.clientId, outcome }
          : { kind: "response", id: command.clientId, sessionId: command.replySessionId, outcome },
      ));
      return;
    }
    // Chrome's own code and message, unwrapped from the JSON `chrome.debugger` rejects with.
    this.#fail(command.client, command.clientId, command.replySessionId, cdpError(outcome.error));
    this.prune(command, outcome.error);
  }

  #reply(client: CdpClient, id: number, sessionId: string | undefined, result: JsonObject): void {
    this.#send(client, {
      kind: "response",
      id,
      ...(sessionId === undefined ? {} : { sessionId }),
      outcome: { ok: true, result },
    });
  }

  #answer(client: CdpClient, command: LocalCommand, outcome: CdpOutcome): void {
    this.#send(client, {
      kind: "response",
      id: command.id,
      ...(command.sessionId === undefined ? {} : { sessionId: command.sessionId }),
      outcome,
    });
  }

  #fail(
    client: CdpClient,
    id: number,
    sessionId: string | undefined,
    error: string | CdpError,
  ): void {
    this.#send(client, {
      kind: "response",
      id,
      ...(sessionId === undefined ? {} : { sessionId }),
      outcome: {
        ok: false,
        error: typeof error === "string" ? { code: -32000, message: error } : error,
      },
    });
  }

  // ---------------------------------------------------------------------------------------
  // Events

  #send(client: CdpClient, frame: CdpFrame): void {
    if (client.open) client.write(encodeCdpFrame(frame));
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

  /** Whether any client holds the top-level session or has an alias of it. */
  #inUse(sessionId: string): boolean {
    for (const client of this.#clients) {
      if (client.held.has(sessionId) || client.sessions.hasAliasOf(sessionId)) return true;
    }
    return false;
  }

  /**
   * Ends a relay-made session. Sessions made on it end silently with it, as in Chrome; the
   * session itself is reported on the session it was made on when `notify` is set.
   */
  #dropSession(client: CdpClient, session: ClientSession, notify: boolean, reason?: string): void {
    const dropped = client.sessions.drop(session.sessionId);
    for (const gone of dropped) client.pageEnabled.delete(gone.sessionId);
    if (dropped.length === 0 || !notify) return;
    this.#event(client, "Target.detachedFromTarget", {
      sessionId: session.sessionId,
      targetId: session.kind === "alias" ? session.targetId : this.#browserTargetId,
      ...(reason === undefined ? {} : { reason }),
    }, session.parent);
  }

  /** Silently ends every relay-made session that was made on one of `parents`. */
  #dropSessionsOn(parents: ReadonlySet<string>): void {
    for (const client of this.#clients) {
      client.sessions.dropMadeOn(parents);
      for (const sessionId of client.pageEnabled) {
        if (!this.#knows(client, sessionId)) client.pageEnabled.delete(sessionId);
      }
    }
  }

  /** Whether `sessionId` is a session of `client`: held, relay-made, or a known child. */
  #knows(client: CdpClient, sessionId: string): boolean {
    return client.held.has(sessionId) || client.sessions.get(sessionId) !== undefined ||
      this.#targets.topLevelOf(sessionId) !== undefined;
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
    this.#replayScriptLoaded(client, entry.sessionId, entry.sessionId);
  }

  /**
   * Repeats `Inspector.workerScriptLoaded` on a client's new session of a worker whose script
   * has loaded. Chrome sends it after the reply to the command that attached: Puppeteer makes
   * its worker handle only once `Target.attachToTarget` has answered and would miss it before,
   * so it goes out in a microtask, after the reply this call's command writes synchronously.
   */
  #replayScriptLoaded(client: CdpClient, topLevel: string, sessionId: string): void {
    if (!this.#scriptLoaded.has(topLevel)) return;
    queueMicrotask(() => {
      const live = client.held.has(sessionId) || client.sessions.get(sessionId) !== undefined;
      if (client.open && live) this.#event(client, "Inspector.workerScriptLoaded", {}, sessionId);
    });
  }

  /**
   * Removes a top-level entry, tells its holders (always with `targetId`, which Playwright
   * matches pages by) and then discovery clients.
   */
  #detach(entry: TargetEntry, reason?: string, destroyed = true): void {
    const gone = new Set([entry.sessionId, ...this.#targets.childrenOf(entry.sessionId)]);
    this.#targets.delete(entry.sessionId);
    this.#scriptLoaded.delete(entry.sessionId);
    for (const client of this.#clients) {
      for (const sessionId of gone) client.pageEnabled.delete(sessionId);
    }
    this.#overrides.forgetSessions(gone);
    this.#domains.forgetSessions(gone);
    this.#contexts.forgetSessions(gone);
    this.#children.forgetSessions(gone);
    for (const client of this.#holders(entry.sessionId)) {
      client.held.delete(entry.sessionId);
      this.#event(client, "Target.detachedFromTarget", {
        sessionId: entry.sessionId,
        targetId: entry.targetId,
        ...(reason === undefined ? {} : { reason }),
      });
    }
    // Sessions made on the target's own sessions die with them; its aliases are reported.
    this.#dropSessionsOn(gone);
    for (const client of this.#clients) {
      for (const alias of client.sessions.aliasesOf(entry.sessionId)) {
        this.#dropSession(client, alias, true, reason);
      }
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
    if (targetId === undefined || !ANNOUNCED_TYPES.has(str(info.type) ?? "page")) return;
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
    // A new target (or the first after the extension reconnected) has not loaded a script yet
    // as far as the relay knows: the extension sends the event again after its announce.
    this.#scriptLoaded.delete(sessionId);
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

  #removeChild(sessionId: string): void {
    this.#targets.removeChild(sessionId);
    this.#overrides.forgetSessions([sessionId]);
    this.#domains.forgetSessions([sessionId]);
    this.#contexts.forgetSessions([sessionId]);
    this.#children.detached(sessionId);
    this.#dropSessionsOn(new Set([sessionId]));
  }

  /**
   * Session events go to the holders of their top-level session; unknown ones to everyone.
   * An event of a top-level session itself also goes to each of its aliases, under the alias
   * id: an alias shares the debugger session. Child attaches and detaches are not copied, so
   * no client learns one child session twice. `Page` events reach only the sessions that
   * enabled `Page` (see {@linkcode PAGE_EVENTS_WITHOUT_ENABLE}).
   */
  #routeSessionEvent(event: CdpCall): void {
    this.#contexts.observe(event);
    const topLevel = event.sessionId === undefined
      ? undefined
      : this.#targets.topLevelOf(event.sessionId);
    const recipients = topLevel === undefined ? this.clients() : this.#holders(topLevel);
    const params = event.params ?? {};
    const child = str(params.sessionId);
    if (
      event.method === "Target.attachedToTarget" && event.sessionId !== undefined &&
      child !== undefined
    ) {
      this.#children.attached(event.sessionId, child, params, recipients);
    }
    const page = needsPageEnabled(event.method);
    for (const client of recipients) {
      if (page && !client.pageEnabled.has(event.sessionId ?? "")) continue;
      this.#event(client, event.method, params, event.sessionId);
    }
    if (
      topLevel === undefined || event.sessionId !== topLevel ||
      event.method === "Target.attachedToTarget" || event.method === "Target.detachedFromTarget"
    ) {
      return;
    }
    for (const client of this.#clients) {
      if (!client.sessions.hasAliasOf(topLevel)) continue;
      for (const alias of client.sessions.aliasesOf(topLevel)) {
        if (page && !client.pageEnabled.has(alias.sessionId)) continue;
        this.#event(client, event.method, params, alias.sessionId);
      }
    }
  }
}
