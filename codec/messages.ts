/**
 * The error texts both ends of the `/extension` socket must agree on: the extension reports an
 * unknown session with {@linkcode noSessionError}, and the relay recognises that text (and
 * Chrome's own texts for a vanished target) with {@linkcode isTargetGoneError} to prune its
 * target cache (§6.3). Texts only one side writes live with that side (`worker/error_text.ts`,
 * `relay/error_text.ts`).
 *
 * @module
 */

/**
 * Builds the error for a command on a session neither side knows.
 *
 * @param sessionId The unknown session id.
 * @returns `No session with given id: <id>`.
 *
 * @example
 * ```ts
 * import { noSessionError } from "@browser-relay/codec";
 *
 * noSessionError("cb-tab-9"); // "No session with given id: cb-tab-9"
 * ```
 */
export function noSessionError(sessionId: string): string {
  return `No session with given id: ${sessionId}`;
}

/**
 * Lower-case fragments of error messages that mean a target or session is gone (§6.3).
 * A relay prunes its cache when a forwarded command fails with one of them.
 */
export const TARGET_GONE_FRAGMENTS: readonly string[] = Object.freeze([
  "target not found",
  "no target with given id",
  "session not found",
  "cannot find session",
  "no session with given id",
]);

/**
 * Tells whether an error message means the target or session no longer exists.
 *
 * @param message The error message.
 * @returns `true` when the message contains one of {@linkcode TARGET_GONE_FRAGMENTS}.
 *
 * @example
 * ```ts
 * import { isTargetGoneError } from "@browser-relay/codec";
 *
 * isTargetGoneError("No target with given id found"); // true
 * ```
 */
export function isTargetGoneError(message: string): boolean {
  const lower = message.toLowerCase();
  return TARGET_GONE_FRAGMENTS.some((fragment) => lower.includes(fragment));
}
