/**
 * The relay server: the extension's peer on `/extension` and a standard CDP endpoint on `/cdp`
 * and `/json*` (protocol §6–8).
 *
 * Transport: `node:http` plus npm `ws`, not `Deno.serve` with `Deno.upgradeWebSocket`. Deno's
 * built-in WebSocket aborts every message of 64 MiB or more (measured on 2.9.6, not
 * configurable), while screenshots and PDFs must pass at ≥ 100 MiB (§4.6). `ws` takes a
 * `maxPayload`, and `noServer` lets the relay answer rejected upgrades with real HTTP statuses
 * (401/403/404/409) before any upgrade happens. Every `ws` socket gets an `error` listener:
 * without one an oversized frame crashes the process.
 *
 * @module
 */

import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { CdpFrame } from "../codec/cdp_frame.ts";
import { CloseCode, CloseReason } from "../codec/close_codes.ts";
import { decodeCdpFrame } from "../codec/decode_cdp_frame.ts";
import { encodeCdpFrame } from "../codec/encode_cdp_frame.ts";
import type { CdpCall, ExtensionFrame, Outcome } from "../codec/extension_frame.ts";
import { formatIssues } from "../codec/format_issues.ts";
import type { DecodeResult } from "../codec/issue.ts";
import { DEFAULT_RELAY_PORT, MAX_FRAME_BYTES, MIN_MAX_FRAME_BYTES } from "../codec/limits.ts";
import { ErrorText, requestTimeoutError } from "./error_text.ts";
import { PendingRequests } from "../codec/pending_requests.ts";
import { createTokenVerifier, isAllowedOrigin, redactToken, type TokenVerifier } from "./auth.ts";
import { type CdpClient, CdpRouter } from "./cdp_router.ts";
import { ExtensionLink } from "./extension_link.ts";
import { checkHostAndPeer, handleHttpRequest, presentedToken } from "./http_routes.ts";
import { TargetRegistry } from "./targets.ts";

/** The relay version reported in hello-ok and `/json/version`. */
/** How long a stopping relay keeps reading and answering before it sends its close frames. */
const STOP_DRAIN_MS = 50;

export const RELAY_VERSION = "0.1.0";

/** Options of {@linkcode startRelay} (protocol §7). */
export interface RelayOptions {
  /** The gateway token; required. The relay accepts it and the token derived from it. */
  readonly token: string;
  /**
   * Bind address. A non-loopback address is an explicit opt-in and is logged.
   *
   * @default {"127.0.0.1"}
   */
  readonly host?: string;
  /**
   * Port; `0` picks a free port.
   *
   * @default {18792}
   */
  readonly port?: number;
  /**
   * Largest frame accepted after the handshake, in bytes; at least 104 857 600.
   *
   * @default {268435456}
   */
  readonly maxFrameBytes?: number;
  /**
   * Deadline for a valid `connect` after the extension socket opens.
   *
   * @default {10000}
   */
  readonly handshakeTimeoutMs?: number;
  /**
   * Interval of `ping` frames to the extension.
   *
   * @default {5000}
   */
  readonly pingIntervalMs?: number;
  /**
   * Extension silence after which the relay closes with 4000.
   *
   * @default {30000}
   */
  readonly extensionIdleTimeoutMs?: number;
  /**
   * Deadline of a forwarded command, from its send to the extension.
   *
   * @default {30000}
   */
  readonly commandTimeoutMs?: number;
  /**
   * How long targets and clients survive the extension's absence.
   *
   * @default {20000}
   */
  readonly reconnectGraceMs?: number;
  /**
   * How long a command that arrives during a gap waits for the extension.
   *
   * @default {the rest of the grace period}
   */
  readonly commandReconnectWaitMs?: number;
  /**
   * Whether the raw gateway token is accepted besides the derived token.
   *
   * @default {true}
   */
  readonly acceptRawGatewayToken?: boolean;
  /**
   * Legacy mode: no challenge; speaks exactly OpenClaw's relay protocol.
   *
   * @default {false}
   */
  readonly legacy?: boolean;
  /**
   * Log sink. Tokens are never logged.
   *
   * @default {no logging}
   */
  readonly log?: (line: string) => void;
}

