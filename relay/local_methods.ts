/**
 * CDP methods the relay answers itself instead of forwarding them to the extension: the
 * `Browser.*` methods (`Browser.close`, `Browser.getVersion` and the entry points of the download
 * and permission emulations), the `Target.*` methods answered from the target cache or from the
 * client's own bookkeeping (auto-attach, discovery, browser sessions and aliases, browser
 * contexts), and the refusal of the relay-private `BrowserRelay.*`. The router
 * (`relay/cdp_router.ts`) hands every command here that is not a CDP method on a tab's own
 * session, and forwards what this module does not answer.
 *
 * @module
 */

import type { CdpOutcome } from "../codec/cdp_frame.ts";
import { CloseCode } from "../codec/close_codes.ts";
import type { CdpCall } from "../codec/extension_frame.ts";
import type { JsonObject } from "../codec/json.ts";
import { privateMethodError, tooManySessionsError } from "./bounds.ts";
import type { ClientSession, ClientSessions } from "./client_sessions.ts";
import { ErrorText, unsupportedMethodError } from "./error_text.ts";
import type { ChannelCommand } from "./extension_channel.ts";
import type { TargetEntry, TargetRegistry } from "./targets.ts";
import { str } from "./json_fields.ts";

/** A client as the relay's own methods see it: what they read and change of the router's. */
export interface LocalClient {
  /** Whether a root `Target.setAutoAttach {autoAttach: true}` is in effect. */
  autoAttach: boolean;
  /** Whether `Target.setDiscoverTargets {discover: true}` is in effect. */
  discover: boolean;
  /** Top-level sessions this client holds: an attach was delivered and no detach since. */
  readonly held: ReadonlySet<string>;
  /** Browser sessions and aliases made for this client. */
  readonly sessions: ClientSessions;
  /** `false` once the client is gone. */
  readonly open: boolean;
  /** Closes the client's socket. */
  readonly close: (code: number, reason: string) => void;
}

/** A command as decoded from a CDP client's frame: its id, method, params and session id. */
export interface LocalCommand extends CdpCall {
  /** The client's own command id. */
  readonly id: number;
}

/** Options of the router that only the relay's own methods use. */
export interface LocalMethodsOptions<C extends LocalClient> {
  /** The `userAgent` of the extension's browser, from `connect`, if known. */
  readonly userAgent: () => string | undefined;
  /**
   * Answers `Browser.setDownloadBehavior` (the download emulation, `relay/download_emulation.ts`)
   * with exactly one outcome; `browserSessionId` is the relay-made browser session it was sent
   * on, if any. Without it the relay answers `{}` and downloads are not emulated.
   */
  readonly setDownloadBehavior?: (
    client: C,
    params: JsonObject,
    browserSessionId: string | undefined,
  ) => Promise<CdpOutcome>;
  /**
   * Answers `Browser.grantPermissions`, `Browser.setPermission` and `Browser.resetPermissions`
   * (the permission emulation, `relay/permission_emulation.ts`) with exactly one outcome.
   * Without it they are unsupported.
   */
  readonly permissions?: (
    client: C,
    method: string,
    params: JsonObject,
  ) => Promise<CdpOutcome>;
}

/** What the relay's own methods use of the router: the router hands itself over as this. */
export interface LocalMethodsHost<C extends LocalClient> {
  /** The target cache shared with the server. */
  readonly targets: Pick<TargetRegistry, "get" | "byTargetId" | "list">;
  /** The browser target's id: 32 hex digits, fixed per router (§6.2). */
  readonly browserTargetId: string;
  /** Relay-made sessions one client may hold at once. */
  readonly maxSessions: number;
  /** Takes the tabs `client` opened with `Target.createTarget`, in creation order. */
  takeCreated(client: C): string[];
  /** Forwards a command to the extension; its `settle` runs exactly once. */
  forward(command: ChannelCommand): void;
  /** Sends the reply to `command` under the client's own id and session id, if still open. */
  respond(client: C, command: LocalCommand, outcome: CdpOutcome): void;
  /** Sends one event to one open client, on `sessionId` when given. */
  event(client: C, method: string, params: JsonObject, sessionId?: string): void;
  /** Delivers an attach (not waiting for the debugger) unless the client holds the session. */
  attach(client: C, entry: TargetEntry): void;
  /**
   * Repeats `Inspector.workerScriptLoaded` on a client's new session `sessionId` of the
   * top-level session `topLevel`, if its worker script has loaded.
   */
  replayScriptLoaded(client: C, topLevel: string, sessionId: string): void;
  /**
   * Ends a relay-made session and the sessions made on it, and reports it on the session it
   * was made on.
   */
  dropSession(client: C, session: ClientSession): void;
}

