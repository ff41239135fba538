/**
 * The relay's own bounds on what one CDP client may make it hold, each with the error the client
 * gets when it reaches it. Wire limits (frame sizes, protocol range) live in `codec/limits.ts`.
 *
 * @module
 */

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
 * import { tooManySessionsError } from "./limits.ts";
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
 * import { privateMethodError } from "./limits.ts";
 *
 * privateMethodError("BrowserRelay.resetSession");
 * ```
 */
export function privateMethodError(method: string): string {
  return `Cannot call "${method}" as relay-private methods are not accepted from CDP clients`;
}
