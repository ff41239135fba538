/**
 * The tab side of the worker: routes the relay's commands to the attached tabs and their
 * debugger events back to the relay (protocol §4–6). Each tab's lifecycle (attach, navigation
 * re-attach, reset, detach) lives in `worker/tab_attachment.ts`; the methods the extension
 * answers itself live in `worker/emulated_methods.ts`.
 *
 * @module
 */

import type { CdpCall, Outcome } from "../codec/extension_frame.ts";
import type { JsonObject } from "../codec/json.ts";
import { noSessionError } from "../codec/messages.ts";
import { ErrorText } from "./error_text.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import type { ContentSettingsBridge } from "./content_settings_bridge.ts";
import type { DownloadBridge } from "./download_bridge.ts";
import { EMULATED_METHODS, type EmulationHost } from "./emulated_methods.ts";
import type {
  Clock,
  Debuggee,
  DebuggerPort,
  DebuggerTarget,
  TabInfo,
  TabsPort,
  TimerHandle,
  WindowsPort,
} from "./ports.ts";
import type { RelayLink } from "./relay_link.ts";
import {
  type AttachmentHost,
  type Command,
  detachDebugger,
  TabAttachment,
} from "./tab_attachment.ts";
import type { TabRecord, TabSessions, TabState } from "./tab_sessions.ts";
import { DeadlineSweep } from "./deadline_sweep.ts";
import { TimeoutError, withDeadline } from "./with_deadline.ts";

/** Options of {@linkcode TabBridge}. */
export interface TabBridgeOptions {
  readonly debugger: DebuggerPort;
  readonly tabs: TabsPort;
  readonly windows: WindowsPort;
  readonly clock: Clock;
  /** The persisted tab table. */
  readonly sessions: TabSessions;
  /** The relay connection. */
  readonly link: RelayLink;
  /** Called whenever the set or state of attached tabs changes (badges, status page). */
  readonly onChange?: () => void;
  /**
   * Whether popups of shared tabs are shared (the `sharePopups` setting), asked when a tab
   * opens whose `openerTabId` is a shared tab.
   *
   * @default {() => Promise.resolve(true)}
   */
  readonly sharePopups?: () => Promise<boolean>;
  /**
   * Called once a popup of a shared tab is attached and announced: the hook for joining the
   * opener's tab group.
   *
   * @default {nothing}
   */
  readonly onShared?: (tabId: number, openerTabId: number) => void;
  /**
   * Deadline of each `chrome.debugger` call the extension makes for itself (attach,
   * `Target.getTargetInfo`, `Runtime.disable`, replay) and of `chrome.tabs.get`.
   *
   * @default {10000}
   */
  readonly debuggerTimeoutMs?: number;
  /**
   * Deadline of each forwarded command's `sendCommand`. A frozen tab never answers; this frees
   * the command and sends its one error response. Matches the relay's own 30 s deadline. Must
   * be positive and finite.
   *
   * @default {30000}
   */
  readonly commandTimeoutMs?: number;
  /**
   * Waits before each navigation re-attach attempt.
   *
   * @default {[200, 500, 1000, 2000, 4000]}
   */
  readonly reattachDelaysMs?: readonly number[];
  /**
   * Most commands buffered per tab while it re-attaches.
   *
   * @default {50}
   */
  readonly bufferLimit?: number;
  /**
   * How long a buffered command may wait for the re-attach.
   *
   * @default {5000}
   */
  readonly bufferTimeoutMs?: number;
  /**
   * Wait between creating a tab for `Target.createTarget` and attaching to it.
   *
   * @default {100}
   */
  readonly createTargetSettleMs?: number;
  /**
   * Gap between `Runtime.disable` and `Runtime.enable` in the `Runtime.enable` quirk.
   *
   * @default {50}
   */
  readonly runtimeEnableGapMs?: number;
  /**
   * The download emulation's worker half, for the `BrowserRelay.*Download*` methods. With it,
   * the extension also keeps `Page` enabled on every shared tab (the emulation's input is the
   * tab's `Page.download*` events, which Chrome sends only while `Page` is enabled), and a
   * client's `Page.disable` on a tab's own session does not switch `Page` off for everyone;
   * the relay stops that client's `Page` events.
   */
  readonly downloads?: DownloadBridge;
  /** The permission emulation's worker half, for `BrowserRelay.setContentSettings`. */
  readonly contentSettings?: ContentSettingsBridge;
}