/**
 * What {@linkcode LocalMethods.answer} made of a command: its result, an error message, or one
 * of two words, which the router checks before it takes a string for an error message:
 * `"forward"` (send it to the extension under the effective session) or `"answered"` (the
 * relay's own methods send the reply, now or later).
 */
export type LocalAnswer = JsonObject | string | "forward" | "answered";

/** Chrome's answer to `Target.attachToBrowserTarget` on a page session. */
const NOT_ALLOWED = "Not allowed";

/** The browser target's `targetInfo`. */
function browserTargetInfo(targetId: string): JsonObject {
  return {
    targetId,
    type: "browser",
    title: "",
    url: "",
    attached: true,
    canAccessOpener: false,
  };
}

/**
 * The `Target.*` and `Browser.*` methods the relay answers itself (protocol §6.2), for the
 * router.
 *
 * @example
 * ```ts ignore
 * const methods = new LocalMethods<CdpClient>(options, host);
 * const answer = methods.answer(client, command, effective, via);
 * if (answer === "forward") {
 *   // forward the command under the effective session
 * }
 * ```
 */
export class LocalMethods<C extends LocalClient> {
  readonly #options: LocalMethodsOptions<C>;
  readonly #host: LocalMethodsHost<C>;

  /**
   * Creates the relay's own methods over a router.
   *
   * @param options The extension's user agent and the download and permission emulations.
   * @param host What the methods use of the router.
   */
  constructor(options: LocalMethodsOptions<C>, host: LocalMethodsHost<C>) {
    this.#options = options;
    this.#host = host;
  }

