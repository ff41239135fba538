import assert from "node:assert/strict";
import { CloseCode, CloseReason, isCloseCode, truncateCloseReason } from "../../mod.ts";

Deno.test("CloseCode() matches the protocol table (§9)", () => {
  assert.deepEqual({ ...CloseCode }, {
    Normal: 1000,
    GoingAway: 1001,
    ProtocolError: 1002,
    Abnormal: 1006,
    PolicyViolation: 1008,
    MessageTooBig: 1009,
    InternalError: 1011,
    HeartbeatTimeout: 4000,
    SendBufferOverflow: 4001,
  });
  assert.equal(Object.isFrozen(CloseCode), true);
  for (const code of Object.values(CloseCode)) {
    assert.ok(code < 1012 || (code >= 4000 && code <= 4999), `${code} is standard or 4000–4999`);
  }
});

Deno.test("CloseReason() holds the exact close-frame texts", () => {
  assert.equal(Object.isFrozen(CloseReason), true);
  assert.deepEqual(Object.values(CloseReason).sort(), [
    "extension disconnected",
    "gateway connect failed",
    "handshake timeout",
    "heartbeat timeout",
    "invalid handshake: first request must be connect",
    "invalid request frame",
    "late connect.challenge",
    "message too big",
    "mutual authentication missing",
    "preauth payload too large",
    "protocol mismatch",
    "relay proof invalid",
    "send buffer overflow",
    "server stopping",
    "settings changed",
    "unexpected frame before hello-ok",
  ]);
  for (const reason of Object.values(CloseReason)) {
    assert.ok(new TextEncoder().encode(reason).length <= 123);
  }
});

Deno.test("isCloseCode() accepts exactly the named codes", () => {
  for (const code of Object.values(CloseCode)) assert.equal(isCloseCode(code), true);
  for (const value of [999, 1003, 4002, 4999, "1000", null, undefined, 1000.5]) {
    assert.equal(isCloseCode(value), false);
  }
});

Deno.test("truncateCloseReason() keeps at most maxBytes without splitting a character", () => {
  assert.equal(truncateCloseReason("short"), "short");
  assert.equal(truncateCloseReason("x".repeat(200)).length, 123);
  assert.equal(truncateCloseReason("x".repeat(200), 120).length, 120);
  assert.equal(truncateCloseReason("é".repeat(10), 5), "éé");
  assert.equal(truncateCloseReason("a😀b", 4), "a");
  assert.equal(truncateCloseReason("a😀b", 5), "a😀");
});
