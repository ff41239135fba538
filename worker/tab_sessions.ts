/**
 * The attached-tab table: tab ↔ relay session ↔ target, child sessions, the session counter and
 * the navigation replay logs. It lives in memory and is mirrored to `chrome.storage.session`
 * through one serialized writer, so a restarted worker reads back exactly what it had.
 *
 * @module
 */

import type { JsonObject, JsonValue } from "../codec/json.ts";
import { isSessionStateMethod } from "./session_state_methods.ts";
import type { DebuggerPort, DebuggerTarget, StorageArea, TabInfo, TabsPort } from "./ports.ts";
import { isJsonObject } from "../codec/is_json_object.ts";

/** A child session (OOPIF, worker) reached through a tab's debugger with Chrome's session id. */
export interface ChildSession {
  /** Chrome's flat session id. */
  readonly sessionId: string;
  /** The child's targetId. */
  readonly targetId: string;
  /** The child's target type, e.g. `iframe`, `worker`. */
  readonly type: string;
  /** The session the child was announced on (the tab's relay session or another child). */
  readonly parentSessionId: string;
}

/** One recorded state-setting command, replayed after a navigation re-attach (§5.4). */
export interface ReplayEntry {
  /** Dedup key: the method, or method + name/identifier for additive setters. */
  readonly key: string;
  readonly method: string;
  readonly params?: JsonObject;
  /** For `Page.addScriptToEvaluateOnNewDocument`: the identifier the client holds. */
  readonly clientIdentifier?: string;
}

/**
 * The persisted mirror of a tab's `TabAttachment` phase (`worker/tab_attachment.ts`), which is
 * the source of truth: `attached`, or `reattaching` for both `reattaching` and `resetting`
 * (commands wait). A restarted worker reads it to know a re-attach was running.
 */
export type TabState = "attached" | "reattaching";

/** One attached tab. */
export interface TabRecord {
  readonly tabId: number;
  /** Relay session id, `cb-tab-<N>`. */
  readonly sessionId: string;
  readonly targetId: string;
  /** Last known `Target.getTargetInfo().targetInfo`, with `attached: true`. */
  readonly targetInfo: JsonObject;
  readonly state: TabState;
  readonly children: readonly ChildSession[];
  readonly replay: readonly ReplayEntry[];
  /** True when the replay log hit its caps: a re-attach must then announce a new target. */
  readonly replayOverflow: boolean;
  /** Script identifiers the client holds → the ones the current debugger session uses. */
  readonly scriptIds: { readonly [clientId: string]: string };
}

/** What `verify()` found for each restored tab. */
export interface TabVerification {
  /** Still attached: kept as they are. */
  readonly kept: readonly TabRecord[];
  /** The tab exists but this extension's debugger is gone: re-attach under the same id. */
  readonly lost: readonly TabRecord[];
  /** The tab no longer exists: already removed from the table; announce them detached. */
  readonly closed: readonly TabRecord[];
  /**
   * Tabs that `getTargets()` reports attached but the table does not know (issue 14 defect 5):
   * a table lost to junk in storage, or a worker stopped between `chrome.debugger.attach` and
   * the write of the record. Some may be attached by another client (DevTools, another
   * extension): `attached` does not say by whom, and tab targets carry no `extensionId`.
   */
  readonly orphans: readonly number[];
}

/** Options of {@linkcode TabSessions}. */
export interface TabSessionsOptions {
  /**
   * Storage key of the persisted table.
   *
   * @default {"browserRelay.tabs"}
   */
  readonly key?: string;
  /**
   * Most replay entries kept per tab before the log overflows.
   *
   * @default {100}
   */
  readonly maxReplayEntries?: number;
  /**
   * Most JSON bytes of replay params kept per tab before the log overflows.
   *
   * @default {262144}
   */
  readonly maxReplayBytes?: number;
  /** Called with the error when a write to storage fails (the next write retries). */
  readonly onWriteError?: (error: unknown) => void;
}

interface Persisted {
  readonly version: 1;
  readonly counter: number;
  readonly tabs: readonly TabRecord[];
}

