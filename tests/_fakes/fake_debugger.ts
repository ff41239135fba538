/**
 * In-memory `chrome.debugger` for unit tests: an attached set, scripted `sendCommand` replies
 * (including replies that never come), `emitEvent`/`emitDetach`, and `getTargets()` built from
 * the tabs of a {@linkcode FakeTabs}.
 *
 * Semantics modelled on Chrome:
 * - `attach` fails on restricted URLs, on missing tabs and when already attached;
 * - `detach` by the extension does not fire `onDetach` (Chrome fires it only when the browser
 *   ends the session);
 * - `sendCommand` to a tab that is not attached rejects;
 * - `getTargets()` lists one page target per tab, `attached` true when this extension or
 *   another client (DevTools, another extension: {@linkcode FakeDebugger.attachElsewhere}) is
 *   attached, as in Chrome, where `attached` does not say by whom;
 * - `detach` of a tab only another client holds rejects, as for a tab nobody holds.
 * - domains enabled with `X.enable` on a tab's own session stay enabled until `X.disable` or
 *   the end of that debugger session (`isEnabled`).
 *
 * @module
 */

import type { JsonObject } from "../../codec/json.ts";
import type { Debuggee, DebuggerPort, DebuggerTarget } from "../../worker/ports.ts";
import { FakeEvent, type FakeTabs } from "./fake_tabs.ts";

type EventListener = (source: Debuggee, method: string, params?: JsonObject) => void;
type DetachListener = (source: Debuggee, reason: string) => void;

/** A scripted reply: return a result, throw for an error, or return a promise. */
export type FakeReply = (
  debuggee: Debuggee,
  params: JsonObject | undefined,
) => JsonObject | Promise<JsonObject>;

/** One `sendCommand` call, in call order. */
export interface FakeDebuggerCall {
  readonly debuggee: Debuggee;
  readonly method: string;
  readonly params?: JsonObject;
}

/** Scripted outcome of the next `attach` calls for a tab. */
export type FakeAttachOutcome = "fail" | "hang";

const RESTRICTED = /^(chrome|chrome-extension|edge|devtools|chrome-untrusted):/;

/**
 * In-memory {@linkcode DebuggerPort}.
 *
 * @example
 * ```ts
 * const tabs = new FakeTabs();
 * const dbg = new FakeDebugger(tabs);
 * const tab = tabs.add({ url: "https://example.com/" });
 * await dbg.attach({ tabId: tab.id }, "1.3");
 * dbg.reply("Runtime.evaluate", () => ({ result: { type: "number", value: 2 } }));
 * ```
 */
export class FakeDebugger implements DebuggerPort {
  readonly #tabs: FakeTabs;
  readonly #attached = new Set<number>();
  readonly #elsewhere = new Set<number>();
  readonly #replies = new Map<string, FakeReply>();
  readonly #attachScript = new Map<number, FakeAttachOutcome[]>();
  readonly #targetIds = new Map<number, string>();
  readonly #openerIds = new Map<number, string>();
  /** Tab id → domains enabled on its current top-level debugger session. */
  readonly #enabled = new Map<number, Set<string>>();
  /** Every `sendCommand` call, in call order. */
  readonly calls: FakeDebuggerCall[] = [];
  readonly onEvent: FakeEvent<EventListener> = new FakeEvent();
  readonly onDetach: FakeEvent<DetachListener> = new FakeEvent();

  constructor(tabs: FakeTabs) {
    this.#tabs = tabs;
  }

  /** The targetId Chrome reports for a tab (default `TARGET-<tabId>`). */
  targetIdOf(tabId: number): string {
    return this.#targetIds.get(tabId) ?? `TARGET-${tabId}`;
  }

  /** Makes Chrome report a different targetId for a tab (e.g. after a renderer swap). */
  setTargetId(tabId: number, targetId: string): void {
    this.#targetIds.set(tabId, targetId);
  }

  /**
   * Makes Chrome report `openerId` for a tab (default: the targetId of its `openerTabId`, none
   * without one), e.g. a popup whose `openerTabId` names the wrong tab.
   */
  setOpenerId(tabId: number, openerId: string): void {
    this.#openerIds.set(tabId, openerId);
  }

  /** True while this extension's debugger is attached to the tab. */
  isAttached(tabId: number): boolean {
    return this.#attached.has(tabId) && this.#tabs.has(tabId);
  }

