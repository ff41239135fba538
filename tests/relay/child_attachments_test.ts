import assert from "node:assert/strict";
import { ChildAttachments } from "../../relay/child_attachments.ts";

Deno.test("ChildAttachments tells each client of each child once", () => {
  const children = new ChildAttachments<string>();
  children.attached("P", "C1", { sessionId: "C1" }, ["a"]);
  children.attached("P", "C2", { sessionId: "C2" }, ["a", "b"]);
  assert.deepEqual(children.unknownTo("a", "P"), []);
  assert.deepEqual(children.unknownTo("b", "P"), [{ sessionId: "C1" }]);
  assert.deepEqual(children.unknownTo("b", "P"), []);
  assert.deepEqual(children.unknownTo("c", "P"), [{ sessionId: "C1" }, { sessionId: "C2" }]);
  children.release("c");
  assert.deepEqual(children.unknownTo("c", "P").length, 2);
});

Deno.test("ChildAttachments forgets detached children and everything under ended sessions", () => {
  const children = new ChildAttachments<string>();
  children.attached("P", "C1", { sessionId: "C1" }, []);
  children.attached("C1", "G1", { sessionId: "G1" }, []);
  children.attached("P", "C2", { sessionId: "C2" }, []);
  children.detached("C1");
  assert.equal(children.size, 1, "C1 and its child G1 are gone");
  assert.deepEqual(children.unknownTo("a", "C1"), []);
  children.forgetSessions(["P"]);
  assert.equal(children.size, 0);
});