const NOTHING_UNDONE: readonly string[] = Object.freeze([]);

const DISABLE_CLEARS: Readonly<Record<string, readonly string[]>> = {
  "Emulation.clearDeviceMetricsOverride": ["Emulation.setDeviceMetricsOverride"],
  "Emulation.clearGeolocationOverride": ["Emulation.setGeolocationOverride"],
};

function readChild(value: unknown): ChildSession | undefined {
  if (!isJsonObject(value)) return undefined;
  const { sessionId, targetId, type, parentSessionId } = value;
  if (
    typeof sessionId !== "string" || typeof targetId !== "string" || typeof type !== "string" ||
    typeof parentSessionId !== "string"
  ) return undefined;
  return { sessionId, targetId, type, parentSessionId };
}

function readReplay(value: unknown): ReplayEntry | undefined {
  if (!isJsonObject(value)) return undefined;
  const { key, method, params, clientIdentifier } = value;
  if (typeof key !== "string" || typeof method !== "string") return undefined;
  const entry: { key: string; method: string; params?: JsonObject; clientIdentifier?: string } = {
    key,
    method,
  };
  if (isJsonObject(params)) entry.params = params;
  if (typeof clientIdentifier === "string") entry.clientIdentifier = clientIdentifier;
  return entry;
}

function readRecord(value: unknown): TabRecord | undefined {
  if (!isJsonObject(value)) return undefined;
  const { tabId, sessionId, targetId, targetInfo, state, children, replay } = value;
  if (
    typeof tabId !== "number" || !Number.isInteger(tabId) || typeof sessionId !== "string" ||
    typeof targetId !== "string" || !isJsonObject(targetInfo)
  ) return undefined;
  const scriptIds: Record<string, string> = {};
  if (isJsonObject(value.scriptIds)) {
    for (const [k, v] of Object.entries(value.scriptIds)) {
      if (typeof v === "string") scriptIds[k] = v;
    }
  }
  return {
    tabId,
    sessionId,
    targetId,
    targetInfo,
    state: state === "reattaching" ? "reattaching" : "attached",
    children: Array.isArray(children) ? children.flatMap((c) => readChild(c) ?? []) : [],
    replay: Array.isArray(replay) ? replay.flatMap((r) => readReplay(r) ?? []) : [],
    replayOverflow: value.replayOverflow === true,
    scriptIds,
  };
}

function byteLength(value: JsonValue | undefined): number {
  return value === undefined ? 0 : JSON.stringify(value).length;
}

/**
 * The attached-tab table, persisted to one `chrome.storage.session` key.
 *
 * Every mutation updates memory synchronously, then schedules a write of the whole table.
 * Writes go through one promise chain and coalesce: while one write runs, later mutations share
 * the single write queued behind it, which stores the state as it is when it starts. Storage
 * therefore never sees an older table after a newer one.
 *
 * @example
 * ```ts
 * const sessions = new TabSessions(storage.session);
 * await sessions.load();
 * const sessionId = sessions.nextSessionId(); // "cb-tab-1"
 * ```
 */
export class TabSessions {
  readonly #area: StorageArea;
  readonly #key: string;
  readonly #maxReplayEntries: number;
  readonly #maxReplayBytes: number;
  readonly #onWriteError: (error: unknown) => void;
  #counter = 0;
  #tabs: TabRecord[] = [];
  #chain: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;

  /**
   * Creates an empty table; call {@linkcode TabSessions.prototype.load} before use.
   *
   * @param area `chrome.storage.session`.
   * @param options Storage key, replay caps and the write-error callback.
   */
  constructor(area: StorageArea, options: TabSessionsOptions = {}) {
    this.#area = area;
    this.#key = options.key ?? "browserRelay.tabs";
    this.#maxReplayEntries = options.maxReplayEntries ?? 100;
    this.#maxReplayBytes = options.maxReplayBytes ?? 262_144;
    this.#onWriteError = options.onWriteError ?? (() => {});
  }

