/**
 * Form → settings mapping for the options page. Pure: no DOM, no `chrome.*`.
 *
 * @module
 */

import type { Issue } from "../codec/issue.ts";
import { DEFAULT_RELAY_PORT } from "../codec/limits.ts";
import { type Settings, validateSettings } from "../worker/settings.ts";

/** The settings keys the form edits; each form field's `name` equals its key. */
export type FormField = "relayPort" | "gatewayToken";

/** The raw text of the form fields. */
export type FormValues = { readonly [K in FormField]: string };

/** The outcome of reading the form. */
export type FormResult =
  | { readonly ok: true; readonly settings: Settings }
  | {
    readonly ok: false;
    /** Every problem, in the codec's `Issue` shape with `path: [field]`. */
    readonly issues: readonly [Issue, ...Issue[]];
    /** The first message per field, ready to show next to it. */
    readonly errors: { readonly [K in FormField]?: string };
  };

const FIELDS: readonly FormField[] = ["relayPort", "gatewayToken"];

/** A check of our own on top of `validateSettings()`: pasted tokens never contain spaces. */
function tokenSpaces(values: FormValues): Issue[] {
  const token = values.gatewayToken.trim();
  if (!/\s/.test(token)) return [];
  return [{
    code: "out_of_range",
    path: ["gatewayToken"],
    expected: "string without whitespace",
    received: "string with whitespace",
    message:
      'Cannot use "gatewayToken" as it contains whitespace: paste the token again in one piece',
  }];
}

/** What the person reads next to a field: no storage key names, and what to do. */
function fieldMessage(issue: Issue): string {
  if (issue.path[0] === "relayPort") return "Enter a port number between 1 and 65535";
  if (issue.expected === "string without whitespace") {
    return "The token has spaces in it: paste it again in one piece";
  }
  return "Paste the token the relay printed when it started";
}

/**
 * Reads the form's text into settings. Validation is `validateSettings()` from
 * `worker/settings.ts` (shared with the worker), plus a check that the token has no inner
 * whitespace. An empty port means the default port 18792, as in stored settings (protocol §10);
 * the token is trimmed.
 *
 * @param values The raw field values.
 * @returns Settings ready to store, or the issues (as `validateSettings()` words them) with one
 *   message per field in the person's words.
 *
 * @example Usage
 * ```ts
 * import { readForm } from "./_form.ts";
 *
 * const result = readForm({ relayPort: " 18792 ", gatewayToken: " secret " });
 * // { ok: true, settings: { relayPort: 18792, gatewayToken: "secret" } }
 * ```
 */
export function readForm(values: FormValues): FormResult {
  const issues = [...validateSettings(values), ...tokenSpaces(values)];
  const [first, ...rest] = issues;
  if (first === undefined) {
    const port = values.relayPort.trim();
    return {
      ok: true,
      settings: {
        relayPort: port === "" ? DEFAULT_RELAY_PORT : Number(port),
        gatewayToken: values.gatewayToken.trim(),
      },
    };
  }
  const errors: { [K in FormField]?: string } = {};
  for (const found of issues) {
    const field = FIELDS.find((name) => name === found.path[0]);
    if (field !== undefined && errors[field] === undefined) errors[field] = fieldMessage(found);
  }
  return { ok: false, issues: [first, ...rest], errors };
}
