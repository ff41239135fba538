/**
 * The options page's ports (style.md item 12). `chrome.storage` and the clock come from
 * `worker/chrome_ports.ts`, the one adapter; this file adds only `chrome.runtime.sendMessage`,
 * which a page needs and the worker's adapter has no reason to offer. Nothing else in
 * `options/` touches `chrome`.
 *
 * @module
 */

import { chromePorts } from "../worker/chrome_ports.ts";
import type { Clock, StoragePort } from "../worker/ports.ts";
import type { ClientMessage } from "../worker/relay_client.ts";

/** The requests the options page sends to the worker (answered by `RelayClient`). */
export type PageRequest = ClientMessage;

/** Everything the options page reaches outside its DOM. */
export interface PagePorts {
  readonly storage: StoragePort;
  readonly clock: Clock;
  /** Sends one request to the worker and resolves with its reply (unchecked). */
  sendMessage(request: PageRequest): Promise<unknown>;
}

/**
 * Builds the page's ports over the real `chrome.*` APIs.
 *
 * @returns Storage, clock and messaging ports.
 *
 * @example Usage
 * ```ts ignore
 * import { chromePagePorts } from "./chrome_page_ports.ts";
 *
 * const ports = chromePagePorts();
 * const status = await ports.sendMessage({ type: "status" });
 * ```
 */
export function chromePagePorts(): PagePorts {
  // Storage and clock come from the worker's adapter, so both sides read settings alike.
  const { storage, clock } = chromePorts();
  return {
    storage,
    clock,
    sendMessage: (request) => chrome.runtime.sendMessage(request),
  };
}
