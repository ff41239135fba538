/**
 * Human-readable rendering of decode issues.
 *
 * @module
 */

import type { Issue } from "./issue.ts";

/**
 * Joins issue messages with `"; "`, in the gateway's style
 * (`at root: unexpected property 'nonce'; at /client/id: expected …`). Paths are shown
 * relative to `base` when every issue lies under it.
 *
 * @param issues The issues.
 * @param base Path prefix to strip, e.g. `["params"]` to report connect params from their root.
 * @returns One line.
 *
 * @example
 * ```ts
 * import { decodeExtensionFrame, formatIssues } from "@browser-relay/codec";
 *
 * const result = decodeExtensionFrame("{");
 * if (!result.ok) console.log(formatIssues(result.issues)); // "at root: expected JSON text, …"
 * ```
 */
export function formatIssues(issues: readonly Issue[], base: readonly string[] = []): string {
  const strip = base.length > 0 && issues.every((issue) => startsWith(issue.path, base));
  return issues.map((issue) => {
    if (!strip) return issue.message;
    const shown = issue.path.slice(base.length);
    const full = issue.path.length === 0 ? "root" : "/" + issue.path.join("/");
    const short = issue.code === "unknown_field"
      ? (shown.length <= 1 ? "root" : "/" + shown.slice(0, -1).join("/"))
      : (shown.length === 0 ? "root" : "/" + shown.join("/"));
    const fullParent = issue.path.length <= 1 ? "root" : "/" + issue.path.slice(0, -1).join("/");
    return issue.message.replace(
      `at ${issue.code === "unknown_field" ? fullParent : full}:`,
      `at ${short}:`,
    );
  }).join("; ");
}

function startsWith(path: readonly (string | number)[], base: readonly string[]): boolean {
  return base.every((part, i) => path[i] === part);
}
