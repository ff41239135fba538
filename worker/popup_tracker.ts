/**
 * Tabs opened by a shared tab (issue 13, behaviour 1): which new tabs to inspect, which to share,
 * and holding commands for a popup until its attach is done.
 *
 * What Chrome tells an extension (measured on Chromium with `chrome.debugger`):
 * - The opener's debugger session gets `Page.windowOpen {url, windowName, windowFeatures,
 *   userGesture}` (when `Page` is enabled) for `window.open`, `target=_blank` and `noopener`
 *   alike, before `chrome.tabs.onCreated` fires for the new tab.
 * - `chrome.tabs.onCreated` carries `openerTabId`, but that is the tab strip's opener: the tab that
 *   was *active* when the new tab was inserted, which for a background tab driven by a client is
 *   another tab. So it only nominates a candidate.
 * - After `chrome.debugger.attach`, the new tab's `Target.getTargetInfo` has Chrome's own
 *   `openerId` (the opener's target id, also for `noopener`), `openerFrameId` and
 *   `canAccessOpener` (false for `noopener`). That decides, and is what the relay must announce
 *   in `Target.attachedToTarget` so Playwright fires `popup` (it looks the opener up by
 *   `targetInfo.openerId` when the target attaches) and Puppeteer `targetcreated`/`popup`.
 * - The extension can neither discover targets (`Target.setDiscoverTargets`) nor attach or inspect
 *   another target from a tab session (`Target.getTargetInfo {targetId}` / `attachToTarget`): both
 *   answer `Not allowed`.
 *
 * Not wired in yet: see {@linkcode PopupTracker} for the calls the worker must make.
 *
 * @module
 */

import type { Clock } from "./ports.ts";

/** Options of {@linkcode PopupTracker}. */
export interface PopupTrackerOptions {
  readonly clock: Pick<Clock, "now" | "setTimeout" | "clearTimeout">;
  /**
   * How long a `Page.windowOpen` from a shared tab vouches for a new tab with the same URL.
   *
   * @default {5000}
   */
  readonly windowOpenTtlMs?: number;
  /**
   * How long a command for a popup may wait for the popup's attach before it fails.
   *
   * @default {10000}
   */
  readonly holdTimeoutMs?: number;
}

/** What `chrome.tabs.onCreated` gives (subset). */
export interface CreatedTab {
  readonly id: number;
  readonly openerTabId?: number;
  readonly pendingUrl?: string;
  readonly url?: string;
}

/** A popup's own target info (subset of `Target.TargetInfo`). */
export interface PopupTargetInfo {
  readonly targetId: string;
  readonly openerId?: string;
  readonly openerFrameId?: string;
  readonly canAccessOpener?: boolean;
}

interface Held {
  readonly method: string;
  readonly run: () => void;
  readonly fail: (error: Error) => void;
}

interface Pending {
  readonly held: Held[];
  readonly timers: Set<ReturnType<Clock["setTimeout"]>>;
}

/**
 * Decides which new tabs are popups of shared tabs and holds commands for them until attached.
 *
 * Wiring (worker side, in the per-tab attachment / emulated-methods module):
 * - `Page.windowOpen` event on a shared tab T: `windowOpened(T, params.url)`. (The worker must
 *   have `Page` enabled on shared tabs for this, or rely on `openerTabId` alone.)
 * - `chrome.tabs.onCreated(tab)`: if `shouldProbe(tab, isShared)`, attach with
 *   `chrome.debugger.attach` and call `Target.getTargetInfo`; then
 *   `isPopupOf(info, sharedTargetIds)` decides. Yes: share the tab (setting "share tabs opened by
 *   shared tabs", on by default; join the opener's tab group) and announce its target info
 *   unchanged, `openerId` included, then `ready(tab.id)`. No: detach at once and
 *   `failed(tab.id, …)`.
 * - Every command for a tab id (through its session or target id) goes through
 *   `hold(tabId, method, run)`: it runs at once unless the tab is being attached.
 * - `chrome.tabs.onRemoved(tabId)`: `tabRemoved(tabId)`.
 */
export class PopupTracker {
  readonly #clock: PopupTrackerOptions["clock"];
  readonly #ttlMs: number;
  readonly #holdTimeoutMs: number;
  /** Recent `Page.windowOpen`s: opener tab, URL, time. */
  readonly #opens: { readonly opener: number; readonly url: string; readonly at: number }[] = [];
  readonly #pending = new Map<number, Pending>();
  #closed = false;

  constructor(options: PopupTrackerOptions) {
    this.#clock = options.clock;
    this.#ttlMs = options.windowOpenTtlMs ?? 5_000;
    this.#holdTimeoutMs = options.holdTimeoutMs ?? 10_000;
  }

