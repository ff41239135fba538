/**
 * Encoder for frames on the `/cdp` socket.
 *
 * @module
 */

import type { CdpFrame } from "./cdp_frame.ts";

/**
 * Encodes a CDP frame as its wire text. A response echoes `sessionId` only when present.
 *
 * @param frame The frame.
 * @returns One JSON text.
 *
 * @example
 * ```ts
 * import { encodeCdpFrame } from "@browser-relay/codec";
 *
 * encodeCdpFrame({ kind: "response", id: 1, outcome: { ok: false, error: { code: -32000, message: "boom" } } });
 * // '{"id":1,"error":{"code":-32000,"message":"boom"}}'
 * ```
 */
export function encodeCdpFrame(frame: CdpFrame): string {
  switch (frame.kind) {
    case "command":
      return JSON.stringify({
        id: frame.id,
        method: frame.method,
        params: frame.params,
        sessionId: frame.sessionId,
      });
    case "response":
      return frame.outcome.ok
        ? JSON.stringify({ id: frame.id, sessionId: frame.sessionId, result: frame.outcome.result })
        : JSON.stringify({ id: frame.id, sessionId: frame.sessionId, error: frame.outcome.error });
    case "event":
      return JSON.stringify({
        method: frame.method,
        params: frame.params,
        sessionId: frame.sessionId,
      });
    default: {
      const _exhaustive: never = frame;
      return _exhaustive;
    }
  }
}
