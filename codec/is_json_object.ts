/**
 * Guard for JSON objects.
 *
 * @module
 */

import type { JsonObject } from "./json.ts";

/**
 * Tells whether a value is a JSON object: not `null`, not an array, but an object.
 *
 * @param value Any value, e.g. what `JSON.parse` returned.
 * @returns `true` for a plain object.
 *
 * @example
 * ```ts
 * import { isJsonObject } from "@browser-relay/codec";
 *
 * isJsonObject({ a: 1 }); // true
 * isJsonObject([1]); // false
 * isJsonObject(null); // false
 * ```
 */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
