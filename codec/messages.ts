/**
 * Error and status texts that cross the wire, and the method lists the protocol names.
 *
 * @module
 */

/**
 * Fixed error texts shared by the extension, the relay and tests.
 *
 * @example
 * ```ts
 * import { ErrorText } from "@browser-relay/codec";
 *
 * console.log(ErrorText.ExtensionDisconnected); // "extension disconnected"
 * ```
 */
export const ErrorText: {
  readonly ExtensionDisconnected: "extension disconnected";
  readonly ExtensionNotConnected: "Extension not connected";
  readonly ServerStopping: "server stopping";
  readonly MalformedExtensionError: "malformed error from extension";
  readonly CannotCloseLastTab: "Cannot close the last tab";
  readonly NoTargetWithGivenId: "No target with given id found";
  readonly TargetIdRequired: "targetId required";
  readonly UnknownError: "unknown error";
  readonly MissingGatewayToken:
    "Missing gatewayToken in extension settings (chrome.storage.local.gatewayToken)";
  readonly ProtocolMismatch: "protocol mismatch";
  readonly UnauthorizedTokenMissing: "unauthorized: gateway token missing";
  readonly UnauthorizedTokenMismatch: "unauthorized: gateway token mismatch";
} = Object.freeze({
  ExtensionDisconnected: "extension disconnected",
  ExtensionNotConnected: "Extension not connected",
  ServerStopping: "server stopping",
  MalformedExtensionError: "malformed error from extension",
  CannotCloseLastTab: "Cannot close the last tab",
  NoTargetWithGivenId: "No target with given id found",
  TargetIdRequired: "targetId required",
  UnknownError: "unknown error",
  MissingGatewayToken:
    "Missing gatewayToken in extension settings (chrome.storage.local.gatewayToken)",
  ProtocolMismatch: "protocol mismatch",
  UnauthorizedTokenMissing: "unauthorized: gateway token missing",
  UnauthorizedTokenMismatch: "unauthorized: gateway token mismatch",
});

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
 * Builds the relay's timeout error for a forwarded command.
 *
 * @param method The CDP method that timed out.
 * @returns `extension request timeout: <method>`.
 *
 * @example
 * ```ts
 * import { requestTimeoutError } from "@browser-relay/codec";
 *
 * requestTimeoutError("Page.navigate"); // "extension request timeout: Page.navigate"
 * ```
 */
export function requestTimeoutError(method: string): string {
  return `extension request timeout: ${method}`;
}

/**
 * Builds the error for a method the relay refuses.
 *
 * @param method The CDP method.
 * @returns `<method> is not supported by Browser Relay`.
 *
 * @example
 * ```ts
 * import { unsupportedMethodError } from "@browser-relay/codec";
 *
 * unsupportedMethodError("Browser.crash"); // "Browser.crash is not supported by Browser Relay"
 * ```
 */
export function unsupportedMethodError(method: string): string {
  return `${method} is not supported by Browser Relay`;
}

/**
 * Builds the extension's error for an outbound frame over the relay's `maxPayload`.
 *
 * @param bytes Size of the frame in UTF-8 bytes.
 * @param maxPayload The limit.
 * @returns `frame too large: <n> bytes exceeds maxPayload <m>`.
 *
 * @example
 * ```ts
 * import { frameTooLargeError } from "@browser-relay/codec";
 *
 * frameTooLargeError(200, 100); // "frame too large: 200 bytes exceeds maxPayload 100"
 * ```
 */
export function frameTooLargeError(bytes: number, maxPayload: number): string {
  return `frame too large: ${bytes} bytes exceeds maxPayload ${maxPayload}`;
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

/**
 * CDP methods whose effect lives in the debugger session and must be replayed after a
 * navigation re-attach (§5.4): every `*.enable` plus the listed state setters and overrides.
 */
export const SESSION_STATE_METHODS: readonly string[] = Object.freeze([
  "Page.setLifecycleEventsEnabled",
  "Page.addScriptToEvaluateOnNewDocument",
  "Page.setBypassCSP",
  "Page.setInterceptFileChooserDialog",
  "Runtime.addBinding",
  "Runtime.setAsyncCallStackDepth",
  "Target.setAutoAttach",
  "Network.setExtraHTTPHeaders",
  "Network.setCacheDisabled",
  "Network.setBypassServiceWorker",
  "Network.setUserAgentOverride",
  "Network.emulateNetworkConditions",
  "Emulation.setDeviceMetricsOverride",
  "Emulation.setUserAgentOverride",
  "Emulation.setGeolocationOverride",
  "Emulation.setTimezoneOverride",
  "Emulation.setLocaleOverride",
  "Emulation.setEmulatedMedia",
  "Emulation.setFocusEmulationEnabled",
  "Emulation.setTouchEmulationEnabled",
  "Emulation.setScriptExecutionDisabled",
  "Fetch.enable",
  "Log.startViolationsReport",
]);

/**
 * Tells whether a CDP method sets debugger-session state that a re-attach must replay.
 *
 * @param method The CDP method.
 * @returns `true` for `*.enable` and the methods in {@linkcode SESSION_STATE_METHODS}.
 *
 * @example
 * ```ts
 * import { isSessionStateMethod } from "@browser-relay/codec";
 *
 * isSessionStateMethod("Network.enable"); // true
 * isSessionStateMethod("Runtime.evaluate"); // false
 * ```
 */
export function isSessionStateMethod(method: string): boolean {
  return method.endsWith(".enable") || SESSION_STATE_METHODS.includes(method);
}
