/**
 * The relay's half of the download emulation (issue 13): it answers `Browser.setDownloadBehavior`,
 * turns a shared tab's `Page.downloadWillBegin` / `Page.downloadProgress` and the extension's
 * completion reports into `Browser.downloadWillBegin` / `Browser.downloadProgress` for the
 * clients that enabled events, and places finished files (bookkeeping in `relay/downloads.ts`).
 *
 * Who does what:
 * - The relay knows the clients and the file system: it validates the command, checks that
 *   `downloadPath` is writable, keeps the behavior in force (the last one set by a connected
 *   client, as in Chrome), sends the events, and moves finished files into `downloadPath`.
 * - The extension knows `chrome.downloads`: it cancels downloads of shared tabs while the
 *   behavior is `deny` (`BrowserRelay.setDownloadBehavior` tells it the behavior in force),
 *   reports where Chrome saved each finished file (`BrowserRelay.downloadCompleted`), cancels a
 *   download whose client left (`BrowserRelay.cancelDownload`) and erases the history entry of a
 *   file the relay moved away (`BrowserRelay.eraseDownload`).
 *
 * @module
 */

import type { CdpOutcome } from "../codec/cdp_frame.ts";
import type { CdpCall } from "../codec/extension_frame.ts";
import type { JsonObject, JsonValue } from "../codec/json.ts";
import {
  denoDownloadFs,
  type DownloadEvent,
  type DownloadFs,
  DownloadRegistry,
  type DownloadState,
  parseDownloadBehavior,
} from "./downloads.ts";
import { str } from "./json_fields.ts";

/** A client as the emulation sees it: anything with a stable id. */
export interface DownloadClient {
  readonly id: number;
}

/** Options of {@linkcode DownloadEmulation}. */
export interface DownloadEmulationOptions<C extends DownloadClient> {
  /** The connected clients. */
  readonly clients: () => readonly C[];
  /** Sends one event to one client, on `sessionId` when given (a relay-made browser session). */
  readonly sendEvent: (client: C, method: string, params: JsonObject, sessionId?: string) => void;
  /** Sends a relay-private command to the extension; its outcome is not needed. */
  readonly toExtension: (method: string, params: JsonObject) => void;
  /** Browser context ids a client may name (those of the shared tabs' targets). */
  readonly contextIds: () => readonly string[];
  /**
   * File operations.
   *
   * @default {denoDownloadFs}
   */
  readonly fs?: DownloadFs;
  /**
   * Diagnostics (a file that could not be placed).
   *
   * @default {no logging}
   */
  readonly log?: (line: string) => void;
}

function num(value: JsonValue | undefined): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\\\");
}

/**
 * Wires {@linkcode DownloadRegistry} to the CDP router and the extension.
 *
 * @example
 * ```ts ignore
 * const downloads = new DownloadEmulation({ clients, sendEvent, toExtension, contextIds });
 * // Browser.setDownloadBehavior: reply with await downloads.setBehavior(client, params)
 * // every extension event: if (!downloads.handleEvent(event)) router.handleEvent(event)
 * // a client leaves: downloads.clientGone(client)
 * ```
 */
export class DownloadEmulation<C extends DownloadClient> {
  readonly #options: DownloadEmulationOptions<C>;
  readonly #fs: DownloadFs;
  readonly #registry: DownloadRegistry;
  /**
   * Registry key → where its events go. A setting belongs to one session of one client (its
   * root session or a relay-made browser session), as each session has its own
   * `eventsEnabled` in Chrome: Playwright's root session and a browser session it opens for
   * `deny` both hear of every download.
   */
  readonly #keys = new Map<string, { readonly client: C; readonly sessionId?: string }>();
  /** The `deny` flag the extension was last told. */
  #deny = false;

