/**
 * One attached tab's lifecycle: the first attach, the navigation re-attach loop, the session
 * reset, the replay of recorded session state, the commands buffered meanwhile and the detach.
 *
 * How a navigation re-attach works: Chrome detaches the debugger with `target_closed` when a tab
 * navigates across processes. {@linkcode TabAttachment.prototype.debuggerDetached} then moves
 * the attachment to `reattaching` (commands are buffered from now on), checks that the tab still
 * exists and runs the re-attach loop: `chrome.debugger.attach` after each delay of
 * `reattachDelaysMs`. Once attached, it reads the target info; the same targetId with a complete
 * replay log replays the recorded state-setting commands (`TabSessions.noteCommand`) and the
 * session resumes silently, anything else detaches the old target (`navigation-reattach`) and
 * announces the new one under the same relay session id. Either way the buffered commands are
 * then issued in arrival order. When every attempt fails the tab is detached with
 * `reattach_failed`.
 *
 * With the host's `keepPageEnabled`, every fresh debugger session (first attach, re-attach,
 * reset) first gets the extension's own `Page.enable`, before any announce, replay or flush.
 *
 * Every step that awaits re-checks that its phase object is still the current one: a phase
 * change (detach, tab replaced, worker shutdown) ends the step without further checks.
 *
 * @module
 */

import type { CdpCall, Outcome } from "../codec/extension_frame.ts";
import { isShareableUrl } from "./is_shareable_url.ts";
import type { JsonObject } from "../codec/json.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import type { Clock, Debuggee, DebuggerPort, TabInfo, TabsPort, TimerHandle } from "./ports.ts";
import type { TabRecord, TabSessions, TabState } from "./tab_sessions.ts";
import { TimeoutError } from "./with_deadline.ts";

/**
 * Where one attachment is in its lifecycle.
 * - `attaching`: the first `chrome.debugger.attach`; no relay session id yet.
 * - `attached`: commands are issued at once.
 * - `reattaching`: the debugger is gone after a navigation or a restart; commands are buffered.
 *   `loop` is false while the tab is still being checked, true once the re-attach loop runs.
 * - `resetting`: `BrowserRelay.resetSession` cycles the debugger; commands are buffered. In step
 *   `cycling` the debugger's own detach is expected and ignored; in `reading` it is not.
 * - `detached`: final; the relay was told (unless the worker shut down).
 */
export type AttachmentPhase =
  | { readonly kind: "attaching" }
  | { readonly kind: "attached" }
  | { readonly kind: "reattaching"; readonly loop: boolean }
  | { readonly kind: "resetting"; readonly step: "cycling" | "reading" }
  | { readonly kind: "detached"; readonly reason: string };

/** One command of the relay, identified by its id on the current socket. */
export interface Command {
  readonly id: number;
  readonly cdp: CdpCall;
}

/** Timings an attachment uses; the bridge's options with their defaults applied. */
export interface AttachmentTimings {
  readonly reattachDelaysMs: readonly number[];
  readonly bufferLimit: number;
  readonly bufferTimeoutMs: number;
}

