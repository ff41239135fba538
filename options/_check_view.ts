/**
 * Turns the worker's answer to `{type: "checkConnection"}` (a `CheckResult` from
 * `worker/check_connection.ts`) into what the page shows. Pure; the answer is checked, not
 * trusted, because it crosses `chrome.runtime` messaging.
 *
 * @module
 */

import type { CheckResult } from "../worker/check_connection.ts";
import type { Tone } from "./_status_view.ts";
import { isJsonObject } from "../codec/is_json_object.ts";

/** What the check result box shows. */
export interface CheckView {
  /** The result kind, or `no_answer` when the worker's reply was not a check result. */
  readonly kind: CheckResult["kind"] | "no_answer";
  readonly tone: Tone;
  /** Short heading, e.g. `Relay reachable`. */
  readonly title: string;
  /** The result's message. */
  readonly message: string;
  /** What to do next; empty when nothing is needed. */
  readonly hint: string;
  /** The exact URL tried; empty when unknown. */
  readonly url: string;
}

const TITLES: { readonly [K in CheckResult["kind"]]: readonly [Tone, string] } = {
  ok: ["ok", "Relay reachable and token accepted"],
  "token_rejected": ["error", "Token rejected"],
  "wrong_port": ["error", "Not a Browser Relay"],
  unreachable: ["error", "Relay not reachable"],
  timeout: ["error", "No answer"],
  "invalid_input": ["error", "Check the settings"],
};

function isKind(value: unknown): value is CheckResult["kind"] {
  return typeof value === "string" && Object.hasOwn(TITLES, value);
}

/**
 * Describes a connection check result for the page.
 *
 * @param response The worker's reply, unchecked.
 * @returns Tone, title, message, hint and URL to show.
 *
 * @example Usage
 * ```ts
 * import { checkView } from "./_check_view.ts";
 *
 * checkView(undefined).title; // "No answer from the extension"
 * ```
 */
export function checkView(response: unknown): CheckView {
  const kind = isJsonObject(response) ? response["kind"] : undefined;
  if (
    !isJsonObject(response) || !isKind(kind) || typeof response["message"] !== "string" ||
    typeof response["url"] !== "string"
  ) {
    const error = isJsonObject(response) && typeof response["error"] === "string"
      ? response["error"]
      : "";
    return {
      kind: "no_answer",
      tone: "error",
      title: "No answer from the extension",
      message: error === "" ? "The extension's service worker did not run the check." : error,
      hint: "Reload the extension on chrome://extensions and try again.",
      url: "",
    };
  }
  const [tone, title] = TITLES[kind];
  return {
    kind,
    tone,
    title,
    message: response["message"],
    hint: typeof response["hint"] === "string" ? response["hint"] : "",
    url: response["url"],
  };
}
