/**
 * Extension settings in `chrome.storage.local` (protocol §10): parsing with the documented
 * defaults, and a pure validator for the options page.
 *
 * @module
 */

import type { Issue } from "../codec/issue.ts";
import { DEFAULT_RELAY_PORT } from "../codec/limits.ts";

/** The settings the connection reads. */
export interface Settings {
  /** Relay port on 127.0.0.1, an integer between 1 and 65535. */
  readonly relayPort: number;
  /** The raw gateway token, trimmed; empty means missing. */
  readonly gatewayToken: string;
  /**
   * Talk to an OpenClaw relay: send the derived relay token in the preflight and the socket URL
   * and the gateway token in `connect`, to whatever listens on the port. Off (absent), the
   * extension speaks only scheme `mutual-v1` and sends no credential before the relay proved it
   * knows the token (docs/protocol-extensions.md); it never switches by itself.
   *
   * @default {false}
   */
  readonly openclawRelayCompat?: boolean;
}

/** Settings before the user entered anything. */
export const DEFAULT_SETTINGS: Settings = Object.freeze({
  relayPort: DEFAULT_RELAY_PORT,
  gatewayToken: "",
});

/** The `chrome.storage.local` keys that hold {@linkcode Settings}; a change to one restarts the connection. */
export const SETTINGS_KEYS: readonly ["relayPort", "gatewayToken", "openclawRelayCompat"] = Object
  .freeze(["relayPort", "gatewayToken", "openclawRelayCompat"] as const);

/**
 * The `chrome.storage.local` key of the popup setting: when on, a tab opened by a shared tab
 * (`window.open`, `target=_blank`, `noopener`) is shared too. Read when such a tab opens, so a
 * change applies to the next popup and never restarts the connection.
 */
export const SHARE_POPUPS_KEY = "sharePopups";

/** Popups of shared tabs are shared unless the person turned it off. */
export const DEFAULT_SHARE_POPUPS = true;

/**
 * Reads the popup setting: anything but `false` means on.
 *
 * @param raw The stored value of {@linkcode SHARE_POPUPS_KEY}.
 * @returns Whether popups of shared tabs are shared.
 */
export function parseSharePopups(raw: unknown): boolean {
  return raw === undefined ? DEFAULT_SHARE_POPUPS : raw !== false;
}

/**
 * The `chrome.storage.local` key of the "put shared tabs in a Browser Relay tab group" setting.
 * It is not one of {@linkcode SETTINGS_KEYS}: changing it regroups tabs and never restarts the
 * connection.
 */
export const TAB_GROUPS_KEY = "useTabGroups";

/**
 * Reads the tab-group setting: on unless stored as `false`.
 *
 * @param raw The stored value of {@linkcode TAB_GROUPS_KEY}.
 * @returns Whether shared tabs go in a tab group.
 *
 * @example
 * ```ts
 * parseUseTabGroups(undefined); // true
 * parseUseTabGroups(false); // false
 * ```
 */
export function parseUseTabGroups(raw: unknown): boolean {
  return raw !== false;
}

/** The `chrome.storage.local` key of the "options page opened after an error" latch. */
export const HELP_ON_ERROR_SHOWN_KEY = "helpOnErrorShown";

/**
 * The relay's HTTP base URL for a port. The extension always dials 127.0.0.1, never localhost
 * (protocol §1).
 *
 * @param port The relay port.
 * @returns `http://127.0.0.1:<port>`.
 */
export function relayBaseUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/**
 * Parses a stored port exactly like the legacy extension:
 * `Number.parseInt(String(raw || ""), 10)`, falling back to 18792 when the result is not finite,
 * ≤ 0 or > 65535. So `"18792abc"` gives 18792, and `0`, `""` and `null` give the default.
 *
 * @param raw The stored value.
 * @returns A port between 1 and 65535.
 *
 * @example
 * ```ts
 * parseRelayPort("9999"); // 9999
 * parseRelayPort(70000); // 18792
 * ```
 */
export function parseRelayPort(raw: unknown): number {
  const port = Number.parseInt(String(raw || ""), 10);
  if (!Number.isFinite(port) || port <= 0 || port > 65_535) return DEFAULT_RELAY_PORT;
  return port;
}