/** What an attachment needs from its owner, the tab bridge. */
export interface AttachmentHost {
  readonly debugger: DebuggerPort;
  readonly tabs: TabsPort;
  readonly clock: Clock;
  readonly sessions: TabSessions;
  readonly timings: AttachmentTimings;
  /**
   * Whether the extension keeps `Page` enabled on the tab's own debugger session, whatever
   * clients enable or disable: the download emulation needs `Page.download*` events, which
   * Chrome sends only while `Page` is enabled. Sent after every attach (first, re-attach,
   * reset), before the session is announced, replayed or flushed.
   *
   * @default {false}
   */
  readonly keepPageEnabled?: boolean;
  /** Bounds a `chrome.*` call with the debugger deadline (`withDeadline` on the clock). */
  deadline<T>(promise: Promise<T>, what: string): Promise<T>;
  /** Announces the tab unless this connection already holds its target. */
  announce(record: TabRecord): void;
  /** Sends (or queues for the next connection) a top-level `Target.detachedFromTarget`. */
  sendDetach(sessionId: string, targetId: string, reason: string): void;
  /** Sends one event if the connection is ready. */
  sendEvent(cdp: CdpCall): void;
  /** Routes a command again (a buffered command once the tab is attached). */
  dispatch(command: Command): void;
  /** Sends the one response of a command. */
  reply(command: Command, outcome: Outcome): void;
  /** The first attach succeeded: the attachment now has its relay session id. */
  registered(attachment: TabAttachment): void;
  /** The attachment reached `detached`. */
  forget(attachment: TabAttachment): void;
  /** The set or state of attached tabs changed. */
  changed(): void;
}

/** Options of {@linkcode TabAttachment.attach}. */
export interface AttachOptions {
  /**
   * Decides, from the tab's fresh target info, whether the tab is shared: returns the target
   * info to record and announce, or `undefined` to detach the debugger again without announcing
   * anything (the first attach then rejects). Used for popups, whose real opener only the target
   * info tells.
   *
   * @default {every tab is shared with its target info as read}
   */
  readonly admit?: (targetInfo: JsonObject) => JsonObject | undefined;
}

interface Buffered {
  readonly command: Command;
  readonly timer: TimerHandle;
}

interface ReattachOptions {
  /** Try at once before the first delay (restore, tab replaced, failed reset). */
  readonly immediate: boolean;
  /** Detach first (the worker died mid re-attach: the replay may not have run). */
  readonly detachFirst: boolean;
}

/**
 * @param url A tab URL.
 * @returns True for pages Chrome does not let extensions debug (the one rule the popup uses too).
 */
export function isRestrictedUrl(url: string | undefined): boolean {
  return !isShareableUrl(url);
}

/**
 * `Target.getTargetInfo` of a tab's top-level target.
 *
 * @param host The ports and deadline.
 * @param tabId The tab.
 * @returns The target info with `attached: true`.
 * @throws {Error} When Chrome fails, times out or returns no targetId.
 */
export async function getTargetInfo(host: AttachmentHost, tabId: number): Promise<JsonObject> {
  const result = await host.deadline(
    host.debugger.sendCommand({ tabId }, "Target.getTargetInfo"),
    "Target.getTargetInfo",
  );
  const info = result.targetInfo;
  if (!isJsonObject(info) || typeof info.targetId !== "string") {
    throw new Error(`Cannot read target info of tab ${tabId} as Chrome returned no targetId`);
  }
  return { ...info, attached: true };
}

/** `Target.getTargetInfo`, else the cache, else `debugger.getTargets()`. */
async function readTargetInfo(
  host: AttachmentHost,
  tabId: number,
  cached: JsonObject | undefined,
): Promise<JsonObject> {
  try {
    return await getTargetInfo(host, tabId);
  } catch (error) {
    if (cached !== undefined) return cached;
    const targets = await host.deadline(host.debugger.getTargets(), "debugger.getTargets")
      .catch(() => []);
    const target = targets.find((t) => t.tabId === tabId && t.type === "page");
    if (!target) throw error;
    return {
      targetId: target.id,
      type: target.type,
      title: target.title,
      url: target.url,
      attached: true,
      canAccessOpener: false,
    };
  }
}

/**
 * `chrome.debugger.detach`, ignoring failures: an already detached tab has nothing to release.
 *
 * @param host The ports and deadline.
 * @param tabId The tab.
 * @returns Resolves when done.
 */
export async function detachDebugger(host: AttachmentHost, tabId: number): Promise<void> {
  try {
    await host.deadline(host.debugger.detach({ tabId }), "debugger.detach");
  } catch {
    // Already detached (tab closed, user cancelled): nothing left to release.
  }
}

