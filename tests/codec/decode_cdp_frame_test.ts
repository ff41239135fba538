import assert from "node:assert/strict";
import { decodeCdpFrame } from "../../mod.ts";
import { CDP_FRAMES, INVALID_CDP_INPUTS } from "../../harness/frame_fixtures.ts";

Deno.test("decodeCdpFrame() decodes every golden wire string to its frame", async (t) => {
  for (const fixture of CDP_FRAMES) {
    await t.step(fixture.name, () => {
      assert.deepEqual(decodeCdpFrame(fixture.wire), { ok: true, frame: fixture.frame });
      const bytes = new TextEncoder().encode(fixture.wire);
      assert.deepEqual(decodeCdpFrame(bytes), { ok: true, frame: fixture.frame });
    });
  }
});

Deno.test("decodeCdpFrame() reports the expected issue for each invalid input", async (t) => {
  for (const fixture of INVALID_CDP_INPUTS) {
    await t.step(fixture.name, () => {
      const options = fixture.maxBytes === undefined ? {} : { maxBytes: fixture.maxBytes };
      const result = decodeCdpFrame(fixture.input, options);
      assert.equal(result.ok, false);
      if (result.ok) return;
      const [first] = result.issues;
      assert.deepEqual(
        { code: first.code, path: first.path, expected: first.expected, received: first.received },
        {
          code: fixture.code,
          path: fixture.path,
          expected: fixture.expected,
          received: fixture.received,
        },
      );
      assert.equal(result.id, fixture.id);
    });
  }
});

Deno.test("decodeCdpFrame() echoes sessionId only when the wire has it", () => {
  const withSession = decodeCdpFrame('{"id":1,"sessionId":"s","result":{}}');
  const without = decodeCdpFrame('{"id":1,"result":{}}');
  assert.deepEqual(withSession, {
    ok: true,
    frame: { kind: "response", id: 1, sessionId: "s", outcome: { ok: true, result: {} } },
  });
  assert.deepEqual(without, {
    ok: true,
    frame: { kind: "response", id: 1, outcome: { ok: true, result: {} } },
  });
  assert.equal(without.ok && "sessionId" in without.frame, false);
});

Deno.test("decodeCdpFrame() reports an invalid sessionId together with branch issues", () => {
  const result = decodeCdpFrame('{"id":"1","method":"X","sessionId":5}');
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.issues.map((issue) => [issue.code, issue.path]), [
    ["wrong_type", ["sessionId"]],
    ["wrong_type", ["id"]],
  ]);
  assert.equal(result.id, undefined);
});

Deno.test("decodeCdpFrame() never throws for input outside its type", () => {
  for (const input of [null, undefined, 1, {}]) {
    const result = decodeCdpFrame(input as unknown as string);
    assert.equal(result.ok, false);
  }
});
