/**
 * The relay's half of the permission emulation (issue 13): `Browser.grantPermissions`,
 * `Browser.setPermission` and `Browser.resetPermissions` are in the `Browser` domain, which
 * `chrome.debugger` does not give extensions, so the relay answers them and has the extension
 * set `chrome.contentSettings` rules for the origins of shared tabs.
 *
 * Who does what:
 * - The relay knows the clients and the shared tabs: it validates the command (with Chrome's
 *   error texts), checks that every origin is the origin of a shared tab, remembers which client
 *   set which rule, and works out the rules in force (the last one set for a content type and
 *   origin wins, as in Chrome).
 * - The extension knows `chrome.contentSettings`: `BrowserRelay.setContentSettings {type, rules}`
 *   replaces every rule the extension has for one content type with `rules`. Extension rules
 *   are a layer of their own above the person's settings, so clearing them brings back exactly
 *   what the person had; the person's own settings are never written.
 *
 * @module
 */

import type { CdpError, CdpOutcome } from "../codec/cdp_frame.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import type { JsonObject, JsonValue } from "../codec/json.ts";
import type { ContentSettingType, ContentSettingValue } from "../worker/ports.ts";

/** A client as the emulation sees it: anything with a stable id. */
export interface PermissionClient {
  readonly id: number;
}

// The `chrome.contentSettings` vocabulary of `BrowserRelay.setContentSettings` has one definition,
// the extension's port (type-only: nothing of the worker is loaded into the relay).
export type { ContentSettingType, ContentSettingValue } from "../worker/ports.ts";

/** One rule for the extension: a content setting pattern and its value. */
export interface ContentSettingRule {
  readonly pattern: string;
  readonly setting: ContentSettingValue;
}

/**
 * CDP `PermissionType` names that have a content setting. Every other `PermissionType` is
 * known to Chrome but has no `chrome.contentSettings` counterpart.
 */
export const PERMISSION_TYPE_SETTINGS: ReadonlyMap<string, ContentSettingType> = new Map([
  ["geolocation", "location"],
  ["notifications", "notifications"],
  ["videoCapture", "camera"],
  ["audioCapture", "microphone"],
  ["clipboardReadWrite", "clipboard"],
  ["clipboardSanitizedWrite", "clipboard"],
]);

/** Permission API descriptor names (`Browser.setPermission`) that have a content setting. */
const DESCRIPTOR_SETTINGS: ReadonlyMap<string, ContentSettingType> = new Map([
  ["geolocation", "location"],
  ["notifications", "notifications"],
  ["camera", "camera"],
  ["microphone", "microphone"],
  ["clipboard-read", "clipboard"],
  ["clipboard-write", "clipboard"],
]);

/** Chrome 156's `PermissionType` names, so an unknown name gets Chrome's own error. */
const PERMISSION_TYPES: ReadonlySet<string> = new Set([
  "ar",
  "audioCapture",
  "automaticFullscreen",
  "backgroundFetch",
  "backgroundSync",
  "cameraPanTiltZoom",
  "capturedSurfaceControl",
  "clipboardReadWrite",
  "clipboardSanitizedWrite",
  "displayCapture",
  "durableStorage",
  "geolocation",
  "handTracking",
  "idleDetection",
  "keyboardLock",
  "localFonts",
  "localNetwork",
  "localNetworkAccess",
  "loopbackNetwork",
  "midi",
  "midiSysex",
  "nfc",
  "notifications",
  "paymentHandler",
  "periodicBackgroundSync",
  "pointerLock",
  "protectedMediaIdentifier",
  "sensors",
  "smartCard",
  "speakerSelection",
  "storageAccess",
  "videoCapture",
  "vr",
  "wakeLockScreen",
  "wakeLockSystem",
  "webAppInstallation",
  "webPrinting",
  "windowManagement",
]);

/** Chrome's `PermissionSetting` → the content setting value. */
const SETTING_VALUES: ReadonlyMap<string, ContentSettingValue> = new Map([
  ["granted", "allow"],
  ["denied", "block"],
  ["prompt", "ask"],
]);