/** `chrome.tabs.get`: the tab, `undefined` when it is gone, `"unknown"` on a timeout. */
function probeTab(host: AttachmentHost, tabId: number): Promise<TabInfo | "unknown" | undefined> {
  return host.deadline(host.tabs.get(tabId), "tabs.get").then(
    (tab): TabInfo | "unknown" | undefined => tab,
    (error: unknown) => error instanceof TimeoutError ? "unknown" : undefined,
  );
}

/** Asks Chrome (never the tab) whether the tab still exists and our debugger is on it. */
async function checkAttachment(
  host: AttachmentHost,
  tabId: number,
): Promise<"attached" | "lost" | "closed"> {
  const tab = await probeTab(host, tabId);
  if (tab === undefined) return "closed";
  const targets = await host.deadline(host.debugger.getTargets(), "debugger.getTargets")
    .catch(() => undefined);
  if (targets === undefined) return "attached";
  const target = targets.find((t) => t.tabId === tabId && t.type === "page");
  return target?.attached === true ? "attached" : "lost";
}

/**
 * One tab the extension attached `chrome.debugger` to, from the first attach (or a restore
 * after a worker restart) to its detach. Its phase is the single source of truth for the tab's
 * lifecycle; the record in {@linkcode TabSessions} mirrors it (`state`) so a restarted worker
 * knows a re-attach was running.
 *
 * @example
 * ```ts
 * const attachment = TabAttachment.attach(host, tabId);
 * const record = await attachment.attached;
 * ```
 */
export class TabAttachment {
  readonly #host: AttachmentHost;
  #tabId: number;
  #sessionId: string | undefined;
  #debuggee: Debuggee;
  #phase: AttachmentPhase;
  #buffer: Buffered[] = [];
  readonly #timers = new Set<TimerHandle>();
  /** Ends the re-attach loop's current wait early; set only while it waits. */
  #wake: (() => void) | undefined;
  readonly #attached: Promise<TabRecord>;
  readonly #admit: ((targetInfo: JsonObject) => JsonObject | undefined) | undefined;

  /** A restored tab comes with its record; a new one starts its first attach. */
  private constructor(
    host: AttachmentHost,
    tabId: number,
    restored: TabRecord | undefined,
    options: AttachOptions = {},
  ) {
    this.#host = host;
    this.#admit = options.admit;
    this.#tabId = tabId;
    this.#debuggee = { tabId };
    if (restored === undefined) {
      this.#phase = { kind: "attaching" };
      this.#attached = this.#attach();
    } else {
      this.#phase = { kind: "attached" };
      this.#sessionId = restored.sessionId;
      this.#attached = Promise.resolve(restored);
    }
  }

