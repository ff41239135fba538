/**
 * Reading loosely typed CDP fields: the one helper the relay's modules share for a field that
 * must be a string.
 *
 * @module
 */

import type { JsonValue } from "../codec/json.ts";

/**
 * The value if it is a string.
 *
 * @param value A field of a decoded frame.
 * @returns The string, or `undefined` for anything else.
 */
export function str(value: JsonValue | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}