  /**
   * Reads the persisted table. Malformed entries are dropped; a missing key gives an empty table.
   *
   * @returns Resolves once memory holds the persisted state.
   */
  async load(): Promise<void> {
    const stored = (await this.#area.get([this.#key]))[this.#key];
    if (!isJsonObject(stored)) return;
    const counter = stored.counter;
    this.#counter = typeof counter === "number" && Number.isInteger(counter) && counter > 0
      ? counter
      : 0;
    const tabs = Array.isArray(stored.tabs) ? stored.tabs.flatMap((t) => readRecord(t) ?? []) : [];
    const seenTabs = new Set<number>();
    const seenSessions = new Set<string>();
    this.#tabs = tabs.filter((t) => {
      if (seenTabs.has(t.tabId) || seenSessions.has(t.sessionId)) return false;
      seenTabs.add(t.tabId);
      seenSessions.add(t.sessionId);
      return true;
    });
    // A session id must never be handed out twice, even if the counter was lost.
    for (const tab of this.#tabs) {
      const n = Number.parseInt(tab.sessionId.replace(/^cb-tab-/, ""), 10);
      if (Number.isInteger(n) && n > this.#counter) this.#counter = n;
    }
  }

  /**
   * Checks the restored table against Chrome: `chrome.tabs.get` says whether the tab exists and
   * `chrome.debugger.getTargets()` whether this extension's debugger is still attached. No
   * command is sent to the tab, so a busy or frozen tab can never be dropped by mistake.
   * Closed tabs are removed from the table. Attached tabs the table does not know are
   * reported as orphans.
   *
   * @param debuggerPort `chrome.debugger`.
   * @param tabs `chrome.tabs`.
   * @param deadline Wraps each Chrome call with a deadline.
   * @returns The tabs kept, lost and closed, and the orphaned tab ids.
   */
  async verify(
    debuggerPort: DebuggerPort,
    tabs: TabsPort,
    deadline: <T>(promise: Promise<T>, what: string) => Promise<T>,
  ): Promise<TabVerification> {
    // Asked even with an empty table: an empty table may be a lost one, and a debugger this
    // extension still holds on a tab it no longer knows must be found (orphans).
    const targets: DebuggerTarget[] | undefined = await deadline(
      debuggerPort.getTargets(),
      "debugger.getTargets",
    ).catch(() => undefined);
    const known = new Set(this.#tabs.map((record) => record.tabId));
    const orphans = (targets ?? []).flatMap((target) =>
      target.type === "page" && target.attached && target.tabId !== undefined &&
        !known.has(target.tabId)
        ? [target.tabId]
        : []
    );
    if (this.#tabs.length === 0) return { kept: [], lost: [], closed: [], orphans };
    const checks = await Promise.all(this.#tabs.map(async (record) => {
      const tab: TabInfo | "gone" | "unknown" = await deadline(
        tabs.get(record.tabId),
        "tabs.get",
      ).catch((error: unknown) =>
        error instanceof Error && error.name === "TimeoutError" ? "unknown" : "gone"
      );
      return { record, tab };
    }));
    const kept: TabRecord[] = [];
    const lost: TabRecord[] = [];
    const closed: TabRecord[] = [];
    for (const { record, tab } of checks) {
      if (tab === "gone") {
        closed.push(record);
        continue;
      }
      const target = targets?.find((t) => t.tabId === record.tabId && t.type === "page");
      // Without getTargets() there is no evidence of a loss: keep the tab.
      if (targets !== undefined && (target === undefined || !target.attached)) lost.push(record);
      else kept.push(record);
    }
    for (const record of closed) this.remove(record.tabId);
    return { kept, lost, closed, orphans };
  }

  /** The session counter (the N of the last `cb-tab-N` handed out). */
  get counter(): number {
    return this.#counter;
  }

  /**
   * Hands out the next relay session id and persists the counter.
   *
   * @returns `cb-tab-<N>`.
   */
  nextSessionId(): string {
    this.#counter++;
    this.#persist();
    return `cb-tab-${this.#counter}`;
  }

