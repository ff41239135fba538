/** STUB @module */
import type { ExtensionFrame } from "./extension_frame.ts";
/** STUB — returns the exact wire text of a frame. */
export function encodeExtensionFrame(frame: ExtensionFrame): string {
  void frame;
  throw new Error("not implemented yet");
}
