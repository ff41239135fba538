/**
 * The receive limit of one `ws` socket, changeable after the upgrade (issue 14 defect 7).
 *
 * `ws` takes one `maxPayload` per server and checks it against each frame's header, before any
 * payload is buffered. `/extension` needs two limits on the same socket: 64 KiB until the
 * handshake completes, then `maxFrameBytes`. `ws` has no public setter, so this reaches its
 * receiver's `_maxPayload` (ws 8.x, `lib/receiver.js`: `haveLength()` compares the running
 * message length with it and fails with 1009). The field is checked by shape: with another
 * `ws` version the call reports `undefined` and the relay still refuses an oversized
 * pre-handshake frame, only after buffering it (`ExtensionLink`).
 *
 * @module
 */

import type { WebSocket } from "ws";

interface ReceiverShape {
  _maxPayload: number;
}

function receiverOf(ws: WebSocket): ReceiverShape | undefined {
  const receiver: unknown = Reflect.get(ws, "_receiver");
  if (typeof receiver !== "object" || receiver === null) return undefined;
  const current: unknown = Reflect.get(receiver, "_maxPayload");
  return typeof current === "number" ? receiver as ReceiverShape : undefined;
}

/**
 * Reads the largest message `ws` accepts, and with `bytes` sets it first.
 *
 * @param ws An open `ws` socket.
 * @param bytes The new limit in bytes, if it changes.
 * @returns The limit now in force, or `undefined` if this `ws` version has no such field.
 * @throws {RangeError} If `bytes` is not a positive integer.
 *
 * @example
 * ```ts ignore
 * import { receiveLimit } from "./receive_limit.ts";
 *
 * receiveLimit(ws, 65_536); // before the handshake
 * receiveLimit(ws, 268_435_456); // once the extension is authenticated
 * ```
 */
export function receiveLimit(ws: WebSocket, bytes?: number): number | undefined {
  if (bytes !== undefined && (!Number.isInteger(bytes) || bytes < 1)) {
    throw new RangeError(
      `Cannot set receive limit as "bytes" must be a positive integer: current value is ${bytes}`,
    );
  }
  const receiver = receiverOf(ws);
  if (receiver === undefined) return undefined;
  if (bytes !== undefined) receiver._maxPayload = bytes;
  return receiver._maxPayload;
}
