/**
 * An in-memory {@linkcode DownloadFs} for the download emulation's unit tests.
 *
 * @module
 */

import type { DownloadFs } from "../relay/downloads.ts";

/** An in-memory file system: path → contents; directories are implied by `mkdir`. */
export class FakeDownloadFs implements DownloadFs {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>();
  readonly readOnly = new Set<string>();
  failRename = false;

  mkdir(path: string): Promise<void> {
    if ([...this.readOnly].some((ro) => path.startsWith(ro))) {
      return Promise.reject(new Error(`Permission denied (os error 13): mkdir '${path}'`));
    }
    this.dirs.add(path);
    return Promise.resolve();
  }
  rename(from: string, to: string): Promise<void> {
    if (this.failRename) return Promise.reject(new Error("Cross-device link (os error 18)"));
    return this.#move(from, to, true);
  }
  copyFile(from: string, to: string): Promise<void> {
    return this.#move(from, to, false);
  }
  remove(path: string): Promise<void> {
    this.files.delete(path);
    return Promise.resolve();
  }
  exists(path: string): Promise<boolean> {
    return Promise.resolve(this.files.has(path) || this.dirs.has(path));
  }
  async probe(dir: string): Promise<void> {
    await this.mkdir(dir);
  }
  #move(from: string, to: string, removeSource: boolean): Promise<void> {
    const body = this.files.get(from);
    if (body === undefined) return Promise.reject(new Error(`No such file: '${from}'`));
    this.files.set(to, body);
    if (removeSource) this.files.delete(from);
    return Promise.resolve();
  }
}