  /**
   * Every tab, in attach order.
   *
   * @returns A snapshot array.
   */
  list(): readonly TabRecord[] {
    return [...this.#tabs];
  }

  /** The number of tabs. */
  get size(): number {
    return this.#tabs.length;
  }

  /**
   * @param tabId A Chrome tab id.
   * @returns The tab's record, if attached.
   */
  byTab(tabId: number): TabRecord | undefined {
    return this.#tabs.find((t) => t.tabId === tabId);
  }

  /**
   * @param sessionId A relay session id.
   * @returns The record with that relay session id.
   */
  bySession(sessionId: string): TabRecord | undefined {
    return this.#tabs.find((t) => t.sessionId === sessionId);
  }

  /**
   * @param targetId A top-level targetId.
   * @returns The record with that targetId.
   */
  byTarget(targetId: string): TabRecord | undefined {
    return this.#tabs.find((t) => t.targetId === targetId);
  }

  /**
   * @param sessionId Chrome's child session id.
   * @returns The owning record and the child.
   */
  byChild(
    sessionId: string,
  ): { readonly record: TabRecord; readonly child: ChildSession } | undefined {
    for (const record of this.#tabs) {
      const child = record.children.find((c) => c.sessionId === sessionId);
      if (child) return { record, child };
    }
    return undefined;
  }

  /**
   * @param targetId A child's targetId.
   * @returns The owning record and the child.
   */
  byChildTarget(
    targetId: string,
  ): { readonly record: TabRecord; readonly child: ChildSession } | undefined {
    for (const record of this.#tabs) {
      const child = record.children.find((c) => c.targetId === targetId);
      if (child) return { record, child };
    }
    return undefined;
  }

  /**
   * Adds a tab at the end of the attach order.
   *
   * @param record The new record.
   * @throws {TypeError} If the tab or the session id is already in the table.
   */
  add(record: TabRecord): void {
    if (this.byTab(record.tabId) || this.bySession(record.sessionId)) {
      throw new TypeError(
        `Cannot add tab ${record.tabId} as it is already attached: session is "${record.sessionId}"`,
      );
    }
    this.#tabs = [...this.#tabs, record];
    this.#persist();
  }

  /**
   * Changes fields of a tab's record.
   *
   * @param tabId The tab.
   * @param patch The fields to change.
   * @returns The new record, or undefined when the tab is not in the table.
   */
  update(
    tabId: number,
    patch: Partial<Omit<TabRecord, "tabId" | "sessionId">>,
  ): TabRecord | undefined {
    const index = this.#tabs.findIndex((t) => t.tabId === tabId);
    const current = this.#tabs[index];
    if (current === undefined) return undefined;
    const next: TabRecord = { ...current, ...patch };
    this.#tabs = this.#tabs.with(index, next);
    this.#persist();
    return next;
  }

  /**
   * Removes a tab.
   *
   * @param tabId The tab.
   * @returns The removed record.
   */
  remove(tabId: number): TabRecord | undefined {
    const record = this.byTab(tabId);
    if (record === undefined) return undefined;
    this.#tabs = this.#tabs.filter((t) => t !== record);
    this.#persist();
    return record;
  }

  /**
   * Moves a record to a new tab id (`chrome.tabs.onReplaced`), keeping its session id.
   *
   * @param removedTabId The old tab id.
   * @param addedTabId The new tab id.
   * @returns The moved record, or undefined when the old tab was not attached.
   */
  migrate(removedTabId: number, addedTabId: number): TabRecord | undefined {
    const index = this.#tabs.findIndex((t) => t.tabId === removedTabId);
    const current = this.#tabs[index];
    if (current === undefined || this.byTab(addedTabId)) return undefined;
    const next: TabRecord = { ...current, tabId: addedTabId };
    this.#tabs = this.#tabs.with(index, next);
    this.#persist();
    return next;
  }

  /**
   * Records a child session under a tab; an existing child with the same id is replaced.
   *
   * @param tabId The owning tab.
   * @param child The child.
   */
  addChild(tabId: number, child: ChildSession): void {
    const record = this.byTab(tabId);
    if (!record) return;
    this.update(tabId, {
      children: [...record.children.filter((c) => c.sessionId !== child.sessionId), child],
    });
  }

  /**
   * Forgets a child session and every child announced on it.
   *
   * @param sessionId Chrome's child session id.
   * @returns The removed children, the given one first.
   */
  removeChild(sessionId: string): ChildSession[] {
    const found = this.byChild(sessionId);
    if (!found) return [];
    const removed: ChildSession[] = [];
    const drop = new Set([sessionId]);
    for (const child of found.record.children) {
      if (drop.has(child.sessionId) || drop.has(child.parentSessionId)) {
        drop.add(child.sessionId);
        removed.push(child);
      }
    }
    this.update(found.record.tabId, {
      children: found.record.children.filter((c) => !drop.has(c.sessionId)),
    });
    return removed;
  }

  /**
   * Notes a command that succeeded on a tab's top-level session, so that a re-attach can replay
   * the session state it set (§5.4). Disables and removals drop what they undo.
   *
   * @param tabId The tab.
   * @param method The CDP method.
   * @param params The params the client sent.
   * @param result Chrome's result.
   */
  noteCommand(
    tabId: number,
    method: string,
    params: JsonObject | undefined,
    result: JsonObject,
  ): void {
    const record = this.byTab(tabId);
    if (!record) return;
    const drop = this.#undoneKeys(method, params);
    if (drop.length > 0) {
      const replay = record.replay.filter((e) => !drop.includes(e.key));
      if (replay.length !== record.replay.length) this.update(tabId, { replay });
      return;
    }
    if (!isSessionStateMethod(method)) return;
    const entry = this.#replayEntry(method, params, result);
    const replay = [...record.replay.filter((e) => e.key !== entry.key), entry];
    const bytes = replay.reduce((sum, e) => sum + byteLength(e.params), 0);
    if (replay.length > this.#maxReplayEntries || bytes > this.#maxReplayBytes) {
      this.update(tabId, { replayOverflow: true });
      return;
    }
    this.update(tabId, { replay });
  }

  /** Replay keys a command undoes; the shared empty list for most commands (no allocation). */
  #undoneKeys(method: string, params: JsonObject | undefined): readonly string[] {
    if (method.endsWith(".disable")) return [method.replace(/\.disable$/, ".enable")];
    if (method === "Page.removeScriptToEvaluateOnNewDocument") {
      const id = params?.identifier;
      return typeof id === "string"
        ? [`Page.addScriptToEvaluateOnNewDocument#${id}`]
        : NOTHING_UNDONE;
    }
    if (method === "Runtime.removeBinding") {
      const name = params?.name;
      return typeof name === "string" ? [`Runtime.addBinding#${name}`] : NOTHING_UNDONE;
    }
    return DISABLE_CLEARS[method] ?? NOTHING_UNDONE;
  }

