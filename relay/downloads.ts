/**
 * Download bookkeeping for the emulated `Browser.setDownloadBehavior` and the
 * `Browser.downloadWillBegin` / `Browser.downloadProgress` events (issue 13).
 *
 * `chrome.debugger` gives an extension no `Browser` domain, so the relay answers
 * `Browser.setDownloadBehavior` itself, turns the `Page.downloadWillBegin` /
 * `Page.downloadProgress` events the extension's tab session receives into the browser-level
 * events clients wait for, and, because it runs on the client's machine, moves each finished file
 * to where the client asked: `downloadPath/<guid>` for `allowAndName`, `downloadPath/<suggested
 * name>` for `allow` (made unique as Chrome does), or leaves it where Chrome saved it for
 * `default`. `deny` is carried out by the extension, which cancels the download.
 *
 * As in Chrome, one behavior applies to the whole (default) browser context and the last
 * `setDownloadBehavior` wins; a download keeps the behavior in force when it began. Events go only
 * to clients that set `eventsEnabled` and hold the tab that started the download.
 *
 * Not wired in yet: see {@linkcode DownloadRegistry} for the calls the CDP side must make.
 *
 * @module
 */

/** The `behavior` values of `Browser.setDownloadBehavior`. */
export type DownloadBehavior = "deny" | "allow" | "allowAndName" | "default";

/** A validated `Browser.setDownloadBehavior` call. */
export interface DownloadBehaviorSetting {
  readonly behavior: DownloadBehavior;
  /** Required for `allow` and `allowAndName`. */
  readonly downloadPath?: string;
  readonly eventsEnabled: boolean;
}

/** Download states of `Browser.downloadProgress`. */
export type DownloadState = "inProgress" | "completed" | "canceled";

/** A CDP error reply, as the relay sends it. */
export interface CdpErrorReply {
  readonly code: number;
  readonly message: string;
  readonly data?: string;
}

/**
 * Validates `Browser.setDownloadBehavior` params with Chrome's own error replies (measured on
 * Chromium 14x): a missing `behavior` is a deserialization error, `allow`/`allowAndName` without
 * `downloadPath` is `downloadPath not provided`, and a `browserContextId` other than the default
 * context's is `Failed to find browser context for id <id>`. Chrome accepts an unknown behavior
 * string and treats it as `default`; so do we.
 *
 * @param params The command's params.
 * @param defaultContextId The id the relay reports for its one browser context, if any.
 * @returns The setting, or the error reply to send.
 */
export function parseDownloadBehavior(
  params: Readonly<Record<string, unknown>>,
  defaultContextId?: string,
): { readonly ok: true; readonly setting: DownloadBehaviorSetting } | {
  readonly ok: false;
  readonly error: CdpErrorReply;
} {
  const { behavior, downloadPath, eventsEnabled, browserContextId } = params;
  if (typeof behavior !== "string") {
    return {
      ok: false,
      error: {
        code: -32602,
        message: "Invalid parameters",
        data: "Failed to deserialize params.behavior - BINDINGS: mandatory field missing",
      },
    };
  }
  if (browserContextId !== undefined && browserContextId !== defaultContextId) {
    return {
      ok: false,
      error: {
        code: -32602,
        message: `Failed to find browser context for id ${String(browserContextId)}`,
      },
    };
  }
  const known: DownloadBehavior =
    behavior === "deny" || behavior === "allow" || behavior === "allowAndName"
      ? behavior
      : "default";
  const path = typeof downloadPath === "string" && downloadPath !== "" ? downloadPath : undefined;
  if ((known === "allow" || known === "allowAndName") && path === undefined) {
    return { ok: false, error: { code: -32602, message: "downloadPath not provided" } };
  }
  return {
    ok: true,
    setting: {
      behavior: known,
      ...(path === undefined ? {} : { downloadPath: path }),
      eventsEnabled: eventsEnabled === true,
    },
  };
}

