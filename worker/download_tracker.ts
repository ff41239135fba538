/**
 * The extension's half of the download emulation (issue 13): it joins what a shared tab's
 * debugger session reports with what `chrome.downloads` knows, for downloads started by shared
 * tabs only.
 *
 * What Chrome gives an extension (measured on Chromium):
 * - `chrome.debugger` refuses `Browser.setDownloadBehavior` ("'Browser.setDownloadBehavior'
 *   wasn't found") and `Page.setDownloadBehavior` ("Cannot not access browser-level commands"),
 *   so the extension cannot choose where files go or name them by guid.
 * - With `Page` enabled, the tab's session does get `Page.downloadWillBegin {frameId, guid, url,
 *   suggestedFilename}` and `Page.downloadProgress {guid, totalBytes, receivedBytes, state}`,
 *   with Chrome's own guid: everything `Browser.downloadWillBegin` / `downloadProgress` carry.
 * - Only `chrome.downloads` (the `downloads` permission) knows where Chrome saved the file
 *   (`DownloadItem.filename`) and can cancel it; its items carry no guid and no tab, so they are
 *   matched to the page events by URL, oldest first.
 *
 * The relay places files and sends the browser-level events (`relay/downloads.ts`); this tracker
 * tells it where each finished file is, and cancels downloads under `deny`. Items that match no
 * download of a shared tab are never touched.
 *
 * Not wired in yet: see {@linkcode DownloadTracker} for the calls the worker must make.
 *
 * @module
 */

/** What `chrome.downloads.onCreated` gives (subset of `DownloadItem`). */
export interface DownloadItemInfo {
  readonly id: number;
  readonly url: string;
  readonly finalUrl?: string;
  /** Absolute path; empty until Chrome has chosen it. */
  readonly filename: string;
  readonly state: "in_progress" | "interrupted" | "complete";
}

/** What `chrome.downloads.onChanged` gives (subset of `DownloadDelta`). */
export interface DownloadDeltaInfo {
  readonly id: number;
  readonly filename?: { readonly current?: string };
  readonly state?: { readonly current?: string };
}

/** What the tracker asks the worker to do. */
export type DownloadAction =
  /** `chrome.downloads.cancel(downloadId)`: the behavior in force is `deny`. */
  | { readonly kind: "cancel"; readonly downloadId: number; readonly guid: string }
  /**
   * Tell the relay the download finished and where Chrome saved it: a browser-level
   * `Browser.downloadProgress {guid, state: "completed", receivedBytes, totalBytes, filePath}`
   * (Chrome's own event has an optional `filePath` too).
   */
  | {
    readonly kind: "completed";
    readonly tabId: number;
    readonly guid: string;
    readonly downloadId: number;
    readonly filePath: string;
    readonly receivedBytes: number;
    readonly totalBytes: number;
  };

/** Options of {@linkcode DownloadTracker}. */
export interface DownloadTrackerOptions {
  /** Receives each action once. */
  readonly onAction: (action: DownloadAction) => void;
  /**
   * Unmatched `chrome.downloads` items kept at most (downloads of tabs that are not shared
   * whose page events never come); the oldest go first.
   *
   * @default {32}
   */
  readonly maxUnmatched?: number;
}

interface Tracked {
  readonly tabId: number;
  readonly guid: string;
  readonly url: string;
  item?: { id: number; filename: string; state: string };
  pageDone?: { receivedBytes: number; totalBytes: number };
  /** False while a cancel is due but the item is not known yet; it is sent on link. */
  cancelSent: boolean;
  /** A cancel was asked for: the download is never reported completed. */
  canceled: boolean;
}

/**
 * Tracks downloads of shared tabs from `Page.downloadWillBegin` to their end.
 *
 * Wiring (worker side):
 * - `Browser.setDownloadBehavior` forwarded by the relay (the behavior in force):
 *   `setDeny(behavior === "deny")`, reply `{}`.
 * - Every `chrome.debugger.onEvent` of a shared tab: `pageEvent(tabId, method, params)` (the
 *   event is still forwarded as usual). The worker must enable `Page` on shared tabs while any
 *   client has set a download behavior, since a client that never sent `Page.enable` would
 *   otherwise miss downloads; then it must not forward `Page.*` events to that client.
 * - `chrome.downloads.onCreated` / `onChanged`: `itemCreated(item)` / `itemChanged(delta)`.
 * - Actions: `cancel` → `chrome.downloads.cancel(id)`; `completed` → send the relay the
 *   browser-level `Browser.downloadProgress` with `filePath`, then (once the relay has moved the
 *   file) `chrome.downloads.erase({id})` so the person's download list does not keep an entry
 *   whose file is gone.
 */
