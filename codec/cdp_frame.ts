/**
 * Standard CDP frames with flat sessions, as spoken on the relay's `/cdp` endpoint.
 *
 * @module
 */

import type { JsonObject } from "./json.ts";

/** A CDP protocol error. */
export interface CdpError {
  /** JSON-RPC style code; the relay uses `-32000`. */
  readonly code?: number;
  /** Error message. */
  readonly message: string;
  /** Optional extra data. */
  readonly data?: string;
}

/** Outcome of a CDP command. */
export type CdpOutcome =
  | { readonly ok: true; readonly result: JsonObject }
  | { readonly ok: false; readonly error: CdpError };

/**
 * Every frame on the `/cdp` socket.
 *
 * Wire shapes:
 * - `command`: `{id, method, params?, sessionId?}` (client → relay)
 * - `response`: `{id, sessionId?, result}` or `{id, sessionId?, error: {code?, message, data?}}`
 * - `event`: `{method, params?, sessionId?}`
 */
export type CdpFrame =
  | {
    readonly kind: "command";
    readonly id: number;
    readonly method: string;
    readonly params?: JsonObject;
    readonly sessionId?: string;
  }
  | {
    readonly kind: "response";
    readonly id: number;
    readonly sessionId?: string;
    readonly outcome: CdpOutcome;
  }
  | {
    readonly kind: "event";
    readonly method: string;
    readonly params?: JsonObject;
    readonly sessionId?: string;
  };

/** The `kind` of a {@linkcode CdpFrame}. */
export type CdpFrameKind = CdpFrame["kind"];