/** The file operations the registry needs; {@linkcode denoDownloadFs} in production. */
export interface DownloadFs {
  /** Creates a directory and its parents. */
  mkdir(path: string): Promise<void>;
  /** Moves a file; may fail across devices. */
  rename(from: string, to: string): Promise<void>;
  /** Copies a file (the fallback when rename fails across devices). */
  copyFile(from: string, to: string): Promise<void>;
  /** Removes a file; a missing file is not an error. */
  remove(path: string): Promise<void>;
  /** Whether something exists at `path`. */
  exists(path: string): Promise<boolean>;
  /**
   * Creates the directory if needed and checks that a file can be created in it (a probe file
   * is written and removed); rejects with the file system's error otherwise.
   */
  probe(dir: string): Promise<void>;
}

/** {@linkcode DownloadFs} on Deno's file system APIs. */
export const denoDownloadFs: DownloadFs = {
  async mkdir(path) {
    await Deno.mkdir(path, { recursive: true });
  },
  async rename(from, to) {
    await Deno.rename(from, to);
  },
  async copyFile(from, to) {
    await Deno.copyFile(from, to);
  },
  async remove(path) {
    try {
      await Deno.remove(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  },
  async exists(path) {
    try {
      await Deno.lstat(path);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  },
  async probe(dir) {
    await Deno.mkdir(dir, { recursive: true });
    const probe = join(dir, `.browser-relay-probe-${crypto.randomUUID()}`);
    await Deno.writeFile(probe, new Uint8Array(), { createNew: true });
    await Deno.remove(probe);
  },
};

/** What `Page.downloadWillBegin` reports. */
export interface DownloadStart {
  readonly guid: string;
  readonly url: string;
  readonly suggestedFilename: string;
  readonly frameId: string;
}

/** A browser-level event for one client. */
export type DownloadEvent =
  | { readonly method: "Browser.downloadWillBegin"; readonly params: DownloadStart }
  | {
    readonly method: "Browser.downloadProgress";
    readonly params: {
      readonly guid: string;
      readonly totalBytes: number;
      readonly receivedBytes: number;
      readonly state: DownloadState;
      readonly filePath?: string;
    };
  };

/** Options of {@linkcode DownloadRegistry}. */
export interface DownloadRegistryOptions {
  /** Sends one event to one client (a root-session event, no `sessionId`). */
  readonly emit: (clientId: string, event: DownloadEvent) => void;
  /** File operations. @default {denoDownloadFs} */
  readonly fs?: DownloadFs;
  /** Reports a file the relay could not place (the download is then reported canceled). */
  readonly onError?: (guid: string, error: Error) => void;
}

interface Tracked {
  readonly start: DownloadStart;
  /** The behavior in force when the download began. */
  readonly setting: DownloadBehaviorSetting;
  /** Clients told about it (those holding the tab, with events enabled). */
  readonly watchers: Set<string>;
  /** The client whose setting is in force, if any. */
  readonly owner: string | undefined;
  receivedBytes: number;
  totalBytes: number;
}

const DEFAULT_SETTING: DownloadBehaviorSetting = { behavior: "default", eventsEnabled: false };

/**
 * Tracks downloads from shared tabs by Chrome's guid, from first event to last, and places
 * finished files.
 *
 * Wiring (relay side):
 * - `Browser.setDownloadBehavior` from client C: {@linkcode parseDownloadBehavior}, then
 *   `setBehavior(C, setting)`, forward the effective behavior to the extension (so it can cancel
 *   on `deny`), reply `{}`.
 * - `Page.downloadWillBegin` from the extension on top-level session S: `willBegin(params,
 *   holdersOf(S))`, then route the page event as usual.
 * - `Page.downloadProgress` (`inProgress` or `canceled`): `progress(params)`.
 * - The extension's completion report (a `Browser.downloadProgress` with `state: "completed"`
 *   and `filePath`, the absolute path from `chrome.downloads`): `await completed(params)`; the
 *   client's `completed` event is sent only after the file is in place, because Playwright reads
 *   `downloadPath/<guid>` as soon as it sees it.
 * - A client disconnects: `clientGone(C)` returns the guids to cancel in the extension.
 */
export class DownloadRegistry {
  readonly #emit: DownloadRegistryOptions["emit"];
  readonly #fs: DownloadFs;
  readonly #onError: DownloadRegistryOptions["onError"];
  /** Settings in the order they were made; the last one is in force. */
  readonly #settings = new Map<string, DownloadBehaviorSetting>();
  readonly #downloads = new Map<string, Tracked>();

  constructor(options: DownloadRegistryOptions) {
    this.#emit = options.emit;
    this.#fs = options.fs ?? denoDownloadFs;
    this.#onError = options.onError;
  }

  /** Number of downloads in flight (zero once every one finished or its client left). */
  get size(): number {
    return this.#downloads.size;
  }

  /**
   * The behavior in force: the last one set by a connected client, else `default`.
   *
   * @returns The setting and the client that made it.
   */
  effective(): { readonly setting: DownloadBehaviorSetting; readonly owner?: string } {
    const entries = [...this.#settings];
    const last = entries[entries.length - 1];
    return last === undefined ? { setting: DEFAULT_SETTING } : { setting: last[1], owner: last[0] };
  }

  /**
   * Records client `clientId`'s `Browser.setDownloadBehavior`; it is now in force.
   *
   * @param clientId The client.
   * @param setting What {@linkcode parseDownloadBehavior} returned.
   */
  setBehavior(clientId: string, setting: DownloadBehaviorSetting): void {
    // Re-insert so that insertion order is "last set wins".
    this.#settings.delete(clientId);
    this.#settings.set(clientId, setting);
  }

  /**
   * A download began in a shared tab.
   *
   * @param start What `Page.downloadWillBegin` reported.
   * @param holders Clients holding the tab it began in.
   * @returns What the extension must do with it: `cancel` under `deny`, else `keep`.
   */
  willBegin(start: DownloadStart, holders: readonly string[]): "cancel" | "keep" {
    if (this.#downloads.has(start.guid)) return "keep";
    const { setting, owner } = this.effective();
    const watchers = new Set(
      holders.filter((client) => this.#settings.get(client)?.eventsEnabled === true),
    );
    const verdict = setting.behavior === "deny" ? "cancel" : "keep";
    // Nobody to tell and no file to place: nothing to keep in the table.
    if (watchers.size === 0 && !placesFile(setting)) return verdict;
    this.#downloads.set(start.guid, {
      start,
      setting,
      watchers,
      owner,
      receivedBytes: 0,
      totalBytes: 0,
    });
    for (const client of watchers) {
      this.#emit(client, { method: "Browser.downloadWillBegin", params: start });
    }
    return verdict;
  }

  /**
   * Progress that needs no file work: `inProgress`, or `canceled` (which ends the download).
   * A `completed` state here is ignored: completion comes with its file path through
   * {@linkcode DownloadRegistry.completed}.
   */
  progress(
    update: {
      readonly guid: string;
      readonly receivedBytes: number;
      readonly totalBytes: number;
      readonly state: DownloadState;
    },
  ): void {
    const tracked = this.#downloads.get(update.guid);
    if (tracked === undefined || update.state === "completed") return;
    tracked.receivedBytes = update.receivedBytes;
    tracked.totalBytes = update.totalBytes;
    if (update.state === "canceled") this.#downloads.delete(update.guid);
    this.#send(tracked, update.state);
  }

  /**
   * A download finished and Chrome saved it at `filePath`: place it as the behavior in force
   * when it began says, then report `completed` (or `canceled` if the file cannot be placed).
   *
   * @returns The final path, or `undefined` when the download is unknown or failed.
   */
  async completed(
    done: {
      readonly guid: string;
      readonly receivedBytes: number;
      readonly totalBytes: number;
      readonly filePath: string;
    },
  ): Promise<string | undefined> {
    const tracked = this.#downloads.get(done.guid);
    if (tracked === undefined) return undefined;
    this.#downloads.delete(done.guid);
    tracked.receivedBytes = done.receivedBytes;
    tracked.totalBytes = done.totalBytes;
    if (tracked.setting.behavior === "deny") {
      // The extension's cancel came too late: a denied download is never reported completed.
      this.#send(tracked, "canceled");
      return undefined;
    }
    try {
      const finalPath = await this.#place(tracked, done.filePath);
      this.#send(tracked, "completed", finalPath);
      return finalPath;
    } catch (cause) {
      const dir = tracked.setting.downloadPath ?? "";
      const reason = cause instanceof Error ? cause.message : String(cause);
      this.#onError?.(
        done.guid,
        new Error(`Cannot save download "${done.guid}" to "${dir}": ${reason}`, { cause }),
      );
      // Do not leave a half-placed copy behind; the original stays where Chrome put it.
      this.#send(tracked, "canceled");
      return undefined;
    }
  }

  /**
   * Forgets a client: its setting stops applying, it gets no more events, and downloads that
   * began under its setting and were bound for its `downloadPath` are dropped. Downloads that
   * need no file work and have nobody left to tell are forgotten too, so nothing stays in the
   * table once every client is gone.
   *
   * @returns Guids of the dropped downloads, which the extension should cancel (Chrome then
   *   removes the partial file) so nothing lands in a folder nobody reads.
   */
  clientGone(clientId: string): string[] {
    this.#settings.delete(clientId);
    const dropped: string[] = [];
    for (const [guid, tracked] of this.#downloads) {
      tracked.watchers.delete(clientId);
      if (tracked.owner === clientId && placesFile(tracked.setting)) {
        this.#downloads.delete(guid);
        dropped.push(guid);
        this.#send(tracked, "canceled");
      } else if (tracked.watchers.size === 0 && !placesFile(tracked.setting)) {
        this.#downloads.delete(guid);
      }
    }
    return dropped;
  }

  async #place(tracked: Tracked, source: string): Promise<string> {
    const { behavior, downloadPath } = tracked.setting;
    if (behavior === "default" || behavior === "deny" || downloadPath === undefined) return source;
    await this.#fs.mkdir(downloadPath);
    const target = behavior === "allowAndName"
      ? join(downloadPath, tracked.start.guid)
      : await this.#unique(downloadPath, safeName(tracked.start.suggestedFilename));
    if (target === source) return target;
    try {
      await this.#fs.rename(source, target);
    } catch {
      // Another device (EXDEV) or a rename refused: copy, then remove the original.
      await this.#fs.copyFile(source, target);
      await this.#fs.remove(source);
    }
    return target;
  }

  /** `name`, else `name (1)`, `name (2)`… before the extension, as Chrome names duplicates. */
  async #unique(dir: string, name: string): Promise<string> {
    const dot = name.lastIndexOf(".");
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : "";
    for (let n = 0;; n++) {
      const candidate = join(dir, n === 0 ? name : `${stem} (${n})${ext}`);
      if (!await this.#fs.exists(candidate)) return candidate;
    }
  }

  #send(tracked: Tracked, state: DownloadState, filePath?: string): void {
    for (const client of tracked.watchers) {
      this.#emit(client, {
        method: "Browser.downloadProgress",
        params: {
          guid: tracked.start.guid,
          totalBytes: tracked.totalBytes,
          receivedBytes: tracked.receivedBytes,
          state,
          ...(filePath === undefined ? {} : { filePath }),
        },
      });
    }
  }
}

/** Whether the relay moves files downloaded under `setting` (into the client's folder). */
function placesFile(setting: DownloadBehaviorSetting): boolean {
  return (setting.behavior === "allow" || setting.behavior === "allowAndName") &&
    setting.downloadPath !== undefined;
}

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

/** A suggested name as one path segment: no separators, never empty, `..` or `.`. */
function safeName(name: string): string {
  const cleaned = name.replaceAll(/[/\\]/g, "_").replaceAll("\0", "");
  return cleaned === "" || cleaned === "." || cleaned === ".." ? "download" : cleaned;
}
