/**
 * Child sessions (out-of-process frames, workers) a shared tab's debugger session has, and which
 * clients were told about each. Chrome auto-attaches children once per debugger session, so a
 * client that sends `Target.setAutoAttach` on a tab after another client did would hear of no
 * existing child: on Chrome's endpoint its own session would get a `Target.attachedToTarget` for
 * each. The relay sends those to that client alone, before its reply.
 *
 * @module
 */

import type { JsonObject } from "../codec/json.ts";

/**
 * Child attachments by parent session, with the clients that know each child.
 *
 * @example
 * ```ts
 * import { ChildAttachments } from "./child_attachments.ts";
 *
 * const children = new ChildAttachments<string>();
 * children.attached("cb-tab-1", "C1", { sessionId: "C1", targetInfo: {} }, ["first"]);
 * children.unknownTo("second", "cb-tab-1").length; // 1, and now known to "second"
 * ```
 */
export class ChildAttachments<Client> {
  /** Parent session → child session → its attach params and the clients told of it. */
  readonly #byParent = new Map<
    string,
    Map<string, { readonly params: JsonObject; readonly told: Set<Client> }>
  >();
  /** Child session → parent session. */
  readonly #parentOf = new Map<string, string>();

  /** Number of known child sessions. */
  get size(): number {
    return this.#parentOf.size;
  }

  /**
   * Books a child attach and the clients it was delivered to.
   *
   * @param parent The session it was attached on.
   * @param child The child session id.
   * @param params The `Target.attachedToTarget` params.
   * @param told The clients that received it.
   */
  attached(parent: string, child: string, params: JsonObject, told: Iterable<Client>): void {
    this.detached(child);
    let children = this.#byParent.get(parent);
    if (children === undefined) this.#byParent.set(parent, children = new Map());
    children.set(child, { params, told: new Set(told) });
    this.#parentOf.set(child, parent);
  }

  /**
   * Forgets a child session and the children attached on it.
   *
   * @param child The child session id.
   */
  detached(child: string): void {
    const parent = this.#parentOf.get(child);
    if (parent !== undefined) {
      this.#parentOf.delete(child);
      const siblings = this.#byParent.get(parent);
      siblings?.delete(child);
      if (siblings?.size === 0) this.#byParent.delete(parent);
    }
    this.forgetSessions([child]);
  }

  /**
   * The attach params of the children of `parent` that `client` has not been told of; they count
   * as told from now on.
   *
   * @param client The client.
   * @param parent The parent session.
   * @returns The `Target.attachedToTarget` params, in attach order.
   */
  unknownTo(client: Client, parent: string): JsonObject[] {
    const out: JsonObject[] = [];
    for (const entry of this.#byParent.get(parent)?.values() ?? []) {
      if (entry.told.has(client)) continue;
      entry.told.add(client);
      out.push(entry.params);
    }
    return out;
  }

  /**
   * Forgets a client that went away.
   *
   * @param client The client.
   */
  release(client: Client): void {
    for (const children of this.#byParent.values()) {
      for (const entry of children.values()) entry.told.delete(client);
    }
  }

  /**
   * Forgets the children of sessions that ended, at any depth.
   *
   * @param parents The ended sessions.
   */
  forgetSessions(parents: Iterable<string>): void {
    const stack = [...parents];
    for (let parent = stack.pop(); parent !== undefined; parent = stack.pop()) {
      const children = this.#byParent.get(parent);
      if (children === undefined) continue;
      this.#byParent.delete(parent);
      for (const child of children.keys()) {
        this.#parentOf.delete(child);
        stack.push(child);
      }
    }
  }
}
