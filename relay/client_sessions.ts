/**
 * How Playwright's `newCDPSession` (and Puppeteer's `createCDPSession`) is emulated: the
 * sessions the relay makes up for one client — browser sessions from
 * `Target.attachToBrowserTarget` and aliases of a tab's session from a repeated
 * `Target.attachToTarget` (docs/protocol-extensions.md).
 *
 * @module
 */

import { randomHexId } from "./targets.ts";

/**
 * A session the relay made up for one client: a browser session from
 * `Target.attachToBrowserTarget`, or an alias of a top-level session from a second
 * `Target.attachToTarget` for a target the client already holds.
 */
export type ClientSession =
  | {
    readonly kind: "browser";
    /** The session id: 32 hex digits. */
    readonly sessionId: string;
    /** The session the attach was sent on; `undefined` for the root session. */
    readonly parent: string | undefined;
  }
  | {
    readonly kind: "alias";
    /** The session id: 32 hex digits. */
    readonly sessionId: string;
    /** The top-level relay session it stands for, e.g. `cb-tab-1`. */
    readonly topLevel: string;
    /** The target's id. */
    readonly targetId: string;
    /** The session the attach was sent on; `undefined` for the root session. */
    readonly parent: string | undefined;
  };

/** An alias of a top-level session. */
export type AliasSession = Extract<ClientSession, { kind: "alias" }>;

/**
 * One client's relay-made sessions, indexed three ways so that every operation touches only
 * the sessions it affects: by id, by the session each was made on (teardown of a whole chain is
 * iterative and linear), and aliases by the top-level session they stand for (event copies).
 *
 * @example
 * ```ts
 * import { ClientSessions } from "./client_sessions.ts";
 *
 * const sessions = new ClientSessions();
 * const browser = sessions.addBrowser(undefined);
 * sessions.addAlias("cb-tab-1", "T1", browser.sessionId);
 * sessions.drop(browser.sessionId).length; // 2: the browser session and the alias made on it
 * ```
 */
export class ClientSessions {
  readonly #byId = new Map<string, ClientSession>();
  /** Session id → ids of the relay-made sessions made on it (root-made ones are not indexed). */
  readonly #madeOn = new Map<string, Set<string>>();
  /** Top-level session id → its aliases. */
  readonly #aliases = new Map<string, Set<AliasSession>>();

  /** Number of sessions. */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * The session with this id.
   *
   * @param sessionId A session id.
   * @returns The session, or `undefined` if the relay did not make it for this client.
   */
  get(sessionId: string): ClientSession | undefined {
    return this.#byId.get(sessionId);
  }

  /**
   * Makes a browser session.
   *
   * @param parent The session the attach was sent on; `undefined` for the root.
   * @returns The new session.
   */
  addBrowser(parent: string | undefined): ClientSession {
    const session: ClientSession = { kind: "browser", sessionId: randomHexId(), parent };
    this.#add(session);
    return session;
  }

  /**
   * Makes an alias of a top-level session.
   *
   * @param topLevel The top-level relay session, e.g. `cb-tab-1`.
   * @param targetId The target's id.
   * @param parent The session the attach was sent on; `undefined` for the root.
   * @returns The new alias.
   */
  addAlias(topLevel: string, targetId: string, parent: string | undefined): AliasSession {
    const alias: AliasSession = {
      kind: "alias",
      sessionId: randomHexId(),
      topLevel,
      targetId,
      parent,
    };
    this.#add(alias);
    let aliases = this.#aliases.get(topLevel);
    if (aliases === undefined) this.#aliases.set(topLevel, aliases = new Set());
    aliases.add(alias);
    return alias;
  }

  /**
   * Ends a session and, silently as in Chrome, every session made on it, at any depth.
   * Iterative: a chain of any length costs time linear in its length and no stack.
   *
   * @param sessionId The session to end.
   * @returns The ended sessions, the named one first; empty if it is unknown.
   */
  drop(sessionId: string): ClientSession[] {
    const first = this.#byId.get(sessionId);
    if (first === undefined) return [];
    const removed: ClientSession[] = [];
    const stack: ClientSession[] = [first];
    for (let session = stack.pop(); session !== undefined; session = stack.pop()) {
      if (!this.#remove(session)) continue;
      removed.push(session);
      const made = this.#madeOn.get(session.sessionId);
      if (made === undefined) continue;
      this.#madeOn.delete(session.sessionId);
      for (const id of made) {
        const child = this.#byId.get(id);
        if (child !== undefined) stack.push(child);
      }
    }
    return removed;
  }

  /**
   * Silently ends every session made on one of `parents` (and those made on them).
   *
   * @param parents Session ids that ended, e.g. a detached tab's session and its children.
   */
  dropMadeOn(parents: Iterable<string>): void {
    for (const parent of parents) {
      const made = this.#madeOn.get(parent);
      if (made === undefined) continue;
      for (const id of [...made]) this.drop(id);
    }
  }

  /**
   * The aliases of a top-level session.
   *
   * @param topLevel The top-level relay session.
   * @returns Its aliases, in creation order.
   */
  aliasesOf(topLevel: string): AliasSession[] {
    const aliases = this.#aliases.get(topLevel);
    return aliases === undefined ? [] : [...aliases];
  }

  /**
   * Tells whether the client has an alias of a top-level session.
   *
   * @param topLevel The top-level relay session.
   * @returns `true` if at least one alias stands for it.
   */
  hasAliasOf(topLevel: string): boolean {
    return this.#aliases.has(topLevel);
  }

  /** The top-level sessions this client has aliases of. */
  aliasedTopLevels(): string[] {
    return [...this.#aliases.keys()];
  }

  /** Forgets every session. */
  clear(): void {
    this.#byId.clear();
    this.#madeOn.clear();
    this.#aliases.clear();
  }

  #add(session: ClientSession): void {
    this.#byId.set(session.sessionId, session);
    if (session.parent === undefined) return;
    let made = this.#madeOn.get(session.parent);
    if (made === undefined) this.#madeOn.set(session.parent, made = new Set());
    made.add(session.sessionId);
  }

  #remove(session: ClientSession): boolean {
    if (!this.#byId.delete(session.sessionId)) return false;
    if (session.parent !== undefined) {
      const siblings = this.#madeOn.get(session.parent);
      siblings?.delete(session.sessionId);
      if (siblings?.size === 0) this.#madeOn.delete(session.parent);
    }
    if (session.kind === "alias") {
      const aliases = this.#aliases.get(session.topLevel);
      aliases?.delete(session);
      if (aliases?.size === 0) this.#aliases.delete(session.topLevel);
    }
    return true;
  }
}
