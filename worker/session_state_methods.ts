/**
 * The worker's replay list: which CDP commands set debugger-session state that a navigation
 * re-attach must replay. This is the extension's own policy, not part of the wire protocol, so it
 * lives in the worker rather than in the published codec.
 *
 * @module
 */

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
 * import { isSessionStateMethod } from "./session_state_methods.ts";
 *
 * isSessionStateMethod("Network.enable"); // true
 * isSessionStateMethod("Runtime.evaluate"); // false
 * ```
 */
export function isSessionStateMethod(method: string): boolean {
  return method.endsWith(".enable") || SESSION_STATE_METHODS.includes(method);
}
