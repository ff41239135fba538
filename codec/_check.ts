// Private checkers shared by the decoders. Each appends Issues instead of throwing.

import { isJsonObject } from "./is_json_object.ts";
import { utf8ByteLength } from "./utf8_byte_length.ts";
import type { Issue, IssueCode, Issues } from "./issue.ts";
import type { JsonObject } from "./json.ts";

/** A growable list of issues. */
export type IssueList = Issue[];

/** Describes a value's JSON type for the `received` field. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Formats a path for messages: `root` or `/a/b/0`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? "root" : "/" + path.join("/");
}

/** Appends an issue built from its parts. */
export function addIssue(
  issues: IssueList,
  code: IssueCode,
  path: readonly (string | number)[],
  expected: string,
  received: string,
): void {
  let message: string;
  switch (code) {
    case "missing_field":
      message = `at ${formatPath(path)}: missing required field (expected ${expected})`;
      break;
    case "unknown_field":
      message = `at ${formatPath(path.slice(0, -1))}: unexpected property '${
        String(path[path.length - 1])
      }'`;
      break;
    default:
      message = `at ${formatPath(path)}: expected ${expected}, received ${received}`;
  }
  issues.push({ code, path, expected, received, message });
}

/** Returns the list as a non-empty tuple; callers check the length first. */
export function asIssues(issues: IssueList): Issues {
  return issues as unknown as Issues;
}

/**
 * An id a peer can answer: a finite number or a string. `1e400` parses to `Infinity`, which would
 * go back out as `"id":null`, so a failure never carries it.
 */
export function isEchoableId(id: unknown): id is number | string {
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
}

/** Own-property read that ignores the prototype chain (`__proto__`, `constructor`). */
export function own(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Requires a string; `nonEmpty` also rejects "". Returns the string or undefined. */
export function expectString(
  value: unknown,
  path: readonly (string | number)[],
  issues: IssueList,
  nonEmpty = false,
): string | undefined {
  if (value === undefined) {
    addIssue(issues, "missing_field", path, nonEmpty ? "non-empty string" : "string", "undefined");
    return undefined;
  }
  if (typeof value !== "string") {
    addIssue(issues, "wrong_type", path, "string", describe(value));
    return undefined;
  }
  if (nonEmpty && value.length === 0) {
    addIssue(issues, "out_of_range", path, "non-empty string", '""');
    return undefined;
  }
  return value;
}

/** Optional string: absent is fine. */
export function optionalString(
  value: unknown,
  path: readonly (string | number)[],
  issues: IssueList,
  nonEmpty = false,
): string | undefined {
  return value === undefined ? undefined : expectString(value, path, issues, nonEmpty);
}

/** Requires a finite number. */
export function expectNumber(
  value: unknown,
  path: readonly (string | number)[],
  issues: IssueList,
): number | undefined {
  if (value === undefined) {
    addIssue(issues, "missing_field", path, "number", "undefined");
    return undefined;
  }
  if (typeof value !== "number") {
    addIssue(issues, "wrong_type", path, "number", describe(value));
    return undefined;
  }
  if (!Number.isFinite(value)) {
    addIssue(issues, "out_of_range", path, "finite number", String(value));
    return undefined;
  }
  return value;
}

/** Requires a safe integer ≥ `min`. */
export function expectInteger(
  value: unknown,
  path: readonly (string | number)[],
  issues: IssueList,
  min: number,
): number | undefined {
  if (value === undefined) {
    addIssue(issues, "missing_field", path, `integer >= ${min}`, "undefined");
    return undefined;
  }
  if (typeof value !== "number") {
    addIssue(issues, "wrong_type", path, `integer >= ${min}`, describe(value));
    return undefined;
  }
  if (!Number.isSafeInteger(value) || value < min) {
    addIssue(issues, "out_of_range", path, `integer >= ${min}`, String(value));
    return undefined;
  }
  return value;
}

/** Requires a JSON object (not array, not null). */
export function expectObject(
  value: unknown,
  path: readonly (string | number)[],
  issues: IssueList,
): JsonObject | undefined {
  if (value === undefined) {
    addIssue(issues, "missing_field", path, "object", "undefined");
    return undefined;
  }
  if (!isJsonObject(value)) {
    addIssue(issues, "wrong_type", path, "object", describe(value));
    return undefined;
  }
  return value;
}

/** Optional object. */
export function optionalObject(
  value: unknown,
  path: readonly (string | number)[],
  issues: IssueList,
): JsonObject | undefined {
  return value === undefined ? undefined : expectObject(value, path, issues);
}

/** Requires an array of strings (non-empty strings when `nonEmpty`). */
export function expectStringArray(
  value: unknown,
  path: readonly (string | number)[],
  issues: IssueList,
  nonEmpty: boolean,
): readonly string[] | undefined {
  if (value === undefined) {
    addIssue(issues, "missing_field", path, "array of strings", "undefined");
    return undefined;
  }
  if (!Array.isArray(value)) {
    addIssue(issues, "wrong_type", path, "array of strings", describe(value));
    return undefined;
  }
  const before = issues.length;
  for (let i = 0; i < value.length; i++) {
    expectString(value[i], [...path, i], issues, nonEmpty);
  }
  return issues.length === before ? (value as string[]) : undefined;
}

/**
 * Rejects numbers that JSON cannot carry inside an opaque payload. `JSON.parse` turns an
 * overflowing literal such as `1e400` into `Infinity`, which `JSON.stringify` writes as `null`,
 * so accepting it would let a relayed frame change meaning. Iterative, so deep nesting cannot
 * overflow the stack; the path is only computed on the (rare) failure path.
 */
export function expectFiniteTree(
  value: unknown,
  path: readonly (string | number)[],
  issues: IssueList,
): boolean {
  if (!hasNonFinite(value)) return true;
  const stack: [unknown, readonly (string | number)[]][] = [[value, path]];
  while (stack.length > 0) {
    const [item, at] = stack.pop()!;
    if (typeof item === "number") {
      if (!Number.isFinite(item)) {
        addIssue(issues, "out_of_range", at, "finite number", String(item));
        return false;
      }
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], [...at, i]]);
    } else if (typeof item === "object" && item !== null) {
      const keys = Object.keys(item);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        stack.push([(item as JsonObject)[key], [...at, key]]);
      }
    }
  }
  return true;
}