  /** Whether `phase` is still the current phase: every step re-checks this after an await. */
  #is(phase: AttachmentPhase): boolean {
    return this.#phase === phase;
  }

  /**
   * Starts attaching a tab: `tabs.get`, `debugger.attach` 1.3, `Target.getTargetInfo`, then the
   * next `cb-tab-N` and the announce.
   *
   * @param host The owner.
   * @param tabId The tab.
   * @param options Whether the tab is shared at all, decided from its target info.
   * @returns The attachment in phase `attaching`; await its `attached` promise.
   */
  static attach(host: AttachmentHost, tabId: number, options: AttachOptions = {}): TabAttachment {
    return new TabAttachment(host, tabId, undefined, options);
  }

  /** Whether the first attach decides from the target info if the tab is shared (a popup). */
  get conditional(): boolean {
    return this.#admit !== undefined;
  }

  /**
   * Takes over a tab restored from storage after a worker restart, in phase `attached`; call
   * {@linkcode TabAttachment.prototype.recover} once the owner has registered it.
   *
   * @param host The owner.
   * @param record The restored record.
   * @returns The attachment.
   */
  static restore(host: AttachmentHost, record: TabRecord): TabAttachment {
    return new TabAttachment(host, record.tabId, record);
  }

  /**
   * Starts re-attaching a restored tab when needed.
   *
   * @param verdict `kept`: Chrome still has our debugger on the tab; `lost`: it does not.
   */
  recover(verdict: "kept" | "lost"): void {
    const record = this.record();
    if (!record || this.#phase.kind !== "attached") return;
    if (verdict === "lost") {
      this.#host.sessions.update(record.tabId, { children: [] });
      this.#startReattach({ immediate: true, detachFirst: false });
    } else if (record.state === "reattaching") {
      // The worker died mid re-attach: the debugger is attached but the replay may not have
      // run, so start over rather than leave the session without its state.
      this.#startReattach({ immediate: true, detachFirst: true });
    }
  }

  /** The current phase. */
  get phase(): AttachmentPhase {
    return this.#phase;
  }

  /** The tab id; changes when Chrome replaces the tab. */
  get tabId(): number {
    return this.#tabId;
  }

  /** The relay session id, `cb-tab-<N>`; undefined while `attaching`. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** The top-level debuggee, one object reused by every command. */
  get debuggee(): Debuggee {
    return this.#debuggee;
  }

  /** The first attach; rejects when Chrome refuses it. Resolved at once for a restored tab. */
  get attached(): Promise<TabRecord> {
    return this.#attached;
  }

  /** True while commands to the tab's own session wait (`reattaching`, `resetting`). */
  get buffering(): boolean {
    const { kind } = this.#phase;
    return kind === "reattaching" || kind === "resetting";
  }

  /** Commands waiting in the buffer. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** Timers the attachment holds (buffer deadlines and the loop's wait). */
  get timerCount(): number {
    return this.#timers.size;
  }

  /** The tab's record, while it has one. */
  record(): TabRecord | undefined {
    return this.#sessionId === undefined
      ? undefined
      : this.#host.sessions.bySession(this.#sessionId);
  }

  // ---------------------------------------------------------------- transitions

  /**
   * The one place the phase changes. Leaving a phase releases what it owned: a waiting
   * re-attach loop wakes up, sees that its phase is gone and ends. The record's `state` follows.
   */
  #enter(next: AttachmentPhase): void {
    this.#phase = next;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    if (next.kind === "attaching" || next.kind === "detached") return;
    const state: TabState = next.kind === "attached" ? "attached" : "reattaching";
    const record = this.record();
    if (record && record.state !== state) {
      this.#host.sessions.update(record.tabId, { state });
      this.#host.changed();
    }
  }

  async #attach(): Promise<TabRecord> {
    const host = this.#host;
    const phase = this.#phase;
    const tabId = this.#tabId;
    try {
      const tab = await host.deadline(host.tabs.get(tabId), "tabs.get");
      if (isRestrictedUrl(tab.url)) {
        throw new Error(
          `Cannot attach to tab ${tabId} as Chrome does not allow debugging this page: URL is "${tab.url}"`,
        );
      }
      await host.deadline(host.debugger.attach({ tabId }, "1.3"), "debugger.attach");
      let targetInfo: JsonObject;
      try {
        targetInfo = await readTargetInfo(host, tabId, undefined);
      } catch (error) {
        await detachDebugger(host, tabId);
        throw error;
      }
      if (!this.#is(phase)) {
        await detachDebugger(host, tabId);
        const current = this.#phase;
        throw new Error(
          current.kind === "detached" && current.reason === "tab_closed"
            ? `Cannot attach to tab ${tabId} as it was closed`
            : `Cannot attach to tab ${tabId} as the worker is shutting down`,
        );
      }
      if (this.#admit !== undefined) {
        const admitted = this.#admit(targetInfo);
        if (admitted === undefined) {
          await detachDebugger(host, tabId);
          throw new Error(`Cannot share tab ${tabId} as it was not opened by a shared tab`);
        }
        targetInfo = admitted;
      }
      this.#enablePage(tabId);
      const record: TabRecord = {
        tabId,
        sessionId: host.sessions.nextSessionId(),
        targetId: String(targetInfo.targetId),
        targetInfo,
        state: "attached",
        children: [],
        replay: [],
        replayOverflow: false,
        scriptIds: {},
      };
      host.sessions.add(record);
      this.#sessionId = record.sessionId;
      this.#enter({ kind: "attached" });
      host.registered(this);
      host.announce(record);
      host.changed();
      return record;
    } catch (error) {
      if (this.#is(phase)) {
        this.#enter({ kind: "detached", reason: "attach_failed" });
        host.forget(this);
      }
      throw error;
    }
  }

  /**
   * Detaches the tab for good: buffered commands fail, children are announced detached
   * (`parent_detached`), then the tab's own detach with `reason`. `chrome.debugger.detach` is
   * the caller's business. Does nothing once detached.
   *
   * @param reason The detach reason sent to the relay.
   */
  detach(reason: string): void {
    const { kind } = this.#phase;
    if (kind === "detached" || kind === "attaching") return;
    this.#enter({ kind: "detached", reason });
    const tabId = this.#tabId;
    this.#failBuffer((method) =>
      `Cannot run "${method}" as tab ${tabId} was detached: reason is "${reason}"`
    );
    const record = this.record();
    if (record) {
      this.#dropChildren(record);
      this.#host.sessions.remove(record.tabId);
      this.#host.sendDetach(record.sessionId, record.targetId, reason);
    }
    this.#host.forget(this);
    this.#host.changed();
  }

  /**
   * The tab closed during its first attach: the attach detaches the debugger again and rejects,
   * and nothing is announced. Does nothing after the first attach (`detach` covers that).
   */
  abandon(): void {
    if (this.#phase.kind !== "attaching") return;
    this.#enter({ kind: "detached", reason: "tab_closed" });
    this.#host.forget(this);
  }

  /**
   * The worker shuts down: the loop ends, buffered commands fail and every timer is released.
   * The record stays in storage: the attachment belongs to the extension, not to this worker.
   */
  close(): void {
    if (this.#phase.kind === "detached") return;
    this.#enter({ kind: "detached", reason: "worker_closed" });
    this.#failBuffer((method) => `Cannot run "${method}" as the worker is shutting down`);
    for (const handle of this.#timers) this.#host.clock.clearTimeout(handle);
    this.#timers.clear();
  }

  /**
   * Handles `chrome.debugger.onDetach` for the tab's own debuggee (not `canceled_by_user`,
   * which the bridge handles for every tab). `target_closed` with the tab alive starts the
   * re-attach loop; a closed tab, a restricted URL or any other reason detaches it.
   *
   * @param reason Chrome's reason.
   * @returns Resolves when handled.
   */
  async debuggerDetached(reason: string): Promise<void> {
    const current = this.#phase;
    if (
      current.kind === "attaching" || current.kind === "detached" ||
      (current.kind === "resetting" && current.step === "cycling")
    ) return;
    if (reason !== "target_closed") {
      this.detach(reason);
      return;
    }
    const record = this.record();
    if (record) this.#dropChildren(record);
    // A loop already runs: its attach attempts cover this detach too.
    if (current.kind === "reattaching" && current.loop) return;
    // Buffer commands from now on: the debugger is gone until we know more.
    const phase: AttachmentPhase = { kind: "reattaching", loop: false };
    this.#enter(phase);
    this.#host.changed();
    const tab = await probeTab(this.#host, this.#tabId);
    if (!this.#is(phase)) return;
    if (tab === undefined || (tab !== "unknown" && isRestrictedUrl(tab.url))) {
      this.detach(reason);
      return;
    }
    this.#startReattach({ immediate: false, detachFirst: false });
  }

  /**
   * `chrome.tabs.onReplaced`: the record moves to the new tab id with its session id; any
   * running loop ends and a new one attaches to the new tab at once.
   *
   * @param addedTabId The new tab id.
   */
  replaced(addedTabId: number): void {
    const { kind } = this.#phase;
    if (kind === "detached" || kind === "attaching") return;
    const record = this.record();
    if (record) this.#dropChildren(record);
    const moved = this.#host.sessions.migrate(this.#tabId, addedTabId);
    if (!moved) return;
    this.#tabId = addedTabId;
    this.#debuggee = { tabId: addedTabId };
    this.#enter({ kind: "reattaching", loop: false });
    this.#startReattach({ immediate: true, detachFirst: false });
  }

  /**
   * `BrowserRelay.resetSession`: forgets the replay log, detaches and re-attaches the debugger
   * under the same session id, clearing whatever departed clients enabled. Announces nothing
   * unless the targetId changed. While a re-attach runs, only the log is forgotten: that
   * re-attach then replays nothing.
   *
   * @returns Resolves when the tab is attached again (or a re-attach loop took over).
   */
  async reset(): Promise<void> {
    const host = this.#host;
    const record = this.record();
    if (!record) return;
    const cleared = { replay: [], replayOverflow: false, scriptIds: {} };
    host.sessions.update(record.tabId, cleared);
    if (this.#phase.kind !== "attached") return;
    const cycling: AttachmentPhase = { kind: "resetting", step: "cycling" };
    this.#enter(cycling);
    this.#dropChildren(record);
    const tabId = this.#tabId;
    try {
      await detachDebugger(host, tabId);
      await host.deadline(host.debugger.attach({ tabId }, "1.3"), "debugger.attach");
    } catch {
      if (this.#is(cycling)) this.#startReattach({ immediate: true, detachFirst: false });
      return;
    }
    if (!this.#is(cycling)) return;
    this.#enablePage(tabId);
    const reading: AttachmentPhase = { kind: "resetting", step: "reading" };
    this.#enter(reading);
    const targetInfo = await readTargetInfo(host, tabId, record.targetInfo);
    if (!this.#is(reading)) return;
    this.#resume(targetInfo, false);
  }

  /**
   * Re-announces an attached tab on a new connection with fresh target info. A timeout on a
   * busy tab never drops it (the cached info is announced); an error asks Chrome whether the
   * tab is closed (detach) or lost our debugger (re-attach).
   *
   * @param current False once the connection this is for is gone.
   * @returns Resolves when done.
   */
  async reannounce(current: () => boolean): Promise<void> {
    const phase = this.#phase;
    if (phase.kind !== "attached") return;
    let fresh: JsonObject | undefined;
    try {
      fresh = await getTargetInfo(this.#host, this.#tabId);
    } catch (error) {
      if (!(error instanceof TimeoutError)) {
        const verdict = await checkAttachment(this.#host, this.#tabId);
        if (!this.#is(phase)) return;
        if (verdict === "closed") {
          this.detach("tab_closed");
          return;
        }
        if (verdict === "lost") {
          this.#startReattach({ immediate: true, detachFirst: false });
          return;
        }
      }
    }
    if (!current() || !this.#is(phase)) return;
    let record = this.record();
    if (!record) return;
    if (fresh !== undefined) {
      const targetId = String(fresh.targetId);
      if (targetId !== record.targetId) {
        this.#host.sendDetach(record.sessionId, record.targetId, "navigation-reattach");
      }
      record = this.#host.sessions.update(record.tabId, { targetId, targetInfo: fresh }) ?? record;
    }
    this.#host.announce(record);
  }

  // ---------------------------------------------------------------- buffer

  /**
   * Holds a command for the tab's own session until the tab is attached again: at most
   * `bufferLimit` commands, each for at most `bufferTimeoutMs`.
   *
   * @param command The command; it gets its one response from here or after the flush.
   */
  buffer(command: Command): void {
    const { bufferLimit, bufferTimeoutMs } = this.#host.timings;
    const { method } = command.cdp;
    if (this.#buffer.length >= bufferLimit) {
      this.#host.reply(command, {
        ok: false,
        error:
          `Cannot run "${method}" as tab ${this.#tabId} is re-attaching its debugger: ${this.#buffer.length} commands already wait`,
      });
      return;
    }
    const timer = this.#setTimer(() => {
      const index = this.#buffer.indexOf(entry);
      if (index >= 0) this.#buffer.splice(index, 1);
      this.#host.reply(command, {
        ok: false,
        error:
          `Cannot run "${method}" as tab ${this.#tabId} is re-attaching its debugger: waited ${bufferTimeoutMs} ms`,
      });
    }, bufferTimeoutMs);
    const entry: Buffered = { command, timer };
    this.#buffer.push(entry);
  }

  /** Issues buffered commands in arrival order once the tab is attached again. */
  #flushBuffer(): void {
    const list = this.#buffer;
    this.#buffer = [];
    for (const entry of list) {
      this.#clearTimer(entry.timer);
      this.#host.dispatch(entry.command);
    }
  }

  #failBuffer(error: (method: string) => string): void {
    const list = this.#buffer;
    this.#buffer = [];
    for (const entry of list) {
      this.#clearTimer(entry.timer);
      this.#host.reply(entry.command, { ok: false, error: error(entry.command.cdp.method) });
    }
  }

  // ---------------------------------------------------------------- re-attach loop

  #startReattach(options: ReattachOptions): void {
    const current = this.#phase;
    if (current.kind === "detached" || (current.kind === "reattaching" && current.loop)) return;
    const phase: AttachmentPhase = { kind: "reattaching", loop: true };
    this.#enter(phase);
    void this.#runReattach(phase, options).catch(() => {});
  }

  /**
   * Tries `attach` after each delay. On success: same targetId and a successful replay resume
   * the session silently; otherwise the old target is detached (`navigation-reattach`) and the
   * new one announced under the same session id. When every attempt fails: `reattach_failed`.
   */
  async #runReattach(phase: AttachmentPhase, options: ReattachOptions): Promise<void> {
    const host = this.#host;
    const { reattachDelaysMs } = host.timings;
    const delays = options.immediate ? [0, ...reattachDelaysMs] : reattachDelaysMs;
    if (options.detachFirst) await detachDebugger(host, this.#tabId);
    let attachedTab: number | undefined;
    for (const delay of delays) {
      if (delay > 0) await this.#sleep(delay);
      if (!this.#is(phase)) return;
      const tabId = this.#tabId;
      const tab = await probeTab(host, tabId);
      if (!this.#is(phase)) return;
      if (tab === undefined) {
        this.detach("tab_closed");
        return;
      }
      if (tab !== "unknown" && isRestrictedUrl(tab.url)) {
        this.detach("target_closed");
        return;
      }
      try {
        await host.deadline(host.debugger.attach({ tabId }, "1.3"), "debugger.attach");
        attachedTab = tabId;
        break;
      } catch {
        // Next attempt.
      }
    }
    if (!this.#is(phase)) {
      if (attachedTab !== undefined) await detachDebugger(host, attachedTab);
      return;
    }
    const record = this.record();
    if (!record) return;
    if (attachedTab === undefined) {
      this.detach("reattach_failed");
      return;
    }
    // A new debugger session: the extension's own Page.enable goes first, whether or not the
    // clients' state is replayed.
    this.#enablePage(attachedTab);
    let targetInfo: JsonObject;
    try {
      targetInfo = await readTargetInfo(host, attachedTab, record.targetInfo);
    } catch {
      targetInfo = record.targetInfo;
    }
    if (!this.#is(phase)) return;
    // Read again: a reset during the wait may have emptied the replay log.
    const current = this.record() ?? record;
    const sameTarget = String(targetInfo.targetId) === current.targetId;
    const replayed = sameTarget && !current.replayOverflow && await this.#replay(current);
    if (!this.#is(phase)) return;
    this.#resume(targetInfo, !replayed);
  }

  /**
   * Marks the tab attached again, then flushes its buffer. With `fresh`, or when the targetId
   * changed, the old target is detached and the session announced anew; otherwise the session
   * resumes silently (announced only if this connection does not hold it yet).
   */
  #resume(targetInfo: JsonObject, fresh: boolean): void {
    const host = this.#host;
    const record = this.record();
    if (!record) return;
    const targetId = String(targetInfo.targetId);
    let next: TabRecord | undefined;
    if (fresh || targetId !== record.targetId) {
      host.sendDetach(record.sessionId, record.targetId, "navigation-reattach");
      next = host.sessions.update(record.tabId, {
        targetId,
        targetInfo,
        children: [],
        replay: [],
        replayOverflow: false,
        scriptIds: {},
      });
    } else {
      next = host.sessions.update(record.tabId, { targetInfo });
    }
    this.#enter({ kind: "attached" });
    // Announce before the flush: a client must see the target before answers on its session.
    host.announce(this.record() ?? next ?? record);
    this.#flushBuffer();
    host.changed();
  }

  /**
   * The extension's own `Page.enable` on a fresh debugger session, when the host keeps `Page`
   * enabled. Issued, not awaited: Chrome runs one session's commands in order, so it takes
   * effect before anything sent after it, and a tab busy rendering must not hold up the attach.
   * A failure only means fewer download events; it is ignored.
   */
  #enablePage(tabId: number): void {
    const host = this.#host;
    if (host.keepPageEnabled !== true) return;
    void host.deadline(host.debugger.sendCommand({ tabId }, "Page.enable"), "Page.enable")
      .catch(() => {});
  }

  /** Replays the recorded state-setting commands in order; false when any of them failed. */
  async #replay(record: TabRecord): Promise<boolean> {
    const host = this.#host;
    const debuggee = { tabId: record.tabId };
    try {
      // Issued in order without awaiting each: CDP processes one session's commands in order.
      const results = await Promise.all(
        record.replay.map((entry) =>
          host.deadline(
            host.debugger.sendCommand(debuggee, entry.method, entry.params),
            entry.method,
          )
            .then((result) => ({ entry, result }))
        ),
      );
      const scriptIds: Record<string, string> = {};
      for (const { entry, result } of results) {
        const identifier = result.identifier;
        if (entry.clientIdentifier !== undefined && typeof identifier === "string") {
          scriptIds[entry.clientIdentifier] = identifier;
        }
      }
      host.sessions.update(record.tabId, { scriptIds });
      return true;
    } catch {
      return false;
    }
  }

  /** Announces the children of a tab as detached (outer session = their parent) and forgets them. */
  #dropChildren(record: TabRecord): void {
    for (const child of record.children) {
      this.#host.sendEvent({
        method: "Target.detachedFromTarget",
        sessionId: child.parentSessionId,
        params: { sessionId: child.sessionId, targetId: child.targetId, reason: "parent_detached" },
      });
    }
    if (record.children.length > 0) this.#host.sessions.update(record.tabId, { children: [] });
  }

  // ---------------------------------------------------------------- timers

  #setTimer(callback: () => void, ms: number): TimerHandle {
    const handle = this.#host.clock.setTimeout(() => {
      this.#timers.delete(handle);
      callback();
    }, ms);
    this.#timers.add(handle);
    return handle;
  }

  #clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle);
    this.#host.clock.clearTimeout(handle);
  }

  /** Waits `ms`; any phase change ends the wait at once (see `#enter`). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.#setTimer(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        this.#clearTimer(handle);
        resolve();
      };
    });
  }
}
