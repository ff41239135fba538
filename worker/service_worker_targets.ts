/**
 * Service workers of shared origins as top-level targets (issue 13).
 *
 * @module
 */

import type { CdpCall } from "../codec/extension_frame.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import type { JsonObject } from "../codec/json.ts";
import type { Debuggee, DebuggerPort } from "./ports.ts";

/** Options of {@linkcode ServiceWorkerTargets}. */
export interface ServiceWorkerTargetsOptions {
  /** `chrome.debugger`. */
  readonly debugger: DebuggerPort;
  /** URLs of the shared tabs' top-level documents. */
  readonly sharedUrls: () => readonly string[];
  /** Sends one event to the relay; `false` when the connection is not ready. */
  readonly sendEvent: (cdp: CdpCall) => boolean;
  /** Puts a deadline on a `chrome.*` call the extension makes for itself. */
  readonly deadline: <T>(promise: Promise<T>, what: string) => Promise<T>;
}

interface Entry {
  readonly sessionId: string;
  readonly targetId: string;
  readonly origin: string;
  readonly targetInfo: JsonObject;
  announced: boolean;
  /** Chrome sent `Inspector.workerScriptLoaded` (once, right after our attach). */
  scriptLoaded: boolean;
}

/**
 * Chrome's event that a worker's script has loaded. It comes once per debugger session, right
 * after the attach; Playwright (Chromium 143+) waits for it before it evaluates in a worker.
 */
const SCRIPT_LOADED = "Inspector.workerScriptLoaded";

/** The relay session id of a service worker target: stable across worker restarts. */
function serviceWorkerSessionId(targetId: string): string {
  return `cb-sw-${targetId}`;
}

