/**
 * A scripted fake extension speaking the `/extension` wire protocol against a real relay:
 * it answers the challenge with a valid `connect`, announces targets, answers pings and
 * answers `forwardCDPCommand` through a handler. Reused by e2e tests and benchmarks.
 *
 * @example
 * ```ts ignore
 * await using relay = await startRelay({ token: "test-token", port: 0 });
 * await using ext = await FakeExtension.connect({ url: relay.url, token: "test-token" });
 * ext.announce("cb-tab-1", { targetId: "T1", url: "https://example.com/", title: "Example" });
 * ```
 *
 * @module
 */

import { deriveRelayToken } from "../codec/derive_relay_token.ts";
import type { CdpCall } from "../codec/extension_frame.ts";
import type { JsonObject, JsonValue } from "../codec/json.ts";
import { type CloseInfo, TestSocket } from "./test_socket.ts";

/** What a handler returns: a result object, an error string, or `undefined` for no answer. */
export type CommandReply = JsonObject | string | undefined;

/** A `forwardCDPCommand` as received, with its relay id. */
export interface ReceivedCommand extends CdpCall {
  /** The relay's command id. */
  readonly id: number;
}

/** Answers one forwarded command. Falls back to {@linkcode plausibleReply} when omitted. */
export type CommandHandler = (
  command: ReceivedCommand,
  ext: FakeExtension,
) => CommandReply | Promise<CommandReply>;

/** Options of {@linkcode FakeExtension.connect}. */
export interface FakeExtensionOptions {
  /** Relay base URL, e.g. `http://127.0.0.1:18792`. */
  readonly url: string;
  /** Raw gateway token; sent in `connect.auth`. */
  readonly token: string;
  /** Token for the `?token=` query. @default {the derived relay token} */
  readonly queryToken?: string;
  /** Legacy mode: no challenge is expected and no connect is sent. @default {false} */
  readonly legacy?: boolean;
  /** `userAgent` sent in `connect`. */
  readonly userAgent?: string;
  /** Answers forwarded commands. @default {plausibleReply} */
  readonly handler?: CommandHandler;
  /** Answer pings with pongs. @default {true} */
  readonly autoPong?: boolean;
  /**
   * Tabs attached before connecting: known to the handler from the start (as in the real
   * extension, whose tabs outlive relay drops) and re-announced right after hello-ok (§5.2).
   */
  readonly attached?: Readonly<Record<string, FakeTarget>>;
}

/** Target info as announced by the fake; missing fields are filled with plausible values. */
export interface FakeTarget {
  /** CDP target id; also the main frame id. */
  readonly targetId: string;
  /** @default {"page"} */
  readonly type?: string;
  /** @default {""} */
  readonly title?: string;
  /** @default {"about:blank"} */
  readonly url?: string;
  /** @default {"CTX1"} */
  readonly browserContextId?: string;
}

/** A fake extension connected to a relay. */
export class FakeExtension implements AsyncDisposable {
  /** The socket; `socket.received` holds every frame the relay sent. */
  readonly socket: TestSocket;
  /** Every forwarded command, in arrival order. */
  readonly commands: ReceivedCommand[] = [];
  /** The hello-ok response, or `undefined` in legacy mode. */
  hello: JsonObject | undefined;
  /** Announced sessions → target info. */
  readonly sessions = new Map<string, FakeTarget>();
  /** The handler; may be replaced at any time. */
  handler: CommandHandler | undefined;
  /** Whether pings are answered. */
  autoPong: boolean;
  #contextIds = 0;
  readonly #afterReply: (() => void)[] = [];

  private constructor(socket: TestSocket, options: FakeExtensionOptions) {
    this.socket = socket;
    this.handler = options.handler;
    this.autoPong = options.autoPong ?? true;
    for (const [sessionId, target] of Object.entries(options.attached ?? {})) {
      this.sessions.set(sessionId, target);
    }
  }