/** Options of {@linkcode PermissionEmulation}. */
export interface PermissionEmulationOptions<C extends PermissionClient> {
  /** The connected clients. */
  readonly clients: () => readonly C[];
  /** URLs of the shared tabs (their targets' `url`): only their origins may be changed. */
  readonly sharedUrls: () => readonly string[];
  /** Browser context ids a client may name (those of the shared tabs' targets). */
  readonly contextIds: () => readonly string[];
  /** Sends a relay-private command to the extension and resolves with its one outcome. */
  readonly toExtension: (method: string, params: JsonObject) => Promise<CdpOutcome>;
}

function invalid(message: string, data?: string): CdpOutcome {
  const error: CdpError = data === undefined
    ? { code: -32602, message }
    : { code: -32602, message, data };
  return { ok: false, error };
}

function failure(message: string): CdpOutcome {
  return { ok: false, error: { code: -32000, message } };
}

const OPAQUE_ORIGIN = "Permission can't be granted to opaque origins.";

/**
 * The origin a content setting pattern can name, from a URL: http and https only, with the
 * port spelled out so the rule matches that origin and no other.
 */
function patternOf(url: string): { origin: string; pattern: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined;
  const port = parsed.port !== "" ? parsed.port : parsed.protocol === "https:" ? "443" : "80";
  return { origin: parsed.origin, pattern: `${parsed.protocol}//${parsed.hostname}:${port}/*` };
}

interface Grant {
  readonly type: ContentSettingType;
  readonly pattern: string;
  readonly setting: ContentSettingValue;
  /** Order of setting: the latest grant for a type and pattern is the one in force. */
  readonly seq: number;
}

/** `type` and `pattern` joined: the key of one rule. */
function ruleKey(type: ContentSettingType, pattern: string): string {
  return `${type} ${pattern}`;
}

/**
 * Answers the `Browser.*Permission*` commands and keeps the extension's content settings equal
 * to what the connected clients granted.
 *
 * @example
 * ```ts ignore
 * const permissions = new PermissionEmulation({ clients, sharedUrls, contextIds, toExtension });
 * // Browser.grantPermissions: reply with await permissions.grant(client, params)
 * // a client leaves: permissions.clientGone(client)
 * ```
 */
export class PermissionEmulation<C extends PermissionClient> {
  readonly #options: PermissionEmulationOptions<C>;
  /** Client → rule key → its grant. */
  readonly #grants = new Map<C, Map<string, Grant>>();
  #seq = 0;

  /**
   * Creates the emulation with nothing granted.
   *
   * @param options Clients, shared tabs and the extension sender.
   */
  constructor(options: PermissionEmulationOptions<C>) {
    this.#options = options;
  }

  /** Rules the connected clients hold: zero once every grant is reset or its client left. */
  get size(): number {
    let size = 0;
    for (const grants of this.#grants.values()) size += grants.size;
    return size;
  }

  /**
   * Answers one `Browser.grantPermissions`: the listed permissions become `allow` for `origin`,
   * or for the origin of every shared tab when no origin is given, and the other permissions
   * the emulation can set become `block` there, as Chrome denies every permission not listed.
   *
   * @param client The sending client.
   * @param params The command's params.
   * @returns `{}`, or Chrome's error for bad params, or an error naming what cannot be granted.
   */
  async grant(client: C, params: JsonObject): Promise<CdpOutcome> {
    const context = this.#checkContext(params.browserContextId);
    if (context !== undefined) return context;
    const permissions = params.permissions;
    if (!Array.isArray(permissions)) {
      return invalid(
        "Invalid parameters",
        'Failed to deserialize params.permissions: "permissions" must be an array',
      );
    }
    const types = new Set<ContentSettingType>();
    for (const permission of permissions) {
      if (typeof permission !== "string") {
        return invalid(
          "Invalid parameters",
          "Failed to deserialize params.permissions: every permission must be a string",
        );
      }
      if (!PERMISSION_TYPES.has(permission)) {
        return invalid(`Unknown permission type: ${permission}`);
      }
      const type = PERMISSION_TYPE_SETTINGS.get(permission);
      if (type === undefined) return unsupported(permission);
      types.add(type);
    }
    const patterns = this.#patterns(params.origin, "grant permissions");
    if (!("patterns" in patterns)) return patterns;
    // As in Chrome, the listed permissions are granted and every other one is denied for the
    // origin (until reset); here "every other one" is every type the emulation can set.
    const all = new Set(PERMISSION_TYPE_SETTINGS.values());
    return await this.#apply(
      client,
      [...all].flatMap((type) =>
        patterns.patterns.map((pattern) => ({
          type,
          pattern,
          setting: types.has(type) ? "allow" as const : "block" as const,
        }))
      ),
    );
  }

