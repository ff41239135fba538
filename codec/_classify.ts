// The one classification of frame shapes. The validators call it once per frame, and both their
// fast path and their issue-reporting path branch on its answer, so the two can never disagree
// about what a frame is meant to be.
//
// Keys are read directly, not through `Object.hasOwn`: a frame comes from JSON.parse, which makes
// every key an own property (a `"__proto__"` key included) and never sets a prototype, and none of
// the keys read here is on `Object.prototype`. The `hasOwn` calls cost 1.5–3× the whole fast
// path of a small frame (measured with bench/codec_bench.ts).

import type { JsonObject } from "./json.ts";

/**
 * What an `/extension` frame is meant to be, decided in this order: a `type` field means a gateway
 * frame; a numeric `id` with `result` or `error` means a response; otherwise `method` decides
 * (`forwardCDPCommand`, `forwardCDPEvent`, `ping`, `pong`); anything else is unknown.
 */
export type ExtensionShape =
  | "gateway"
  | "response"
  | "command"
  | "event"
  | "ping"
  | "pong"
  | "unknown";

/** Classifies an `/extension` frame; see {@linkcode ExtensionShape} for the order. */
export function classifyExtensionFrame(value: JsonObject): ExtensionShape {
  if (value.type !== undefined) return "gateway";
  if (typeof value.id === "number" && (value.result !== undefined || value.error !== undefined)) {
    return "response";
  }
  switch (value.method) {
    case "forwardCDPCommand":
      return "command";
    case "forwardCDPEvent":
      return "event";
    case "ping":
      return "ping";
    case "pong":
      return "pong";
    default:
      return "unknown";
  }
}

/**
 * What a `/cdp` frame is meant to be, decided in this order: an `id` with `result` or `error`
 * means a response; otherwise a `method` with an `id` is a command and a `method` without one an
 * event; anything else is unknown.
 */
export type CdpShape = "response" | "command" | "event" | "unknown";

/** Classifies a `/cdp` frame; see {@linkcode CdpShape} for the order. */
export function classifyCdpFrame(value: JsonObject): CdpShape {
  const hasId = value.id !== undefined;
  if (hasId && (value.result !== undefined || value.error !== undefined)) return "response";
  if (value.method === undefined) return "unknown";
  return hasId ? "command" : "event";
}