  #reannounce(): void {
    for (const [sessionId, target] of this.sessions) this.announce(sessionId, target);
  }

  /**
   * Connects, completes the handshake (unless legacy) and resolves when ready.
   */
  static async connect(options: FakeExtensionOptions): Promise<FakeExtension> {
    const port = Number(new URL(options.url).port);
    const queryToken = options.queryToken ?? await deriveRelayToken(options.token, port);
    const wsUrl = `${options.url.replace(/^http/, "ws")}/extension?token=${
      encodeURIComponent(queryToken)
    }`;
    // Frames before construction (the challenge) are only buffered.
    const box: { ext?: FakeExtension } = {};
    const socket = await TestSocket.open(wsUrl, {
      onFrame: (frame) => {
        if (box.ext !== undefined) box.ext.#onFrame(frame);
      },
    });
    const ext = new FakeExtension(socket, options);
    box.ext = ext;
    if (options.legacy === true) {
      ext.#reannounce();
      return ext;
    }
    try {
      await socket.next((f) => f.type === "event" && f.event === "connect.challenge");
      const id = `ext-connect-${Date.now()}-abc123`;
      socket.send(connectRequest(id, options.token, options.userAgent));
      const res = await socket.next((f) => f.type === "res" && f.id === id);
      if (res.ok !== true) {
        await socket.close();
        throw new Error(`Handshake failed: ${JSON.stringify(res)}`);
      }
      ext.hello = res;
      ext.#reannounce();
    } catch (error) {
      await socket.close();
      throw error;
    }
    return ext;
  }

  /** Announces an attached tab (`Target.attachedToTarget`, top level). */
  announce(sessionId: string, target: FakeTarget, waitingForDebugger = false): void {
    this.sessions.set(sessionId, target);
    this.event("Target.attachedToTarget", {
      sessionId,
      targetInfo: targetInfoOf(target),
      waitingForDebugger,
    });
  }

  /** Sends a top-level `Target.detachedFromTarget`. */
  detach(sessionId: string, reason = "toggle"): void {
    const target = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    this.event("Target.detachedFromTarget", {
      sessionId,
      ...(target === undefined ? {} : { targetId: target.targetId }),
      reason,
    });
  }

  /** Sends a `forwardCDPEvent`. */
  event(method: string, params: JsonObject, sessionId?: string): void {
    this.socket.send({
      method: "forwardCDPEvent",
      params: { ...(sessionId === undefined ? {} : { sessionId }), method, params },
    });
  }

  /** Sends a response to a forwarded command. */
  respond(id: number, reply: JsonObject | string): void {
    this.socket.send(typeof reply === "string" ? { id, error: reply } : { id, result: reply });
  }

  /** Waits for a forwarded command matching the predicate (by method name if a string). */
  async nextCommand(
    match: string | ((command: ReceivedCommand) => boolean),
    timeoutMs?: number,
  ): Promise<ReceivedCommand> {
    const predicate = typeof match === "string"
      ? (c: ReceivedCommand) => c.method === match
      : match;
    const frame = await this.socket.next(
      (f) => f.method === "forwardCDPCommand" && predicate(toCommand(f)),
      timeoutMs,
    );
    return toCommand(frame);
  }

  /** Closes the socket and waits for the close. */
  close(code = 1000, reason = ""): Promise<CloseInfo> {
    return this.socket.close(code, reason);
  }

  /** Closes the socket. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** A fresh execution context id for `Runtime.executionContextCreated`. */
  nextContextId(): number {
    return ++this.#contextIds;
  }

  #onFrame(frame: JsonObject): void {
    if (frame.method === "ping" && this.autoPong) {
      this.socket.send({ method: "pong" });
      return;
    }
    if (frame.method !== "forwardCDPCommand" || typeof frame.id !== "number") return;
    const command = toCommand(frame);
    this.commands.push(command);
    const handler = this.handler ?? plausibleReply;
    const finish = (reply: CommandReply) => {
      if (reply !== undefined && this.socket.ws.readyState === this.socket.ws.OPEN) {
        this.respond(command.id, reply);
      }
      this.#flushAfterReply();
    };
    let reply: CommandReply | Promise<CommandReply>;
    try {
      reply = handler(command, this);
    } catch (error) {
      reply = error instanceof Error ? error.message : String(error);
    }
    // Synchronous replies go out at once, so replies keep the commands' order as in Chrome.
    if (reply instanceof Promise) {
      reply.then(finish, (error: unknown) => {
        finish(error instanceof Error ? error.message : String(error));
      });
    } else {
      finish(reply);
    }
  }

  /**
   * Queues an event that goes out right after the reply to the command being handled, as
   * Chrome does for `Runtime.enable` → `Runtime.executionContextCreated`.
   */
  eventAfterReply(method: string, params: JsonObject, sessionId?: string): void {
    this.#afterReply.push(() => this.event(method, params, sessionId));
  }

  #flushAfterReply(): void {
    for (const send of this.#afterReply.splice(0)) send();
  }
}

function toCommand(frame: JsonObject): ReceivedCommand {
  const params = (frame.params ?? {}) as JsonObject;
  return {
    id: frame.id as number,
    method: params.method as string,
    ...(params.params === undefined ? {} : { params: params.params as JsonObject }),
    ...(params.sessionId === undefined ? {} : { sessionId: params.sessionId as string }),
  };
}

