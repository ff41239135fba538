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
import { ServiceWorkerTargets } from "./service_worker_targets.ts";
import { RuntimeEventHold } from "./runtime_event_hold.ts";
import { TimeoutError, withDeadline } from "./with_deadline.ts";

/** How long after a shared page's `Page.windowOpen` a new tab counts as its popup candidate. */
const POPUP_WINDOW_OPEN_MS = 5_000;

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
   * `Target.getTargetInfo`, replay) and of `chrome.tabs.get`.
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

/** What {@linkcode TabBridge.prototype.restore} did with tabs the restored table does not know. */
export interface RestoreResult {
  /** Tabs attached according to `getTargets()` but missing from the table. */
  readonly orphans: readonly number[];
  /** The orphans this extension was attached to, now detached. */
  readonly released: readonly number[];
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
 * Ordering: every command is issued to `chrome.debugger` synchronously in `onCommand`, so the
 * commands of one session reach Chrome in arrival order and none waits for an earlier one to
 * complete (§4.3). Nothing is held back, not even by the `Runtime.enable` quirk: a client that
 * attaches to a loading page relies on its pipelined commands taking effect as close together
 * as they do on Chrome's own endpoint.
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
  /**
   * When a shared tab's page last asked for a new window (`Page.windowOpen`, sent while the
   * extension keeps `Page` enabled). Chrome's `openerTabId` names the tab that was active, not
   * always the opener, so a new tab opened just after that is a candidate too; its own
   * `openerId` decides (`admit` in {@linkcode TabBridge.prototype.handleTabCreated}).
   */
  #windowOpenAt = Number.NEGATIVE_INFINITY;
  readonly #debuggerTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  /** Whether the extension keeps `Page` enabled on every shared tab (see `downloads`). */
  readonly #keepPageEnabled: boolean;
  readonly #abort = new AbortController();
  readonly #host: AttachmentHost & EmulationHost;
  /** Service workers of the shared tabs' origins, announced as top-level targets. */
  readonly #serviceWorkers: ServiceWorkerTargets;
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
   * Deadlines of forwarded commands still waiting for Chrome, all `commandTimeoutMs` long: one
   * timer for all of them instead of a timer and a promise per command. Released on close.
   */
  readonly #sending: DeadlineSweep;
  /**
   * Keeps a session's `Runtime.*` events behind the replies to the commands sent before its
   * `Runtime.enable`, the order Chrome produced them in (`worker/runtime_event_hold.ts`).
   */
  readonly #runtimeHold: RuntimeEventHold;
  /** The bridge's own waits (`createTarget` settle). */
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
    this.#runtimeHold = new RuntimeEventHold(options.clock, {
      send: (event) => void this.#link.sendEvent(event),
    });
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
      changed: () => {
        this.#onChange();
        void this.#serviceWorkers.sync();
      },
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
    this.#serviceWorkers = new ServiceWorkerTargets({
      debugger: options.debugger,
      sharedUrls: () => this.#sessions.list().map((record) => String(record.targetInfo.url ?? "")),
      sendEvent: (cdp) => this.#link.isReady() && this.#link.sendEvent(cdp),
      deadline: (promise, what) => this.#deadline(promise, what),
    });
  }

  /** Whether service workers are being attached or announced; for tests and the status. */
  serviceWorkerTargets(): readonly JsonObject[] {
    return this.#serviceWorkers.targetInfos();
  }

  // ---------------------------------------------------------------- restore

  /**
   * Reads the persisted table and checks it against Chrome (`tabs.get`, `debugger.getTargets`).
   * Tabs still attached are kept; tabs whose debugger was lost start re-attaching under their
   * old session id; closed tabs are dropped and their detach is sent on the next ready;
   * attached tabs the table does not know (orphans) are detached if this extension holds them.
   *
   * Only storage and two fast Chrome queries are awaited here, never a command to a tab, so a
   * frozen tab cannot hold up the init gate.
   *
   * @returns The orphans found and those released, once the table is usable.
   */
  async restore(): Promise<RestoreResult> {
    await this.#sessions.load();
    const { kept, lost, closed, orphans } = await this.#sessions.verify(
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
    // An orphan is detached, not adopted. The record is the only trace of the user's click
    // that shared the tab; without it the worker cannot tell a tab the user shared from one
    // whose attach never completed (a stop between `attach` and the record's write), nor
    // restore the session id clients hold. Releasing the debugger is the safe default: the
    // tab stops being controllable, its badge goes off, and one click shares it again cleanly
    // (an adopted tab would also need a command to the tab to prove the debugger is ours).
    // `detach` doubles as the ownership test: Chrome refuses it unless this extension is the
    // one attached, so a tab held by DevTools or another extension is left alone.
    const released: number[] = [];
    for (const tabId of orphans) {
      try {
        await this.#deadline(this.#debugger.detach({ tabId }), "debugger.detach");
        released.push(tabId);
      } catch {
        // Not ours (or Chrome timed out): nothing of ours to release.
      }
    }
    if (closed.length > 0 || lost.length > 0 || orphans.length > 0) this.#onChange();
    return { orphans, released };
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
    this.#serviceWorkers.onReady();
    void this.#serviceWorkers.sync();
  }

  /** The socket closed: nothing is detached; the next ready re-announces every tab. */
  onClosed(): void {
    this.#epoch++;
    this.#announced.clear();
    this.#serviceWorkers.onClosed();
    // Replies to the dead socket's commands cannot be sent any more (§6.3: the relay already
    // failed them); forget their ids so the next socket's ids start fresh.
    this.#inflight.clear();
    this.#runtimeHold.close();
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
    if (this.#runtimeHold.active) this.#runtimeHold.answered(command.cdp.sessionId, command);
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
        else this.#issue(attachment, attachment.debuggee, true, command);
        return;
      }
      const found = this.#sessions.byChild(sessionId);
      const parent = found && this.#attachments.get(found.record.sessionId);
      if (found && parent) {
        const debuggee = { tabId: parent.tabId, sessionId: found.child.sessionId };
        this.#issue(parent, debuggee, false, command);
        return;
      }
      const worker = this.#serviceWorkers.debuggee(sessionId);
      if (worker !== undefined) {
        this.#issueToTarget(worker, command);
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
    else this.#issue(attachment, attachment.debuggee, false, command);
  }

  /**
   * Sends the command at once. `Runtime.enable` is the `Runtime.enable` quirk: `Runtime.disable`
   * (its outcome ignored) goes first, in the same turn and on the same debuggee, so Chrome
   * re-emits `executionContextCreated` for existing contexts to a client that joins a debugger
   * session whose `Runtime` is already enabled. Chrome runs the two in order, and disable then
   * enable with no wait between them re-reports every context (checked with Chromium 156).
   *
   * Nothing waits for the disable: the commands a client pipelines after `Runtime.enable` must
   * reach Chrome as soon as they would without the quirk. Playwright creates its utility world
   * for frames that appear after `Page.getFrameTree` only through the
   * `Page.addScriptToEvaluateOnNewDocument` it sends right after `Runtime.enable`; a frame whose
   * document starts while that script is held back never gets one, and `frame.title()` on it
   * never settles.
   */
  #issue(attachment: TabAttachment, debuggee: Debuggee, topLevel: boolean, command: Command): void {
    if (command.cdp.method === "Runtime.enable") {
      this.#disableRuntime(debuggee);
      const { sessionId } = command.cdp;
      if (sessionId !== undefined) this.#runtimeHold.enabled(sessionId, this.#before(command));
    }
    this.#send(attachment, debuggee, topLevel, command);
  }

  /** The unanswered commands sent on the same session before `command`. */
  *#before(command: Command): Iterable<Command> {
    for (const earlier of this.#inflight.values()) {
      if (earlier !== command && earlier.cdp.sessionId === command.cdp.sessionId) yield earlier;
    }
  }

  /** The first half of the `Runtime.enable` quirk; its outcome does not matter. */
  #disableRuntime(debuggee: Debuggee): void {
    try {
      this.#debugger.sendCommand(debuggee, "Runtime.disable").catch(() => {});
    } catch {
      // Ignored: enable is what the client asked for, and its own send reports the failure.
    }
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
    const send = keep
      ? () => this.#debugger.sendCommand(debuggee, PAGE_ENABLE)
      : () => this.#debugger.sendCommand(debuggee, method, params);
    this.#sendTracked(command, "the tab's debugger", send, (result) => {
      if (topLevel && attachment.phase.kind !== "detached") {
        this.#sessions.noteCommand(attachment.tabId, method, cdp.params, result);
      }
    });
  }

  /**
   * The one `sendCommand` of a forwarded command, under `commandTimeoutMs` on the shared sweep:
   * no timer, `Error` or extra promise per command. Exactly one reply: the result (after
   * `onResult`), Chrome's error, or the deadline's error; a reply after the deadline is dropped.
   *
   * @param command The command to answer.
   * @param who What did not answer, for the deadline's error ("the tab's debugger", …).
   * @param send Starts the call; it may throw (a detached debuggee).
   * @param onResult Bookkeeping before a successful reply goes out.
   */
  #sendTracked(
    command: Command,
    who: string,
    send: () => Promise<JsonObject>,
    onResult?: (result: JsonObject) => void,
  ): void {
    let sent: Promise<JsonObject>;
    try {
      sent = send();
    } catch (error) {
      this.#reply(command, failure(error));
      return;
    }
    const deadline = this.#sending.add(() => {
      const ms = this.#commandTimeoutMs;
      this.#reply(command, {
        ok: false,
        error: `Cannot complete "${command.cdp.method}" as ${who} did not answer: waited ${ms} ms`,
      });
    });
    sent.then((result) => {
      if (!this.#sending.settle(deadline)) return;
      onResult?.(result);
      this.#reply(command, { ok: true, result: isJsonObject(result) ? result : {} });
    }, (error) => {
      if (this.#sending.settle(deadline)) this.#reply(command, failure(error));
    });
  }

  /**
   * Like {@linkcode TabBridge.prototype.#issue} for a target that is not a tab: `Runtime.enable`
   * is prepared the same way, because the extension's one session of the worker has `Runtime`
   * enabled since the first client, and only a disable/enable makes Chrome report the worker's
   * execution context to the next one (Playwright waits for it before `worker.evaluate()`).
   */
  #issueToTarget(debuggee: Debuggee, command: Command): void {
    // As for tabs: the disable goes first on the same session and nothing waits for it.
    if (command.cdp.method === "Runtime.enable") this.#disableRuntime(debuggee);
    this.#sendToTarget(debuggee, command);
  }

  /**
   * A command for a target that is not a tab (a service worker): one tracked `sendCommand`, with
   * no replay bookkeeping (Chrome keeps the worker's session itself).
   */
  #sendToTarget(debuggee: Debuggee, command: Command): void {
    const { method, params } = command.cdp;
    this.#sendTracked(
      command,
      "the service worker's debugger",
      () => this.#debugger.sendCommand(debuggee, method, params),
    );
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
    if (this.#closed) return;
    if (source.tabId === undefined) {
      this.#serviceWorkers.handleEvent(source, method, params);
      return;
    }
    const record = this.#sessions.byTab(source.tabId);
    if (!record) return;
    if (method === "Page.windowOpen") this.#windowOpenAt = this.#clock.now();
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
        // The page's own auto-attach reports a service worker that has just started: the
        // worker's top-level target may now be attached for clients.
        if (info.type === "service_worker") void this.#serviceWorkers.sync();
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
      // A navigation may change the tab's origin, and with it which workers it shares.
      void this.#serviceWorkers.sync();
    }
    const event: CdpCall = params === undefined
      ? { method, sessionId: outer }
      : { method, params, sessionId: outer };
    if (this.#runtimeHold.active && this.#runtimeHold.event(event)) return;
    this.#link.sendEvent(event);
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
    if (this.#closed) return;
    if (source.tabId === undefined) {
      this.#serviceWorkers.handleDetach(source, reason);
      return;
    }
    if (source.sessionId !== undefined) return;
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
    const openedBySharedPage = this.#clock.now() - this.#windowOpenAt <= POPUP_WINDOW_OPEN_MS;
    if (this.#sessions.byTab(openerTabId) === undefined && !openedBySharedPage) return;
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
    this.#serviceWorkers.close();
    for (const attachment of this.#attaching.values()) attachment.close();
    for (const attachment of this.#attachments.values()) attachment.close();
    for (const handle of this.#timers) this.#clock.clearTimeout(handle);
    this.#timers.clear();
    this.#sending.close();
    this.#runtimeHold.close();
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