/** Counters for tests and benchmarks. */
export interface RelayStats {
  /** Commands sent to the extension and awaiting a reply. */
  readonly pendingCommands: number;
  /** Commands held while the extension is away. */
  readonly heldCommands: number;
  /** Connected CDP clients. */
  readonly clients: number;
  /** Cached top-level targets. */
  readonly targets: number;
  /** Whether an extension is connected and ready. */
  readonly extensionConnected: boolean;
  /** Whether the grace period after an extension drop is running. */
  readonly inGracePeriod: boolean;
}

/** A running relay. */
export interface RelayServer extends AsyncDisposable {
  /** The bound port. */
  readonly port: number;
  /** The bound host. */
  readonly host: string;
  /** `http://<host>:<port>`, the endpoint for `connectOverCDP` and `browserURL`. */
  readonly url: string;
  /** The relay token derived for the bound port (§2.1). */
  readonly relayToken: string;
  /** Stops the relay (§7 Stop); idempotent. */
  close(): Promise<void>;
  /** Current counters. */
  stats(): RelayStats;
}

interface HeldCommand {
  readonly call: CdpCall;
  readonly done: (outcome: Outcome) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

function failure(error: string): Outcome {
  return { ok: false, error };
}

function rejectUpgrade(socket: Duplex, status: number, reason: string, body: string): void {
  const bytes = new TextEncoder().encode(body).length;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${bytes}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
};

function checkPositive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot start relay as "${name}" must be a positive number: current value is ${value}`,
    );
  }
  return value;
}

class Relay implements RelayServer {
  readonly host: string;
  port = 0;
  relayToken = "";
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #targets = new TargetRegistry();
  readonly #router: CdpRouter;
  readonly #pending: PendingRequests<Outcome>;
  readonly #held: HeldCommand[] = [];
  /** Reply callbacks by command id, called synchronously when the response frame arrives. */
  readonly #callbacks = new Map<number, (outcome: Outcome) => void>();
  readonly #sockets = new Set<WebSocket>();
  readonly #clientSockets = new Map<CdpClient, WebSocket>();
  readonly #startedAt = performance.now();
  readonly #legacy: boolean;
  readonly #maxFrameBytes: number;
  readonly #handshakeTimeoutMs: number;
  readonly #pingIntervalMs: number;
  readonly #idleTimeoutMs: number;
  readonly #graceMs: number;
  readonly #commandWaitMs: number | undefined;
  readonly #log: (line: string) => void;
  readonly #requestedPort: number;
  readonly #acceptRaw: boolean;
  #verifier: TokenVerifier | undefined;
  #link: ExtensionLink | undefined;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #graceEndsAt = 0;
  #userAgent: string | undefined;
  #closing: Promise<void> | undefined;
  #stopping = false;
  #nextCommandId = 0;

  constructor(options: RelayOptions) {
    this.host = options.host ?? "127.0.0.1";
    this.#requestedPort = options.port ?? DEFAULT_RELAY_PORT;
    if (
      !Number.isInteger(this.#requestedPort) || this.#requestedPort < 0 ||
      this.#requestedPort > 65_535
    ) {
      throw new RangeError(
        `Cannot start relay as "port" must be between 0 and 65535: current value is ${this.#requestedPort}`,
      );
    }
    this.#maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    if (!(this.#maxFrameBytes >= MIN_MAX_FRAME_BYTES)) {
      throw new RangeError(
        `Cannot start relay as "maxFrameBytes" must be at least ${MIN_MAX_FRAME_BYTES}: current value is ${this.#maxFrameBytes}`,
      );
    }
    this.#handshakeTimeoutMs = checkPositive(
      "handshakeTimeoutMs",
      options.handshakeTimeoutMs ?? 10_000,
    );
    this.#pingIntervalMs = checkPositive("pingIntervalMs", options.pingIntervalMs ?? 5_000);
    this.#idleTimeoutMs = checkPositive(
      "extensionIdleTimeoutMs",
      options.extensionIdleTimeoutMs ?? 30_000,
    );
    this.#graceMs = checkPositive("reconnectGraceMs", options.reconnectGraceMs ?? 20_000);
    this.#commandWaitMs = options.commandReconnectWaitMs === undefined
      ? undefined
      : checkPositive("commandReconnectWaitMs", options.commandReconnectWaitMs);
    const commandTimeoutMs = checkPositive("commandTimeoutMs", options.commandTimeoutMs ?? 30_000);
    this.#legacy = options.legacy ?? false;
    this.#acceptRaw = options.acceptRawGatewayToken ?? true;
    this.#log = options.log ?? (() => {});
    this.#pending = new PendingRequests<Outcome>({
      timers: {
        schedule: (fn, ms) => setTimeout(fn, ms),
        cancel: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      },
      timeoutMs: commandTimeoutMs,
      // One relay-wide counter, never reset across extension reconnects (§4.2).
      nextId: () => ++this.#nextCommandId,
    });
    this.#router = new CdpRouter({
      targets: this.#targets,
      send: (client, frame) => this.#sendToClient(client, frame),
      forward: (call, done) => this.#forward(call, done),
      userAgent: () => this.#userAgent,
      onSessionReleased: (sessionId) => this.#resetSession(sessionId),
    });
    this.#http = createServer((req, res) => {
      // Refused requests are logged (token redacted) so a user can see a wrong token or origin.
      res.once("finish", () => {
        if (res.statusCode === 401 || res.statusCode === 403) {
          this.#log(
            `Rejected request ${req.method ?? "?"} ${
              redactToken(req.url ?? "")
            }: ${res.statusCode}`,
          );
        }
      });
      handleHttpRequest(req, res, {
        bindHost: this.host,
        version: RELAY_VERSION,
        legacy: this.#legacy,
        verifyToken: (token) => this.#verifier?.verify(token) ?? false,
        extensionConnected: () => this.#link?.ready ?? false,
        targets: () => this.#targets.list(),
        forward: (method, targetId) =>
          new Promise<void>((resolve, reject) => {
            this.#forward({ method, params: { targetId } }, (outcome) => {
              if (outcome.ok) resolve();
              else reject(new Error(outcome.error));
            });
          }),
      }).catch((error: unknown) => {
        this.#log(`HTTP handler failed: ${String(error)}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: this.#maxFrameBytes });
    this.#wss.on("error", (error: Error) => this.#log(`WebSocket server error: ${error.message}`));
    this.#http.on("upgrade", (req, socket, head) => this.#onUpgrade(req, socket, head));
    this.#http.on("clientError", (_error: Error, socket: Duplex) => socket.destroy());
  }

  get url(): string {
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}`;
  }

  async listen(token: string): Promise<void> {
    if (token.trim() === "") {
      throw new TypeError('Cannot start relay as "token" is empty: a gateway token is required');
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#http.once("error", onError);
      this.#http.listen(this.#requestedPort, this.host, () => {
        this.#http.off("error", onError);
        resolve();
      });
    });
    const address = this.#http.address();
    this.port = typeof address === "object" && address !== null
      ? address.port
      : this.#requestedPort;
    try {
      this.#verifier = await createTokenVerifier(token, this.port, {
        acceptRawGatewayToken: this.#acceptRaw,
      });
    } catch (error) {
      await this.close();
      throw error;
    }
    this.relayToken = this.#verifier.relayToken;
  }

  stats(): RelayStats {
    return {
      pendingCommands: this.#pending.size,
      heldCommands: this.#held.length,
      clients: this.#router.size,
      targets: this.#targets.size,
      extensionConnected: this.#link?.ready ?? false,
      inGracePeriod: this.#graceTimer !== undefined,
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#stop();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#pending.rejectAll(new Error(ErrorText.ServerStopping));
    for (const held of this.#held.splice(0)) {
      clearTimeout(held.timer);
      held.done(failure(ErrorText.ServerStopping));
    }
    // Drain before the close frames go out: the rejections above reach the clients as replies,
    // and commands a client sent just before the stop (still in flight or unread) are read and
    // answered with `server stopping` (#forward) rather than cut off by the close. After a close
    // frame nothing more can be answered.
    await new Promise<void>((resolve) => setTimeout(resolve, STOP_DRAIN_MS));
    const closed = [...this.#sockets].map((ws) =>
      ws.readyState === ws.CLOSED
        ? Promise.resolve()
        : new Promise<void>((resolve) => ws.once("close", () => resolve()))
    );
    this.#link?.close(CloseCode.GoingAway, CloseReason.ServerStopping);
    for (const ws of this.#sockets) {
      if (ws.readyState === ws.OPEN) ws.close(CloseCode.GoingAway, CloseReason.ServerStopping);
    }
    // A peer that never answers the close frame must not hold the stop up.
    const force = setTimeout(() => {
      for (const ws of this.#sockets) ws.terminate();
    }, 1000);
    await Promise.all(closed);
    clearTimeout(force);
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }

  // ---------------------------------------------------------------------------------------
  // Upgrades

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", (error: Error) => this.#log(`Upgrade socket error: ${error.message}`));
    const reject = (status: number, body: string) => {
      this.#log(`Rejected upgrade ${redactToken(req.url ?? "")}: ${status} ${body}`);
      rejectUpgrade(socket, status, STATUS_TEXT[status] ?? "Error", body);
    };
    if (this.#stopping) return reject(404, "Not Found");
    // Order: Host → peer → Origin → path → token (§8.6).
    const hostOrPeer = checkHostAndPeer(req, this.host);
    if (hostOrPeer !== undefined) return reject(hostOrPeer.status, hostOrPeer.body);
    if (!isAllowedOrigin(req.headers.origin)) return reject(403, "Forbidden: invalid origin");
    const url = new URL(req.url ?? "/", "http://relay.invalid");
    const path = url.pathname;
    if (path !== "/extension" && path !== "/cdp") return reject(404, "Not Found");
    if (!(this.#verifier?.verify(presentedToken(req, url).token) ?? false)) {
      return reject(401, "Unauthorized");
    }
    if (path === "/extension") {
      const current = this.#link;
      if (current !== undefined && !current.closed) {
        if (current.socket.readyState === WebSocket.OPEN) {
          return reject(409, "Extension already connected");
        }
        // A closing socket is replaced at once.
        current.terminate();
      }
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#track(ws);
      if (path === "/extension") this.#acceptExtension(ws);
      else this.#acceptClient(ws);
    });
  }

  #track(ws: WebSocket): void {
    this.#sockets.add(ws);
    ws.on("error", (error: Error) => this.#log(`WebSocket error: ${error.message}`));
    ws.on("close", () => this.#sockets.delete(ws));
    // `ws` closes an over-limit message with a bare 1009; give it the protocol's reason (§9).
    const close = ws.close.bind(ws);
    ws.close = (code?: number, reason?: string | Buffer) => {
      if (code === CloseCode.MessageTooBig && reason === undefined) {
        close(code, CloseReason.MessageTooBig);
      } else {
        close(code, reason);
      }
    };
  }

  // ---------------------------------------------------------------------------------------
  // Extension

  #acceptExtension(ws: WebSocket): void {
    if (this.#stopping) {
      ws.close(CloseCode.GoingAway, CloseReason.ServerStopping);
      return;
    }
    this.#log("Extension socket opened");
    this.#link = new ExtensionLink(ws, {
      legacy: this.#legacy,
      handshakeTimeoutMs: this.#handshakeTimeoutMs,
      pingIntervalMs: this.#pingIntervalMs,
      idleTimeoutMs: this.#idleTimeoutMs,
      maxFrameBytes: this.#maxFrameBytes,
      version: RELAY_VERSION,
      uptimeMs: () => performance.now() - this.#startedAt,
      // `connect` always carries the raw token, so accept it here whatever the option says.
      verifyToken: (token) =>
        (this.#verifier?.verify(token) ?? false) ||
        (this.#verifier?.isGatewayToken(token) ?? false),
      onReady: (link) => this.#onExtensionReady(link),
      onFrame: (link, result) => this.#onExtensionFrame(link, result),
      onClose: (link) => this.#onExtensionClose(link),
      log: this.#log,
    });
  }

  #onExtensionReady(link: ExtensionLink): void {
    if (link !== this.#link) return;
    this.#log(this.#legacy ? "Extension connected (legacy)" : "Extension connected");
    if (link.userAgent !== undefined) this.#userAgent = link.userAgent;
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    // Commands held during the gap go out in arrival order.
    for (const held of this.#held.splice(0)) {
      clearTimeout(held.timer);
      this.#send(held.call, held.done);
    }
  }

  #onExtensionFrame(link: ExtensionLink, result: DecodeResult<ExtensionFrame>): void {
    if (link !== this.#link) return;
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
        this.#router.handleEvent(frame.cdp);
        return;
      default:
        // pong counts for liveness only; gateway frames and anything else are ignored.
        return;
    }
  }

  #onExtensionClose(link: ExtensionLink): void {
    if (link !== this.#link) return;
    this.#link = undefined;
    const wasReady = link.wasReady;
    this.#log("Extension disconnected");
    // In-flight commands may already have run: fail them, never re-send (§7).
    this.#pending.rejectAll(new Error(ErrorText.ExtensionDisconnected));
    if (this.#stopping) return;
    if (this.#graceTimer !== undefined) return;
    if (!wasReady && this.#targets.size === 0 && this.#router.size === 0) return;
    this.#graceEndsAt = performance.now() + this.#graceMs;
    this.#graceTimer = setTimeout(() => this.#onGraceExpired(), this.#graceMs);
  }

  #onGraceExpired(): void {
    this.#graceTimer = undefined;
    this.#log("Extension did not return within the grace period");
    for (const held of this.#held.splice(0)) {
      clearTimeout(held.timer);
      held.done(failure(ErrorText.ExtensionNotConnected));
    }
    this.#targets.clear();
    for (const [client, ws] of this.#clientSockets) {
      this.#router.removeClient(client);
      ws.close(CloseCode.InternalError, CloseReason.ExtensionDisconnected);
    }
    this.#clientSockets.clear();
  }

  /** Forwards a command now, holds it during a gap, or fails it (§6.3, §7). */
  #forward(call: CdpCall, done: (outcome: Outcome) => void): void {
    if (this.#stopping) return done(failure(ErrorText.ServerStopping));
    if (this.#link?.ready === true) return this.#send(call, done);
    // Hold during the grace period, and also while a socket is handshaking or closing: its
    // close event (and so the grace period) may still be on its way.
    if (this.#graceTimer === undefined && this.#link === undefined) {
      return done(failure(ErrorText.ExtensionNotConnected));
    }
    const remaining = this.#graceTimer === undefined
      ? this.#graceMs
      : Math.max(0, this.#graceEndsAt - performance.now());
    const waitMs = Math.min(this.#commandWaitMs ?? remaining, remaining);
    const held: HeldCommand = {
      call,
      done,
      timer: setTimeout(() => {
        const index = this.#held.indexOf(held);
        if (index >= 0) this.#held.splice(index, 1);
        done(failure(ErrorText.ExtensionNotConnected));
      }, waitMs),
    };
    this.#held.push(held);
  }

  /**
   * Sends a command to the extension. `done` runs once: synchronously when the response
   * arrives, or later on timeout, disconnect or stop (through the pending entry's rejection).
   */
  #send(call: CdpCall, done: (outcome: Outcome) => void): void {
    const link = this.#link;
    if (link === undefined || !link.ready) return done(failure(ErrorText.ExtensionDisconnected));
    let commandId = 0;
    let finished = false;
    const finish = (outcome: Outcome) => {
      if (finished) return;
      finished = true;
      this.#callbacks.delete(commandId);
      done(outcome);
    };
    this.#pending.request(
      (id) => {
        commandId = id;
        this.#callbacks.set(id, finish);
        if (!link.send({ kind: "command", id, cdp: call })) {
          throw new Error(ErrorText.ExtensionDisconnected);
        }
      },
      { timeoutError: new Error(requestTimeoutError(call.method)) },
    ).catch((error: unknown) => {
      finish(failure(error instanceof Error ? error.message : String(error)));
    });
  }

  /** Settles a pending command and runs its callback at once. Unknown ids are ignored. */
  #settle(id: number, outcome: Outcome): void {
    const callback = this.#callbacks.get(id);
    if (this.#pending.settle(id, outcome)) callback?.(outcome);
  }

  #resetSession(sessionId: string): void {
    if (this.#link?.ready !== true || this.#stopping) return;
    // The legacy extension answers with an error; either way there is nothing to do.
    this.#send({ method: "BrowserRelay.resetSession", sessionId }, () => {});
  }

  // ---------------------------------------------------------------------------------------
  // CDP clients

  #acceptClient(ws: WebSocket): void {
    if (this.#stopping) {
      ws.close(CloseCode.GoingAway, CloseReason.ServerStopping);
      return;
    }
    const client = this.#router.addClient();
    this.#clientSockets.set(client, ws);
    this.#log(`CDP client ${client.id} connected`);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary || !client.open) return;
      const result = decodeCdpFrame(data, { maxBytes: this.#maxFrameBytes });
      if (!result.ok) {
        // The codec reports an id only when it can be echoed (never 1e400 → `"id":null`).
        if (typeof result.id === "number") {
          this.#router.replyError(
            client,
            result.id,
            `Invalid CDP command: ${formatIssues(result.issues)}`,
          );
        }
        return;
      }
      const frame = result.frame;
      if (frame.kind !== "command") return;
      this.#router.handleCommand(client, {
        id: frame.id,
        method: frame.method,
        ...(frame.params === undefined ? {} : { params: frame.params }),
        ...(frame.sessionId === undefined ? {} : { sessionId: frame.sessionId }),
      });
    });
    ws.on("close", () => {
      this.#clientSockets.delete(client);
      this.#router.removeClient(client);
      this.#log(`CDP client ${client.id} disconnected`);
    });
  }

  #sendToClient(client: CdpClient, frame: CdpFrame): void {
    const ws = this.#clientSockets.get(client);
    if (ws !== undefined && ws.readyState === ws.OPEN) ws.send(encodeCdpFrame(frame));
  }
}

/**
 * Starts a relay and resolves once it listens.
 *
 * @param options Token, address, limits and timers (protocol §7).
 * @returns The running relay.
 * @throws {TypeError} If the token is empty.
 * @throws {RangeError} If an option is out of range.
 *
 * @example Start a relay on a free port
 * ```ts ignore
 * import { startRelay } from "./server.ts";
 *
 * await using relay = await startRelay({ token: "test-token", port: 0 });
 * console.log(relay.url);
 * ```
 */
export async function startRelay(options: RelayOptions): Promise<RelayServer> {
  if (typeof options.token !== "string" || options.token.trim() === "") {
    throw new TypeError('Cannot start relay as "token" is empty: a gateway token is required');
  }
  const relay = new Relay(options);
  await relay.listen(options.token);
  const log = options.log ?? (() => {});
  if (!/^(127\.|::1$|localhost$)/.test(relay.host)) {
    log(`Listening on non-loopback address ${relay.host}: every request still needs the token`);
  }
  return relay;
}