export class DownloadTracker {
  readonly #onAction: DownloadTrackerOptions["onAction"];
  readonly #maxUnmatched: number;
  #deny = false;
  /** By guid. */
  readonly #downloads = new Map<string, Tracked>();
  /** `chrome.downloads` items not matched yet, oldest first. */
  readonly #unmatched: {
    id: number;
    url: string;
    finalUrl: string;
    filename: string;
    state: string;
  }[] = [];

  constructor(options: DownloadTrackerOptions) {
    this.#onAction = options.onAction;
    this.#maxUnmatched = options.maxUnmatched ?? 32;
  }

  /** Downloads in flight plus unmatched items: zero when nothing is left. */
  get size(): number {
    return this.#downloads.size + this.#unmatched.length;
  }

  /**
   * Sets whether downloads of shared tabs are to be canceled (behavior `deny`). Applies to
   * downloads that begin from now on, as in Chrome.
   */
  setDeny(deny: boolean): void {
    this.#deny = deny;
  }

  /**
   * A debugger event of a shared tab.
   *
   * @returns Whether it was a download event.
   */
  pageEvent(tabId: number, method: string, params: Readonly<Record<string, unknown>>): boolean {
    const guid = typeof params.guid === "string" ? params.guid : undefined;
    if (guid === undefined) return false;
    if (method === "Page.downloadWillBegin") {
      if (this.#downloads.has(guid)) return true;
      const url = typeof params.url === "string" ? params.url : "";
      const tracked: Tracked = {
        tabId,
        guid,
        url,
        cancelSent: !this.#deny,
        canceled: this.#deny,
      };
      this.#downloads.set(guid, tracked);
      const index = this.#unmatched.findIndex((item) => item.url === url || item.finalUrl === url);
      if (index >= 0) {
        const [item] = this.#unmatched.splice(index, 1);
        if (item !== undefined) this.#link(tracked, item);
      }
      return true;
    }
    if (method === "Page.downloadProgress") {
      const tracked = this.#downloads.get(guid);
      if (tracked === undefined) return true;
      if (params.state === "canceled") {
        this.#downloads.delete(guid);
      } else if (params.state === "completed") {
        tracked.pageDone = {
          receivedBytes: Number(params.receivedBytes ?? 0),
          totalBytes: Number(params.totalBytes ?? 0),
        };
        this.#maybeDone(tracked);
      }
      return true;
    }
    return false;
  }

  /**
   * Cancels a download of a shared tab (its client left): at once when its `chrome.downloads`
   * item is known, else as soon as it is.
   *
   * @returns Whether the download was known.
   */
  cancel(guid: string): boolean {
    const tracked = this.#downloads.get(guid);
    if (tracked === undefined) return false;
    if (tracked.canceled) return true;
    tracked.canceled = true;
    if (tracked.item === undefined) {
      tracked.cancelSent = false;
      return true;
    }
    tracked.cancelSent = true;
    this.#onAction({ kind: "cancel", downloadId: tracked.item.id, guid });
    this.#maybeDone(tracked);
    return true;
  }

  /** `chrome.downloads.onCreated`. */
  itemCreated(item: DownloadItemInfo): void {
    const entry = {
      id: item.id,
      url: item.url,
      finalUrl: item.finalUrl ?? item.url,
      filename: item.filename,
      state: item.state,
    };
    const waiting = [...this.#downloads.values()].find((d) =>
      d.item === undefined && (d.url === entry.url || d.url === entry.finalUrl)
    );
    if (waiting !== undefined) {
      this.#link(waiting, entry);
      return;
    }
    this.#unmatched.push(entry);
    while (this.#unmatched.length > this.#maxUnmatched) this.#unmatched.shift();
  }

  /** `chrome.downloads.onChanged`. */
  itemChanged(delta: DownloadDeltaInfo): void {
    const unmatched = this.#unmatched.findIndex((item) => item.id === delta.id);
    if (unmatched >= 0) {
      const item = this.#unmatched[unmatched];
      if (item === undefined) return;
      if (delta.filename?.current !== undefined) item.filename = delta.filename.current;
      if (delta.state?.current !== undefined) item.state = delta.state.current;
      // A finished download nobody claimed belongs to a tab that is not shared: forget it.
      if (item.state !== "in_progress") this.#unmatched.splice(unmatched, 1);
      return;
    }
    for (const tracked of this.#downloads.values()) {
      if (tracked.item?.id !== delta.id) continue;
      if (delta.filename?.current !== undefined) tracked.item.filename = delta.filename.current;
      if (delta.state?.current !== undefined) tracked.item.state = delta.state.current;
      if (tracked.item.state === "interrupted") {
        // Canceled or failed: Chrome also sends Page.downloadProgress "canceled"; the entry
        // goes when that arrives, or now if it already did not matter.
        this.#downloads.delete(tracked.guid);
        return;
      }
      this.#maybeDone(tracked);
      return;
    }
  }

  #link(
    tracked: Tracked,
    item: { id: number; filename: string; state: string },
  ): void {
    tracked.item = { id: item.id, filename: item.filename, state: item.state };
    if (!tracked.cancelSent) {
      tracked.cancelSent = true;
      this.#onAction({ kind: "cancel", downloadId: item.id, guid: tracked.guid });
    }
    this.#maybeDone(tracked);
  }

  /** Completed once both sides agree: the page said so and Chrome named and closed the file. */
  #maybeDone(tracked: Tracked): void {
    const { item, pageDone } = tracked;
    if (item === undefined) return;
    if (tracked.canceled) {
      // Whatever Chrome did with it, the cancel action owns its end.
      if (item.state !== "in_progress") this.#downloads.delete(tracked.guid);
      return;
    }
    if (pageDone === undefined) return;
    if (item.state !== "complete" || item.filename === "") return;
    this.#downloads.delete(tracked.guid);
    this.#onAction({
      kind: "completed",
      tabId: tracked.tabId,
      guid: tracked.guid,
      downloadId: item.id,
      filePath: item.filename,
      receivedBytes: pageDone.receivedBytes,
      totalBytes: pageDone.totalBytes,
    });
  }
}
