/** STUB @module */
import type { CdpFrame } from "./cdp_frame.ts";
/** STUB — returns the exact wire text of a frame. */
export function encodeCdpFrame(frame: CdpFrame): string {
  void frame;
  throw new Error("not implemented yet");
}
