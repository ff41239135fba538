/**
 * Every bound the relay puts on connections, unauthenticated sockets, queues and per-client
 * sessions, in one place (issue 14); wire limits (frame sizes, protocol range) live in
 * `codec/limits.ts`. Each bound has a specific refusal: a dropped socket, a close code with its reason,
 * or a CDP error text. README "Reliability and security" and docs/protocol-extensions.md
 * ("Bounds") list the same values.
 *
 * @module
 */

/**
 * The relay's named bounds.
 *
 * - `maxUnauthenticatedSockets`: TCP sockets that have not completed an authenticated WebSocket
 *   upgrade (plain HTTP, rejected upgrades, slow or silent peers). At the bound, a new socket
 *   closes the oldest one with no request in progress (the new one is refused only if every
 *   slot is serving a request), so a flood cannot lock real clients out. The effective bound is also at most half of the
 *   connection ceiling, so the other half always stays free for authenticated sockets.
 * - `fdReserve`: file descriptors kept free below the process's soft `RLIMIT_NOFILE` (read from
 *   `/proc/self/limits` on Linux). The connection ceiling, `server.maxConnections`, is the soft
 *   limit minus this reserve: past it the runtime accepts and closes at once, so `accept()`
 *   never meets `EMFILE` (Deno's accept loop stops for good on `EMFILE`, issue 14 defect 1).
 * - `fallbackOpenFileLimit`: the soft limit assumed where it cannot be read: not Linux, or
 *   not `--allow-all` (Deno refuses `/proc/self` reads otherwise; `deno task relay` and
 *   `deno task start` run with `-A`). 256 is macOS's default, the lowest common desktop value: a ceiling of 192 connections
 *   and 96 unauthenticated sockets, ample for a relay on loopback.
 * - `minConnectionCeiling`: the ceiling never drops below this, however low the limit.
 * - `headerTimeoutMs`: an accepted socket must deliver complete request headers within this
 *   time, or it is destroyed (slowloris).
 * - `idleTimeoutMs`: a keep-alive HTTP socket with no request in progress is destroyed after
 *   this long; authenticated WebSocket sockets have their own heartbeat and are not affected.
 * - `shedLogIntervalMs`: shedding (sockets refused at a bound) is logged at most once per
 *   interval, with the count since the last line, never once per socket.
 * - `maxHeldCommands`: commands held while the extension is away (handshaking or in its grace
 *   period). Past it a command fails at once with {@linkcode heldQueueFullError}'s text.
 * - `largeFrameBytes`, `memorySettleMs`: after a frame of at least 8 MiB, once no other came
 *   for 1 s, the relay runs one full garbage collection when `gc()` is exposed
 *   (`relay/memory_settle.ts`), so its RSS returns to the idle baseline.
 *
 * The 64 KiB limit on `/extension` frames before the handshake is `PREAUTH_MAX_FRAME_BYTES` in
 * `codec/limits.ts`; the relay now enforces it while a frame is received, from its header.
 *
 * @example
 * ```ts
 * import { RelayBounds } from "./bounds.ts";
 *
 * console.log(RelayBounds.headerTimeoutMs); // 10000
 * ```
 */
export const RelayBounds: {
  readonly maxUnauthenticatedSockets: 256;
  readonly fdReserve: 64;
  readonly fallbackOpenFileLimit: 256;
  readonly minConnectionCeiling: 16;
  readonly headerTimeoutMs: 10_000;
  readonly idleTimeoutMs: 5_000;
  readonly shedLogIntervalMs: 60_000;
  readonly maxHeldCommands: 1_000;
  readonly largeFrameBytes: 8_388_608;
  readonly memorySettleMs: 1_000;
} = Object.freeze({
  maxUnauthenticatedSockets: 256,
  fdReserve: 64,
  fallbackOpenFileLimit: 256,
  minConnectionCeiling: 16,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 5_000,
  shedLogIntervalMs: 60_000,
  maxHeldCommands: 1_000,
  largeFrameBytes: 8_388_608,
  memorySettleMs: 1_000,
});

/**
 * The error a command gets when the held queue is full.
 *
 * @param limit The bound that was hit.
 * @returns The client-visible error text.
 *
 * @example
 * ```ts
 * import { heldQueueFullError } from "./bounds.ts";
 *
 * heldQueueFullError(1000);
 * // "Cannot hold command while the extension is away as the held queue is full: current size is 1000"
 * ```
 */
export function heldQueueFullError(limit: number): string {
  return `Cannot hold command while the extension is away as the held queue is full: current size is ${limit}`;
}

/**
 * Relay-made sessions (browser sessions and aliases, see `client_sessions.ts`) one client may
 * hold at once. Playwright and Puppeteer make one or two per `newCDPSession`; the bound keeps a
 * runaway or hostile client from growing the relay without limit.
 */
export const MAX_CLIENT_SESSIONS = 10_000;

/**
 * The error for an attach beyond the per-client session cap ({@linkcode MAX_CLIENT_SESSIONS}
 * unless the relay was started with another `maxClientSessions`).
 *
 * @param limit The cap in force.
 * @param count The client's current number of relay-made sessions.
 * @returns The client-visible error message.
 *
 * @example
 * ```ts
 * import { tooManySessionsError } from "./bounds.ts";
 *
 * tooManySessionsError(10000, 10000);
 * ```
 */
export function tooManySessionsError(limit: number, count: number): string {
  return `Cannot attach as a client may hold at most ${limit} relay-made sessions: current count is ${count}`;
}

/**
 * The error for a relay-private method (`BrowserRelay.*`, spoken only between the relay and the
 * extension) sent by a CDP client.
 *
 * @param method The method.
 * @returns The client-visible error message.
 *
 * @example
 * ```ts
 * import { privateMethodError } from "./bounds.ts";
 *
 * privateMethodError("BrowserRelay.resetSession");
 * ```
 */
export function privateMethodError(method: string): string {
  return `Cannot call "${method}" as relay-private methods are not accepted from CDP clients`;
}
