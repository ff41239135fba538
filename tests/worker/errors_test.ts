import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  errorText,
  HandshakeTimeoutError,
  RelayProtocolError,
} from "../../worker/errors.ts";

Deno.test("RelayProtocolError() carries code, method and cause", () => {
  const cause = new Error("root");
  const error = new RelayProtocolError("Relay rejected the connect request", {
    code: "AUTH_TOKEN_MISMATCH",
    method: "connect",
    cause,
  });
  assert.ok(error instanceof Error);
  assert.equal(error.name, "RelayProtocolError");
  assert.equal(error.message, "Relay rejected the connect request");
  assert.equal(error.code, "AUTH_TOKEN_MISMATCH");
  assert.equal(error.method, "connect");
  assert.equal(error.cause, cause);
  assert.equal(new RelayProtocolError("m", { code: "X" }).method, undefined);
  assert.equal("cause" in new RelayProtocolError("m", { code: "X" }), false);
});

Deno.test("ConnectionClosedError() carries the close code and reason", () => {
  const error = new ConnectionClosedError("Relay connection closed: code 1001", {
    closeCode: 1001,
    closeReason: "server stopping",
  });
  assert.equal(error.name, "ConnectionClosedError");
  assert.equal(error.closeCode, 1001);
  assert.equal(error.closeReason, "server stopping");
  assert.ok(error.stack?.includes("errors_test.ts"));
});

Deno.test("HandshakeTimeoutError() carries the deadline", () => {
  const error = new HandshakeTimeoutError("Relay did not complete the handshake within 8000 ms", {
    timeoutMs: 8000,
  });
  assert.equal(error.name, "HandshakeTimeoutError");
  assert.equal(error.timeoutMs, 8000);
});

Deno.test("errorText() gives an Error's message, else the value as text", () => {
  assert.equal(errorText(new Error("No tab with id: 5")), "No tab with id: 5");
  assert.equal(errorText(new Error("")), "Error");
  assert.equal(errorText("gone"), "gone");
  assert.equal(errorText(undefined), "undefined");
});
