import assert from "node:assert/strict";
import { decodeExtensionFrame, encodeExtensionFrame, type ExtensionFrameKind } from "../../mod.ts";
import { EXTENSION_FRAMES } from "../../harness/frame_fixtures.ts";

const KINDS: readonly ExtensionFrameKind[] = [
  "command",
  "response",
  "event",
  "ping",
  "pong",
  "connect_challenge",
  "gateway_event",
  "connect_request",
  "gateway_request",
  "hello_ok",
  "gateway_response",
  "gateway_error",
];

Deno.test("encodeExtensionFrame() writes the exact golden wire string of every fixture", async (t) => {
  for (const fixture of EXTENSION_FRAMES) {
    await t.step(
      fixture.name,
      () => assert.equal(encodeExtensionFrame(fixture.frame), fixture.wire),
    );
  }
});

Deno.test("encodeExtensionFrame() round-trips every fixture: decode(encode(frame))", async (t) => {
  for (const fixture of EXTENSION_FRAMES) {
    await t.step(fixture.name, () => {
      assert.deepEqual(decodeExtensionFrame(encodeExtensionFrame(fixture.frame)), {
        ok: true,
        frame: fixture.frame,
      });
    });
  }
});

Deno.test("encodeExtensionFrame() round-trips every golden wire: encode(decode(wire))", async (t) => {
  for (const fixture of EXTENSION_FRAMES) {
    await t.step(fixture.name, () => {
      const result = decodeExtensionFrame(fixture.wire);
      assert.equal(result.ok, true);
      if (result.ok) assert.equal(encodeExtensionFrame(result.frame), fixture.wire);
    });
  }
});

Deno.test("encodeExtensionFrame() has a fixture for every frame kind", () => {
  const covered = new Set(EXTENSION_FRAMES.map((fixture) => fixture.frame.kind));
  assert.deepEqual(KINDS.filter((kind) => !covered.has(kind)), []);
});

Deno.test("encodeExtensionFrame() omits absent optional fields instead of writing null", () => {
  const wire = encodeExtensionFrame({ kind: "command", id: 2, cdp: { method: "Page.enable" } });
  assert.equal(wire, '{"id":2,"method":"forwardCDPCommand","params":{"method":"Page.enable"}}');
  assert.equal(wire.includes("null"), false);
  assert.equal(
    encodeExtensionFrame({ kind: "gateway_event", event: "e" }),
    '{"type":"event","event":"e"}',
  );
});