/**
 * Reads {@linkcode Settings} from raw `chrome.storage.local` values (protocol §10 table).
 *
 * @param raw The object returned by `storage.local.get(SETTINGS_KEYS)`.
 * @returns Settings with defaults applied; the token is trimmed (a non-string token is missing);
 *   `openclawRelayCompat` is present only when stored as `true`.
 *
 * @example
 * ```ts
 * parseSettings({ relayPort: "18792abc", gatewayToken: "  t  " });
 * // { relayPort: 18792, gatewayToken: "t" }
 * ```
 */
export function parseSettings(raw: Readonly<Record<string, unknown>>): Settings {
  const token = raw.gatewayToken;
  return {
    relayPort: parseRelayPort(raw.relayPort),
    gatewayToken: typeof token === "string" ? token.trim() : "",
    // Only an explicit `true` opts in: anything else keeps mutual authentication.
    ...(raw.openclawRelayCompat === true ? { openclawRelayCompat: true } : {}),
  };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function issue(
  code: Issue["code"],
  key: string,
  expected: string,
  received: string,
  message: string,
): Issue {
  return { code, path: [key], expected, received, message };
}

/**
 * Validates settings as entered on the options page (strings from form fields or stored
 * values). Pure; returns codec-style issues keyed by the settings key in `path[0]`, so the page
 * can show each next to its field. An empty list means the settings are usable as they are.
 *
 * Stricter than {@linkcode parseSettings}: a port like `"18792abc"` that parsing would silently
 * repair is reported, so the user sees what will actually be used.
 *
 * @param input Raw values keyed by settings key.
 * @returns The issues, in field order (`relayPort`, `gatewayToken`, `openclawRelayCompat`, then
 *   `sharePopups`).
 *
 * @example
 * ```ts
 * validateSettings({ relayPort: "70000", gatewayToken: "" }).map((i) => i.code);
 * // ["out_of_range", "missing_field"]
 * ```
 */
export function validateSettings(input: Readonly<Record<string, unknown>>): Issue[] {
  const issues: Issue[] = [];
  const port = input.relayPort;
  const portText = typeof port === "number"
    ? String(port)
    : typeof port === "string"
    ? port.trim()
    : undefined;
  if (port !== undefined && port !== null && portText === undefined) {
    issues.push(
      issue(
        "wrong_type",
        "relayPort",
        "integer between 1 and 65535",
        describe(port),
        `Cannot use "relayPort" as it must be an integer between 1 and 65535: current value is of type ${
          describe(port)
        }`,
      ),
    );
  } else if (portText !== undefined && portText !== "") {
    if (!/^[0-9]+$/.test(portText)) {
      issues.push(
        issue(
          "wrong_type",
          "relayPort",
          "integer between 1 and 65535",
          JSON.stringify(portText),
          `Cannot use "relayPort" as it must be an integer between 1 and 65535: current value is "${portText}"`,
        ),
      );
    } else {
      const value = Number(portText);
      if (value < 1 || value > 65_535) {
        issues.push(
          issue(
            "out_of_range",
            "relayPort",
            "integer between 1 and 65535",
            String(value),
            `Cannot use "relayPort" as it must be between 1 and 65535: current value is ${value}`,
          ),
        );
      }
    }
  }
  const token = input.gatewayToken;
  if (token !== undefined && token !== null && typeof token !== "string") {
    issues.push(
      issue(
        "wrong_type",
        "gatewayToken",
        "string",
        describe(token),
        `Cannot use "gatewayToken" as it must be a string: current value is of type ${
          describe(token)
        }`,
      ),
    );
  } else if (typeof token !== "string" || token.trim() === "") {
    issues.push(
      issue(
        "missing_field",
        "gatewayToken",
        "non-empty string",
        token === undefined || token === null ? describe(token) : '""',
        'Cannot connect as "gatewayToken" is empty: enter the gateway token of your relay',
      ),
    );
  }
  const compat = input.openclawRelayCompat;
  if (compat !== undefined && typeof compat !== "boolean") {
    issues.push(
      issue(
        "wrong_type",
        "openclawRelayCompat",
        "boolean",
        describe(compat),
        `Cannot use "openclawRelayCompat" as it must be a boolean: current value is of type ${
          describe(compat)
        }`,
      ),
    );
  }
  const popups = input[SHARE_POPUPS_KEY];
  if (popups !== undefined && popups !== null && typeof popups !== "boolean") {
    issues.push(
      issue(
        "wrong_type",
        SHARE_POPUPS_KEY,
        "boolean",
        describe(popups),
        `Cannot use "${SHARE_POPUPS_KEY}" as it must be a boolean: current value is of type ${
          describe(popups)
        }`,
      ),
    );
  }
  return issues;
}