  /**
   * Answers one command, or says that it goes to the extension.
   *
   * @param client The sending client.
   * @param command The command as sent, for the sessions it creates or removes.
   * @param effective The session the cache and the extension see.
   * @param via The relay-made session it was sent on, if any.
   * @returns The result, an error message, `"forward"` or `"answered"`
   *   (see {@linkcode LocalAnswer}).
   */
  answer(
    client: C,
    command: LocalCommand,
    effective: string | undefined,
    via: ClientSession | undefined,
  ): LocalAnswer {
    const params = command.params ?? {};
    const { method } = command;
    const host = this.#host;
    // Relay-private methods belong to the relay ↔ extension protocol only: a client could
    // otherwise reset the domain state other clients rely on.
    if (method.startsWith("BrowserRelay.")) return privateMethodError(method);
    if (method.startsWith("Browser.")) {
      switch (method) {
        case "Browser.close":
          this.#closeBrowser(client, command);
          return "answered";
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
        case "Browser.setDownloadBehavior": {
          const answer = this.#options.setDownloadBehavior;
          if (answer === undefined) return {};
          const browserSession = via?.kind === "browser" ? command.sessionId : undefined;
          this.#answerLater(client, command, answer(client, params, browserSession));
          return "answered";
        }
        case "Browser.grantPermissions":
        case "Browser.setPermission":
        case "Browser.resetPermissions": {
          const answer = this.#options.permissions;
          if (answer === undefined) return unsupportedMethodError(method);
          this.#answerLater(client, command, answer(client, method, params));
          return "answered";
        }
        default:
          return unsupportedMethodError(method);
      }
    }
    switch (method) {
      case "Target.setAutoAttach": {
        // Attach bookkeeping is per client, not per browser session.
        if (via?.kind === "browser") return unsupportedMethodError(method);
        if (effective !== undefined) return "forward";
        client.autoAttach = params.autoAttach === true;
        if (client.autoAttach) {
          for (const entry of host.targets.list()) host.attach(client, entry);
        }
        return {};
      }
      case "Target.setDiscoverTargets": {
        if (via?.kind === "browser") return unsupportedMethodError(method);
        client.discover = params.discover === true;
        if (client.discover) {
          for (const entry of host.targets.list()) {
            host.event(client, "Target.targetCreated", { targetInfo: entry.targetInfo });
          }
        }
        return {};
      }
      case "Target.getTargets":
        return { targetInfos: host.targets.list().map((entry) => entry.targetInfo) };
      case "Target.getTargetInfo": {
        const targetId = str(params.targetId);
        if (targetId !== undefined) {
          const entry = host.targets.byTargetId(targetId)[0];
          return entry === undefined
            ? ErrorText.NoTargetWithGivenId
            : { targetInfo: entry.targetInfo };
        }
        if (effective === undefined) {
          return { targetInfo: browserTargetInfo(host.browserTargetId) };
        }
        const entry = host.targets.get(effective);
        return entry === undefined ? "forward" : { targetInfo: entry.targetInfo };
      }
      case "Target.attachToTarget": {
        const targetId = str(params.targetId);
        if (targetId === undefined || targetId === "") return ErrorText.TargetIdRequired;
        const entry = host.targets.byTargetId(targetId)[0];
        if (entry === undefined) return ErrorText.NoTargetWithGivenId;
        if (command.sessionId === undefined && !client.held.has(entry.sessionId)) {
          host.attach(client, entry);
          return { sessionId: entry.sessionId };
        }
        // Chrome makes a new session for every attach. Handing out the held session again
        // would make the client register a second session under its page's id.
        if (client.sessions.size >= host.maxSessions) {
          return tooManySessionsError(host.maxSessions, client.sessions.size);
        }
        const alias = client.sessions.addAlias(entry.sessionId, entry.targetId, command.sessionId);
        host.event(client, "Target.attachedToTarget", {
          sessionId: alias.sessionId,
          targetInfo: entry.targetInfo,
          waitingForDebugger: false,
        }, alias.parent);
        host.replayScriptLoaded(client, entry.sessionId, alias.sessionId);
        return { sessionId: alias.sessionId };
      }
      case "Target.attachToBrowserTarget": {
        if (command.sessionId !== undefined && via?.kind !== "browser") return NOT_ALLOWED;
        if (client.sessions.size >= host.maxSessions) {
          return tooManySessionsError(host.maxSessions, client.sessions.size);
        }
        const session = client.sessions.addBrowser(command.sessionId);
        host.event(client, "Target.attachedToTarget", {
          sessionId: session.sessionId,
          targetInfo: browserTargetInfo(host.browserTargetId),
          waitingForDebugger: false,
        }, session.parent);
        return { sessionId: session.sessionId };
      }
      case "Target.detachFromTarget": {
        const sessionId = str(params.sessionId);
        const own = sessionId === undefined ? undefined : client.sessions.get(sessionId);
        if (own !== undefined) {
          host.dropSession(client, own);
          return {};
        }
        const targetId = str(params.targetId);
        const topLevel = (sessionId !== undefined && host.targets.get(sessionId) !== undefined) ||
          (sessionId === undefined && targetId !== undefined &&
            host.targets.byTargetId(targetId).length > 0);
        return topLevel ? {} : "forward";
      }
      case "Target.getBrowserContexts":
        return { browserContextIds: [] };
      case "Target.createBrowserContext":
        return ErrorText.CannotCreateBrowserContext;
      case "Target.disposeBrowserContext":
        return unsupportedMethodError(method);
      default:
        return "forward";
    }
  }

  /**
   * `Browser.close`: closes the tabs this client opened that are still shared, answers, and
   * disconnects the client as Chrome's endpoint does when the browser exits. The person's own
   * tabs, tabs other clients opened and the browser itself stay.
   */
  #closeBrowser(client: C, command: LocalCommand): void {
    const host = this.#host;
    const own = host.takeCreated(client).filter((id) => host.targets.byTargetId(id).length > 0);
    let left = own.length;
    const done = () => {
      host.respond(client, command, { ok: true, result: {} });
      if (client.open) client.close(CloseCode.Normal, "Browser.close");
    };
    if (left === 0) return done();
    for (const targetId of own) {
      // A tab that cannot be closed (the last one, or already gone) stays; the close goes on.
      host.forward({
        method: "Target.closeTarget",
        params: { targetId },
        settle: () => {
          if (--left === 0) done();
        },
      });
    }
  }

  /** Sends the one reply once `pending` settles; a rejection becomes an error reply. */
  #answerLater(client: C, command: LocalCommand, pending: Promise<CdpOutcome>): void {
    void pending.then(
      (outcome) => this.#host.respond(client, command, outcome),
      (error: unknown) =>
        this.#host.respond(client, command, {
          ok: false,
          error: {
            code: -32000,
            message: error instanceof Error ? error.message : String(error),
          },
        }),
    );
  }
}
