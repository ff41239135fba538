/**
 * What one client turned on in a debugger session it shares with other clients, and how to turn
 * it off again. On Chrome's endpoint every client has its own session, and an override (request
 * interception, an emulated viewport, an intercepted file chooser, …) ends with that session. A
 * tab through the relay has one `chrome.debugger` session for all clients, so when a client goes
 * while others still use the tab, the relay undoes what that client left behind. (When no client
 * is left, the relay resets the whole session instead.)
 *
 * @module
 */

import type { CdpCall } from "../codec/extension_frame.ts";
import type { JsonObject } from "../codec/json.ts";

/** How one method changes an override: `set` records `undo`, `clear` forgets the key. */
type Effect =
  | { readonly kind: "set"; readonly key: string; readonly undo: Omit<CdpCall, "sessionId"> }
  | { readonly kind: "clear"; readonly key: string };

type Rule = (params: JsonObject) => Effect;

function toggle(key: string, method: string, field: string, off: JsonObject): Rule {
  return (params) =>
    params[field] === true
      ? { kind: "set", key, undo: { method, params: off } }
      : { kind: "clear", key };
}

function set(key: string, method: string, params?: JsonObject): Rule {
  return () => ({
    kind: "set",
    key,
    undo: params === undefined ? { method } : { method, params },
  });
}

function clear(key: string): Rule {
  return () => ({ kind: "clear", key });
}

/**
 * The overrides the relay undoes, by the method that sets or clears them. Each undo is the call
 * that returns Chrome to its default for that override.
 */
const RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ["Fetch.enable", set("fetch", "Fetch.disable")],
  ["Fetch.disable", clear("fetch")],
  [
    "Page.setInterceptFileChooserDialog",
    toggle("fileChooser", "Page.setInterceptFileChooserDialog", "enabled", { enabled: false }),
  ],
  ["Emulation.setDeviceMetricsOverride", set("metrics", "Emulation.clearDeviceMetricsOverride")],
  ["Emulation.clearDeviceMetricsOverride", clear("metrics")],
  ["Emulation.setGeolocationOverride", set("geolocation", "Emulation.clearGeolocationOverride")],
  ["Emulation.clearGeolocationOverride", clear("geolocation")],
  [
    "Emulation.setTouchEmulationEnabled",
    toggle("touch", "Emulation.setTouchEmulationEnabled", "enabled", { enabled: false }),
  ],
  [
    "Emulation.setEmulatedMedia",
    set("media", "Emulation.setEmulatedMedia", { media: "", features: [] }),
  ],
  [
    "Emulation.setTimezoneOverride",
    set("timezone", "Emulation.setTimezoneOverride", {
      timezoneId: "",
    }),
  ],
  ["Emulation.setLocaleOverride", set("locale", "Emulation.setLocaleOverride", {})],
  [
    "Emulation.setUserAgentOverride",
    set("userAgent", "Emulation.setUserAgentOverride", {
      userAgent: "",
    }),
  ],
  [
    "Emulation.setFocusEmulationEnabled",
    toggle("focus", "Emulation.setFocusEmulationEnabled", "enabled", { enabled: false }),
  ],
  ["Page.setBypassCSP", toggle("bypassCsp", "Page.setBypassCSP", "enabled", { enabled: false })],
  ["Network.setExtraHTTPHeaders", set("headers", "Network.setExtraHTTPHeaders", { headers: {} })],
]);

/**
 * Overrides per shared session: for each, the client that set it last and its undo call.
 *
 * @example
 * ```ts
 * import { SessionOverrides } from "./session_overrides.ts";
 *
 * const overrides = new SessionOverrides<string>();
 * overrides.record("client-1", "cb-tab-1", "Fetch.enable", {});
 * overrides.release("client-1", () => true); // [{ method: "Fetch.disable", sessionId: "cb-tab-1" }]
 * ```
 */
export class SessionOverrides<Client> {
  /** Session id → override key → its owner and undo. */
  readonly #bySession = new Map<
    string,
    Map<string, { readonly client: Client; readonly undo: Omit<CdpCall, "sessionId"> }>
  >();

  /** Number of sessions with at least one override. */
  get size(): number {
    return this.#bySession.size;
  }

  /**
   * Books a command a client sent on a session, if it sets or clears an override.
   *
   * @param client The sending client.
   * @param sessionId The debugger session the command runs on.
   * @param method The CDP method.
   * @param params Its params.
   */
  record(client: Client, sessionId: string, method: string, params: JsonObject = {}): void {
    const rule = RULES.get(method);
    if (rule === undefined) return;
    const effect = rule(params);
    let overrides = this.#bySession.get(sessionId);
    if (effect.kind === "clear") {
      overrides?.delete(effect.key);
      if (overrides?.size === 0) this.#bySession.delete(sessionId);
      return;
    }
    if (overrides === undefined) this.#bySession.set(sessionId, overrides = new Map());
    overrides.set(effect.key, { client, undo: effect.undo });
  }

  /**
   * Forgets a client's overrides and returns the calls that undo them on sessions still shared.
   *
   * @param client The client that went away.
   * @param stillShared Whether another client still uses a session; the others are reset whole.
   * @returns The undo calls, each with its session id.
   */
  release(client: Client, stillShared: (sessionId: string) => boolean): CdpCall[] {
    const calls: CdpCall[] = [];
    for (const [sessionId, overrides] of this.#bySession) {
      for (const [key, entry] of overrides) {
        if (entry.client !== client) continue;
        overrides.delete(key);
        if (stillShared(sessionId)) calls.push({ ...entry.undo, sessionId });
      }
      if (overrides.size === 0) this.#bySession.delete(sessionId);
    }
    return calls;
  }

  /**
   * Forgets the overrides of sessions that ended.
   *
   * @param sessionIds The ended sessions.
   */
  forgetSessions(sessionIds: Iterable<string>): void {
    for (const sessionId of sessionIds) this.#bySession.delete(sessionId);
  }
}
