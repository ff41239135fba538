/**
 * Write batching for relay sockets: every frame written to one socket during one turn of work
 * (for example all the replies produced by one chunk of extension frames) leaves in one
 * `writev` instead of one system call per frame.
 *
 * @module
 */

import type { Duplex } from "node:stream";

/**
 * Returns a function to call before each write to `socket`. The first call in a turn corks the
 * socket; a microtask uncorks it once the synchronous work of that turn is done, so the frames
 * go out together and in order. Nothing waits for a timer.
 *
 * @param socket The raw socket under a WebSocket.
 * @returns The hook to call before each write.
 *
 * @example
 * ```ts ignore
 * const hold = createWriteBatcher(socket);
 * hold();
 * ws.send(frame);
 * ```
 */
export function createWriteBatcher(socket: Duplex): () => void {
  let corked = false;
  const release = () => {
    corked = false;
    socket.uncork();
  };
  return () => {
    if (corked) return;
    corked = true;
    socket.cork();
    queueMicrotask(release);
  };
}
