/**
 * The options page's single adapter over `chrome.*` (style.md item 12): `chrome.storage` as a
 * {@linkcode StoragePort}, `chrome.runtime.sendMessage` to the worker, and a lazily delegating
 * {@linkcode Clock}. Nothing else in `options/` touches `chrome`.
 *
 * It exists beside `worker/chrome_ports.ts` because a page also needs
 * `chrome.runtime.sendMessage`, which the worker's adapter has no reason to offer.
 *
 * @module
 */

import type { Clock, StorageArea, StorageChange, StoragePort } from "../worker/ports.ts";

/** The requests the options page sends to the worker over `chrome.runtime` messaging. */
export type PageRequest =
  | { readonly type: "status" }
  | { readonly type: "detachAll" }
  | { readonly type: "checkConnection"; readonly port: number; readonly token: string };

/** Everything the options page reaches outside its DOM. */
export interface PagePorts {
  readonly storage: StoragePort;
  readonly clock: Clock;
  /** Sends one request to the worker and resolves with its reply (unchecked). */
  sendMessage(request: PageRequest): Promise<unknown>;
}

type ChangedListener = (changes: Record<string, StorageChange>, areaName: string) => void;

function storageArea(area: chrome.storage.StorageArea): StorageArea {
  return {
    get: (keys) => area.get([...keys]),
    set: (items) => area.set(items),
    remove: (keys) => area.remove([...keys]),
  };
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
  return {
    storage: {
      local: storageArea(chrome.storage.local),
      session: storageArea(chrome.storage.session),
      onChanged: {
        addListener: (listener: ChangedListener) => chrome.storage.onChanged.addListener(listener),
        removeListener: (listener: ChangedListener) =>
          chrome.storage.onChanged.removeListener(listener),
      },
    },
    // Looked up at call time so fake timers installed later still drive it (style.md item 17).
    clock: {
      now: () => Date.now(),
      setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
      clearTimeout: (handle) => globalThis.clearTimeout(handle),
      random: () => Math.random(),
    },
    sendMessage: (request) => chrome.runtime.sendMessage(request),
  };
}
