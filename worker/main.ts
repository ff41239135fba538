/**
 * Service-worker entry: the only module with side effects. It builds the ports and the single
 * {@linkcode RelayClient}. The client's constructor registers every `chrome.*` listener
 * synchronously, so all of them exist before this module's first `await` (there is none here)
 * and Chrome delivers the event that woke the worker.
 *
 * @module
 */

import { chromePorts } from "./chrome_ports.ts";
import { RelayClient, type StatusSnapshot } from "./relay_client.ts";
import type { PendingWork, ToggleResult } from "./tab_bridge.ts";

/** Test hook for the end-to-end tests (`sw.evaluate(() => self.browserRelay.status())`). */
interface BrowserRelayTestHook {
  /** Resolves once the tab table is restored. */
  ready(): Promise<void>;
  /** The same snapshot `{type: "status"}` returns. */
  status(): StatusSnapshot;
  /** Work the tab side still holds (chaos run: nothing may be left pending). */
  pendingWork(): PendingWork;
  /** Toggles a tab through the toolbar-click path. */
  toggleTab(tabId: number): Promise<ToggleResult | undefined>;
  /** Clicks the action on the active tab of the last focused window, as the user would. */
  clickAction(): Promise<ToggleResult | undefined>;
}

declare const self: ServiceWorkerGlobalScope & { browserRelay?: BrowserRelayTestHook };

const ports = chromePorts();
const client = new RelayClient(ports);

self.browserRelay = {
  ready: () => client.ready,
  status: () => client.status(),
  pendingWork: () => client.pendingWork(),
  toggleTab: (tabId) => client.toggleTab(tabId),
  clickAction: async () => {
    const [tab] = await ports.tabs.query({ active: true, lastFocusedWindow: true });
    if (tab === undefined) throw new Error("Cannot click the action as no tab is active");
    return client.clickAction(tab);
  },
};

// After every listener is registered: the alarm brings the worker back after a silent restart.
void client.ensureKeepaliveAlarm().catch((error: unknown) =>
  console.warn(`Cannot create the keepalive alarm: ${String(error)}`)
);