/** One attached tab as shown to the options page. */
export interface TabView {
  readonly tabId: number;
  readonly sessionId: string;
  readonly targetId: string;
  readonly title: string;
  readonly url: string;
  readonly state: TabState;
}

/** What {@linkcode TabBridge.prototype.pendingWork} reports. */
export interface PendingWork {
  /** Commands of the current socket awaiting their one response. */
  readonly inflight: number;
  /** Commands buffered while their tab re-attaches. */
  readonly buffered: number;
  /** Running navigation re-attach loops. */
  readonly reattaching: number;
}

/** Outcome of a toolbar toggle. */
export type ToggleResult =
  | { readonly attached: true; readonly sessionId: string }
  | { readonly attached: false };

const REATTACH_DELAYS_MS: readonly number[] = [200, 500, 1000, 2000, 4000];
const SCRIPT_REMOVAL = "Page.removeScriptToEvaluateOnNewDocument";
const PAGE_ENABLE = "Page.enable";
const PAGE_DISABLE = "Page.disable";

function errorText(error: unknown): string {
  if (error instanceof Error && error.message !== "") return error.message;
  if (typeof error === "string" && error !== "") return error;
  return ErrorText.UnknownError;
}

function failure(error: unknown): Outcome {
  return { ok: false, error: errorText(error) };
}

/**
 * Routes CDP traffic between the relay connection and the attached tabs: commands by session
 * id (a tab's relay session, a child session or a targetId) to one {@linkcode TabAttachment}
 * each, with one response per id; debugger events back with the right outer session id; and
 * the connection's ready/closed to re-announces. Implements the tab-side half of
 * `ConnectionHooks`.
 *
 * Ordering: a command is issued to `chrome.debugger` synchronously in `onCommand` unless an
 * earlier command of the same debuggee is still being prepared (the `Runtime.enable` quirk);
 * then it waits behind it, so commands of one session are always issued in arrival order and
 * never wait for earlier ones to complete (§4.3).
 *
 * @example
 * ```ts
 * const bridge = new TabBridge({ debugger, tabs, windows, clock, sessions, link });
 * await bridge.restore();
 * await bridge.toggleTab(tabId);
 * ```
 */
export class TabBridge {
  readonly #debugger: DebuggerPort;
  readonly #tabs: TabsPort;
  readonly #clock: Clock;
  readonly #sessions: TabSessions;
  readonly #link: RelayLink;
  readonly #onChange: () => void;
  readonly #sharePopups: () => Promise<boolean>;
  readonly #onShared: (tabId: number, openerTabId: number) => void;
  readonly #debuggerTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  readonly #runtimeEnableGapMs: number;
  /** Whether the extension keeps `Page` enabled on every shared tab (see `downloads`). */
  readonly #keepPageEnabled: boolean;
  readonly #abort = new AbortController();
  readonly #host: AttachmentHost & EmulationHost;
  /** Relay session id → attachment, for every tab past its first attach. */
  readonly #attachments = new Map<string, TabAttachment>();
  /** Tab id → attachment whose first attach is running. */
  readonly #attaching = new Map<number, TabAttachment>();
  /** Relay session id → targetId announced on the current connection. */
  readonly #announced = new Map<string, string>();
  /** Top-level detach events the relay has not received yet (sent on the next ready). */
  #pendingDetaches: CdpCall[] = [];
  /**
   * Command ids of the current socket awaiting their one response. Cleared on close: a new
   * relay process numbers its commands from 1 again, so an id of a dead socket must neither
   * block nor answer a new command with the same id. The stored command is the identity token.
   */
  readonly #inflight = new Map<number, Command>();
  /**
   * Per-debuggee chain (keyed by the relay or child session id) that keeps commands in arrival
   * order behind a slow one. Empty on the hot path.
   */
  readonly #gates = new Map<string, Promise<void>>();
  /**
   * Deadlines of forwarded commands still waiting for Chrome, all `commandTimeoutMs` long: one
   * timer for all of them instead of a timer and a promise per command. Released on close.
   */
  readonly #sending: DeadlineSweep;
  /** The bridge's own waits (`Runtime.enable` gap, `createTarget` settle). */
  readonly #timers = new Set<TimerHandle>();
  /** Increments on every ready and close: stale re-announces check it. */
  #epoch = 0;
  #closed = false;

