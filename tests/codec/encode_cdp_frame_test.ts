import assert from "node:assert/strict";
import { type CdpFrameKind, decodeCdpFrame, encodeCdpFrame } from "../../mod.ts";
import { CDP_FRAMES } from "../../harness/frame_fixtures.ts";

const KINDS: readonly CdpFrameKind[] = ["command", "response", "event"];

Deno.test("encodeCdpFrame() writes the exact golden wire string of every fixture", async (t) => {
  for (const fixture of CDP_FRAMES) {
    await t.step(fixture.name, () => assert.equal(encodeCdpFrame(fixture.frame), fixture.wire));
  }
});

Deno.test("encodeCdpFrame() round-trips every fixture: decode(encode(frame))", async (t) => {
  for (const fixture of CDP_FRAMES) {
    await t.step(fixture.name, () => {
      assert.deepEqual(decodeCdpFrame(encodeCdpFrame(fixture.frame)), {
        ok: true,
        frame: fixture.frame,
      });
    });
  }
});

Deno.test("encodeCdpFrame() round-trips every golden wire: encode(decode(wire))", async (t) => {
  for (const fixture of CDP_FRAMES) {
    await t.step(fixture.name, () => {
      const result = decodeCdpFrame(fixture.wire);
      assert.equal(result.ok, true);
      if (result.ok) assert.equal(encodeCdpFrame(result.frame), fixture.wire);
    });
  }
});

Deno.test("encodeCdpFrame() has fixtures for every kind and both outcomes", () => {
  const covered = new Set(CDP_FRAMES.map((fixture) => fixture.frame.kind));
  assert.deepEqual(KINDS.filter((kind) => !covered.has(kind)), []);
  const outcomes = new Set(
    CDP_FRAMES.flatMap((f) => f.frame.kind === "response" ? [f.frame.outcome.ok] : []),
  );
  assert.deepEqual([...outcomes].sort(), [false, true]);
});

Deno.test("encodeCdpFrame() echoes sessionId on a response only when present", () => {
  assert.equal(
    encodeCdpFrame({ kind: "response", id: 1, outcome: { ok: true, result: {} } }),
    '{"id":1,"result":{}}',
  );
  assert.equal(
    encodeCdpFrame({ kind: "response", id: 1, sessionId: "s", outcome: { ok: true, result: {} } }),
    '{"id":1,"sessionId":"s","result":{}}',
  );
});
