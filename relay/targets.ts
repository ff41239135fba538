/**
 * The relay's cache of top-level targets and the child sessions linked to them (protocol §6.5).
 *
 * @module
 */

import type { JsonObject } from "../codec/json.ts";
import { str } from "./json_fields.ts";

/** A CDP `TargetInfo` as cached by the relay: always has the fields Playwright needs. */
export type TargetInfo = JsonObject & {
  readonly targetId: string;
  readonly type: string;
  readonly title: string;
  readonly url: string;
  readonly attached: boolean;
  readonly canAccessOpener: boolean;
  readonly browserContextId: string;
};

/** One cached top-level target, keyed by its relay session id. */
export interface TargetEntry {
  /** Relay session id, e.g. `cb-tab-1`. */
  readonly sessionId: string;
  /** CDP target id. */
  readonly targetId: string;
  /** Cached target info with defaults filled in. */
  readonly targetInfo: TargetInfo;
}

/** Creates a 32-digit upper-case hex id, the shape of Chrome's target and context ids. */
export function randomHexId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex.toUpperCase();
}

/** Fixed per process: Playwright detaches a target that has no `browserContextId`. */
const PLACEHOLDER_CONTEXT_ID: string = randomHexId();

/**
 * Top-level targets keyed by relay session id, in announce order, plus the child → top-level
 * session links learned from child attach events.
 *
 * @example
 * ```ts
 * import { TargetRegistry } from "./targets.ts";
 *
 * const targets = new TargetRegistry();
 * targets.set("cb-tab-1", { targetId: "T1", url: "https://example.com/" });
 * targets.get("cb-tab-1")?.targetInfo.type; // "page"
 * ```
 */
export class TargetRegistry {
  readonly #entries = new Map<string, TargetEntry>();
  readonly #children = new Map<string, string>();
  readonly #maxChildren: number;

  /**
   * Creates an empty registry.
   *
   * @param maxChildren Cap on remembered child sessions. Children may be linked before their
   *   parent is (re-)announced, so unknown parents are accepted; the cap keeps a misbehaving
   *   extension from growing the table without bound by evicting the oldest link.
   */
  constructor(maxChildren = 10_000) {
    this.#maxChildren = maxChildren;
  }

  /** Number of cached top-level targets. */
  get size(): number {
    return this.#entries.size;
  }

  /** The cached top-level targets in announce order. */
  list(): TargetEntry[] {
    return [...this.#entries.values()];
  }

  /** The entry of a top-level session. */
  get(sessionId: string): TargetEntry | undefined {
    return this.#entries.get(sessionId);
  }

  /** Every entry whose target has this id. */
  byTargetId(targetId: string): TargetEntry[] {
    return this.list().filter((entry) => entry.targetId === targetId);
  }

  /**
   * Fills in missing `targetInfo` fields (§6.5). `browserContextId` comes from the previous entry
   * for the target, else from any cached target, else from a fixed per-process placeholder.
   */
  fill(raw: JsonObject, previous?: TargetInfo): TargetInfo {
    const targetId = str(raw.targetId) ?? previous?.targetId ?? "";
    const contextId = str(raw.browserContextId) ?? previous?.browserContextId ??
      this.byTargetId(targetId)[0]?.targetInfo.browserContextId ??
      this.list()[0]?.targetInfo.browserContextId ?? PLACEHOLDER_CONTEXT_ID;
    return {
      type: "page",
      title: "",
      url: "",
      canAccessOpener: false,
      ...previous,
      ...raw,
      targetId,
      attached: true,
      browserContextId: contextId,
    };
  }

  /**
   * Stores a top-level target under `sessionId`, replacing the session's previous entry.
   *
   * @returns The stored entry.
   */
  set(sessionId: string, raw: JsonObject): TargetEntry {
    const previous = this.#entries.get(sessionId);
    const sameTarget = previous !== undefined && previous.targetId === raw.targetId;
    const targetInfo = this.fill(raw, sameTarget ? previous.targetInfo : undefined);
    const entry: TargetEntry = { sessionId, targetId: targetInfo.targetId, targetInfo };
    this.#entries.set(sessionId, entry);
    return entry;
  }

  /**
   * Merges a `Target.targetInfoChanged` into every entry with that target id.
   *
   * @returns The updated entries.
   */
  merge(raw: JsonObject): TargetEntry[] {
    const targetId = str(raw.targetId);
    if (targetId === undefined) return [];
    const updated: TargetEntry[] = [];
    for (const entry of this.byTargetId(targetId)) {
      const targetInfo = this.fill(raw, entry.targetInfo);
      const next = { ...entry, targetInfo };
      this.#entries.set(entry.sessionId, next);
      updated.push(next);
    }
    return updated;
  }

  /** Removes a top-level session and its children. */
  delete(sessionId: string): TargetEntry | undefined {
    const entry = this.#entries.get(sessionId);
    this.#entries.delete(sessionId);
    for (const [child, parent] of this.#children) {
      if (parent === sessionId) this.#children.delete(child);
    }
    return entry;
  }

  /** Removes every entry with this target id. */
  deleteTarget(targetId: string): TargetEntry[] {
    const removed = this.byTargetId(targetId);
    for (const entry of removed) this.delete(entry.sessionId);
    return removed;
  }

  /** Forgets every target and child session. */
  clear(): void {
    this.#entries.clear();
    this.#children.clear();
  }

  /** Links a child session to the top-level session that `parentSessionId` belongs to. */
  addChild(childSessionId: string, parentSessionId: string): void {
    const topLevel = this.topLevelOf(parentSessionId) ?? parentSessionId;
    this.#children.delete(childSessionId); // re-insert at the end: eviction is oldest first
    this.#children.set(childSessionId, topLevel);
    if (this.#children.size > this.#maxChildren) {
      const oldest = this.#children.keys().next().value;
      if (oldest !== undefined) this.#children.delete(oldest);
    }
  }

  /** Forgets a child session. */
  removeChild(childSessionId: string): boolean {
    return this.#children.delete(childSessionId);
  }

  /** The child sessions linked to a top-level session. */
  childrenOf(sessionId: string): string[] {
    return [...this.#children].filter(([, parent]) => parent === sessionId).map(([child]) => child);
  }

  /** Tells whether a session is a known child session. */
  isChild(sessionId: string): boolean {
    return this.#children.has(sessionId);
  }

  /** The top-level session a session belongs to: itself, its parent, or `undefined`. */
  topLevelOf(sessionId: string): string | undefined {
    if (this.#entries.has(sessionId)) return sessionId;
    return this.#children.get(sessionId);
  }
}