/** A schema-valid `connect` request (§3.3). */
export function connectRequest(
  id: string,
  token: string,
  userAgent?: string,
  caps: readonly string[] = [],
): JsonObject {
  return {
    type: "req",
    id,
    method: "connect",
    params: {
      minProtocol: 3,
      maxProtocol: 3,
      client: { id: "webchat-ui", version: "0.1.0", platform: "chrome-extension", mode: "webchat" },
      role: "operator",
      scopes: ["operator.read", "operator.write"],
      caps: [...caps],
      commands: [],
      auth: { token },
      ...(userAgent === undefined ? {} : { userAgent }),
    },
  };
}

/** Fills a {@linkcode FakeTarget} into a Chrome-like `TargetInfo`. */
export function targetInfoOf(target: FakeTarget): JsonObject {
  return {
    targetId: target.targetId,
    type: target.type ?? "page",
    title: target.title ?? "",
    url: target.url ?? "about:blank",
    attached: true,
    canAccessOpener: false,
    browserContextId: target.browserContextId ?? "CTX1",
  };
}

function evaluate(expression: string): JsonValue {
  // Only tiny arithmetic: enough for tests, and no eval of arbitrary text.
  const source = expression.replace(/\/\/[#@] sourceURL=.*$/gm, "").trim();
  const sum = /^\(?\s*(-?\d+)\s*([+*-])\s*(-?\d+)\s*\)?;?$/.exec(source);
  if (sum !== null) {
    const a = Number(sum[1]);
    const b = Number(sum[3]);
    return sum[2] === "+" ? a + b : sum[2] === "-" ? a - b : a * b;
  }
  const number = /^(-?\d+)$/.exec(source);
  return number === null ? null : Number(number[1]);
}

/**
 * Plausible answers to the commands Playwright and Puppeteer send per page (§6.6), so real
 * clients can drive a page behind the fake extension.
 */
export function plausibleReply(command: ReceivedCommand, ext: FakeExtension): CommandReply {
  const sessionId = command.sessionId;
  const target = sessionId === undefined ? undefined : ext.sessions.get(sessionId);
  if (sessionId !== undefined && target === undefined) {
    return `No session with given id: ${sessionId}`;
  }
  const frameId = target?.targetId ?? "F0";
  const url = target?.url ?? "about:blank";
  const origin = url.startsWith("http") ? new URL(url).origin : "://";
  const params = command.params ?? {};
  switch (command.method) {
    case "Page.getFrameTree":
      return {
        frameTree: {
          frame: {
            id: frameId,
            loaderId: `L-${frameId}`,
            url,
            domainAndRegistry: "",
            securityOrigin: origin,
            mimeType: "text/html",
            secureContextType: "Secure",
            crossOriginIsolatedContextType: "NotIsolated",
            gatedAPIFeatures: [],
          },
        },
      };
    case "Runtime.enable": {
      ext.eventAfterReply("Runtime.executionContextCreated", {
        context: {
          id: ext.nextContextId(),
          origin,
          name: "",
          uniqueId: `ctx-${frameId}-main`,
          auxData: { isDefault: true, type: "default", frameId },
        },
      }, sessionId);
      return {};
    }
    case "Page.createIsolatedWorld": {
      const id = ext.nextContextId();
      ext.eventAfterReply("Runtime.executionContextCreated", {
        context: {
          id,
          origin,
          name: typeof params.worldName === "string" ? params.worldName : "",
          uniqueId: `ctx-${frameId}-${id}`,
          auxData: { isDefault: false, type: "isolated", frameId },
        },
      }, sessionId);
      return { executionContextId: id };
    }
    case "Page.addScriptToEvaluateOnNewDocument":
      return { identifier: String(ext.nextContextId()) };
    case "Runtime.evaluate": {
      const source = typeof params.expression === "string" ? params.expression : "";
      const value = evaluate(source);
      if (typeof value === "number") {
        return { result: { type: "number", value, description: String(value) } };
      }
      // Anything else (e.g. Playwright's utility script) becomes an opaque object handle.
      return {
        result: { type: "object", className: "Object", objectId: `obj-${ext.nextContextId()}` },
      };
    }
    case "Runtime.callFunctionOn": {
      // Playwright evaluates through `utilityScript.evaluate(isFunction, returnByValue, expr, …)`.
      const args = Array.isArray(params.arguments) ? params.arguments : [];
      const expression = (args[3] as JsonObject | undefined)?.value;
      const value = typeof expression === "string" ? evaluate(expression) : null;
      if (typeof value === "number") {
        return { result: { type: "number", value, description: String(value) } };
      }
      return { result: { type: "undefined" } };
    }
    case "Page.navigate":
      return { frameId, loaderId: `L-${frameId}` };
    case "Target.createTarget": {
      const targetId = `T${ext.sessions.size + 100}`;
      ext.announce(`cb-tab-${ext.sessions.size + 100}`, {
        targetId,
        url: typeof params.url === "string" ? params.url : "about:blank",
      });
      return { targetId };
    }
    case "Target.closeTarget":
      return { success: true };
    default:
      return {};
  }
}
