/**
 * Decoder for frames on the `/extension` socket.
 *
 * @module
 */

import { parseInput, resolveMaxBytes } from "./_check.ts";
import type { ExtensionFrame } from "./extension_frame.ts";
import type { DecodeResult } from "./issue.ts";
import { MAX_FRAME_BYTES } from "./limits.ts";
import { validateExtensionFrame } from "./validate_extension_frame.ts";

/** Options of {@linkcode decodeExtensionFrame}. */
export interface DecodeExtensionFrameOptions {
  /**
   * Maximum input size in UTF-8 bytes; larger input is rejected with `too_large` before parsing.
   *
   * @default {268435456}
   */
  readonly maxBytes?: number;
}

/**
 * Decodes and validates one `/extension` frame. Never throws.
 *
 * Shapes are classified first, in this order: a `type` field means a gateway frame; a numeric
 * `id` with `result` or `error` means a response; otherwise `method` decides
 * (`forwardCDPCommand`, `forwardCDPEvent`, `ping`, `pong`). Only the matching branch is then
 * validated. Unknown extra fields are ignored, except inside `connect` params, whose gateway v3
 * schema rejects them.
 *
 * @param input Frame text, or its UTF-8 bytes.
 * @param options Size limit.
 * @returns The typed frame, or a non-empty list of issues (with the frame `id` when readable).
 *
 * @example
 * ```ts
 * import { decodeExtensionFrame } from "@browser-relay/codec";
 *
 * const result = decodeExtensionFrame('{"method":"ping"}');
 * if (result.ok) console.log(result.frame.kind); // "ping"
 * ```
 */
export function decodeExtensionFrame(
  input: string | Uint8Array,
  options: DecodeExtensionFrameOptions = {},
): DecodeResult<ExtensionFrame> {
  const parsed = parseInput(input, resolveMaxBytes(options.maxBytes, MAX_FRAME_BYTES));
  return parsed.ok ? validateExtensionFrame(parsed.value) : parsed;
}
