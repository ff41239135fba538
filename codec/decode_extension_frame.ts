/**
 * Decoder for frames on the `/extension` socket.
 *
 * @module
 */
import type { DecodeResult } from "./issue.ts";
import type { ExtensionFrame } from "./extension_frame.ts";

/** Options of {@linkcode decodeExtensionFrame}. */
export interface DecodeExtensionFrameOptions {
  /**
   * Maximum input size in UTF-8 bytes; larger input is rejected with `too_large` before parsing.
   *
   * @default {268435456}
   */
  readonly maxBytes?: number;
}

/** STUB — replaced by the real decoder. */
export function decodeExtensionFrame(
  input: string | Uint8Array,
  options: DecodeExtensionFrameOptions = {},
): DecodeResult<ExtensionFrame> {
  void input;
  void options;
  throw new Error("not implemented yet");
}