  /** Attached tab ids, in attach order (a closed tab's session ends with it). */
  attachedTabs(): number[] {
    return [...this.#attached].filter((tabId) => this.#tabs.has(tabId));
  }

  /** Another client (DevTools, another extension) attaches to the tab. */
  attachElsewhere(tabId: number): void {
    this.#elsewhere.add(tabId);
  }

  /**
   * Whether `domain` is enabled on the tab's current top-level debugger session: an
   * `<domain>.enable` was accepted since the attach and no `<domain>.disable` since.
   */
  isEnabled(tabId: number, domain: string): boolean {
    return this.#enabled.get(tabId)?.has(domain) === true;
  }

  /** Scripts replies for a method; replaces any earlier script. */
  reply(method: string, reply: FakeReply): void {
    this.#replies.set(method, reply);
  }

  /** Makes every later call of `method` hang forever. */
  hang(method: string): void {
    this.#replies.set(method, () => new Promise<JsonObject>(() => {}));
  }

  /** Scripts the outcome of the next `attach` calls for a tab, one entry per call. */
  scriptAttach(tabId: number, ...outcomes: FakeAttachOutcome[]): void {
    this.#attachScript.set(tabId, [...(this.#attachScript.get(tabId) ?? []), ...outcomes]);
  }

  attach(target: { readonly tabId: number }, requiredVersion: string): Promise<void> {
    const { tabId } = target;
    const scripted = this.#attachScript.get(tabId)?.shift();
    if (scripted === "hang") return new Promise<void>(() => {});
    if (scripted === "fail") {
      return Promise.reject(new Error(`Cannot attach to the tab with id: ${tabId}.`));
    }
    if (requiredVersion !== "1.3") return Promise.reject(new Error("Unsupported version"));
    const tab = this.#tabs.peek(tabId);
    if (!tab) return Promise.reject(new Error(`No tab with given id ${tabId}.`));
    if (RESTRICTED.test(tab.url ?? "")) {
      return Promise.reject(new Error(`Cannot access a ${tab.url} URL`));
    }
    if (this.#attached.has(tabId)) {
      return Promise.reject(
        new Error(`Another debugger is already attached to the tab with id: ${tabId}.`),
      );
    }
    this.#attached.add(tabId);
    this.#enabled.set(tabId, new Set());
    return Promise.resolve();
  }

  /** Targets that are not tabs (workers), by id, as `getTargets()` lists them. */
  readonly #workers = new Map<string, { type: string; url: string; targetType: string }>();
  readonly #attachedTargets = new Set<string>();

  /**
   * Adds a target that is not a tab: `getTargets()` lists it as `type: "worker"`, and
   * `Target.getTargetInfo` on it reports `targetType` (default `service_worker`).
   */
  addWorker(targetId: string, url: string, targetType = "service_worker"): void {
    this.#workers.set(targetId, { type: "worker", url, targetType });
  }

  /** Removes a worker target (its version went away); a session on it is simply dropped. */
  removeWorker(targetId: string): void {
    this.#workers.delete(targetId);
    this.#attachedTargets.delete(targetId);
  }

  /** True while this extension's debugger is attached to the worker target. */
  isTargetAttached(targetId: string): boolean {
    return this.#attachedTargets.has(targetId);
  }

  attachTarget(targetId: string, _requiredVersion: string): Promise<void> {
    if (!this.#workers.has(targetId)) {
      return Promise.reject(new Error(`No target with given id found`));
    }
    if (this.#attachedTargets.has(targetId)) {
      return Promise.reject(
        new Error(`Another debugger is already attached to the target with id: ${targetId}.`),
      );
    }
    this.#attachedTargets.add(targetId);
    return Promise.resolve();
  }

  detachTarget(targetId: string): Promise<void> {
    if (!this.#attachedTargets.delete(targetId)) {
      return Promise.reject(
        new Error(`Debugger is not attached to the target with id: ${targetId}.`),
      );
    }
    return Promise.resolve();
  }

  /** Chrome ends a worker's session: drops the attachment, then fires `onDetach`. */
  emitTargetDetach(targetId: string, reason: string): void {
    this.#attachedTargets.delete(targetId);
    this.onDetach.emit({ targetId }, reason);
  }

  detach(target: { readonly tabId: number }): Promise<void> {
    this.#enabled.delete(target.tabId);
    if (!this.#attached.delete(target.tabId)) {
      return Promise.reject(
        new Error(`Debugger is not attached to the tab with id: ${target.tabId}.`),
      );
    }
    return Promise.resolve();
  }

  sendCommand(target: Debuggee, method: string, params?: JsonObject): Promise<JsonObject> {
    this.calls.push(
      params === undefined ? { debuggee: target, method } : {
        debuggee: target,
        method,
        params,
      },
    );
    const worker = target.targetId === undefined ? undefined : this.#workers.get(target.targetId);
    if (target.tabId === undefined && target.targetId !== undefined) {
      if (worker === undefined || !this.#attachedTargets.has(target.targetId)) {
        return Promise.reject(
          new Error(`Debugger is not attached to the target with id: ${target.targetId}.`),
        );
      }
      const scripted = this.#replies.get(method);
      if (scripted) {
        try {
          return Promise.resolve(scripted(target, params));
        } catch (error) {
          return Promise.reject(error);
        }
      }
      if (method === "Target.getTargetInfo") {
        return Promise.resolve({
          targetInfo: {
            targetId: target.targetId,
            type: worker.targetType,
            title: `Service Worker ${worker.url}`,
            url: worker.url,
            attached: true,
            canAccessOpener: false,
            browserContextId: "CONTEXT-1",
          },
        });
      }
      return Promise.resolve({});
    }
    const tabId = target.tabId;
    if (tabId === undefined || !this.#attached.has(tabId)) {
      return Promise.reject(
        new Error(`Debugger is not attached to the tab with id: ${tabId}.`),
      );
    }
    const scripted = this.#replies.get(method);
    if (scripted) {
      try {
        const result = scripted(target, params);
        this.#noteDomain(target, method);
        return Promise.resolve(result);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    this.#noteDomain(target, method);
    if (method === "Target.getTargetInfo" && target.sessionId === undefined) {
      return Promise.resolve({ targetInfo: this.#targetInfo(tabId) });
    }
    return Promise.resolve({});
  }

  getTargets(): Promise<DebuggerTarget[]> {
    return Promise.resolve([
      ...this.#tabs.all().flatMap((tab) =>
        tab.id === undefined ? [] : [{
          type: "page",
          id: this.targetIdOf(tab.id),
          tabId: tab.id,
          attached: this.#attached.has(tab.id) || this.#elsewhere.has(tab.id),
          title: tab.title ?? "",
          url: tab.url ?? "",
        }]
      ),
      ...[...this.#workers].map(([id, worker]) => ({
        type: worker.type,
        id,
        attached: this.#attachedTargets.has(id),
        title: `Service Worker ${worker.url}`,
        url: worker.url,
      })),
    ]);
  }

  /** Books `X.enable` / `X.disable` accepted on a tab's own session. */
  #noteDomain(target: Debuggee, method: string): void {
    if (target.sessionId !== undefined || target.tabId === undefined) return;
    const domains = this.#enabled.get(target.tabId);
    const [domain, command] = method.split(".");
    if (domains === undefined || domain === undefined) return;
    if (command === "enable") domains.add(domain);
    else if (command === "disable") domains.delete(domain);
  }

  #targetInfo(tabId: number): JsonObject {
    const tab = this.#tabs.peek(tabId);
    const opener = tab?.openerTabId;
    const openerId = this.#openerIds.get(tabId) ??
      (opener === undefined ? undefined : this.targetIdOf(opener));
    return {
      targetId: this.targetIdOf(tabId),
      type: "page",
      title: tab?.title ?? "",
      url: tab?.url ?? "",
      attached: true,
      ...(openerId === undefined ? {} : { openerId }),
      canAccessOpener: false,
      browserContextId: "CONTEXT-1",
    };
  }

  /** Fires `onEvent` as Chrome would for an attached tab. */
  emitEvent(source: Debuggee, method: string, params?: JsonObject): void {
    this.onEvent.emit(source, method, params);
  }

  /** Chrome ends the session: drops the attachment, then fires `onDetach`. */
  emitDetach(tabId: number, reason: string): void {
    this.#attached.delete(tabId);
    this.#enabled.delete(tabId);
    this.onDetach.emit({ tabId }, reason);
  }

  /** Drops an attachment silently (a debugger lost while the worker was stopped). */
  lose(tabId: number): void {
    this.#attached.delete(tabId);
    this.#enabled.delete(tabId);
  }

  /** Calls whose method matches, for order assertions. */
  callsOf(method: string): FakeDebuggerCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Forgets attachments, scripts, calls and listeners. */
  reset(): void {
    this.#attached.clear();
    this.#elsewhere.clear();
    this.#workers.clear();
    this.#attachedTargets.clear();
    this.#replies.clear();
    this.#attachScript.clear();
    this.#targetIds.clear();
    this.#openerIds.clear();
    this.#enabled.clear();
    this.calls.length = 0;
    this.onEvent.reset();
    this.onDetach.reset();
  }
}
