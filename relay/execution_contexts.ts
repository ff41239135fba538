/**
 * The live execution contexts of each debugger session, as `Runtime` events report them. Chrome
 * answers `Runtime.enable` by announcing every existing context (`Runtime.executionContextCreated`)
 * to the session that sent it. Through the relay several clients share a tab's session, so a second
 * client's `Runtime.enable`, if sent to Chrome, would announce every context again to every client
 * of the tab, and Playwright drops a context announced twice (its handles then fail with
 * `Execution context was destroyed`). The relay answers that second `Runtime.enable` itself, from
 * this table, to the one client that sent it.
 *
 * @module
 */

import type { CdpCall } from "../codec/extension_frame.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import type { JsonObject } from "../codec/json.ts";

/**
 * Execution contexts by session and context id, in creation order.
 *
 * @example
 * ```ts
 * import { ExecutionContexts } from "./execution_contexts.ts";
 *
 * const contexts = new ExecutionContexts();
 * contexts.observe({
 *   method: "Runtime.executionContextCreated",
 *   params: { context: { id: 1, uniqueId: "u1", origin: "", name: "" } },
 *   sessionId: "cb-tab-1",
 * });
 * contexts.list("cb-tab-1").length; // 1
 * ```
 */
export class ExecutionContexts {
  readonly #bySession = new Map<string, Map<number, JsonObject>>();

  /** Number of sessions with at least one live context. */
  get size(): number {
    return this.#bySession.size;
  }

  /**
   * Books one event from the extension; events of other domains are ignored.
   *
   * @param event The event with its session id.
   */
  observe(event: CdpCall): void {
    const { sessionId, params } = event;
    if (sessionId === undefined || !event.method.startsWith("Runtime.executionContext")) return;
    switch (event.method) {
      case "Runtime.executionContextCreated": {
        const context = params?.context;
        if (!isJsonObject(context) || typeof context.id !== "number") return;
        let contexts = this.#bySession.get(sessionId);
        if (contexts === undefined) this.#bySession.set(sessionId, contexts = new Map());
        contexts.delete(context.id); // a re-announced id moves to the end
        contexts.set(context.id, context);
        return;
      }
      case "Runtime.executionContextDestroyed": {
        const contexts = this.#bySession.get(sessionId);
        if (contexts === undefined) return;
        const id = params?.executionContextId;
        const uniqueId = params?.executionContextUniqueId;
        for (const [key, context] of contexts) {
          if (key === id || (uniqueId !== undefined && context.uniqueId === uniqueId)) {
            contexts.delete(key);
          }
        }
        if (contexts.size === 0) this.#bySession.delete(sessionId);
        return;
      }
      case "Runtime.executionContextsCleared":
        this.#bySession.delete(sessionId);
        return;
    }
  }

  /**
   * The live contexts of a session.
   *
   * @param sessionId The debugger session.
   * @returns Their `context` payloads, in creation order.
   */
  list(sessionId: string): JsonObject[] {
    return [...this.#bySession.get(sessionId)?.values() ?? []];
  }

  /**
   * Forgets sessions that ended or whose `Runtime` domain was turned off.
   *
   * @param sessionIds The sessions.
   */
  forgetSessions(sessionIds: Iterable<string>): void {
    for (const sessionId of sessionIds) this.#bySession.delete(sessionId);
  }
}