  /**
   * Creates the bridge. It registers no listeners: the owner routes events to the `handle*`
   * methods once its init gate has resolved.
   *
   * @param options Ports, the tab table, the relay link and timings.
   * @throws {RangeError} If `commandTimeoutMs` is not positive and finite.
   */
  constructor(options: TabBridgeOptions) {
    this.#debugger = options.debugger;
    this.#tabs = options.tabs;
    this.#clock = options.clock;
    this.#sessions = options.sessions;
    this.#link = options.link;
    this.#onChange = options.onChange ?? (() => {});
    this.#sharePopups = options.sharePopups ?? (() => Promise.resolve(true));
    this.#onShared = options.onShared ?? (() => {});
    this.#debuggerTimeoutMs = options.debuggerTimeoutMs ?? 10_000;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
    this.#sending = new DeadlineSweep(options.clock, this.#commandTimeoutMs);
    this.#runtimeEnableGapMs = options.runtimeEnableGapMs ?? 50;
    this.#keepPageEnabled = options.downloads !== undefined;
    this.#host = {
      debugger: options.debugger,
      tabs: options.tabs,
      windows: options.windows,
      clock: options.clock,
      sessions: options.sessions,
      keepPageEnabled: this.#keepPageEnabled,
      timings: {
        reattachDelaysMs: options.reattachDelaysMs ?? REATTACH_DELAYS_MS,
        bufferLimit: options.bufferLimit ?? 50,
        bufferTimeoutMs: options.bufferTimeoutMs ?? 5000,
      },
      createTargetSettleMs: options.createTargetSettleMs ?? 100,
      deadline: (promise, what) => this.#deadline(promise, what),
      announce: (record) => this.#announce(record),
      sendDetach: (sessionId, targetId, reason) => this.#sendDetach(sessionId, targetId, reason),
      sendEvent: (cdp) => void this.#link.sendEvent(cdp),
      dispatch: (command) => this.#dispatch(command),
      reply: (command, outcome) => this.#reply(command, outcome),
      registered: (attachment) => this.#registered(attachment),
      forget: (attachment) => this.#forget(attachment),
      changed: () => this.#onChange(),
      byTarget: (targetId) => this.#sessions.byTarget(targetId),
      bySession: (sessionId) => this.#sessions.bySession(sessionId),
      targets: () => this.#targets(),
      attachTab: (tabId) => this.attachTab(tabId),
      resetSession: (sessionId) => this.#attachments.get(sessionId)?.reset() ?? Promise.resolve(),
      sleep: (ms) => this.#sleep(ms),
      ...(options.downloads === undefined ? {} : { downloads: options.downloads }),
      ...(options.contentSettings === undefined
        ? {}
        : { contentSettings: options.contentSettings }),
    };
  }

  // ---------------------------------------------------------------- restore

  /**
   * Reads the persisted table and checks it against Chrome (`tabs.get`, `debugger.getTargets`).
   * Tabs still attached are kept; tabs whose debugger was lost start re-attaching under their
   * old session id; closed tabs are dropped and their detach is sent on the next ready.
   *
   * Only storage and two fast Chrome queries are awaited here, never a command to a tab, so a
   * frozen tab cannot hold up the init gate.
   *
   * @returns Resolves when the table is usable.
   */
  async restore(): Promise<void> {
    await this.#sessions.load();
    const { kept, lost, closed } = await this.#sessions.verify(
      this.#debugger,
      this.#tabs,
      (promise, what) => this.#deadline(promise, what),
    );
    for (const record of closed) {
      this.#queueDetach(record.sessionId, record.targetId, "tab_closed");
    }
    const restored = [
      ...lost.map((record) => ({ record, verdict: "lost" as const })),
      ...kept.map((record) => ({ record, verdict: "kept" as const })),
    ];
    for (const { record, verdict } of restored) {
      // Registered before it starts: its re-attach loop may detach it.
      const attachment = TabAttachment.restore(this.#host, record);
      this.#attachments.set(record.sessionId, attachment);
      attachment.recover(verdict);
    }
    if (closed.length > 0 || lost.length > 0) this.#onChange();
  }

  // ---------------------------------------------------------------- toolbar

  /**
   * Attaches the tab, or detaches it (reason `toggle`) when it is attached.
   *
   * @param tabId The tab the user clicked on.
   * @returns Whether the tab is now attached.
   * @throws {Error} When Chrome refuses the attach (restricted page, missing tab, timeout).
   */
  async toggleTab(tabId: number): Promise<ToggleResult> {
    if (this.#sessions.byTab(tabId)) {
      await this.detachTab(tabId, "toggle");
      return { attached: false };
    }
    const record = await this.attachTab(tabId);
    return { attached: true, sessionId: record.sessionId };
  }

  /**
   * Attaches `chrome.debugger` 1.3 to a tab, gives it the next `cb-tab-N` and announces it.
   * When the relay is not connected, asks the connection to connect; the tab stays attached.
   *
   * @param tabId The tab.
   * @returns The tab's record (the existing one if already attached).
   * @throws {Error} When Chrome refuses the attach or no targetId can be read.
   */
  attachTab(tabId: number): Promise<TabRecord> {
    const existing = this.#sessions.byTab(tabId);
    if (existing) return Promise.resolve(existing);
    const running = this.#attaching.get(tabId);
    // A popup check may refuse the tab (no shared opener); an explicit attach then starts anew.
    if (running) {
      return running.conditional
        ? running.attached.catch(() => this.attachTab(tabId))
        : running.attached;
    }
    if (this.#closed) {
      return Promise.reject(
        new Error(`Cannot attach to tab ${tabId} as the worker is shutting down`),
      );
    }
    const attachment = TabAttachment.attach(this.#host, tabId);
    this.#attaching.set(tabId, attachment);
    return attachment.attached;
  }

  #registered(attachment: TabAttachment): void {
    if (this.#attaching.get(attachment.tabId) === attachment) {
      this.#attaching.delete(attachment.tabId);
    }
    const { sessionId } = attachment;
    if (sessionId !== undefined) this.#attachments.set(sessionId, attachment);
    if (!this.#link.isReady()) this.#link.requestConnect("tab attached");
  }

  #forget(attachment: TabAttachment): void {
    if (this.#attaching.get(attachment.tabId) === attachment) {
      this.#attaching.delete(attachment.tabId);
    }
    const { sessionId } = attachment;
    if (sessionId !== undefined && this.#attachments.get(sessionId) === attachment) {
      this.#attachments.delete(sessionId);
    }
  }

  #byTab(tabId: number): TabAttachment | undefined {
    const record = this.#sessions.byTab(tabId);
    return record === undefined ? undefined : this.#attachments.get(record.sessionId);
  }

  /**
   * Detaches a tab: child detaches (`parent_detached`), then the tab's detach with `reason`,
   * then `chrome.debugger.detach`.
   *
   * @param tabId The tab.
   * @param reason The detach reason sent to the relay.
   * @returns False when the tab was not attached.
   */
  async detachTab(tabId: number, reason = "toggle"): Promise<boolean> {
    const attachment = this.#byTab(tabId);
    if (!attachment) return false;
    attachment.detach(reason);
    await detachDebugger(this.#host, tabId);
    return true;
  }

  /**
   * Detaches every tab.
   *
   * @param reason The detach reason sent to the relay.
   * @returns Resolves when every debugger is detached.
   */
  async detachAll(reason = "toggle"): Promise<void> {
    const tabIds: number[] = [];
    for (const record of this.#sessions.list()) {
      const attachment = this.#attachments.get(record.sessionId);
      if (!attachment) continue;
      tabIds.push(attachment.tabId);
      attachment.detach(reason);
    }
    await Promise.all(tabIds.map((tabId) => detachDebugger(this.#host, tabId)));
  }

  // ---------------------------------------------------------------- ConnectionHooks

  /** Number of attached tabs, re-attaching ones included. */
  attachedTabCount(): number {
    return this.#sessions.size;
  }

  /**
   * The connection is ready: send queued detaches, then re-announce each attached tab with its
   * same session id. Each tab is handled on its own, so one failing or frozen tab never holds
   * up the others.
   */
  onReady(): void {
    if (this.#closed) return;
    // #announced is reset by onClosed(), not here: a repeated ready on the same connection
    // must not announce a held target twice.
    const epoch = ++this.#epoch;
    const pending = this.#pendingDetaches;
    this.#pendingDetaches = [];
    for (const event of pending) {
      if (!this.#link.sendEvent(event)) this.#pendingDetaches.push(event);
    }
    const current = () => epoch === this.#epoch && !this.#closed;
    for (const record of this.#sessions.list()) {
      void this.#attachments.get(record.sessionId)?.reannounce(current);
    }
  }

  /** The socket closed: nothing is detached; the next ready re-announces every tab. */
  onClosed(): void {
    this.#epoch++;
    this.#announced.clear();
    // Replies to the dead socket's commands cannot be sent any more (§6.3: the relay already
    // failed them); forget their ids so the next socket's ids start fresh.
    this.#inflight.clear();
  }

  /**
   * Handles one `forwardCDPCommand`. Exactly one response is sent for `id`; a repeated id that
   * is still in flight on the same socket is ignored (the id still gets exactly one response,
   * the first command's). An id reused after its response went out is a new command.
   *
   * @param id The relay's command id.
   * @param cdp The CDP call.
   */
  onCommand(id: number, cdp: CdpCall): void {
    if (this.#closed || this.#inflight.has(id)) return;
    const command: Command = { id, cdp };
    this.#inflight.set(id, command);
    this.#dispatch(command);
  }

  #reply(command: Command, outcome: Outcome): void {
    if (this.#inflight.get(command.id) !== command) return;
    this.#inflight.delete(command.id);
    this.#link.sendResponse(command.id, outcome);
  }

  /**
   * Routes a command: an emulated method; a tab's own relay session (the hot path: one map
   * look-up, no allocation); a child session; a targetId; else the first attached tab.
   */
  #dispatch(command: Command): void {
    const { cdp } = command;
    const emulated = EMULATED_METHODS.get(cdp.method);
    if (emulated !== undefined) {
      emulated(this.#host, cdp).then(
        (result) => this.#reply(command, { ok: true, result }),
        (error) => this.#reply(command, failure(error)),
      );
      return;
    }
    const { sessionId } = cdp;
    if (sessionId !== undefined) {
      const attachment = this.#attachments.get(sessionId);
      if (attachment !== undefined) {
        if (attachment.buffering) attachment.buffer(command);
        else this.#issue(attachment, attachment.debuggee, sessionId, true, command);
        return;
      }
      const found = this.#sessions.byChild(sessionId);
      const parent = found && this.#attachments.get(found.record.sessionId);
      if (found && parent) {
        const debuggee = { tabId: parent.tabId, sessionId: found.child.sessionId };
        this.#issue(parent, debuggee, found.child.sessionId, false, command);
        return;
      }
      this.#reply(command, { ok: false, error: noSessionError(sessionId) });
      return;
    }
    const targetId = cdp.params?.targetId;
    let record: TabRecord | undefined;
    if (typeof targetId === "string") {
      record = this.#sessions.byTarget(targetId) ?? this.#sessions.byChildTarget(targetId)?.record;
    }
    record ??= this.#sessions.list()[0];
    const attachment = record && this.#attachments.get(record.sessionId);
    if (!record || !attachment) {
      this.#reply(command, {
        ok: false,
        error: `Cannot run "${cdp.method}" as no tab is attached`,
      });
      return;
    }
    if (attachment.buffering) attachment.buffer(command);
    else this.#issue(attachment, attachment.debuggee, record.sessionId, false, command);
  }

  /**
   * Sends at once unless the debuggee has a command being prepared, or this is `Runtime.enable`
   * (which is prepared); then it chains behind the debuggee's gate.
   */
  #issue(
    attachment: TabAttachment,
    debuggee: Debuggee,
    key: string,
    topLevel: boolean,
    command: Command,
  ): void {
    const quirk = command.cdp.method === "Runtime.enable";
    const gate = this.#gates.size === 0 ? undefined : this.#gates.get(key);
    if (gate === undefined && !quirk) {
      this.#send(attachment, debuggee, topLevel, command);
      return;
    }
    const run = quirk
      ? () => this.#runtimeEnable(attachment, debuggee, topLevel, command)
      : () => this.#send(attachment, debuggee, topLevel, command);
    const next = (gate ?? Promise.resolve()).then(run);
    this.#gates.set(key, next);
    void next.finally(() => {
      if (this.#gates.get(key) === next) this.#gates.delete(key);
    });
  }

  /**
   * `Runtime.disable` (errors ignored), a short gap, then the client's `Runtime.enable` on the
   * same debuggee: Chrome then re-emits `executionContextCreated` for existing contexts.
   */
  async #runtimeEnable(
    attachment: TabAttachment,
    debuggee: Debuggee,
    topLevel: boolean,
    command: Command,
  ): Promise<void> {
    try {
      await this.#deadline(
        this.#debugger.sendCommand(debuggee, "Runtime.disable"),
        "Runtime.disable",
      );
    } catch {
      // Ignored: enable is what the client asked for.
    }
    // Never resolves after close(), so nothing is sent by a closed bridge.
    await this.#sleep(this.#runtimeEnableGapMs);
    this.#send(attachment, debuggee, topLevel, command);
  }

  /**
   * The forwarded command's one `sendCommand`, under `commandTimeoutMs` on the shared sweep: no
   * timer, `Error` or extra promise per command. A reply that comes after the deadline's error
   * is dropped, as is its replay note.
   */
  #send(attachment: TabAttachment, debuggee: Debuggee, topLevel: boolean, command: Command): void {
    const { cdp } = command;
    const { method } = cdp;
    const params = method === SCRIPT_REMOVAL
      ? this.#translateParams(attachment, cdp.params)
      : cdp.params;
    // While the extension keeps Page enabled, a client's Page.disable on a tab's own session
    // must not switch it off for everyone: Chrome gets a Page.enable instead, which changes
    // nothing on an enabled session but answers in order with the session's other commands.
    // The relay has already stopped this client's Page events; the replay log books the
    // client's disable.
    const keep = method === PAGE_DISABLE && this.#keepPageEnabled &&
      debuggee.sessionId === undefined;
    let sent: Promise<JsonObject>;
    try {
      sent = keep
        ? this.#debugger.sendCommand(debuggee, PAGE_ENABLE)
        : this.#debugger.sendCommand(debuggee, method, params);
    } catch (error) {
      this.#reply(command, failure(error));
      return;
    }
    const deadline = this.#sending.add(() => {
      const ms = this.#commandTimeoutMs;
      this.#reply(command, {
        ok: false,
        error: `Cannot complete "${method}" as the tab's debugger did not answer: waited ${ms} ms`,
      });
    });
    sent.then((result) => {
      if (!this.#sending.settle(deadline)) return;
      if (topLevel && attachment.phase.kind !== "detached") {
        this.#sessions.noteCommand(attachment.tabId, method, cdp.params, result);
      }
      this.#reply(command, { ok: true, result: isJsonObject(result) ? result : {} });
    }, (error) => {
      if (this.#sending.settle(deadline)) this.#reply(command, failure(error));
    });
  }

  /** Maps a script identifier the client holds to the one a replay created. */
  #translateParams(
    attachment: TabAttachment,
    params: JsonObject | undefined,
  ): JsonObject | undefined {
    const identifier = params?.identifier;
    if (params === undefined || typeof identifier !== "string") return params;
    const mapped = attachment.record()?.scriptIds[identifier];
    return mapped === undefined ? params : { ...params, identifier: mapped };
  }

  // ---------------------------------------------------------------- chrome events

  /**
   * Forwards a `chrome.debugger.onEvent` with the right outer session id, and learns child
   * sessions from `Target.attachedToTarget`/`detachedFromTarget`.
   *
   * @param source The debuggee that emitted the event.
   * @param method The CDP event.
   * @param params The event params.
   */
  handleDebuggerEvent(source: Debuggee, method: string, params?: JsonObject): void {
    if (this.#closed || source.tabId === undefined) return;
    const record = this.#sessions.byTab(source.tabId);
    if (!record) return;
    const outer = source.sessionId ?? record.sessionId;
    if (method === "Target.attachedToTarget" && params) {
      const childId = params.sessionId;
      const info = params.targetInfo;
      if (typeof childId === "string" && isJsonObject(info)) {
        this.#sessions.addChild(record.tabId, {
          sessionId: childId,
          targetId: typeof info.targetId === "string" ? info.targetId : "",
          type: typeof info.type === "string" ? info.type : "other",
          parentSessionId: outer,
        });
        if (params.waitingForDebugger === true && !this.#link.isReady()) {
          // Nobody can resume it: never leave a frame or worker of the user's page paused.
          void this.#deadline(
            this.#debugger.sendCommand(
              { tabId: record.tabId, sessionId: childId },
              "Runtime.runIfWaitingForDebugger",
            ),
            "Runtime.runIfWaitingForDebugger",
          ).catch(() => {});
        }
      }
    } else if (method === "Target.detachedFromTarget" && typeof params?.sessionId === "string") {
      this.#sessions.removeChild(params.sessionId);
    } else if (
      method === "Target.targetInfoChanged" && source.sessionId === undefined &&
      isJsonObject(params?.targetInfo) && params.targetInfo.targetId === record.targetId
    ) {
      this.#sessions.update(record.tabId, { targetInfo: { ...params.targetInfo, attached: true } });
    }
    this.#link.sendEvent(
      params === undefined ? { method, sessionId: outer } : { method, params, sessionId: outer },
    );
  }

  /**
   * Handles `chrome.debugger.onDetach`.
   * - `canceled_by_user`: the user said stop; every tab is detached, none re-attached.
   * - otherwise the tab's attachment decides (`TabAttachment.debuggerDetached`): `target_closed`
   *   with the tab alive (cross-process navigation) re-attaches, anything else detaches.
   *
   * @param source The debuggee.
   * @param reason Chrome's reason.
   * @returns Resolves when handled.
   */
  async handleDebuggerDetach(source: Debuggee, reason: string): Promise<void> {
    if (this.#closed || source.tabId === undefined || source.sessionId !== undefined) return;
    const attachment = this.#byTab(source.tabId);
    if (!attachment) return;
    const { phase } = attachment;
    // The reset's own detach: expected, not the user's or Chrome's doing.
    if (phase.kind === "resetting" && phase.step === "cycling") return;
    if (reason === "canceled_by_user") {
      await this.detachAll(reason);
      return;
    }
    await attachment.debuggerDetached(reason);
  }

  /**
   * `chrome.tabs.onRemoved`: the tab's children and the tab are announced detached
   * (`tab_closed`) and forgotten.
   *
   * @param tabId The closed tab.
   */
  handleTabRemoved(tabId: number): void {
    if (this.#closed) return;
    // A tab closed during its first attach (a popup closed at once): nothing is announced.
    this.#attaching.get(tabId)?.abandon();
    this.#byTab(tabId)?.detach("tab_closed");
  }

  /**
   * `chrome.tabs.onCreated`: a tab whose `openerTabId` is a shared tab is attached at once while
   * the `sharePopups` setting is on. `openerTabId` names the tab that was active when the popup
   * opened, so it only selects candidates: the popup's own target info decides, and it must name
   * a shared tab as `openerId` (Chrome reports one for `window.open`, `target=_blank` and
   * `noopener` alike). Otherwise the debugger is detached again and nothing is announced. A
   * popup closed before its attach completes is never announced either.
   *
   * @param tab The new tab.
   * @returns Resolves when the popup is shared or known not to be.
   */
  async handleTabCreated(tab: TabInfo): Promise<void> {
    const tabId = tab.id;
    const openerTabId = tab.openerTabId;
    if (this.#closed || tabId === undefined || openerTabId === undefined) return;
    if (this.#sessions.byTab(openerTabId) === undefined) return;
    let share: boolean;
    try {
      share = await this.#sharePopups();
    } catch {
      // The setting cannot be read: share nothing the person may have turned off.
      share = false;
    }
    if (!share || this.#closed) return;
    if (this.#sessions.byTab(tabId) !== undefined || this.#attaching.has(tabId)) return;
    const attachment = TabAttachment.attach(this.#host, tabId, {
      admit: (targetInfo) => {
        const openerId = targetInfo.openerId;
        return typeof openerId === "string" && this.#sessions.byTarget(openerId) !== undefined
          ? targetInfo
          : undefined;
      },
    });
    this.#attaching.set(tabId, attachment);
    try {
      await attachment.attached;
    } catch {
      // Closed at once, refused by its target info, or a page Chrome does not let us debug.
      return;
    }
    this.#onShared(tabId, openerTabId);
  }

  /**
   * `chrome.tabs.onReplaced`: the record, session id included, moves to the new tab id; the
   * debugger is attached to the new tab and a changed targetId is announced (§5.1).
   *
   * @param addedTabId The new tab id.
   * @param removedTabId The replaced tab id.
   */
  handleTabReplaced(addedTabId: number, removedTabId: number): void {
    if (!this.#closed) this.#byTab(removedTabId)?.replaced(addedTabId);
  }

  /**
   * `chrome.tabs.onUpdated`: a new title or URL refreshes the cached target info and is sent as
   * `Target.targetInfoChanged`.
   *
   * @param tabId The tab.
   * @param change What changed.
   */
  handleTabUpdated(
    tabId: number,
    change: { readonly url?: string; readonly title?: string },
  ): void {
    const record = this.#sessions.byTab(tabId);
    if (!record || this.#closed || (change.url === undefined && change.title === undefined)) {
      return;
    }
    const targetInfo: JsonObject = {
      ...record.targetInfo,
      ...(change.url === undefined ? {} : { url: change.url }),
      ...(change.title === undefined ? {} : { title: change.title }),
    };
    this.#sessions.update(tabId, { targetInfo });
    if (this.#announced.get(record.sessionId) === record.targetId) {
      this.#link.sendEvent({ method: "Target.targetInfoChanged", params: { targetInfo } });
    }
    this.#onChange();
  }

  // ---------------------------------------------------------------- views

  /**
   * The attached tabs, in attach order.
   *
   * @returns One view per tab.
   */
  tabs(): TabView[] {
    return this.#sessions.list().map((record) => ({
      tabId: record.tabId,
      sessionId: record.sessionId,
      targetId: record.targetId,
      title: typeof record.targetInfo.title === "string" ? record.targetInfo.title : "",
      url: typeof record.targetInfo.url === "string" ? record.targetInfo.url : "",
      state: record.state,
    }));
  }

  /**
   * Work the bridge still holds, for tests and the e2e hook: commands awaiting their response,
   * commands buffered behind a re-attach, and running re-attach loops.
   *
   * @returns The three counts.
   */
  pendingWork(): PendingWork {
    let buffered = 0;
    let reattaching = 0;
    for (const attachment of this.#attachments.values()) {
      buffered += attachment.buffered;
      const { phase } = attachment;
      if (phase.kind === "reattaching" && phase.loop) reattaching++;
    }
    return { inflight: this.#inflight.size, buffered, reattaching };
  }

  /**
   * Releases every timer and re-attach loop; buffered commands get an error. Idempotent.
   * Attachments are kept: they belong to the extension, not to this instance.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const attachment of this.#attaching.values()) attachment.close();
    for (const attachment of this.#attachments.values()) attachment.close();
    for (const handle of this.#timers) this.#clock.clearTimeout(handle);
    this.#timers.clear();
    this.#sending.close();
    this.#abort.abort(new Error("Cannot complete the command as the worker is shutting down"));
  }

  /** Same as {@linkcode TabBridge.prototype.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ---------------------------------------------------------------- announce

  /**
   * Sends `Target.attachedToTarget` unless this connection already holds the same target for
   * the session; a different target held under the session is detached first. The same target
   * is therefore never announced twice without a detach in between.
   */
  #announce(record: TabRecord): void {
    if (!this.#link.isReady()) return;
    const held = this.#announced.get(record.sessionId);
    if (held === record.targetId) return;
    if (held !== undefined) this.#sendDetach(record.sessionId, held, "navigation-reattach");
    const event: CdpCall = {
      method: "Target.attachedToTarget",
      params: {
        sessionId: record.sessionId,
        targetInfo: { ...record.targetInfo, attached: true },
        waitingForDebugger: false,
      },
    };
    if (this.#link.sendEvent(event)) this.#announced.set(record.sessionId, record.targetId);
  }

  #sendDetach(sessionId: string, targetId: string, reason: string): void {
    this.#announced.delete(sessionId);
    const event: CdpCall = {
      method: "Target.detachedFromTarget",
      params: { sessionId, targetId, reason },
    };
    if (!this.#link.sendEvent(event)) this.#pendingDetaches.push(event);
  }

  #queueDetach(sessionId: string, targetId: string, reason: string): void {
    this.#pendingDetaches.push({
      method: "Target.detachedFromTarget",
      params: { sessionId, targetId, reason },
    });
  }

  // ---------------------------------------------------------------- chrome helpers

  #targets(): Promise<readonly DebuggerTarget[]> {
    return this.#deadline(this.#debugger.getTargets(), "debugger.getTargets").catch(() => []);
  }

  /** Every `chrome.*` call the extension makes for itself, under `debuggerTimeoutMs`. */
  #deadline<T>(promise: Promise<T>, what: string): Promise<T> {
    const ms = this.#debuggerTimeoutMs;
    return withDeadline(this.#clock, promise, {
      milliseconds: ms,
      error: new TimeoutError(`Cannot complete ${what} as Chrome did not answer: waited ${ms} ms`),
      signal: this.#abort.signal,
    });
  }

  /** Waits `ms` on the clock. Never resolves after `close()`. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed) return;
      const handle = this.#clock.setTimeout(() => {
        this.#timers.delete(handle);
        resolve();
      }, ms);
      this.#timers.add(handle);
    });
  }
}
