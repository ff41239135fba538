/**
 * Carries out the {@linkcode DownloadTracker}'s actions with `chrome.downloads` and reports to
 * the relay (issue 13). Only downloads the tracker matched to a shared tab's
 * `Page.downloadWillBegin` are ever canceled, erased or reported; every other download is left
 * alone.
 *
 * @module
 */

import type { CdpCall } from "../codec/extension_frame.ts";
import type { JsonObject } from "../codec/json.ts";
import { type DownloadAction, DownloadTracker } from "./download_tracker.ts";
import type { DownloadDeltaView, DownloadItemView, DownloadsPort } from "./ports.ts";
import { errorText } from "./errors.ts";

/** Options of {@linkcode DownloadBridge}. */
export interface DownloadBridgeOptions {
  /** `chrome.downloads`. */
  readonly downloads: DownloadsPort;
  /** Sends one event to the relay (dropped while the connection is not ready). */
  readonly sendEvent: (cdp: CdpCall) => void;
  /**
   * Diagnostics (a `chrome.downloads` call that failed).
   *
   * @default {no logging}
   */
  readonly log?: (message: string) => void;
}

/**
 * The worker's half of the download emulation.
 *
 * @example
 * ```ts ignore
 * const bridge = new DownloadBridge({ downloads: ports.downloads, sendEvent });
 * ports.downloads.onCreated.addListener((item) => bridge.itemCreated(item));
 * ```
 */
export class DownloadBridge {
  readonly #port: DownloadsPort;
  readonly #sendEvent: (cdp: CdpCall) => void;
  readonly #log: (message: string) => void;
  readonly #tracker: DownloadTracker;
  /** Actions still running (cancel then check), for tests and the pending-work report. */
  #running = 0;

  /**
   * Creates the bridge; it registers no listeners (the owner routes events to it).
   *
   * @param options The downloads port, the relay sender and the logger.
   */
  constructor(options: DownloadBridgeOptions) {
    this.#port = options.downloads;
    this.#sendEvent = options.sendEvent;
    this.#log = options.log ?? (() => {});
    this.#tracker = new DownloadTracker({ onAction: (action) => void this.#act(action) });
  }

  /** Downloads tracked plus actions running: zero when nothing is left. */
  get size(): number {
    return this.#tracker.size + this.#running;
  }

  /**
   * A debugger event of a shared tab; only `Page.download*` events matter.
   *
   * @param tabId The tab.
   * @param method The CDP event.
   * @param params Its params.
   */
  pageEvent(tabId: number, method: string, params: JsonObject | undefined): void {
    if (params === undefined || !method.startsWith("Page.download")) return;
    this.#tracker.pageEvent(tabId, method, params);
  }

  /** `chrome.downloads.onCreated`. */
  itemCreated(item: DownloadItemView): void {
    this.#tracker.itemCreated(item);
  }

  /** `chrome.downloads.onChanged`. */
  itemChanged(delta: DownloadDeltaView): void {
    this.#tracker.itemChanged(delta);
  }

  /**
   * `BrowserRelay.setDownloadBehavior {behavior}`: the behavior in force at the relay.
   *
   * @param behavior `deny` cancels downloads of shared tabs from now on; anything else keeps
   *   them.
   */
  setBehavior(behavior: string): void {
    this.#tracker.setDeny(behavior === "deny");
  }

  /**
   * `BrowserRelay.cancelDownload {guid}`: the client the download was for left.
   *
   * @param guid Chrome's download guid.
   * @returns Whether the download was known.
   */
  cancel(guid: string): boolean {
    return this.#tracker.cancel(guid);
  }

  /**
   * `BrowserRelay.eraseDownload {downloadId}`: the relay moved the file away, so the entry in
   * the person's download list would point at nothing.
   *
   * @param downloadId The `chrome.downloads` id.
   * @returns Resolves once erased.
   */
  async erase(downloadId: number): Promise<void> {
    await this.#port.erase(downloadId);
  }

  async #act(action: DownloadAction): Promise<void> {
    this.#running++;
    try {
      if (action.kind === "completed") {
        this.#sendEvent({
          method: "BrowserRelay.downloadCompleted",
          params: {
            guid: action.guid,
            downloadId: action.downloadId,
            filePath: action.filePath,
            receivedBytes: action.receivedBytes,
            totalBytes: action.totalBytes,
          },
        });
        return;
      }
      await this.#port.cancel(action.downloadId);
      // A small file may have finished before the cancel arrived: Chrome then ignores the
      // cancel, so remove the file and tell the relay it was canceled, as Chrome would report.
      if (await this.#port.state(action.downloadId) === "complete") {
        await this.#port.removeFile(action.downloadId);
        this.#sendEvent({ method: "BrowserRelay.downloadCanceled", params: { guid: action.guid } });
      }
      // A denied download leaves no entry in the person's list, as with Chrome's own deny.
      await this.#port.erase(action.downloadId);
    } catch (error) {
      this.#log(`Cannot ${action.kind} download ${action.downloadId}: ${errorText(error)}`);
    } finally {
      this.#running--;
    }
  }
}
