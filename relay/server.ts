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
import { type WebSocket, WebSocketServer } from "ws";
import { CloseCode, CloseReason } from "../codec/close_codes.ts";
import { decodeCdpFrame } from "../codec/decode_cdp_frame.ts";
import { DEFAULT_MAX_BATCH_FRAMES } from "../codec/frame_batch.ts";
import { formatIssues } from "../codec/format_issues.ts";
import {
  DEFAULT_RELAY_PORT,
  MAX_FRAME_BYTES,
  MIN_MAX_FRAME_BYTES,
  PREAUTH_MAX_FRAME_BYTES,
} from "../codec/limits.ts";
import {
  encodeNonce,
  isMutualToken,
  MUTUAL_AUTH_SCHEME,
  mutualAuthKey,
  mutualChallengeNonce,
  mutualProof,
} from "../codec/mutual_auth.ts";
import {
  createTokenVerifier,
  isAllowedOrigin,
  isLoopbackAddress,
  redactToken,
  type TokenVerifier,
} from "./auth.ts";
import { type CdpClient, CdpRouter } from "./cdp_router.ts";
import { DownloadEmulation } from "./download_emulation.ts";
import type { DownloadFs } from "./downloads.ts";
import { PermissionEmulation } from "./permission_emulation.ts";
import { MAX_CLIENT_SESSIONS, RelayBounds } from "./bounds.ts";
import { type Clock, systemClock } from "./clock.ts";
import { ConnectionGuard, type ConnectionGuardStats } from "./connection_guard.ts";
import { ExtensionChannel } from "./extension_channel.ts";
import { checkHostAndPeer, handleHttpRequest, presentedToken } from "./http_routes.ts";
import { MemorySettle } from "./memory_settle.ts";
import { readOpenFileLimit } from "./open_file_limit.ts";
import { receiveLimit } from "./receive_limit.ts";
import { TargetRegistry } from "./targets.ts";
import { withUploadFallback } from "./upload_fallback.ts";
import { createWriteBatcher } from "./write_batcher.ts";

/** How long a stopping relay waits at most for its clients' pongs before it closes them. */
const STOP_DRAIN_MS = 1_000;

/** The relay version reported in hello-ok and `/json/version`. */
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
   * Frames per frame batch on `/extension` (docs/protocol-extensions.md, "Frame batches"),
   * offered in hello-ok to an extension that asks for batches; 1 turns batching off.
   *
   * @default {DEFAULT_MAX_BATCH_FRAMES (64)}
   */
  readonly maxBatchFrames?: number;
  /**
   * Log sink. Tokens are never logged.
   *
   * @default {no logging}
   */
  readonly log?: (line: string) => void;
  /**
   * Cap on sockets that have not completed an authenticated upgrade (plain HTTP included);
   * at most half the connection ceiling is used. See {@linkcode RelayBounds}.
   *
   * @default {256}
   */
  readonly maxUnauthenticatedSockets?: number;
  /**
   * The soft open-file limit the connection ceiling derives from (limit minus 64).
   *
   * @default {read from /proc/self/limits; 256 where it cannot be read}
   */
  readonly openFileLimit?: number;
  /**
   * Deadline for complete request headers on a new socket.
   *
   * @default {10000}
   */
  readonly headerTimeoutMs?: number;
  /**
   * How long an unauthenticated keep-alive socket may wait for its next request.
   *
   * @default {5000}
   */
  readonly httpIdleTimeoutMs?: number;
  /**
   * Runs one full garbage collection after a burst of large frames.
   *
   * @default {globalThis.gc when exposed (--v8-flags=--expose-gc), else none}
   */
  readonly collectGarbage?: () => void;
  /**
   * Time source of every deadline, grace period, ping and idle check; tests pass a fake clock.
   *
   * @default {systemClock()}
   */
  readonly clock?: Clock;
  /**
   * Relay-made sessions (browser sessions and aliases) one CDP client may hold at once; an
   * attach beyond it fails with a specific error.
   *
   * @default {MAX_CLIENT_SESSIONS (10000)}
   */
  readonly maxClientSessions?: number;
  /**
   * File operations of the download emulation (moving finished downloads into a client's
   * `downloadPath`); tests pass an in-memory one.
   *
   * @default {denoDownloadFs}
   */
  readonly downloadFs?: DownloadFs;
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
  /** Downloads in flight plus clients with a download behavior set. */
  readonly downloads: number;
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
  /** Socket counters of the connection guard: open, unauthenticated, shed, timed out. */
  socketStats(): ConnectionGuardStats;
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