  /**
   * Creates the emulation with no setting in force (`default`).
   *
   * @param options Clients, event and extension senders, the file system.
   */
  constructor(options: DownloadEmulationOptions<C>) {
    this.#options = options;
    this.#fs = options.fs ?? denoDownloadFs;
    this.#registry = new DownloadRegistry({
      fs: this.#fs,
      emit: (clientId, event) => this.#emit(clientId, event),
      onError: (_guid, error) => this.#options.log?.(error.message),
    });
  }

  /** Downloads in flight plus clients with a setting: zero once everything is finished. */
  get size(): number {
    return this.#registry.size + this.#keys.size;
  }

  /**
   * Answers one `Browser.setDownloadBehavior`.
   *
   * @param client The sending client.
   * @param params The command's params.
   * @param browserSessionId The relay-made browser session it was sent on, if any.
   * @returns `{}`, or Chrome's error for bad params, or an error naming a `downloadPath` the
   *   relay cannot write.
   */
  async setBehavior(
    client: C,
    params: JsonObject,
    browserSessionId?: string,
  ): Promise<CdpOutcome> {
    const contextId = str(params.browserContextId);
    const known = this.#options.contextIds();
    const parsed = parseDownloadBehavior(
      params,
      contextId !== undefined && known.includes(contextId) ? contextId : undefined,
    );
    if (!parsed.ok) return { ok: false, error: parsed.error };
    const { setting } = parsed;
    if (
      setting.downloadPath !== undefined &&
      (setting.behavior === "allow" || setting.behavior === "allowAndName")
    ) {
      const path = setting.downloadPath;
      if (!isAbsolute(path)) {
        return {
          ok: false,
          error: {
            code: -32000,
            message:
              `Cannot set download behavior as "downloadPath" must be an absolute path: current value is "${path}"`,
          },
        };
      }
      try {
        await this.#fs.probe(path);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return {
          ok: false,
          error: {
            code: -32000,
            message:
              `Cannot set download behavior as the relay cannot write to "downloadPath": current value is "${path}" (${reason})`,
          },
        };
      }
    }
    // The client may have left while the probe ran: its setting must not outlive it.
    if (!this.#options.clients().includes(client)) {
      return { ok: false, error: { code: -32000, message: "Client disconnected" } };
    }
    const key = `${client.id}/${browserSessionId ?? ""}`;
    this.#registry.setBehavior(key, setting);
    this.#keys.set(
      key,
      browserSessionId === undefined ? { client } : { client, sessionId: browserSessionId },
    );
    this.#syncExtension();
    return { ok: true, result: {} };
  }

  /**
   * Looks at one event from the extension.
   *
   * @param event The event.
   * @returns `true` when the event was the extension's own report and is consumed here;
   *   `false` when it must still be routed (page download events go on to their sessions).
   */
  handleEvent(event: CdpCall): boolean {
    const params = event.params ?? {};
    switch (event.method) {
      case "Page.downloadWillBegin": {
        const guid = str(params.guid);
        if (guid === undefined) return false;
        const verdict = this.#registry.willBegin(
          {
            guid,
            url: str(params.url) ?? "",
            suggestedFilename: str(params.suggestedFilename) ?? "",
            frameId: str(params.frameId) ?? "",
          },
          // As in Chrome, every browser session with events enabled hears of every download.
          [...this.#keys.keys()],
        );
        // The extension cancels at once on its own deny flag; this also covers a worker that
        // restarted and lost the flag (a cancel of a canceled download changes nothing).
        if (verdict === "cancel") {
          this.#options.toExtension("BrowserRelay.cancelDownload", { guid });
        }
        return false;
      }
      case "Page.downloadProgress": {
        const guid = str(params.guid);
        const state = str(params.state);
        if (guid === undefined || (state !== "inProgress" && state !== "canceled")) return false;
        this.#registry.progress({
          guid,
          receivedBytes: num(params.receivedBytes),
          totalBytes: num(params.totalBytes),
          state: state satisfies DownloadState,
        });
        return false;
      }
      case "BrowserRelay.downloadCompleted": {
        const guid = str(params.guid);
        const filePath = str(params.filePath);
        const downloadId = params.downloadId;
        if (guid === undefined || filePath === undefined) return true;
        void this.#registry.completed({
          guid,
          filePath,
          receivedBytes: num(params.receivedBytes),
          totalBytes: num(params.totalBytes),
        }).then((finalPath) => {
          // The file left the person's download folder: drop its entry from their list too.
          if (finalPath !== undefined && finalPath !== filePath && typeof downloadId === "number") {
            this.#options.toExtension("BrowserRelay.eraseDownload", { downloadId });
          }
        });
        return true;
      }
      case "BrowserRelay.downloadCanceled": {
        const guid = str(params.guid);
        if (guid !== undefined) {
          this.#registry.progress({ guid, receivedBytes: 0, totalBytes: 0, state: "canceled" });
        }
        return true;
      }
      default:
        return false;
    }
  }

  /**
   * Forgets a client that left: its setting stops applying, and downloads bound for its
   * `downloadPath` are canceled in the extension.
   *
   * @param client The client.
   */
  clientGone(client: C): void {
    for (const [key, target] of this.#keys) {
      if (target.client !== client) continue;
      this.#keys.delete(key);
      for (const guid of this.#registry.clientGone(key)) {
        this.#options.toExtension("BrowserRelay.cancelDownload", { guid });
      }
    }
    this.#syncExtension();
  }

  /** Tells the extension whether downloads are to be canceled, when that changed. */
  #syncExtension(): void {
    const deny = this.#registry.effective().setting.behavior === "deny";
    if (deny === this.#deny) return;
    this.#deny = deny;
    this.#options.toExtension("BrowserRelay.setDownloadBehavior", {
      behavior: deny ? "deny" : "allow",
    });
  }

  #emit(key: string, event: DownloadEvent): void {
    const target = this.#keys.get(key);
    if (target === undefined) return;
    const params: JsonObject = { ...event.params };
    this.#options.sendEvent(target.client, event.method, params, target.sessionId);
  }
}
