/**
 * Issues reported by the decoders, and the result type they return.
 *
 * @module
 */

/**
 * Stable machine-readable code of a decode issue.
 *
 * - `invalid_json`: the input is not JSON (or not valid UTF-8).
 * - `not_object`: the JSON value is not a plain object.
 * - `unknown_frame`: the object matches no known frame shape.
 * - `missing_field`: a required field is absent.
 * - `wrong_type`: a field has the wrong JSON type.
 * - `out_of_range`: a value has the right type but is not allowed (range, enum, empty string).
 * - `too_large`: the input exceeds the size limit; it was not parsed.
 * - `unknown_field`: a strict schema (gateway `ConnectParams`) got a field it does not define.
 */
export type IssueCode =
  | "invalid_json"
  | "not_object"
  | "unknown_frame"
  | "missing_field"
  | "wrong_type"
  | "out_of_range"
  | "too_large"
  | "unknown_field";

/** One problem found while decoding a frame. */
export interface Issue {
  /** Stable code; branch on this, never on `message`. */
  readonly code: IssueCode;
  /** Path from the frame root to the offending value, e.g. `["params", "client", "id"]`. */
  readonly path: readonly (string | number)[];
  /** What was expected, e.g. `"string"` or `"integer >= 1"`. */
  readonly expected: string;
  /** What was found, e.g. `"number"`, `"undefined"` or `"70000 bytes"`. */
  readonly received: string;
  /** Human-readable sentence combining the fields above. */
  readonly message: string;
}

/** A non-empty list of issues. */
export type Issues = readonly [Issue, ...Issue[]];

/**
 * Result of a decoder: either a typed frame or a non-empty list of issues.
 *
 * On failure, `id` carries the frame's `id` when one could be read and echoed (a string or a
 * finite number), so a peer can still answer a malformed request exactly once.
 */
export type DecodeResult<T> =
  | { readonly ok: true; readonly frame: T }
  | { readonly ok: false; readonly issues: Issues; readonly id?: number | string };