  /**
   * Answers one `Browser.setPermission`: `granted` / `denied` / `prompt` become `allow` /
   * `block` / `ask` for `origin`, or for every shared tab's origin when none is given.
   *
   * @param client The sending client.
   * @param params The command's params.
   * @returns `{}`, or Chrome's error for bad params, or an error naming what cannot be set.
   */
  async setPermission(client: C, params: JsonObject): Promise<CdpOutcome> {
    const context = this.#checkContext(params.browserContextId);
    if (context !== undefined) return context;
    const descriptor = params.permission;
    const name = isJsonObject(descriptor) ? descriptor.name : undefined;
    if (typeof name !== "string") {
      return invalid(
        "Invalid parameters",
        'Failed to deserialize params.permission: "name" must be a string',
      );
    }
    const type = DESCRIPTOR_SETTINGS.get(name);
    const settingName = params.setting;
    const setting = typeof settingName === "string" ? SETTING_VALUES.get(settingName) : undefined;
    if (type === undefined) {
      return failure(
        `Cannot set permission as "${name}" has no content setting an extension can change: supported names are ${
          [...DESCRIPTOR_SETTINGS.keys()].map((n) => `"${n}"`).join(", ")
        }`,
      );
    }
    if (setting === undefined) return invalid(`Unknown permission setting: ${String(settingName)}`);
    const patterns = this.#patterns(params.origin, "set permission");
    if (!("patterns" in patterns)) return patterns;
    return await this.#apply(
      client,
      patterns.patterns.map((pattern) => ({ type, pattern, setting })),
    );
  }

  /**
   * Answers one `Browser.resetPermissions`: removes every rule this client set; rules of other
   * clients and the person's own settings stay.
   *
   * @param client The sending client.
   * @param params The command's params.
   * @returns `{}`, or Chrome's error for an unknown browser context, or the extension's error.
   */
  async reset(client: C, params: JsonObject): Promise<CdpOutcome> {
    const context = this.#checkContext(params.browserContextId);
    if (context !== undefined) return context;
    return await this.#drop(client);
  }

  /**
   * Forgets a client that left: its rules stop applying.
   *
   * @param client The client.
   */
  clientGone(client: C): void {
    void this.#drop(client);
  }

  /**
   * Sends the rules in force again, for every type a client holds a rule of: the extension
   * clears its rules whenever its relay link opens or closes, so a returning extension (a
   * worker restart within the grace period) gets the connected clients' grants back.
   */
  resync(): void {
    const types = new Set<ContentSettingType>();
    for (const grants of this.#grants.values()) {
      for (const grant of grants.values()) types.add(grant.type);
    }
    if (types.size > 0) void this.#sync(types);
  }

  /**
   * The rules in force for one content type: for each pattern, the latest grant of any client.
   *
   * @param type The content type.
   * @returns The rules, sorted by pattern.
   */
  rules(type: ContentSettingType): readonly ContentSettingRule[] {
    const latest = new Map<string, Grant>();
    for (const grants of this.#grants.values()) {
      for (const grant of grants.values()) {
        if (grant.type !== type) continue;
        const current = latest.get(grant.pattern);
        if (current === undefined || current.seq < grant.seq) latest.set(grant.pattern, grant);
      }
    }
    return [...latest].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([pattern, grant]) => ({
      pattern,
      setting: grant.setting,
    }));
  }

  /**
   * Chrome's answer for a `browserContextId` that names no context; the relay's contexts are
   * those of the shared tabs.
   */
  #checkContext(value: JsonValue | undefined): CdpOutcome | undefined {
    if (value === undefined) return undefined;
    if (typeof value === "string" && this.#options.contextIds().includes(value)) return undefined;
    return invalid(`Failed to find browser context for id ${String(value)}`);
  }

  /** The patterns a command names: its origin's, or every shared tab's; an outcome on error. */
  #patterns(
    origin: JsonValue | undefined,
    action: string,
  ): { readonly patterns: readonly string[] } | CdpOutcome {
    const shared = new Map<string, string>();
    for (const url of this.#options.sharedUrls()) {
      const parsed = patternOf(url);
      if (parsed !== undefined) shared.set(parsed.origin, parsed.pattern);
    }
    if (origin === undefined) {
      // Chrome grants for every origin of the context; the relay's context is the shared tabs,
      // and only their origins may be changed (the person consented to those tabs only).
      if (shared.size === 0) {
        return failure(`Cannot ${action} as no shared tab has an http or https origin`);
      }
      return { patterns: [...shared.values()].sort() };
    }
    if (typeof origin !== "string") {
      return invalid(
        "Invalid parameters",
        'Failed to deserialize params.origin: "origin" must be a string',
      );
    }
    const parsed = patternOf(origin);
    if (parsed === undefined) {
      let opaque = true;
      try {
        opaque = new URL(origin).origin === "null";
      } catch {
        // Not a URL: opaque, as Chrome says.
      }
      return opaque ? invalid(OPAQUE_ORIGIN) : failure(
        `Cannot ${action} as content settings take http and https origins only: current value is "${origin}"`,
      );
    }
    const pattern = shared.get(parsed.origin);
    if (pattern === undefined) {
      return failure(
        `Cannot ${action} as "origin" is not the origin of a shared tab: current value is "${parsed.origin}"`,
      );
    }
    return { patterns: [pattern] };
  }

  async #apply(
    client: C,
    changes: readonly { type: ContentSettingType; pattern: string; setting: ContentSettingValue }[],
  ): Promise<CdpOutcome> {
    // The client may have left while the command was on its way: its grant must not outlive it.
    if (!this.#options.clients().includes(client)) return failure("Client disconnected");
    let grants = this.#grants.get(client);
    if (grants === undefined) {
      grants = new Map();
      this.#grants.set(client, grants);
    }
    for (const { type, pattern, setting } of changes) {
      grants.set(ruleKey(type, pattern), { type, pattern, setting, seq: ++this.#seq });
    }
    return await this.#sync(new Set(changes.map((change) => change.type)));
  }

  async #drop(client: C): Promise<CdpOutcome> {
    const grants = this.#grants.get(client);
    this.#grants.delete(client);
    if (grants === undefined || grants.size === 0) return { ok: true, result: {} };
    const types = new Set<ContentSettingType>();
    for (const grant of grants.values()) types.add(grant.type);
    return await this.#sync(types);
  }

  /** Sends the rules in force for each type; the first error is the answer. */
  async #sync(types: ReadonlySet<ContentSettingType>): Promise<CdpOutcome> {
    const outcomes = await Promise.all(
      [...types].map((type) =>
        this.#options.toExtension("BrowserRelay.setContentSettings", {
          type,
          rules: this.rules(type).map((rule) => ({ pattern: rule.pattern, setting: rule.setting })),
        })
      ),
    );
    return outcomes.find((outcome) => !outcome.ok) ?? { ok: true, result: {} };
  }
}

function unsupported(permission: string): CdpOutcome {
  return failure(
    `Cannot grant permission "${permission}" as it has no content setting an extension can change: supported types are ${
      [...PERMISSION_TYPE_SETTINGS.keys()].map((n) => `"${n}"`).join(", ")
    }`,
  );
}
