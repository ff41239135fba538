/**
 * The tab side of the worker: owns `chrome.debugger` attachments and moves CDP traffic between
 * them and the relay connection (protocol §4–6).
 *
 * @module
 */

import pTimeout, { TimeoutError } from "p-timeout";
import type { CdpCall, Outcome } from "../codec/extension_frame.ts";
import type { JsonObject } from "../codec/json.ts";
import { noSessionError } from "../codec/messages.ts";
import { ErrorText } from "./error_text.ts";
import type {
  Clock,
  Debuggee,
  DebuggerPort,
  TabInfo,
  TabsPort,
  TimerHandle,
  WindowsPort,
} from "./ports.ts";
import type { RelayLink } from "./relay_link.ts";
import type { TabRecord, TabSessions, TabState } from "./tab_sessions.ts";
import { isJsonObject } from "../codec/is_json_object.ts";

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
   * Deadline of each `chrome.debugger` call the extension makes for itself (attach,
   * `Target.getTargetInfo`, `Runtime.disable`, replay) and of `chrome.tabs.get`.
   *
   * @default {10000}
   */
  readonly debuggerTimeoutMs?: number;
  /**
   * Deadline of each forwarded command's `sendCommand`. A frozen tab never answers; this frees
   * the command and sends its one error response. Matches the relay's own 30 s deadline.
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

interface Route {
  readonly record: TabRecord;
  readonly debuggee: Debuggee;
  /** True when the command addressed the tab's relay session: its state is recorded. */
  readonly topLevel: boolean;
  /** True when the command addressed a child session. */
  readonly child: boolean;
}

interface Buffered {
  readonly cdp: CdpCall;
  readonly reply: (outcome: Outcome) => void;
  readonly timer: TimerHandle;
}

interface ReattachLoop {
  cancelled: boolean;
  wake: (() => void) | undefined;
}

const REATTACH_DELAYS_MS: readonly number[] = [200, 500, 1000, 2000, 4000];
const RESTRICTED_URL =
  /^(chrome|chrome-extension|chrome-untrusted|chrome-search|devtools|edge|about:devtools)(:|$)|^https:\/\/chromewebstore\.google\.com\//;

function isRestrictedUrl(url: string | undefined): boolean {
  return url !== undefined && RESTRICTED_URL.test(url);
}

function errorText(error: unknown): string {
  if (error instanceof Error && error.message !== "") return error.message;
  if (typeof error === "string" && error !== "") return error;
  return ErrorText.UnknownError;
}

function failure(error: unknown): Outcome {
  return { ok: false, error: errorText(error) };
}

function debuggeeKey(debuggee: Debuggee): string {
  return `${debuggee.tabId}/${debuggee.sessionId ?? ""}`;
}