/** The origin of an `http(s)` URL, else `undefined` (no service worker lives elsewhere). */
function webOrigin(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Attaches the service workers whose origin is the origin of a shared tab, and announces each
 * as a top-level `service_worker` target, as Chrome's own endpoint does for browser-level
 * auto-attach. A service worker is its own target: a tab's debugger session cannot reach it
 * for a client (`Target.attachToTarget` and `Target.setDiscoverTargets` on a tab session answer
 * "Not allowed"), but `chrome.debugger.attach({targetId})` can, and `chrome.debugger.getTargets()`
 * lists it as `type: "worker"` with its script URL.
 *
 * Consent follows the tabs: a worker is attached only while a shared tab shows its origin and
 * is detached (and announced detached) when the last one stops being shared or navigates away.
 * Workers of other origins are never attached, and a `type: "worker"` target that turns out
 * not to be a service worker (a shared worker) is detached and ignored.
 *
 * Chrome gives no event when a service worker starts, so {@linkcode ServiceWorkerTargets.sync}
 * runs whenever the shared tabs change and when a tab's own session reports a service worker
 * (the page auto-attach every CDP client turns on).
 *
 * @example
 * ```ts ignore
 * const workers = new ServiceWorkerTargets({ debugger, sharedUrls, sendEvent, deadline });
 * await workers.sync();
 * workers.debuggee("cb-sw-ABC"); // { targetId: "ABC" }
 * ```
 */
export class ServiceWorkerTargets {
  readonly #options: ServiceWorkerTargetsOptions;
  /** targetId → attached service worker. */
  readonly #entries = new Map<string, Entry>();
  readonly #bySession = new Map<string, Entry>();
  /** `type: "worker"` targets that are not service workers. */
  readonly #ignored = new Set<string>();
  /** Detaches the relay has not received yet (sent on the next ready). */
  #pendingDetaches: CdpCall[] = [];
  /** targetIds being attached → whether their script-loaded event came already. */
  readonly #attaching = new Map<string, boolean>();
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  /**
   * Creates the table; it attaches nothing until {@linkcode ServiceWorkerTargets.sync}.
   *
   * @param options Ports and the relay link.
   */
  constructor(options: ServiceWorkerTargetsOptions) {
    this.#options = options;
  }

  /** Number of attached service workers. */
  get size(): number {
    return this.#entries.size;
  }

  /** The attached service workers' target infos, in attach order. */
  targetInfos(): JsonObject[] {
    return [...this.#entries.values()].map((entry) => entry.targetInfo);
  }

  /**
   * The debuggee of a service worker's relay session, if it is one.
   *
   * @param sessionId A relay session id.
   * @returns `{targetId}`, or `undefined`.
   */
  debuggee(sessionId: string): Debuggee | undefined {
    const entry = this.#bySession.get(sessionId);
    return entry === undefined ? undefined : { targetId: entry.targetId };
  }

  /**
   * Brings the attached set in line with the shared tabs' origins. Single-flight: a call while
   * one runs makes it run once more afterwards, and both callers wait for that.
   *
   * @returns Resolves when the set is in line; Chrome's failures are absorbed per worker.
   */
  sync(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    const run = async () => {
      try {
        do {
          this.#again = false;
          await this.#syncOnce();
        } while (this.#again && !this.#closed);
      } finally {
        this.#running = undefined;
      }
    };
    this.#running = run();
    return this.#running;
  }

  async #syncOnce(): Promise<void> {
    const origins = this.#origins();
    for (const entry of [...this.#entries.values()]) {
      if (!origins.has(entry.origin)) await this.#drop(entry, "not_shared", true);
    }
    if (origins.size === 0) return;
    let targets;
    try {
      targets = await this.#options.deadline(
        this.#options.debugger.getTargets(),
        "debugger.getTargets",
      );
    } catch {
      return;
    }
    const live = new Set(targets.map((target) => target.id));
    for (const id of this.#ignored) if (!live.has(id)) this.#ignored.delete(id);
    for (const entry of [...this.#entries.values()]) {
      if (!live.has(entry.targetId)) await this.#drop(entry, "target_closed", false);
    }
    for (const target of targets) {
      if (this.#closed) return;
      if (target.type !== "worker" || target.tabId !== undefined) continue;
      if (this.#entries.has(target.id) || this.#ignored.has(target.id)) continue;
      const origin = webOrigin(target.url);
      if (origin === undefined || !origins.has(origin)) continue;
      await this.#attach(target.id, origin);
    }
  }

  async #attach(targetId: string, origin: string): Promise<void> {
    this.#attaching.set(targetId, false);
    try {
      await this.#attachOnce(targetId, origin);
    } finally {
      this.#attaching.delete(targetId);
    }
  }

  async #attachOnce(targetId: string, origin: string): Promise<void> {
    const port = this.#options.debugger;
    const attach = () =>
      this.#options.deadline(port.attachTarget(targetId, "1.3"), "debugger.attach");
    try {
      await attach();
    } catch {
      // A worker restart leaves our own earlier attach in place ("Another debugger is already
      // attached"): release it once and try again; any other refusal skips the worker.
      try {
        await this.#options.deadline(port.detachTarget(targetId), "debugger.detach");
        await attach();
      } catch {
        return;
      }
    }
    let info: JsonObject | undefined;
    try {
      const reply = await this.#options.deadline(
        port.sendCommand({ targetId }, "Target.getTargetInfo"),
        "Target.getTargetInfo",
      );
      info = isJsonObject(reply.targetInfo) ? reply.targetInfo : undefined;
    } catch {
      info = undefined;
    }
    const isServiceWorker = info !== undefined && info.type === "service_worker";
    // Consent may have changed while Chrome answered: check again before announcing.
    if (!isServiceWorker || this.#closed || !this.#origins().has(origin)) {
      if (!isServiceWorker) this.#ignored.add(targetId);
      await this.#release(targetId);
      return;
    }
    const entry: Entry = {
      sessionId: serviceWorkerSessionId(targetId),
      targetId,
      origin,
      targetInfo: { ...info, targetId, attached: true },
      announced: false,
      scriptLoaded: this.#attaching.get(targetId) === true,
    };
    this.#entries.set(targetId, entry);
    this.#bySession.set(entry.sessionId, entry);
    this.#announce(entry);
  }

  /**
   * Forwards an event of an attached service worker under its relay session.
   *
   * @param source The debuggee that emitted it.
   * @param method The CDP event.
   * @param params Its params.
   * @returns Whether the event belonged to a service worker.
   */
  handleEvent(source: Debuggee, method: string, params?: JsonObject): boolean {
    if (source.targetId === undefined) return false;
    const entry = this.#entries.get(source.targetId);
    if (entry === undefined) {
      // Before the announce: remember the one script-loaded event, drop the rest (nobody can
      // hold the session yet).
      if (!this.#attaching.has(source.targetId)) return false;
      if (method === SCRIPT_LOADED && source.sessionId === undefined) {
        this.#attaching.set(source.targetId, true);
      }
      return true;
    }
    if (method === SCRIPT_LOADED && source.sessionId === undefined) entry.scriptLoaded = true;
    const sessionId = source.sessionId ?? entry.sessionId;
    this.#options.sendEvent(
      params === undefined ? { method, sessionId } : { method, params, sessionId },
    );
    return true;
  }

  /**
   * Handles Chrome ending a service worker's session (the worker's version went away, or the
   * user cancelled debugging): the target is announced detached and forgotten.
   *
   * @param source The debuggee.
   * @param reason Chrome's reason.
   * @returns Whether the debuggee was a service worker of this table.
   */
  handleDetach(source: Debuggee, reason: string): boolean {
    if (source.targetId === undefined || source.sessionId !== undefined) return false;
    const entry = this.#entries.get(source.targetId);
    if (entry === undefined) return false;
    this.#forget(entry, reason);
    return true;
  }

  /** The connection is ready: announces every attached service worker not announced on it. */
  onReady(): void {
    const pending = this.#pendingDetaches;
    this.#pendingDetaches = [];
    for (const event of pending) {
      if (!this.#options.sendEvent(event)) this.#pendingDetaches.push(event);
    }
    for (const entry of this.#entries.values()) this.#announce(entry);
  }

  /** The connection closed: the next ready announces every service worker again. */
  onClosed(): void {
    for (const entry of this.#entries.values()) entry.announced = false;
  }

  /**
   * Stops all work. Idempotent. Chrome's sessions are kept, as a tab's are: they belong to the
   * extension, and the next worker's first sync adopts them again.
   */
  close(): void {
    this.#closed = true;
  }

  #origins(): Set<string> {
    const origins = new Set<string>();
    for (const url of this.#options.sharedUrls()) {
      const origin = webOrigin(url);
      if (origin !== undefined) origins.add(origin);
    }
    return origins;
  }

  #announce(entry: Entry): void {
    if (entry.announced) return;
    entry.announced = this.#options.sendEvent({
      method: "Target.attachedToTarget",
      params: {
        sessionId: entry.sessionId,
        targetInfo: entry.targetInfo,
        waitingForDebugger: false,
      },
    });
    // The relay hands it to every client that attaches later, as Chrome does for each new
    // session; after a relay restart it must hear it again.
    if (entry.announced && entry.scriptLoaded) {
      this.#options.sendEvent({ method: SCRIPT_LOADED, params: {}, sessionId: entry.sessionId });
    }
  }

  /** Forgets the entry, announces the detach, and releases Chrome's session when asked. */
  async #drop(entry: Entry, reason: string, release: boolean): Promise<void> {
    this.#forget(entry, reason);
    if (release) await this.#release(entry.targetId);
  }

  #forget(entry: Entry, reason: string): void {
    if (this.#entries.get(entry.targetId) !== entry) return;
    this.#entries.delete(entry.targetId);
    this.#bySession.delete(entry.sessionId);
    // Sent even when the attach was never announced on this connection: the relay ignores a
    // detach of a session it does not know, and one it announced before must leave its table.
    const event: CdpCall = {
      method: "Target.detachedFromTarget",
      params: {
        sessionId: entry.sessionId,
        targetId: entry.targetId,
        ...(reason === "" ? {} : { reason }),
      },
    };
    if (!this.#options.sendEvent(event)) this.#pendingDetaches.push(event);
  }

  async #release(targetId: string): Promise<void> {
    try {
      await this.#options.deadline(
        this.#options.debugger.detachTarget(targetId),
        "debugger.detach",
      );
    } catch {
      // Already gone: nothing to release.
    }
  }
}