  #replayEntry(method: string, params: JsonObject | undefined, result: JsonObject): ReplayEntry {
    let key = method;
    let clientIdentifier: string | undefined;
    if (method === "Page.addScriptToEvaluateOnNewDocument") {
      const id = result.identifier;
      clientIdentifier = typeof id === "string" ? id : String(this.#counter);
      key = `${method}#${clientIdentifier}`;
    } else if (method === "Runtime.addBinding" && typeof params?.name === "string") {
      key = `${method}#${params.name}`;
    }
    const entry: { key: string; method: string; params?: JsonObject; clientIdentifier?: string } = {
      key,
      method,
    };
    if (params !== undefined) entry.params = params;
    if (clientIdentifier !== undefined) entry.clientIdentifier = clientIdentifier;
    return entry;
  }

  /**
   * Resolves once every write scheduled so far has reached storage.
   *
   * @returns The pending write, or a resolved promise.
   */
  flush(): Promise<void> {
    return this.#queued ?? this.#chain;
  }

  #persist(): void {
    if (this.#queued) return;
    const write = this.#chain.then(async () => {
      // Taken now, not when scheduled: a coalesced write stores the latest table.
      this.#queued = undefined;
      const value: Persisted = { version: 1, counter: this.#counter, tabs: this.#tabs };
      try {
        await this.#area.set({ [this.#key]: value });
      } catch (error) {
        this.#onWriteError(error);
      }
    });
    this.#queued = write;
    this.#chain = write;
  }
}