/**
 * Owns the attached tabs: attach/detach, command routing with one response per id, event
 * forwarding, child sessions, re-announce, navigation re-attach and restore after a worker
 * restart. Implements the tab-side half of `ConnectionHooks`.
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
  readonly #windows: WindowsPort;
  readonly #clock: Clock;
  readonly #sessions: TabSessions;
  readonly #link: RelayLink;
  readonly #onChange: () => void;
  readonly #debuggerTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  readonly #reattachDelaysMs: readonly number[];
  readonly #bufferLimit: number;
  readonly #bufferTimeoutMs: number;
  readonly #createTargetSettleMs: number;
  readonly #runtimeEnableGapMs: number;
  readonly #abort = new AbortController();
  /** Relay session id → targetId announced on the current connection. */
  readonly #announced = new Map<string, string>();
  /** Top-level detach events the relay has not received yet (sent on the next ready). */
  #pendingDetaches: CdpCall[] = [];
  /**
   * Command ids of the current socket awaiting their one response, each with a token unique to
   * that command. Cleared on close: a new relay process numbers its commands from 1 again, so
   * an id of a dead socket must neither block nor answer a new command with the same id.
   */
  readonly #inflight = new Map<number, object>();
  /** Per-debuggee chain that keeps commands in arrival order behind a slow one. */
  readonly #gates = new Map<string, Promise<void>>();
  /** Relay session id → commands waiting for a re-attach. */
  readonly #buffers = new Map<string, Buffered[]>();
  /** Relay session id → running re-attach loop. */
  readonly #reattach = new Map<string, ReattachLoop>();
  readonly #attaching = new Map<number, Promise<TabRecord>>();
  /** Tabs whose debugger the extension itself detaches for a reset. */
  readonly #resetting = new Set<number>();
  readonly #timers = new Set<TimerHandle>();
  /** Increments on every ready and close: stale re-announces check it. */
  #epoch = 0;
  #closed = false;

  /**
   * Creates the bridge. It registers no listeners: the owner routes events to the `handle*`
   * methods once its init gate has resolved.
   *
   * @param options Ports, the tab table, the relay link and timings.
   */
  constructor(options: TabBridgeOptions) {
    this.#debugger = options.debugger;
    this.#tabs = options.tabs;
    this.#windows = options.windows;
    this.#clock = options.clock;
    this.#sessions = options.sessions;
    this.#link = options.link;
    this.#onChange = options.onChange ?? (() => {});
    this.#debuggerTimeoutMs = options.debuggerTimeoutMs ?? 10_000;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
    this.#reattachDelaysMs = options.reattachDelaysMs ?? REATTACH_DELAYS_MS;
    this.#bufferLimit = options.bufferLimit ?? 50;
    this.#bufferTimeoutMs = options.bufferTimeoutMs ?? 5000;
    this.#createTargetSettleMs = options.createTargetSettleMs ?? 100;
    this.#runtimeEnableGapMs = options.runtimeEnableGapMs ?? 50;
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
      (promise, what) => this.#deadline(promise, this.#debuggerTimeoutMs, what),
    );
    for (const record of closed) {
      this.#queueDetach(record.sessionId, record.targetId, "tab_closed");
    }
    for (const record of lost) {
      this.#sessions.update(record.tabId, { children: [] });
      this.#startReattach(record.sessionId, { immediate: true, detachFirst: false });
    }
    for (const record of kept) {
      // The worker died mid re-attach: the debugger is attached but the replay may not have
      // run, so start over rather than leave the session without its state.
      if (record.state === "reattaching") {
        this.#startReattach(record.sessionId, { immediate: true, detachFirst: true });
      }
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
    if (running) return running;
    const attach = this.#attach(tabId).finally(() => this.#attaching.delete(tabId));
    this.#attaching.set(tabId, attach);
    return attach;
  }

  async #attach(tabId: number): Promise<TabRecord> {
    const tab = await this.#deadline(this.#tabs.get(tabId), this.#debuggerTimeoutMs, "tabs.get");
    if (isRestrictedUrl(tab.url)) {
      throw new Error(
        `Cannot attach to tab ${tabId} as Chrome does not allow debugging this page: URL is "${tab.url}"`,
      );
    }
    await this.#deadline(
      this.#debugger.attach({ tabId }, "1.3"),
      this.#debuggerTimeoutMs,
      "debugger.attach",
    );
    let targetInfo: JsonObject;
    try {
      targetInfo = await this.#readTargetInfo(tabId, undefined);
    } catch (error) {
      await this.#detachDebugger(tabId);
      throw error;
    }
    if (this.#closed) {
      await this.#detachDebugger(tabId);
      throw new Error(`Cannot attach to tab ${tabId} as the worker is shutting down`);
    }
    const record: TabRecord = {
      tabId,
      sessionId: this.#sessions.nextSessionId(),
      targetId: String(targetInfo.targetId),
      targetInfo,
      state: "attached",
      children: [],
      replay: [],
      replayOverflow: false,
      scriptIds: {},
    };
    this.#sessions.add(record);
    this.#announce(record);
    if (!this.#link.isReady()) this.#link.requestConnect("tab attached");
    this.#onChange();
    return record;
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
    const record = this.#sessions.byTab(tabId);
    if (!record) return false;
    this.#dropTab(record, reason);
    await this.#detachDebugger(tabId);
    return true;
  }

  /**
   * Detaches every tab.
   *
   * @param reason The detach reason sent to the relay.
   * @returns Resolves when every debugger is detached.
   */
  async detachAll(reason = "toggle"): Promise<void> {
    const records = this.#sessions.list();
    for (const record of records) this.#dropTab(record, reason);
    await Promise.all(records.map((record) => this.#detachDebugger(record.tabId)));
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
    for (const record of this.#sessions.list()) {
      if (record.state === "attached") void this.#reannounce(record.sessionId, epoch);
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
    const token = {};
    this.#inflight.set(id, token);
    const reply = (outcome: Outcome) => {
      if (this.#inflight.get(id) !== token) return;
      this.#inflight.delete(id);
      this.#link.sendResponse(id, outcome);
    };
    this.#dispatch(cdp, reply);
  }

  #dispatch(cdp: CdpCall, reply: (outcome: Outcome) => void): void {
    const emulated = this.#emulated(cdp);
    if (emulated) {
      emulated.then((result) => reply({ ok: true, result }), (error) => reply(failure(error)));
      return;
    }
    let route: Route | string;
    try {
      route = this.#route(cdp);
    } catch (error) {
      reply(failure(error));
      return;
    }
    if (typeof route === "string") {
      reply({ ok: false, error: route });
      return;
    }
    if (route.record.state === "reattaching" && !route.child) {
      this.#buffer(route.record, cdp, reply);
      return;
    }
    this.#issue(route, cdp, reply);
  }

  #emulated(cdp: CdpCall): Promise<JsonObject> | undefined {
    switch (cdp.method) {
      case "Target.createTarget":
        return this.#createTarget(cdp.params ?? {});
      case "Target.closeTarget":
        return this.#closeTarget(cdp);
      case "Target.activateTarget":
        return this.#activateTarget(cdp);
      case "BrowserRelay.resetSession":
        return this.#resetSession(cdp);
      default:
        return undefined;
    }
  }

  /** Returns the route, or the error text for a command that has nowhere to go. */
  #route(cdp: CdpCall): Route | string {
    if (cdp.sessionId !== undefined) {
      const record = this.#sessions.bySession(cdp.sessionId);
      if (record) {
        return { record, debuggee: { tabId: record.tabId }, topLevel: true, child: false };
      }
      const found = this.#sessions.byChild(cdp.sessionId);
      if (found) {
        return {
          record: found.record,
          debuggee: { tabId: found.record.tabId, sessionId: found.child.sessionId },
          topLevel: false,
          child: true,
        };
      }
      return noSessionError(cdp.sessionId);
    }
    const targetId = cdp.params?.targetId;
    if (typeof targetId === "string") {
      const record = this.#sessions.byTarget(targetId) ??
        this.#sessions.byChildTarget(targetId)?.record;
      if (record) {
        return { record, debuggee: { tabId: record.tabId }, topLevel: false, child: false };
      }
    }
    const first = this.#sessions.list()[0];
    if (!first) return `Cannot run "${cdp.method}" as no tab is attached`;
    return { record: first, debuggee: { tabId: first.tabId }, topLevel: false, child: false };
  }

  #issue(route: Route, cdp: CdpCall, reply: (outcome: Outcome) => void): void {
    const key = debuggeeKey(route.debuggee);
    const gate = this.#gates.get(key);
    if (gate === undefined && cdp.method !== "Runtime.enable") {
      this.#send(route, cdp, reply);
      return;
    }
    const run = cdp.method === "Runtime.enable"
      ? () => this.#runtimeEnable(route, cdp, reply)
      : () => this.#send(route, cdp, reply);
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
    route: Route,
    cdp: CdpCall,
    reply: (outcome: Outcome) => void,
  ): Promise<void> {
    try {
      await this.#deadline(
        this.#debugger.sendCommand(route.debuggee, "Runtime.disable"),
        this.#debuggerTimeoutMs,
        "Runtime.disable",
      );
    } catch {
      // Ignored: enable is what the client asked for.
    }
    await this.#sleep(this.#runtimeEnableGapMs, undefined);
    if (this.#closed) return;
    this.#send(route, cdp, reply);
  }

  #send(route: Route, cdp: CdpCall, reply: (outcome: Outcome) => void): void {
    const { record } = route;
    const params = this.#translateParams(record, cdp);
    const timeout = new TimeoutError(
      `Cannot complete "${cdp.method}" as the tab's debugger did not answer: waited ${this.#commandTimeoutMs} ms`,
    );
    let sent: Promise<JsonObject>;
    try {
      sent = this.#debugger.sendCommand(route.debuggee, cdp.method, params);
    } catch (error) {
      reply(failure(error));
      return;
    }
    pTimeout(sent, {
      milliseconds: this.#commandTimeoutMs,
      message: timeout,
      signal: this.#abort.signal,
    })
      .then((result) => {
        if (route.topLevel) {
          const current = this.#sessions.bySession(record.sessionId);
          if (current) this.#sessions.noteCommand(current.tabId, cdp.method, cdp.params, result);
        }
        reply({ ok: true, result: isJsonObject(result) ? result : {} });
      }, (error) => reply(failure(error)));
  }

  /** Maps script identifiers the client holds to the ones a replay created. */
  #translateParams(record: TabRecord, cdp: CdpCall): JsonObject | undefined {
    const params = cdp.params;
    if (cdp.method !== "Page.removeScriptToEvaluateOnNewDocument" || params === undefined) {
      return params;
    }
    const identifier = params.identifier;
    const mapped = typeof identifier === "string" ? record.scriptIds[identifier] : undefined;
    return mapped === undefined ? params : { ...params, identifier: mapped };
  }

  #buffer(record: TabRecord, cdp: CdpCall, reply: (outcome: Outcome) => void): void {
    const list = this.#buffers.get(record.sessionId) ?? [];
    if (list.length >= this.#bufferLimit) {
      reply({
        ok: false,
        error:
          `Cannot run "${cdp.method}" as tab ${record.tabId} is re-attaching its debugger: ${list.length} commands already wait`,
      });
      return;
    }
    const timer = this.#setTimer(() => {
      const current = this.#buffers.get(record.sessionId);
      const index = current?.indexOf(entry) ?? -1;
      if (current && index >= 0) current.splice(index, 1);
      reply({
        ok: false,
        error:
          `Cannot run "${cdp.method}" as tab ${record.tabId} is re-attaching its debugger: waited ${this.#bufferTimeoutMs} ms`,
      });
    }, this.#bufferTimeoutMs);
    const entry: Buffered = { cdp, reply, timer };
    list.push(entry);
    this.#buffers.set(record.sessionId, list);
  }

  /** Issues buffered commands in arrival order once the tab is attached again. */
  #flushBuffer(sessionId: string): void {
    const list = this.#buffers.get(sessionId) ?? [];
    this.#buffers.delete(sessionId);
    for (const entry of list) {
      this.#clearTimer(entry.timer);
      this.#dispatch(entry.cdp, entry.reply);
    }
  }

  #failBuffer(sessionId: string, error: (method: string) => string): void {
    const list = this.#buffers.get(sessionId) ?? [];
    this.#buffers.delete(sessionId);
    for (const entry of list) {
      this.#clearTimer(entry.timer);
      entry.reply({ ok: false, error: error(entry.cdp.method) });
    }
  }

  // ---------------------------------------------------------------- emulated commands

  async #createTarget(params: JsonObject): Promise<JsonObject> {
    const url = typeof params.url === "string" && params.url !== "" ? params.url : "about:blank";
    let tabId: number | undefined;
    if (params.newWindow === true) {
      const window = await this.#windows.create({ url, focused: false });
      tabId = window.tabs?.[0]?.id;
    } else {
      const window = await this.#windows.getLastFocused();
      const tab = await this.#tabs.create(
        window.id === undefined
          ? { url, active: false }
          : { url, active: false, windowId: window.id },
      );
      tabId = tab.id;
    }
    if (tabId === undefined) {
      throw new Error(`Cannot create target as Chrome returned no tab: URL is "${url}"`);
    }
    await this.#sleep(this.#createTargetSettleMs, undefined);
    const record = await this.attachTab(tabId);
    return { targetId: record.targetId };
  }

  async #findTab(cdp: CdpCall): Promise<number | undefined> {
    const targetId = cdp.params?.targetId;
    if (typeof targetId === "string") {
      const record = this.#sessions.byTarget(targetId);
      if (record) return record.tabId;
      const targets = await this.#deadline(
        this.#debugger.getTargets(),
        this.#debuggerTimeoutMs,
        "debugger.getTargets",
      ).catch(() => []);
      const target = targets.find((t) => t.id === targetId && t.tabId !== undefined);
      if (target?.tabId !== undefined) return target.tabId;
    }
    if (cdp.sessionId !== undefined) return this.#sessions.bySession(cdp.sessionId)?.tabId;
    return undefined;
  }

  async #closeTarget(cdp: CdpCall): Promise<JsonObject> {
    const tabId = await this.#findTab(cdp);
    if (tabId === undefined) return { success: false };
    const all = await this.#tabs.query({});
    if (all.filter((tab) => Number.isInteger(tab.id)).length <= 1) {
      throw new Error(ErrorText.CannotCloseLastTab);
    }
    await this.#tabs.remove(tabId);
    return { success: true };
  }

  async #activateTarget(cdp: CdpCall): Promise<JsonObject> {
    try {
      const tabId = await this.#findTab(cdp);
      if (tabId === undefined) return {};
      const tab = await this.#tabs.get(tabId);
      await this.#windows.update(tab.windowId, { focused: true });
      await this.#tabs.update(tabId, { active: true });
    } catch {
      // Activation is best effort: the result is {} in every case (§6.4).
    }
    return {};
  }

  /**
   * Detaches and re-attaches the tab's debugger under the same session id, clearing whatever
   * departed clients enabled. Announces nothing unless the targetId changed.
   */
  async #resetSession(cdp: CdpCall): Promise<JsonObject> {
    const fromParams = cdp.params?.sessionId;
    const sessionId = cdp.sessionId ?? (typeof fromParams === "string" ? fromParams : undefined);
    if (sessionId === undefined) {
      throw new Error('Cannot reset session as "sessionId" is missing');
    }
    const record = this.#sessions.bySession(sessionId);
    if (!record) throw new Error(noSessionError(sessionId));
    const cleared = { replay: [], replayOverflow: false, scriptIds: {} };
    if (record.state === "reattaching") {
      // The running re-attach now replays nothing.
      this.#sessions.update(record.tabId, cleared);
      return {};
    }
    this.#sessions.update(record.tabId, { ...cleared, state: "reattaching" });
    this.#dropChildren(record);
    const { tabId } = record;
    this.#resetting.add(tabId);
    try {
      await this.#detachDebugger(tabId);
      await this.#deadline(
        this.#debugger.attach({ tabId }, "1.3"),
        this.#debuggerTimeoutMs,
        "debugger.attach",
      );
    } catch {
      this.#startReattach(sessionId, { immediate: true, detachFirst: false });
      return {};
    } finally {
      this.#resetting.delete(tabId);
    }
    const targetInfo = await this.#readTargetInfo(tabId, record.targetInfo);
    this.#resumeAttached(sessionId, targetInfo, false);
    return {};
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
            this.#debuggerTimeoutMs,
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
   * - `target_closed` with the tab alive (cross-process navigation): re-attach loop.
   * - `target_closed` with the tab gone or on a restricted URL, and any other reason: the tab is
   *   detached with that reason.
   *
   * @param source The debuggee.
   * @param reason Chrome's reason.
   * @returns Resolves when handled.
   */
  async handleDebuggerDetach(source: Debuggee, reason: string): Promise<void> {
    if (this.#closed || source.tabId === undefined || source.sessionId !== undefined) return;
    const tabId = source.tabId;
    const record = this.#sessions.byTab(tabId);
    if (!record || this.#resetting.has(tabId)) return;
    if (reason === "canceled_by_user") {
      await this.detachAll(reason);
      return;
    }
    if (reason !== "target_closed") {
      this.#dropTab(record, reason);
      return;
    }
    // Buffer commands from now on: the debugger is gone until we know more.
    this.#sessions.update(tabId, { state: "reattaching" });
    this.#dropChildren(record);
    this.#onChange();
    const tab = await this.#deadline(this.#tabs.get(tabId), this.#debuggerTimeoutMs, "tabs.get")
      .then(
        (t): TabInfo | "unknown" => t,
        (error: unknown) => error instanceof TimeoutError ? "unknown" : undefined,
      );
    const current = this.#sessions.bySession(record.sessionId);
    if (!current || this.#reattach.has(record.sessionId)) return;
    if (tab === undefined) {
      this.#dropTab(current, reason);
      return;
    }
    if (tab !== "unknown" && isRestrictedUrl(tab.url)) {
      this.#dropTab(current, reason);
      return;
    }
    this.#startReattach(record.sessionId, { immediate: false, detachFirst: false });
  }

  /**
   * `chrome.tabs.onRemoved`: the tab's children and the tab are announced detached
   * (`tab_closed`) and forgotten.
   *
   * @param tabId The closed tab.
   */
  handleTabRemoved(tabId: number): void {
    const record = this.#sessions.byTab(tabId);
    if (record && !this.#closed) this.#dropTab(record, "tab_closed");
  }

  /**
   * `chrome.tabs.onReplaced`: the record, session id included, moves to the new tab id; the
   * debugger is attached to the new tab and a changed targetId is announced (§5.1).
   *
   * @param addedTabId The new tab id.
   * @param removedTabId The replaced tab id.
   */
  handleTabReplaced(addedTabId: number, removedTabId: number): void {
    if (this.#closed) return;
    const before = this.#sessions.byTab(removedTabId);
    if (!before) return;
    this.#cancelReattach(before.sessionId);
    this.#dropChildren(before);
    const record = this.#sessions.migrate(removedTabId, addedTabId);
    if (!record) return;
    this.#startReattach(record.sessionId, { immediate: true, detachFirst: false });
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
    for (const list of this.#buffers.values()) buffered += list.length;
    return { inflight: this.#inflight.size, buffered, reattaching: this.#reattach.size };
  }

  /**
   * Releases every timer and re-attach loop; buffered commands get an error. Idempotent.
   * Attachments are kept: they belong to the extension, not to this instance.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const loop of this.#reattach.values()) this.#cancelLoop(loop);
    this.#reattach.clear();
    for (const sessionId of [...this.#buffers.keys()]) {
      this.#failBuffer(
        sessionId,
        (method) => `Cannot run "${method}" as the worker is shutting down`,
      );
    }
    for (const handle of this.#timers) this.#clock.clearTimeout(handle);
    this.#timers.clear();
    this.#abort.abort(new Error("Cannot complete the command as the worker is shutting down"));
  }

  /** Same as {@linkcode TabBridge.prototype.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ---------------------------------------------------------------- announce

  #attachEvent(record: TabRecord): CdpCall {
    return {
      method: "Target.attachedToTarget",
      params: {
        sessionId: record.sessionId,
        targetInfo: { ...record.targetInfo, attached: true },
        waitingForDebugger: false,
      },
    };
  }

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
    if (this.#link.sendEvent(this.#attachEvent(record))) {
      this.#announced.set(record.sessionId, record.targetId);
    }
  }

  async #reannounce(sessionId: string, epoch: number): Promise<void> {
    const record = this.#sessions.bySession(sessionId);
    if (!record) return;
    let fresh: JsonObject | undefined;
    try {
      fresh = await this.#getTargetInfo(record.tabId);
    } catch (error) {
      if (!(error instanceof TimeoutError)) {
        // Chrome answered with an error: ask Chrome (not the tab) whether it is still ours.
        const verdict = await this.#checkAttachment(record.tabId);
        const current = this.#sessions.bySession(sessionId);
        if (!current || current.state !== "attached") return;
        if (verdict === "closed") {
          this.#dropTab(current, "tab_closed");
          return;
        }
        if (verdict === "lost") {
          this.#startReattach(sessionId, { immediate: true, detachFirst: false });
          return;
        }
      }
      // A timeout on a busy tab never drops it: announce the cached info.
    }
    if (epoch !== this.#epoch || this.#closed) return;
    let current = this.#sessions.bySession(sessionId);
    if (!current || current.state !== "attached") return;
    if (fresh !== undefined) {
      const targetId = String(fresh.targetId);
      if (targetId !== current.targetId) {
        this.#sendDetach(sessionId, current.targetId, "navigation-reattach");
      }
      current = this.#sessions.update(current.tabId, { targetId, targetInfo: fresh }) ?? current;
    }
    this.#announce(current);
  }

  async #checkAttachment(tabId: number): Promise<"attached" | "lost" | "closed"> {
    const tab = await this.#deadline(this.#tabs.get(tabId), this.#debuggerTimeoutMs, "tabs.get")
      .then(
        () => "open" as const,
        (error: unknown) => error instanceof TimeoutError ? "unknown" as const : "closed" as const,
      );
    if (tab === "closed") return "closed";
    const targets = await this.#deadline(
      this.#debugger.getTargets(),
      this.#debuggerTimeoutMs,
      "debugger.getTargets",
    ).catch(() => undefined);
    if (targets === undefined) return "attached";
    const target = targets.find((t) => t.tabId === tabId && t.type === "page");
    return target?.attached === true ? "attached" : "lost";
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

  /** Announces the children of a tab as detached (outer session = their parent) and forgets them. */
  #dropChildren(record: TabRecord): void {
    for (const child of record.children) {
      this.#link.sendEvent({
        method: "Target.detachedFromTarget",
        sessionId: child.parentSessionId,
        params: { sessionId: child.sessionId, targetId: child.targetId, reason: "parent_detached" },
      });
    }
    if (record.children.length > 0) this.#sessions.update(record.tabId, { children: [] });
  }

  /** Forgets a tab: children first, then the tab's own detach with `reason`. */
  #dropTab(record: TabRecord, reason: string): void {
    this.#cancelReattach(record.sessionId);
    this.#failBuffer(
      record.sessionId,
      (method) =>
        `Cannot run "${method}" as tab ${record.tabId} was detached: reason is "${reason}"`,
    );
    const current = this.#sessions.bySession(record.sessionId) ?? record;
    this.#dropChildren(current);
    this.#sessions.remove(current.tabId);
    this.#sendDetach(current.sessionId, current.targetId, reason);
    this.#onChange();
  }

  // ---------------------------------------------------------------- re-attach

  #startReattach(
    sessionId: string,
    options: { readonly immediate: boolean; readonly detachFirst: boolean },
  ): void {
    if (this.#closed || this.#reattach.has(sessionId)) return;
    const record = this.#sessions.bySession(sessionId);
    if (!record) return;
    if (record.state !== "reattaching") {
      this.#sessions.update(record.tabId, { state: "reattaching" });
      this.#onChange();
    }
    const loop: ReattachLoop = { cancelled: false, wake: undefined };
    this.#reattach.set(sessionId, loop);
    void this.#runReattach(sessionId, loop, options)
      .catch(() => {})
      .finally(() => {
        if (this.#reattach.get(sessionId) === loop) this.#reattach.delete(sessionId);
      });
  }

  #cancelReattach(sessionId: string): void {
    const loop = this.#reattach.get(sessionId);
    if (!loop) return;
    this.#reattach.delete(sessionId);
    this.#cancelLoop(loop);
  }

  #cancelLoop(loop: ReattachLoop): void {
    loop.cancelled = true;
    loop.wake?.();
  }

  /**
   * Tries `attach` after each delay. On success: same targetId and a successful replay resume
   * the session silently; otherwise the old target is detached (`navigation-reattach`) and the
   * new one announced under the same session id. When every attempt fails: `reattach_failed`.
   */
  async #runReattach(
    sessionId: string,
    loop: ReattachLoop,
    options: { readonly immediate: boolean; readonly detachFirst: boolean },
  ): Promise<void> {
    const delays = options.immediate ? [0, ...this.#reattachDelaysMs] : this.#reattachDelaysMs;
    if (options.detachFirst) {
      const record = this.#sessions.bySession(sessionId);
      if (record) await this.#detachDebugger(record.tabId);
    }
    let attachedTab: number | undefined;
    for (const delay of delays) {
      if (delay > 0) await this.#sleep(delay, loop);
      if (loop.cancelled) return;
      const record = this.#sessions.bySession(sessionId);
      if (!record) return;
      const tab = await this.#deadline(
        this.#tabs.get(record.tabId),
        this.#debuggerTimeoutMs,
        "tabs.get",
      ).then(
        (t): TabInfo | "unknown" => t,
        (error: unknown) => error instanceof TimeoutError ? "unknown" : undefined,
      );
      if (loop.cancelled) return;
      if (tab === undefined) {
        this.#dropTab(record, "tab_closed");
        return;
      }
      if (tab !== "unknown" && isRestrictedUrl(tab.url)) {
        this.#dropTab(record, "target_closed");
        return;
      }
      try {
        await this.#deadline(
          this.#debugger.attach({ tabId: record.tabId }, "1.3"),
          this.#debuggerTimeoutMs,
          "debugger.attach",
        );
        attachedTab = record.tabId;
        break;
      } catch {
        // Next attempt.
      }
      if (loop.cancelled) return;
    }
    if (loop.cancelled) {
      if (attachedTab !== undefined) await this.#detachDebugger(attachedTab);
      return;
    }
    const record = this.#sessions.bySession(sessionId);
    if (!record) return;
    if (attachedTab === undefined) {
      this.#dropTab(record, "reattach_failed");
      return;
    }
    let targetInfo: JsonObject;
    try {
      targetInfo = await this.#readTargetInfo(attachedTab, record.targetInfo);
    } catch {
      targetInfo = record.targetInfo;
    }
    if (loop.cancelled) return;
    const current = this.#sessions.bySession(sessionId);
    if (!current) return;
    const sameTarget = String(targetInfo.targetId) === current.targetId;
    const replayed = sameTarget && !current.replayOverflow && await this.#replay(current);
    if (loop.cancelled) return;
    this.#reattach.delete(sessionId);
    this.#resumeAttached(sessionId, targetInfo, !replayed);
  }

  /**
   * Marks the tab attached again and flushes its buffer. With `fresh`, or when the targetId
   * changed, the old target is detached and the session announced anew; otherwise the session
   * resumes silently (announced only if this connection does not hold it yet).
   */
  #resumeAttached(sessionId: string, targetInfo: JsonObject, fresh: boolean): void {
    const record = this.#sessions.bySession(sessionId);
    if (!record) return;
    const targetId = String(targetInfo.targetId);
    let next: TabRecord | undefined;
    if (fresh || targetId !== record.targetId) {
      this.#sendDetach(sessionId, record.targetId, "navigation-reattach");
      next = this.#sessions.update(record.tabId, {
        state: "attached",
        targetId,
        targetInfo,
        children: [],
        replay: [],
        replayOverflow: false,
        scriptIds: {},
      });
    } else {
      next = this.#sessions.update(record.tabId, { state: "attached", targetInfo });
    }
    if (next) this.#announce(next);
    this.#flushBuffer(sessionId);
    this.#onChange();
  }

  /** Replays the recorded state-setting commands in order; false when any of them failed. */
  async #replay(record: TabRecord): Promise<boolean> {
    const debuggee = { tabId: record.tabId };
    try {
      // Issued in order without awaiting each: CDP processes one session's commands in order.
      const results = await Promise.all(
        record.replay.map((entry) =>
          this.#deadline(
            this.#debugger.sendCommand(debuggee, entry.method, entry.params),
            this.#debuggerTimeoutMs,
            entry.method,
          ).then((result) => ({ entry, result }))
        ),
      );
      const scriptIds: Record<string, string> = {};
      for (const { entry, result } of results) {
        const identifier = result.identifier;
        if (entry.clientIdentifier !== undefined && typeof identifier === "string") {
          scriptIds[entry.clientIdentifier] = identifier;
        }
      }
      this.#sessions.update(record.tabId, { scriptIds });
      return true;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- chrome helpers

  async #getTargetInfo(tabId: number): Promise<JsonObject> {
    const result = await this.#deadline(
      this.#debugger.sendCommand({ tabId }, "Target.getTargetInfo"),
      this.#debuggerTimeoutMs,
      "Target.getTargetInfo",
    );
    const info = result.targetInfo;
    if (!isJsonObject(info) || typeof info.targetId !== "string") {
      throw new Error(`Cannot read target info of tab ${tabId} as Chrome returned no targetId`);
    }
    return { ...info, attached: true };
  }

  /** `Target.getTargetInfo`, else the cache, else `debugger.getTargets()`. */
  async #readTargetInfo(tabId: number, cached: JsonObject | undefined): Promise<JsonObject> {
    try {
      return await this.#getTargetInfo(tabId);
    } catch (error) {
      if (cached !== undefined) return cached;
      const targets = await this.#deadline(
        this.#debugger.getTargets(),
        this.#debuggerTimeoutMs,
        "debugger.getTargets",
      ).catch(() => []);
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

  async #detachDebugger(tabId: number): Promise<void> {
    try {
      await this.#deadline(
        this.#debugger.detach({ tabId }),
        this.#debuggerTimeoutMs,
        "debugger.detach",
      );
    } catch {
      // Already detached (tab closed, user cancelled): nothing left to release.
    }
  }

  #deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    return pTimeout(promise, {
      milliseconds: ms,
      message: new TimeoutError(
        `Cannot complete ${what} as Chrome did not answer: waited ${ms} ms`,
      ),
      signal: this.#abort.signal,
    });
  }

  #setTimer(callback: () => void, ms: number): TimerHandle {
    const handle = this.#clock.setTimeout(() => {
      this.#timers.delete(handle);
      callback();
    }, ms);
    this.#timers.add(handle);
    return handle;
  }

  #clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle);
    this.#clock.clearTimeout(handle);
  }

  /** Waits `ms`; a cancelled loop wakes it early. Never resolves after `close()`. */
  #sleep(ms: number, loop: ReattachLoop | undefined): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed) return;
      const handle = this.#setTimer(() => {
        if (loop) loop.wake = undefined;
        resolve();
      }, ms);
      if (loop) {
        loop.wake = () => {
          loop.wake = undefined;
          this.#clearTimer(handle);
          resolve();
        };
      }
    });
  }
}