  /** Tabs being attached plus remembered window opens: zero when nothing is in flight. */
  get size(): number {
    this.#expire();
    return this.#pending.size + this.#opens.length;
  }

  /**
   * A shared tab is opening a window (`Page.windowOpen`).
   *
   * @param openerTabId The shared tab.
   * @param url The URL it opens.
   */
  windowOpened(openerTabId: number, url: string): void {
    this.#expire();
    this.#opens.push({ opener: openerTabId, url, at: this.#clock.now() });
  }

  /**
   * Whether a new tab may be a popup of a shared tab and is worth attaching to inspect. When it
   * is, commands for it are held from now until {@linkcode PopupTracker.ready} or
   * {@linkcode PopupTracker.failed}.
   *
   * @param tab The created tab.
   * @param isShared Whether a tab id is shared now.
   * @returns `true` to attach and inspect it.
   */
  shouldProbe(tab: CreatedTab, isShared: (tabId: number) => boolean): boolean {
    if (this.#closed || isShared(tab.id)) return false;
    this.#expire();
    const url = tab.pendingUrl ?? tab.url ?? "";
    const vouched = this.#opens.findIndex((open) => open.url === url && isShared(open.opener));
    const candidate = vouched >= 0 ||
      (tab.openerTabId !== undefined && isShared(tab.openerTabId));
    if (!candidate) return false;
    if (vouched >= 0) this.#opens.splice(vouched, 1);
    if (!this.#pending.has(tab.id)) this.#pending.set(tab.id, { held: [], timers: new Set() });
    return true;
  }

  /**
   * Whether an inspected tab was opened by a shared tab, by Chrome's own `openerId`.
   *
   * @param info The new tab's `Target.getTargetInfo`.
   * @param sharedTargetIds Target ids of the shared tabs.
   */
  isPopupOf(info: PopupTargetInfo, sharedTargetIds: ReadonlySet<string>): boolean {
    return info.openerId !== undefined && sharedTargetIds.has(info.openerId);
  }

  /**
   * Runs `run` now, or once the tab's attach is done when it is being attached.
   *
   * @param tabId The tab the command is for.
   * @param method The CDP method, for error messages.
   * @param run Sends the command.
   * @returns What `run` returns.
   * @throws {Error} If the tab closes or fails to attach first, or the hold times out.
   */
  hold<T>(tabId: number, method: string, run: () => Promise<T>): Promise<T> {
    const pending = this.#pending.get(tabId);
    if (pending === undefined) return run();
    // Build the errors now so their stacks point at the caller.
    const timeout = new Error(
      `Cannot send "${method}" to tab ${tabId} as it was not attached within ${this.#holdTimeoutMs} ms`,
    );
    return new Promise<T>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        pending.timers.delete(timer);
        const index = pending.held.indexOf(entry);
        if (index >= 0) pending.held.splice(index, 1);
        reject(timeout);
      }, this.#holdTimeoutMs);
      pending.timers.add(timer);
      const settle = () => {
        this.#clock.clearTimeout(timer);
        pending.timers.delete(timer);
      };
      const entry: Held = {
        method,
        run: () => {
          settle();
          run().then(resolve, reject);
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      };
      pending.held.push(entry);
    });
  }

  /** The tab is attached and announced: held commands run, in the order they came. */
  ready(tabId: number): void {
    const pending = this.#pending.get(tabId);
    if (pending === undefined) return;
    this.#pending.delete(tabId);
    for (const held of pending.held) held.run();
  }

  /**
   * The tab will not be shared (not a popup of a shared tab, or its attach failed): held
   * commands fail with `reason`.
   */
  failed(tabId: number, reason: string): void {
    const pending = this.#pending.get(tabId);
    if (pending === undefined) return;
    this.#pending.delete(tabId);
    for (const held of pending.held) {
      held.fail(new Error(`Cannot send "${held.method}" to tab ${tabId} as ${reason}`));
    }
  }

  /** The tab closed; a popup closed before it was attached fails its held commands. */
  tabRemoved(tabId: number): void {
    this.failed(tabId, "it closed before it was attached");
  }

  /** Fails every held command and forgets everything. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const tabId of [...this.#pending.keys()]) this.failed(tabId, "the extension is stopping");
    this.#opens.length = 0;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #expire(): void {
    const now = this.#clock.now();
    while (this.#opens.length > 0 && now - (this.#opens[0]?.at ?? now) > this.#ttlMs) {
      this.#opens.shift();
    }
  }
}
