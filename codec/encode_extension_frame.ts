/**
 * Encoder for frames on the `/extension` socket.
 *
 * @module
 */

import type { CdpCall, ExtensionFrame } from "./extension_frame.ts";

/**
 * Encodes a frame as its exact wire text. Absent optional fields are omitted, never written as
 * `null`, because legacy peers rely on that. Total for every valid frame.
 *
 * @param frame The frame.
 * @returns One JSON text.
 *
 * @example
 * ```ts
 * import { encodeExtensionFrame } from "@browser-relay/codec";
 *
 * encodeExtensionFrame({ kind: "pong" }); // '{"method":"pong"}'
 * encodeExtensionFrame({ kind: "response", id: 7, outcome: { ok: false, error: "boom" } });
 * // '{"id":7,"error":"boom"}'
 * ```
 */
export function encodeExtensionFrame(frame: ExtensionFrame): string {
  switch (frame.kind) {
    case "command":
      return JSON.stringify({ id: frame.id, method: "forwardCDPCommand", params: call(frame.cdp) });
    case "response":
      return frame.outcome.ok
        ? JSON.stringify({ id: frame.id, result: frame.outcome.result })
        : JSON.stringify({ id: frame.id, error: frame.outcome.error });
    case "event":
      return JSON.stringify({ method: "forwardCDPEvent", params: eventCall(frame.cdp) });
    case "ping":
      return '{"method":"ping"}';
    case "pong":
      return '{"method":"pong"}';
    case "connect_challenge":
      return JSON.stringify({
        type: "event",
        event: "connect.challenge",
        payload: { nonce: frame.nonce, ts: frame.ts },
      });
    case "gateway_event":
      return JSON.stringify({ type: "event", event: frame.event, payload: frame.payload });
    case "connect_request":
      return JSON.stringify({ type: "req", id: frame.id, method: "connect", params: frame.params });
    case "gateway_request":
      return JSON.stringify({
        type: "req",
        id: frame.id,
        method: frame.method,
        params: frame.params,
      });
    case "hello_ok":
      return JSON.stringify({ type: "res", id: frame.id, ok: true, payload: frame.hello });
    case "gateway_response":
      return JSON.stringify({ type: "res", id: frame.id, ok: true, payload: frame.payload });
    case "gateway_error":
      return JSON.stringify({ type: "res", id: frame.id, ok: false, error: frame.error });
    default: {
      const _exhaustive: never = frame;
      return _exhaustive;
    }
  }
}

// Field order follows the protocol examples: command params are {method, sessionId, params}.
function call(cdp: CdpCall): CdpCall {
  return { method: cdp.method, sessionId: cdp.sessionId, params: cdp.params } as CdpCall;
}

// Event params are {sessionId, method, params} (protocol §4.4).
function eventCall(cdp: CdpCall): CdpCall {
  return { sessionId: cdp.sessionId, method: cdp.method, params: cdp.params } as CdpCall;
}
