/**
 * Decoder for frames on the `/cdp` socket.
 *
 * @module
 */

import { parseInput, resolveMaxBytes } from "./_check.ts";
import type { CdpFrame } from "./cdp_frame.ts";
import type { DecodeResult } from "./issue.ts";
import { MAX_FRAME_BYTES } from "./limits.ts";
import { validateCdpFrame } from "./validate_cdp_frame.ts";

/** Options of {@linkcode decodeCdpFrame}. */
export interface DecodeCdpFrameOptions {
  /**
   * Maximum input size in UTF-8 bytes; larger input is rejected with `too_large` before parsing.
   *
   * @default {268435456}
   */
  readonly maxBytes?: number;
}

/**
 * Decodes and validates one CDP frame (flat sessions). Never throws.
 *
 * Classification: a numeric `id` with `result` or `error` is a response; a numeric `id` with a
 * `method` is a command; a `method` without `id` is an event. Ids are integers ≥ 0.
 *
 * @param input Frame text, or its UTF-8 bytes.
 * @param options Size limit.
 * @returns The typed frame, or a non-empty list of issues (with the frame `id` when readable).
 *
 * @example
 * ```ts
 * import { decodeCdpFrame } from "@browser-relay/codec";
 *
 * const result = decodeCdpFrame('{"id":1,"method":"Browser.getVersion"}');
 * if (result.ok && result.frame.kind === "command") console.log(result.frame.method);
 * ```
 */
export function decodeCdpFrame(
  input: string | Uint8Array,
  options: DecodeCdpFrameOptions = {},
): DecodeResult<CdpFrame> {
  const parsed = parseInput(input, resolveMaxBytes(options.maxBytes, MAX_FRAME_BYTES));
  return parsed.ok ? validateCdpFrame(parsed.value) : parsed;
}
