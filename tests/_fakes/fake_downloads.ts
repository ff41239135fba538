/**
 * In-memory `chrome.downloads` for unit tests: a table of items that `cancel`, `removeFile` and
 * `erase` change as Chrome would, plus `emit` helpers for `onCreated`/`onChanged`.
 *
 * @module
 */

import type { DownloadDeltaView, DownloadItemView, DownloadsPort } from "../../worker/ports.ts";
import { FakeEvent } from "./fake_tabs.ts";

/** One item as the fake keeps it. */
export interface FakeDownloadItem {
  url: string;
  filename: string;
  state: "in_progress" | "interrupted" | "complete";
  /** Whether the file is still on disk. */
  exists: boolean;
}

/** In-memory {@linkcode DownloadsPort}. */
export class FakeDownloads implements DownloadsPort {
  /** The person's download list, by id. */
  readonly items = new Map<number, FakeDownloadItem>();
  readonly onCreated = new FakeEvent<(item: DownloadItemView) => void>();
  readonly onChanged = new FakeEvent<(delta: DownloadDeltaView) => void>();

  /** Adds an item and fires `onCreated`. */
  create(id: number, item: FakeDownloadItem): void {
    this.items.set(id, item);
    this.onCreated.emit({ id, url: item.url, filename: item.filename, state: item.state });
  }

  /** Changes an item and fires `onChanged`. */
  change(id: number, change: { filename?: string; state?: FakeDownloadItem["state"] }): void {
    const item = this.#get(id);
    if (change.filename !== undefined) item.filename = change.filename;
    if (change.state !== undefined) item.state = change.state;
    this.onChanged.emit({
      id,
      ...(change.filename === undefined ? {} : { filename: { current: change.filename } }),
      ...(change.state === undefined ? {} : { state: { current: change.state } }),
    });
  }

  cancel(downloadId: number): Promise<void> {
    const item = this.items.get(downloadId);
    // Chrome ignores a cancel of a finished download.
    if (item !== undefined && item.state === "in_progress") {
      item.state = "interrupted";
      item.exists = false;
    }
    return Promise.resolve();
  }

  state(downloadId: number): Promise<string | undefined> {
    return Promise.resolve(this.items.get(downloadId)?.state);
  }

  removeFile(downloadId: number): Promise<void> {
    const item = this.#get(downloadId);
    if (item.state !== "complete") {
      return Promise.reject(new Error("Download must be complete"));
    }
    item.exists = false;
    return Promise.resolve();
  }

  erase(downloadId: number): Promise<void> {
    this.items.delete(downloadId);
    return Promise.resolve();
  }

  #get(id: number): FakeDownloadItem {
    const item = this.items.get(id);
    if (item === undefined) throw new Error(`No download with id ${id}`);
    return item;
  }
}
