import assert from "node:assert/strict";
import { decodeExtensionFrame, MAX_FRAME_BYTES } from "../../mod.ts";
import {
  CONNECT_WIRE,
  EXTENSION_FRAMES,
  INVALID_EXTENSION_INPUTS,
} from "../../harness/frame_fixtures.ts";

const ISSUE_CODES = [
  "invalid_json",
  "not_object",
  "unknown_frame",
  "missing_field",
  "wrong_type",
  "out_of_range",
  "too_large",
  "unknown_field",
] as const;

Deno.test("decodeExtensionFrame() decodes every golden wire string to its frame", async (t) => {
  for (const fixture of EXTENSION_FRAMES) {
    await t.step(fixture.name, () => {
      assert.deepEqual(decodeExtensionFrame(fixture.wire), { ok: true, frame: fixture.frame });
      const bytes = new TextEncoder().encode(fixture.wire);
      assert.deepEqual(decodeExtensionFrame(bytes), { ok: true, frame: fixture.frame });
    });
  }
});

Deno.test("decodeExtensionFrame() reports the expected issue for each invalid input", async (t) => {
  for (const fixture of INVALID_EXTENSION_INPUTS) {
    await t.step(fixture.name, () => {
      const options = fixture.maxBytes === undefined ? {} : { maxBytes: fixture.maxBytes };
      const result = decodeExtensionFrame(fixture.input, options);
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
      assert.equal(typeof first.message, "string");
      assert.equal(result.id, fixture.id);
      assert.equal("id" in result, fixture.id !== undefined);
    });
  }
});

Deno.test("decodeExtensionFrame() has a fixture for every issue code", () => {
  const covered = new Set(INVALID_EXTENSION_INPUTS.map((fixture) => fixture.code));
  assert.deepEqual([...ISSUE_CODES].filter((code) => !covered.has(code)), []);
});

Deno.test("decodeExtensionFrame() reports unknown_field with the gateway's message", () => {
  const wire = CONNECT_WIRE.replace('"minProtocol":3', '"nonce":"x","minProtocol":3');
  const result = decodeExtensionFrame(wire);
  assert.deepEqual(result, {
    ok: false,
    id: "ext-connect-1771662593650-3f9a1c",
    issues: [{
      code: "unknown_field",
      path: ["params", "nonce"],
      expected: "no such field",
      received: "nonce",
      message: "at /params: unexpected property 'nonce'",
    }],
  });
});

Deno.test("decodeExtensionFrame() classifies shapes in the documented order", async (t) => {
  await t.step("a type field wins over id and method", () => {
    const result = decodeExtensionFrame('{"type":"event","event":"tick","id":1,"method":"ping"}');
    assert.deepEqual(result, { ok: true, frame: { kind: "gateway_event", event: "tick" } });
  });
  await t.step("a numeric id with result wins over method", () => {
    const result = decodeExtensionFrame('{"id":3,"method":"forwardCDPCommand","result":{}}');
    assert.deepEqual(result, {
      ok: true,
      frame: { kind: "response", id: 3, outcome: { ok: true, result: {} } },
    });
  });
  await t.step("error wins over result in a response", () => {
    const result = decodeExtensionFrame('{"id":3,"result":{},"error":"boom"}');
    assert.deepEqual(result, {
      ok: true,
      frame: { kind: "response", id: 3, outcome: { ok: false, error: "boom" } },
    });
  });
  await t.step("a string id with result is not a response", () => {
    const result = decodeExtensionFrame('{"id":"3","result":{}}');
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.issues[0].code, "unknown_frame");
  });
  await t.step("ping ignores other fields", () => {
    assert.deepEqual(decodeExtensionFrame('{"method":"ping","x":1}'), {
      ok: true,
      frame: { kind: "ping" },
    });
  });
  await t.step("connect.challenge is never a plain gateway_event", () => {
    const result = decodeExtensionFrame(
      '{"type":"event","event":"connect.challenge","payload":{}}',
    );
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.deepEqual(result.issues.map((i) => i.path), [["payload", "nonce"], ["payload", "ts"]]);
    }
  });
});

Deno.test("decodeExtensionFrame() collects every issue of the matched branch", () => {
  const result = decodeExtensionFrame(
    '{"id":0,"method":"forwardCDPCommand","params":{"method":"","sessionId":1,"params":[]}}',
  );
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.issues.map((issue) => [issue.code, issue.path]), [
    ["out_of_range", ["id"]],
    ["out_of_range", ["params", "method"]],
    ["wrong_type", ["params", "sessionId"]],
    ["wrong_type", ["params", "params"]],
  ]);
  assert.equal(result.id, 0);
});

Deno.test("decodeExtensionFrame() ignores prototype keys instead of reading through them", () => {
  assert.equal(decodeExtensionFrame('{"__proto__":{"method":"ping"}}').ok, false);
  assert.equal(decodeExtensionFrame('{"constructor":{"method":"ping"}}').ok, false);
  const result = decodeExtensionFrame(
    '{"method":"forwardCDPEvent","params":{"method":"X","params":{"__proto__":{"polluted":true}}}}',
  );
  assert.equal(result.ok, true);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  if (result.ok && result.frame.kind === "event") {
    assert.deepEqual(Object.keys(result.frame.cdp.params ?? {}), ["__proto__"]);
  }
});

Deno.test("decodeExtensionFrame() enforces maxBytes before parsing", async (t) => {
  await t.step("input at the limit is accepted", () => {
    assert.equal(decodeExtensionFrame('{"method":"ping"}', { maxBytes: 17 }).ok, true);
    assert.equal(decodeExtensionFrame('{"method":"ping","x":"é"}', { maxBytes: 26 }).ok, true);
  });
  await t.step("oversized garbage is too_large, not invalid_json", () => {
    const result = decodeExtensionFrame("x".repeat(100), { maxBytes: 50 });
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.issues[0].code, "too_large");
  });
  await t.step("a lone surrogate counts as 3 bytes", () => {
    const input = '{"method":"ping","x":"\ud800"}';
    assert.equal(decodeExtensionFrame(input, { maxBytes: 27 }).ok, true);
    assert.equal(decodeExtensionFrame(input, { maxBytes: 26 }).ok, false);
  });
  await t.step("the default limit is MAX_FRAME_BYTES", () => {
    assert.equal(MAX_FRAME_BYTES, 268_435_456);
    const result = decodeExtensionFrame(new Uint8Array(MAX_FRAME_BYTES + 1));
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.issues[0].code, "too_large");
  });
});

Deno.test("decodeExtensionFrame() never throws for input outside its type", () => {
  for (const input of [null, undefined, 42, {}, []]) {
    const result = decodeExtensionFrame(input as unknown as string);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.issues[0].code, "invalid_json");
  }
});
