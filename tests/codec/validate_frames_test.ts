// validate*Frame() is the decoder minus JSON parsing: same frames, same issues, for every fixture.
import assert from "node:assert/strict";
import {
  decodeCdpFrame,
  decodeExtensionFrame,
  validateCdpFrame,
  validateExtensionFrame,
} from "../../mod.ts";
import {
  CDP_FRAMES,
  EXTENSION_FRAMES,
  INVALID_CDP_INPUTS,
  INVALID_EXTENSION_INPUTS,
} from "../../harness/frame_fixtures.ts";

function parsed(input: unknown): { ok: true; value: unknown } | { ok: false } {
  if (typeof input !== "string") return { ok: false };
  try {
    return { ok: true, value: JSON.parse(input) };
  } catch {
    return { ok: false };
  }
}

Deno.test("validateExtensionFrame() agrees with decodeExtensionFrame() on every fixture", async (t) => {
  for (const fixture of EXTENSION_FRAMES) {
    await t.step(fixture.name, () => {
      const expected = decodeExtensionFrame(fixture.wire);
      assert.deepEqual(validateExtensionFrame(JSON.parse(fixture.wire)), expected);
      assert.deepEqual(expected, { ok: true, frame: fixture.frame });
    });
  }
  for (const fixture of INVALID_EXTENSION_INPUTS) {
    const value = parsed(fixture.input);
    if (!value.ok || fixture.maxBytes !== undefined) continue;
    await t.step(`invalid: ${fixture.name}`, () => {
      assert.deepEqual(
        validateExtensionFrame(value.value),
        decodeExtensionFrame(fixture.input as string),
      );
    });
  }
});

Deno.test("validateCdpFrame() agrees with decodeCdpFrame() on every fixture", async (t) => {
  for (const fixture of CDP_FRAMES) {
    await t.step(fixture.name, () => {
      const expected = decodeCdpFrame(fixture.wire);
      assert.deepEqual(validateCdpFrame(JSON.parse(fixture.wire)), expected);
      assert.deepEqual(expected, { ok: true, frame: fixture.frame });
    });
  }
  for (const fixture of INVALID_CDP_INPUTS) {
    const value = parsed(fixture.input);
    if (!value.ok || fixture.maxBytes !== undefined) continue;
    await t.step(`invalid: ${fixture.name}`, () => {
      assert.deepEqual(validateCdpFrame(value.value), decodeCdpFrame(fixture.input as string));
    });
  }
});

Deno.test("validateExtensionFrame() reports not_object for non-objects and never throws", () => {
  for (const value of [null, 1, "x", [], [1], true, undefined, Symbol("s"), () => 1]) {
    const result = validateExtensionFrame(value);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.issues[0].code, "not_object");
    const cdp = validateCdpFrame(value);
    assert.equal(cdp.ok, false);
    if (!cdp.ok) assert.equal(cdp.issues[0].code, "not_object");
  }
});

Deno.test("decodeCdpFrame() and decodeExtensionFrame() carry only ids a peer can echo", () => {
  const cdp = decodeCdpFrame('{"id":1e400,"method":""}');
  assert.equal(cdp.ok, false);
  assert.equal("id" in cdp, false);
  const ext = decodeExtensionFrame('{"id":1e400,"method":"forwardCDPCommand","params":{}}');
  assert.equal(ext.ok, false);
  assert.equal("id" in ext, false);
  const kept = decodeCdpFrame('{"id":7,"method":""}');
  assert.equal(!kept.ok && kept.id, 7);
});