/** Resolves once `ws` answers a ping (or closes): everything it sent before has been read. */
function pingBarrier(ws: WebSocket): Promise<void> {
  if (ws.readyState !== ws.OPEN) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      ws.off("pong", done);
      ws.off("close", done);
      resolve();
    };
    ws.on("pong", done);
    ws.on("close", done);
    ws.ping();
  });
}

/**
 * The HTTP and upgrade layer: it checks requests, hands `/extension` sockets to the
 * {@linkcode ExtensionChannel} and `/cdp` sockets to the {@linkcode CdpRouter}, and stops.
 */
class Relay implements RelayServer {
  readonly host: string;
  port = 0;
  relayToken = "";
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #guard: ConnectionGuard;
  readonly #settle: MemorySettle;
  readonly #targets = new TargetRegistry();
  readonly #router: CdpRouter;
  readonly #channel: ExtensionChannel;
  readonly #downloads: DownloadEmulation<CdpClient>;
  readonly #permissions: PermissionEmulation<CdpClient>;
  /** Every upgraded socket, with the endpoint it was upgraded on. */
  readonly #sockets = new Map<WebSocket, "/extension" | "/cdp">();
  readonly #clock: Clock;
  readonly #startedAt: number;
  readonly #legacy: boolean;
  readonly #maxFrameBytes: number;
  readonly #log: (line: string) => void;
  readonly #requestedPort: number;
  readonly #acceptRaw: boolean;
  #verifier: TokenVerifier | undefined;
  /** `mutualAuthKey(token, port)`, once the port is bound. */
  #mutualKey: CryptoKey | undefined;
  #closing: Promise<void> | undefined;
  #stopping = false;

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
    const handshakeTimeoutMs = checkPositive(
      "handshakeTimeoutMs",
      options.handshakeTimeoutMs ?? 10_000,
    );
    const pingIntervalMs = checkPositive("pingIntervalMs", options.pingIntervalMs ?? 5_000);
    const idleTimeoutMs = checkPositive(
      "extensionIdleTimeoutMs",
      options.extensionIdleTimeoutMs ?? 30_000,
    );
    const graceMs = checkPositive("reconnectGraceMs", options.reconnectGraceMs ?? 20_000);
    const commandWaitMs = options.commandReconnectWaitMs === undefined
      ? undefined
      : checkPositive("commandReconnectWaitMs", options.commandReconnectWaitMs);
    const commandTimeoutMs = checkPositive("commandTimeoutMs", options.commandTimeoutMs ?? 30_000);
    this.#legacy = options.legacy ?? false;
    this.#acceptRaw = options.acceptRawGatewayToken ?? true;
    this.#log = options.log ?? (() => {});
    this.#clock = options.clock ?? systemClock();
    this.#startedAt = this.#clock.now();
    this.#channel = new ExtensionChannel({
      clock: this.#clock,
      graceMs,
      commandWaitMs,
      commandTimeoutMs,
      link: {
        legacy: this.#legacy,
        handshakeTimeoutMs,
        pingIntervalMs,
        idleTimeoutMs,
        maxFrameBytes: this.#maxFrameBytes,
        maxBatchFrames: checkPositive(
          "maxBatchFrames",
          options.maxBatchFrames ?? DEFAULT_MAX_BATCH_FRAMES,
        ),
        version: RELAY_VERSION,
        uptimeMs: () => this.#clock.now() - this.#startedAt,
        // `connect` always carries the raw token, so accept it here whatever the option says.
        verifyToken: (token) =>
          (this.#verifier?.verify(token) ?? false) ||
          (this.#verifier?.isGatewayToken(token) ?? false),
      },
      hasState: () => this.#targets.size > 0 || this.#router.size > 0,
      onEvent: (event) => {
        if (!this.#downloads.handleEvent(event)) this.#router.handleEvent(event);
      },
      onReady: () => this.#permissions.resync(),
      onGraceExpired: () => this.#onGraceExpired(),
      log: this.#log,
    });
    this.#router = new CdpRouter({
      targets: this.#targets,
      maxClientSessions: checkPositive(
        "maxClientSessions",
        options.maxClientSessions ?? MAX_CLIENT_SESSIONS,
      ),
      // Bound to loopback, every client runs on this machine and could read the files itself;
      // a relay reachable from other machines must not hand them this machine's files.
      forward: isLoopbackAddress(this.host)
        ? withUploadFallback((command) => this.#channel.forward(command), { log: this.#log })
        : (command) => this.#channel.forward(command),
      userAgent: () => this.#channel.userAgent,
      setDownloadBehavior: (client, params, browserSessionId) =>
        this.#downloads.setBehavior(client, params, browserSessionId),
      permissions: (client, method, params) =>
        method === "Browser.grantPermissions"
          ? this.#permissions.grant(client, params)
          : method === "Browser.setPermission"
          ? this.#permissions.setPermission(client, params)
          : this.#permissions.reset(client, params),
      onClientRemoved: (client) => {
        this.#downloads.clientGone(client);
        this.#permissions.clientGone(client);
      },
      onSessionReleased: (sessionId) => {
        // The legacy extension answers with an error; either way there is nothing to do.
        if (this.#channel.connected) {
          this.#channel.forward({
            method: "BrowserRelay.resetSession",
            sessionId,
            settle: () => {},
          });
        }
      },
    });
    this.#downloads = new DownloadEmulation<CdpClient>({
      clients: () => this.#router.clients(),
      sendEvent: (client, method, params, sessionId) =>
        this.#router.sendEvent(client, method, params, sessionId),
      toExtension: (method, params) => {
        if (this.#channel.connected) this.#channel.forward({ method, params, settle: () => {} });
      },
      contextIds: () => this.#contextIds(),
      log: this.#log,
      ...(options.downloadFs === undefined ? {} : { fs: options.downloadFs }),
    });
    this.#permissions = new PermissionEmulation<CdpClient>({
      clients: () => this.#router.clients(),
      sharedUrls: () =>
        this.#targets.list().flatMap((entry) =>
          entry.targetInfo.type === "page" && typeof entry.targetInfo.url === "string"
            ? [entry.targetInfo.url]
            : []
        ),
      contextIds: () => this.#contextIds(),
      toExtension: (method, params) =>
        new Promise((resolve) => {
          this.#channel.forward({
            method,
            params,
            settle: (outcome) =>
              resolve(
                outcome.ok
                  ? outcome
                  : { ok: false, error: { code: -32000, message: outcome.error } },
              ),
          });
        }),
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
        extensionConnected: () => this.#channel.connected,
        mutualChallenge: (clientNonce) => this.#mutualChallenge(clientNonce),
        targets: () => this.#targets.list(),
        forward: (method, targetId) =>
          new Promise<void>((resolve, reject) => {
            this.#channel.forward({
              method,
              params: { targetId },
              settle: (outcome) => outcome.ok ? resolve() : reject(new Error(outcome.error)),
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
    this.#settle = new MemorySettle({
      clock: this.#clock,
      thresholdBytes: RelayBounds.largeFrameBytes,
      delayMs: RelayBounds.memorySettleMs,
      collect: options.collectGarbage ?? MemorySettle.exposedGc(),
    });
    this.#guard = new ConnectionGuard(this.#http, {
      clock: this.#clock,
      ...ConnectionGuard.bounds(
        options.openFileLimit ?? readOpenFileLimit(RelayBounds.fallbackOpenFileLimit),
        {
          maxUnauthenticated: checkPositive(
            "maxUnauthenticatedSockets",
            options.maxUnauthenticatedSockets ?? RelayBounds.maxUnauthenticatedSockets,
          ),
          fdReserve: RelayBounds.fdReserve,
          minCeiling: RelayBounds.minConnectionCeiling,
        },
      ),
      headerTimeoutMs: checkPositive(
        "headerTimeoutMs",
        options.headerTimeoutMs ?? RelayBounds.headerTimeoutMs,
      ),
      idleTimeoutMs: checkPositive(
        "httpIdleTimeoutMs",
        options.httpIdleTimeoutMs ?? RelayBounds.idleTimeoutMs,
      ),
      shedLogIntervalMs: RelayBounds.shedLogIntervalMs,
      log: this.#log,
    });
    this.#http.on("clientError", (_error: Error, socket: Duplex) => socket.destroy());
  }

  /** Browser context ids a client may name: those of the shared tabs' targets. */
  #contextIds(): string[] {
    return [
      ...new Set(
        this.#targets.list().flatMap((entry) => {
          const id = entry.targetInfo.browserContextId;
          return typeof id === "string" ? [id] : [];
        }),
      ),
    ];
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
      if (!this.#legacy) this.#mutualKey = await mutualAuthKey(token, this.port);
    } catch (error) {
      await this.close();
      throw error;
    }
    this.relayToken = this.#verifier.relayToken;
  }

  stats(): RelayStats {
    return {
      pendingCommands: this.#channel.pendingCount,
      heldCommands: this.#channel.heldCount,
      clients: this.#router.size,
      targets: this.#targets.size,
      extensionConnected: this.#channel.connected,
      inGracePeriod: this.#channel.inGracePeriod,
      downloads: this.#downloads.size,
    };
  }

  socketStats(): ConnectionGuardStats {
    return this.#guard.stats();
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
    this.#channel.stop();
    // Drain before the close frames go out: the rejections above reach the clients as replies,
    // and commands a client sent before the stop began are read and answered with
    // `server stopping`; after a close frame nothing more can be answered. Each client gets a
    // ping: frames are ordered, so once its pong is read, so is everything it sent before it
    // saw the ping. A client that never answers holds the stop up for STOP_DRAIN_MS at most.
    const clients = [...this.#sockets].filter(([, path]) => path === "/cdp");
    let drainTimer: unknown;
    await Promise.race([
      Promise.all(clients.map(([ws]) => pingBarrier(ws))),
      new Promise<void>((resolve) => {
        drainTimer = this.#clock.setTimeout(resolve, STOP_DRAIN_MS);
      }),
    ]);
    this.#clock.clearTimeout(drainTimer);
    const closed = [...this.#sockets.keys()].map((ws) =>
      ws.readyState === ws.CLOSED
        ? Promise.resolve()
        : new Promise<void>((resolve) => ws.once("close", () => resolve()))
    );
    this.#channel.closeLink(CloseCode.GoingAway, CloseReason.ServerStopping);
    for (const ws of this.#sockets.keys()) {
      if (ws.readyState === ws.OPEN) ws.close(CloseCode.GoingAway, CloseReason.ServerStopping);
    }
    // A peer that never answers the close frame must not hold the stop up.
    const force = this.#clock.setTimeout(() => {
      for (const ws of this.#sockets.keys()) ws.terminate();
    }, 1000);
    await Promise.all(closed);
    this.#clock.clearTimeout(force);
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    this.#guard.close();
    this.#settle.close();
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
    if (path === "/extension" && url.searchParams.get("auth") === MUTUAL_AUTH_SCHEME) {
      return this.#onMutualUpgrade(req, socket, head, url, reject);
    }
    if (!(this.#verifier?.verify(presentedToken(req, url).token) ?? false)) {
      return reject(401, "Unauthorized");
    }
    // A socket that is already closing is replaced at once.
    if (path === "/extension" && !this.#channel.admit()) {
      return reject(409, "Extension already connected");
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#guard.authenticate(socket);
      // Before the handshake an /extension frame may be 64 KiB at most, and `ws` must refuse a
      // bigger one from its header, not after buffering it (the link raises the limit once
      // ready). Legacy mode has no handshake: the link is ready at once.
      if (path === "/extension" && !this.#legacy) receiveLimit(ws, PREAUTH_MAX_FRAME_BYTES);
      this.#track(ws, path, socket);
      const hold = createWriteBatcher(socket);
      if (path === "/extension") this.#channel.connect(ws, hold);
      else this.#acceptClient(ws, hold);
    });
  }

  /** The relay's proof for `clientNonce` over a fresh relay nonce, as a challenge nonce. */
  async #mutualChallenge(clientNonce: string): Promise<string | undefined> {
    const key = this.#mutualKey;
    if (key === undefined || !isMutualToken(clientNonce)) return undefined;
    const relayNonce = encodeNonce(crypto.getRandomValues(new Uint8Array(32)));
    const proof = await mutualProof(key, "relay", { port: this.port, clientNonce, relayNonce });
    return mutualChallengeNonce(relayNonce, proof);
  }

  /**
   * Scheme `mutual-v1`: an `/extension` upgrade without a token, carrying the extension's nonce.
   * The socket is unauthenticated until its proof verifies (extension_link.ts); legacy mode does
   * not offer the scheme. A token in the same request is ignored: this path never uses one.
   */
  #onMutualUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
    reject: (status: number, body: string) => void,
  ): void {
    const key = this.#mutualKey;
    const clientNonce = url.searchParams.get("nonce") ?? "";
    if (key === undefined || !isMutualToken(clientNonce)) return reject(401, "Unauthorized");
    if (this.#channel.busy) return reject(409, "Extension already connected");
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      // Unauthenticated until the proof verifies: the pre-handshake frame limit applies, and the
      // connection guard counts it with the other unauthenticated sockets until then.
      receiveLimit(ws, PREAUTH_MAX_FRAME_BYTES);
      this.#track(ws, "/extension", socket);
      this.#channel.connectMutual(
        ws,
        {
          key,
          port: this.port,
          clientNonce,
          // A fresh relay nonce per socket: the transcript, and so each proof, is used once.
          relayNonce: encodeNonce(crypto.getRandomValues(new Uint8Array(32))),
        },
        createWriteBatcher(socket),
        () => this.#guard.authenticate(socket),
      );
    });
  }

  #track(ws: WebSocket, path: "/extension" | "/cdp", socket: Duplex): void {
    this.#sockets.set(ws, path);
    ws.on("error", (error: Error) => this.#log(`WebSocket error: ${error.message}`));
    ws.on("close", () => this.#sockets.delete(ws));
    ws.on("message", (data: Buffer) => this.#settle.note(data.length));
    // `ws` closes an over-limit message with a bare 1009; give it the protocol's reason (§9).
    const close = ws.close.bind(ws);
    ws.close = (code?: number, reason?: string | Buffer) => {
      if (code === CloseCode.MessageTooBig && reason === undefined) {
        // Still at the pre-handshake limit: say so, as the link does for a buffered frame.
        const preauth = path === "/extension" && receiveLimit(ws) === PREAUTH_MAX_FRAME_BYTES;
        close(code, preauth ? CloseReason.PreauthPayloadTooLarge : CloseReason.MessageTooBig);
        // `ws` would now read and discard the rest of the frame for up to 30 s while it waits
        // for the peer's close frame: 200 MiB of garbage buffers. Once the close frame is
        // flushed (writes complete in order), the socket goes.
        socket.write(new Uint8Array(0), () => socket.destroy());
      } else {
        close(code, reason);
      }
    };
  }

  #onGraceExpired(): void {
    this.#targets.clear();
    for (const client of this.#router.clients()) {
      this.#router.removeClient(client);
      client.close(CloseCode.InternalError, CloseReason.ExtensionDisconnected);
    }
  }

  // ---------------------------------------------------------------------------------------
  // CDP clients

  #acceptClient(ws: WebSocket, hold: () => void): void {
    if (this.#stopping) {
      ws.close(CloseCode.GoingAway, CloseReason.ServerStopping);
      return;
    }
    const client = this.#router.addClient({
      write: (text) => {
        if (ws.readyState !== ws.OPEN) return;
        hold();
        ws.send(text);
      },
      close: (code, reason) => ws.close(code, reason),
    });
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
      if (result.frame.kind === "command") this.#router.handleCommand(client, result.frame);
    });
    ws.on("close", () => {
      this.#router.removeClient(client);
      this.#log(`CDP client ${client.id} disconnected`);
    });
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
