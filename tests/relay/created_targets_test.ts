import assert from "node:assert/strict";
import { CreatedTargets } from "../../relay/created_targets.ts";

Deno.test("CreatedTargets keeps each client's tabs apart and forgets closed ones", () => {
  const created = new CreatedTargets<{ name: string }>();
  const a = { name: "a" };
  const b = { name: "b" };
  created.add(a, "T1");
  created.add(b, "T2");
  created.add(a, "T3");
  assert.deepEqual(created.of(a), ["T1", "T3"]);
  assert.deepEqual(created.of(b), ["T2"]);
  created.forgetTarget("T2");
  assert.deepEqual(created.of(b), []);
  assert.equal(created.size, 1, "a client whose last tab went is dropped");
  assert.deepEqual(created.take(a), ["T1", "T3"]);
  assert.deepEqual(created.take(a), []);
  assert.equal(created.size, 0);
});
