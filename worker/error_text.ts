/**
 * Error texts only the extension produces. They reach the relay inside `{id, error}` replies and
 * the options page's status, but the relay passes them through without reading them, so they
 * are the worker's own and stay out of the published codec.
 *
 * @module
 */

/**
 * Fixed error texts of the extension.
 *
 * @example
 * ```ts
 * import { ErrorText } from "./error_text.ts";
 *
 * console.log(ErrorText.CannotCloseLastTab); // "Cannot close the last tab"
 * ```
 */
export const ErrorText: {
  readonly CannotCloseLastTab: "Cannot close the last tab";
  readonly UnknownError: "unknown error";
  readonly MissingGatewayToken:
    "Missing gatewayToken in extension settings (chrome.storage.local.gatewayToken)";
} = Object.freeze({
  CannotCloseLastTab: "Cannot close the last tab",
  UnknownError: "unknown error",
  MissingGatewayToken:
    "Missing gatewayToken in extension settings (chrome.storage.local.gatewayToken)",
});

/**
 * Builds the extension's error for an outbound frame over the relay's `maxPayload`.
 *
 * @param bytes Size of the frame in UTF-8 bytes.
 * @param maxPayload The limit.
 * @returns `frame too large: <n> bytes exceeds maxPayload <m>`.
 *
 * @example
 * ```ts
 * import { frameTooLargeError } from "./error_text.ts";
 *
 * frameTooLargeError(200, 100); // "frame too large: 200 bytes exceeds maxPayload 100"
 * ```
 */
export function frameTooLargeError(bytes: number, maxPayload: number): string {
  return `frame too large: ${bytes} bytes exceeds maxPayload ${maxPayload}`;
}
