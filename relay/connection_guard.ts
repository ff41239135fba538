/**
 * Sheds connections before they exhaust the relay's file descriptors (issue 14 defects 1 and 7).
 *
 * Deno's `node:http` accept loop stops for good when `accept()` fails with `EMFILE`, silently
 * (no `error` event): a relay that ran out of descriptors once never accepts again. The guard
 * therefore keeps the process below its descriptor limit at all times:
 * - a hard ceiling on all connections, `server.maxConnections` (soft fd limit minus a reserve):
 *   past it the runtime accepts and closes at once, so `accept()` keeps succeeding;
 * - a lower cap on unauthenticated sockets (plain HTTP, rejected or pending upgrades): past it
 *   the oldest one with no request in progress is closed to make room (or, if every one is
 *   serving a request, the new socket is);
 * - a header timeout (complete request headers within `headerTimeoutMs` of the accept) and an
 *   idle timeout (no request in progress for `idleTimeoutMs`) for unauthenticated sockets, on
 *   the relay's {@linkcode Clock}, so slow or silent peers cannot hold their slots.
 * A socket stops being guarded once it completes an authenticated WebSocket upgrade
 * ({@linkcode ConnectionGuard.prototype.authenticate}); its WebSocket heartbeat takes over.
 * Shedding is logged at most once per `shedLogIntervalMs`, with counts, never per socket.
 *
 * @module
 */

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Clock } from "./clock.ts";

/** Options of {@linkcode ConnectionGuard}. */
export interface ConnectionGuardOptions {
  /** Time source of the header and idle timeouts and of the log rate limit. */
  readonly clock: Clock;
  /** Hard ceiling on all connections, authenticated or not; set as `server.maxConnections`. */
  readonly maxConnections: number;
  /** Cap on sockets that have not completed an authenticated upgrade. */
  readonly maxUnauthenticated: number;
  /** Deadline for complete request headers after the accept. */
  readonly headerTimeoutMs: number;
  /** Deadline for the next request on an idle unauthenticated socket. */
  readonly idleTimeoutMs: number;
  /** Shortest time between two shedding log lines. */
  readonly shedLogIntervalMs: number;
  /** Log sink. */
  readonly log: (line: string) => void;
}

/** Counters of a {@linkcode ConnectionGuard}, for tests, benchmarks and the log. */
export interface ConnectionGuardStats {
  /** Open sockets, authenticated or not. */
  readonly connections: number;
  /** Open sockets that have not completed an authenticated upgrade. */
  readonly unauthenticated: number;
  /** Sockets closed because the unauthenticated cap was reached (the oldest idle, or the new). */
  readonly shed: number;
  /** Times a new socket reached the hard ceiling (the runtime closes the ones past it). */
  readonly ceilingHits: number;
  /** Sockets destroyed by the header or idle timeout. */
  readonly timedOut: number;
}

interface Guarded {
  /** The header or idle timer, when one runs. */
  timer: unknown;
  /** Requests in progress on the socket. */
  busy: number;
}

/**
 * Guards the sockets of one `node:http` server; see the module doc.
 *
 * @example
 * ```ts ignore
 * const guard = new ConnectionGuard(server, { clock, maxConnections: 960, ... });
 * server.on("upgrade", (req, socket, head) => {
 *   wss.handleUpgrade(req, socket, head, () => guard.authenticate(socket));
 * });
 * ```
 */
export class ConnectionGuard {
  readonly #options: ConnectionGuardOptions;
  readonly #server: Server;
  readonly #unauthenticated = new Map<Duplex, Guarded>();
  #connections = 0;
  #shed = 0;
  #ceilingHits = 0;
  #timedOut = 0;
  #unreported = { shed: 0, ceiling: 0, timedOut: 0 };
  #lastLogAt = -Infinity;
  #reportTimer: unknown;
  #closed = false;
  readonly #onConnection = (socket: Duplex) => this.#accept(socket);
  readonly #onRequest = (req: IncomingMessage, res: ServerResponse) => this.#request(req, res);