export function hasNonFinite(root: unknown): boolean {
  if (typeof root !== "object" || root === null) {
    return typeof root === "number" && !Number.isFinite(root);
  }
  const stack: object[] = [root];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        const v: unknown = item[i];
        if (typeof v === "object") {
          if (v !== null) stack.push(v);
        } else if (typeof v === "number" && v - v !== 0) return true;
      }
    } else {
      for (const key in item) {
        const v: unknown = (item as JsonObject)[key];
        if (typeof v === "object") {
          if (v !== null) stack.push(v);
        } else if (typeof v === "number" && v - v !== 0) return true;
      }
    }
  }
  return false;
}

/** Rejects keys outside `allowed` (strict schemas). */
export function rejectUnknownKeys(
  object: JsonObject,
  allowed: ReadonlySet<string>,
  path: readonly (string | number)[],
  issues: IssueList,
): void {
  for (const key of Object.keys(object)) {
    if (!allowed.has(key)) addIssue(issues, "unknown_field", [...path, key], "no such field", key);
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Result of size-checking and parsing raw input. */
export type ParseResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly issues: Issues };

/**
 * Enforces `maxBytes` before parsing, then parses JSON. Strings are measured cheaply when
 * possible: `length` is a lower bound and `3 × length` an upper bound of the UTF-8 size.
 */
export function parseInput(input: string | Uint8Array, maxBytes: number): ParseResult {
  let text: string;
  if (typeof input === "string") {
    if (input.length * 3 > maxBytes) {
      const bytes = input.length > maxBytes ? input.length : utf8ByteLength(input);
      if (bytes > maxBytes) return tooLarge(bytes, maxBytes, input.length > maxBytes);
    }
    text = input;
  } else if (!ArrayBuffer.isView(input)) {
    // Unreachable for typed callers; keeps "never throws" for `null` or an event's raw data.
    const issues: IssueList = [];
    addIssue(issues, "invalid_json", [], "string or Uint8Array", describe(input));
    return { ok: false, issues: asIssues(issues) };
  } else {
    if (input.byteLength > maxBytes) return tooLarge(input.byteLength, maxBytes, false);
    try {
      text = decoder.decode(input);
    } catch {
      const issues: IssueList = [];
      addIssue(issues, "invalid_json", [], "UTF-8 text", "invalid UTF-8");
      return { ok: false, issues: asIssues(issues) };
    }
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const issues: IssueList = [];
    addIssue(issues, "invalid_json", [], "JSON text", describeText(text));
    return { ok: false, issues: asIssues(issues) };
  }
}

function tooLarge(bytes: number, maxBytes: number, atLeast: boolean): ParseResult {
  const issues: IssueList = [];
  addIssue(
    issues,
    "too_large",
    [],
    `at most ${maxBytes} bytes`,
    `${atLeast ? "at least " : ""}${bytes} bytes`,
  );
  return { ok: false, issues: asIssues(issues) };
}

function describeText(text: string): string {
  return text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}…` : JSON.stringify(text);
}

/** Checks `maxBytes` option. */
export function resolveMaxBytes(maxBytes: number | undefined, fallback: number): number {
  return maxBytes !== undefined && maxBytes >= 0 ? maxBytes : fallback;
}
