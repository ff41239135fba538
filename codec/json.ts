/**
 * JSON value types shared by every frame.
 *
 * @module
 */

/** Any value `JSON.parse` can return. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A JSON object: the shape of CDP `params` and `result`. */
export type JsonObject = { readonly [key: string]: JsonValue };