  /**
   * Starts guarding `server`: sets its `maxConnections` and listens for its connections.
   *
   * @param server The relay's HTTP server, before it listens.
   * @param options Bounds, timeouts, clock and log.
   * @throws {RangeError} If a bound is not a positive integer.
   */
  constructor(server: Server, options: ConnectionGuardOptions) {
    for (const name of ["maxConnections", "maxUnauthenticated"] as const) {
      const value = options[name];
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(
          `Cannot guard connections as "${name}" must be a positive integer: current value is ${value}`,
        );
      }
    }
    this.#options = options;
    this.#server = server;
    server.maxConnections = options.maxConnections;
    // Registered before the relay's own listeners run for a socket: a socket shed here never
    // reaches the HTTP parser's handlers.
    server.prependListener("connection", this.#onConnection);
    server.prependListener("request", this.#onRequest);
  }

  /**
   * The effective bounds for a process with `openFileLimit` descriptors: the ceiling is the
   * limit minus `fdReserve` (at least `minCeiling`), and the unauthenticated cap is at most
   * half the ceiling, so authenticated sockets always find room.
   *
   * @param openFileLimit The soft `RLIMIT_NOFILE`; `Infinity` when unlimited.
   * @param bounds The configured cap, reserve and smallest ceiling.
   * @returns `maxConnections` and `maxUnauthenticated` for the guard's options.
   */
  static bounds(
    openFileLimit: number,
    bounds: { maxUnauthenticated: number; fdReserve: number; minCeiling: number },
  ): { maxConnections: number; maxUnauthenticated: number } {
    // 2^20 stands for "unlimited": far more sockets than one relay will ever see.
    const limit = Math.min(openFileLimit, 1_048_576);
    const maxConnections = Math.max(bounds.minCeiling, limit - bounds.fdReserve);
    const maxUnauthenticated = Math.max(
      1,
      Math.min(bounds.maxUnauthenticated, Math.floor(maxConnections / 2)),
    );
    return { maxConnections, maxUnauthenticated };
  }

  /** Current counters. */
  stats(): ConnectionGuardStats {
    return {
      connections: this.#connections,
      unauthenticated: this.#unauthenticated.size,
      shed: this.#shed,
      ceilingHits: this.#ceilingHits,
      timedOut: this.#timedOut,
    };
  }

  /**
   * Marks a socket as authenticated: it completed a WebSocket upgrade with a valid token. It no
   * longer counts against the unauthenticated cap and has no header or idle timeout.
   *
   * @param socket The socket passed to the server's `upgrade` event.
   */
  authenticate(socket: Duplex): void {
    const guarded = this.#unauthenticated.get(socket);
    if (guarded === undefined) return;
    this.#options.clock.clearTimeout(guarded.timer);
    this.#unauthenticated.delete(socket);
  }

  /** Stops guarding: clears every timer and removes the listeners; sockets stay open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.clock.clearTimeout(this.#reportTimer);
    this.#reportTimer = undefined;
    for (const guarded of this.#unauthenticated.values()) {
      this.#options.clock.clearTimeout(guarded.timer);
    }
    this.#unauthenticated.clear();
    this.#server.off("connection", this.#onConnection);
    this.#server.off("request", this.#onRequest);
  }

  #accept(socket: Duplex): void {
    if (this.#closed) return;
    this.#connections++;
    socket.once("close", () => {
      this.#connections--;
      const guarded = this.#unauthenticated.get(socket);
      if (guarded === undefined) return;
      this.#options.clock.clearTimeout(guarded.timer);
      this.#unauthenticated.delete(socket);
    });
    // The runtime closes every socket past maxConnections before it gets here; this one is the
    // last that fits, so the ones after it are being refused.
    if (this.#connections >= this.#options.maxConnections) {
      this.#ceilingHits++;
      this.#unreported.ceiling++;
      this.#report();
    }
    if (this.#unauthenticated.size >= this.#options.maxUnauthenticated) {
      // Make room by closing the oldest socket with no request in progress: a flood of idle
      // or slow sockets then cannot lock a real client out until the header timeout. Only
      // when every slot serves a request is the new socket the one refused.
      const victim = this.#oldestIdle();
      this.#shed++;
      this.#unreported.shed++;
      this.#report();
      if (victim === undefined) {
        socket.destroy();
        return;
      }
      this.#drop(victim);
    }
    const guarded: Guarded = { timer: undefined, busy: 0 };
    this.#unauthenticated.set(socket, guarded);
    this.#arm(socket, guarded, this.#options.headerTimeoutMs);
  }

  #oldestIdle(): Duplex | undefined {
    // Map order is accept order; busy sockets are few (each is a request being answered).
    for (const [socket, guarded] of this.#unauthenticated) {
      if (guarded.busy === 0) return socket;
    }
    return undefined;
  }

  #drop(socket: Duplex): void {
    const guarded = this.#unauthenticated.get(socket);
    if (guarded !== undefined) this.#options.clock.clearTimeout(guarded.timer);
    this.#unauthenticated.delete(socket);
    socket.destroy();
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const guarded = this.#unauthenticated.get(socket);
    if (guarded === undefined) return;
    // A request in progress is bounded by its handler (a forwarded command has its own
    // deadline); the idle timeout starts once the last response on the socket is done.
    this.#options.clock.clearTimeout(guarded.timer);
    guarded.timer = undefined;
    guarded.busy++;
    res.once("close", () => {
      guarded.busy--;
      if (guarded.busy === 0 && this.#unauthenticated.get(socket) === guarded) {
        this.#arm(socket, guarded, this.#options.idleTimeoutMs);
      }
    });
  }

  #arm(socket: Duplex, guarded: Guarded, ms: number): void {
    this.#options.clock.clearTimeout(guarded.timer);
    guarded.timer = this.#options.clock.setTimeout(() => {
      guarded.timer = undefined;
      if (this.#unauthenticated.get(socket) !== guarded) return;
      this.#timedOut++;
      this.#unreported.timedOut++;
      this.#report();
      this.#drop(socket);
    }, ms);
  }

  // One line per interval at most, with what happened since the last line: under a flood of
  // connections a line per socket would itself be the denial of service.
  // What happens inside the interval is reported by one timer at its end.
  #report(): void {
    const clock = this.#options.clock;
    const now = clock.now();
    const wait = this.#lastLogAt + this.#options.shedLogIntervalMs - now;
    if (wait > 0) {
      this.#reportTimer ??= clock.setTimeout(() => {
        this.#reportTimer = undefined;
        this.#report();
      }, wait);
      return;
    }
    this.#lastLogAt = now;
    const { shed, ceiling, timedOut } = this.#unreported;
    this.#unreported = { shed: 0, ceiling: 0, timedOut: 0 };
    const parts: string[] = [];
    if (shed > 0) {
      parts.push(
        `${shed} shed at the cap of ${this.#options.maxUnauthenticated} unauthenticated sockets`,
      );
    }
    if (ceiling > 0) {
      parts.push(
        `${ceiling} reached the ceiling of ${this.#options.maxConnections} connections (soft open-file limit minus reserve)`,
      );
    }
    if (timedOut > 0) parts.push(`${timedOut} closed by the header or idle timeout`);
    this.#options.log(
      `Shedding connections: ${
        parts.join("; ")
      } (next report in ${this.#options.shedLogIntervalMs} ms at the earliest)`,
    );
  }
}
