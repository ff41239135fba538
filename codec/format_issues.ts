/** STUB @module */
import type { Issue } from "./issue.ts";
/** STUB — formats issues as `at /path: message; …`. */
export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => i.message).join("; ");
}
