/**
 * Decoder for frames on the `/cdp` socket.
 *
 * @module
 */
import type { DecodeResult } from "./issue.ts";
import type { CdpFrame } from "./cdp_frame.ts";

/** Options of {@linkcode decodeCdpFrame}. */
export interface DecodeCdpFrameOptions {
  /**
   * Maximum input size in UTF-8 bytes; larger input is rejected with `too_large` before parsing.
   *
   * @default {268435456}
   */
  readonly maxBytes?: number;
}

/** STUB — replaced by the real decoder. */
export function decodeCdpFrame(
  input: string | Uint8Array,
  options: DecodeCdpFrameOptions = {},
): DecodeResult<CdpFrame> {
  void input;
  void options;
  throw new Error("not implemented yet");
}
