import assert from "node:assert/strict";
import type { JsonObject } from "../../codec/json.ts";
import { ExecutionContexts } from "../../relay/execution_contexts.ts";

function created(sessionId: string, id: number, uniqueId = `u${id}`) {
  return {
    method: "Runtime.executionContextCreated",
    params: { context: { id, uniqueId, origin: "", name: "" } },
    sessionId,
  };
}

function ids(contexts: JsonObject[]): unknown[] {
  return contexts.map((context) => context.id);
}

Deno.test("ExecutionContexts follows created, destroyed and cleared per session", () => {
  const contexts = new ExecutionContexts();
  contexts.observe(created("S1", 1));
  contexts.observe(created("S1", 2));
  contexts.observe(created("S2", 1));
  contexts.observe(created("S1", 1)); // re-announced: moves to the end
  assert.deepEqual(ids(contexts.list("S1")), [2, 1]);
  contexts.observe({
    method: "Runtime.executionContextDestroyed",
    params: { executionContextId: 99, executionContextUniqueId: "u2" },
    sessionId: "S1",
  });
  assert.deepEqual(ids(contexts.list("S1")), [1]);
  contexts.observe({ method: "Runtime.executionContextsCleared", params: {}, sessionId: "S1" });
  assert.deepEqual(contexts.list("S1"), []);
  assert.deepEqual(ids(contexts.list("S2")), [1]);
  contexts.observe({ method: "Runtime.consoleAPICalled", params: {}, sessionId: "S2" });
  contexts.observe(created("S3", 1));
  contexts.forgetSessions(["S2", "S3"]);
  assert.equal(contexts.size, 0);
});

Deno.test("ExecutionContexts ignores sessionless and malformed events", () => {
  const contexts = new ExecutionContexts();
  contexts.observe({ method: "Runtime.executionContextCreated", params: { context: { id: 1 } } });
  contexts.observe({ method: "Runtime.executionContextCreated", params: {}, sessionId: "S1" });
  contexts.observe({
    method: "Runtime.executionContextCreated",
    params: { context: { id: "x" } },
    sessionId: "S1",
  });
  assert.equal(contexts.size, 0);
});
