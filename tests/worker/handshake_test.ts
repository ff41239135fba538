import assert from "node:assert/strict";
import { decodeExtensionFrame } from "../../codec/decode_extension_frame.ts";
import { encodeExtensionFrame } from "../../codec/encode_extension_frame.ts";
import type { GatewayError } from "../../codec/extension_frame.ts";
import { RelayProtocolError } from "../../worker/errors.ts";
import {
  buildConnectRequest,
  classifyConnectReply,
  effectivePolicy,
  isAuthError,
} from "../../worker/handshake.ts";
import { CONNECT_PARAMS_SCHEMA } from "./_connect_params_schema.ts";

const UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36";

Deno.test("buildConnectRequest() builds exactly the §3.3 request", () => {
  const request = buildConnectRequest({
    token: "raw-token",
    version: "0.1.0",
    userAgent: UA,
    now: 1771662593650,
    random: () => 0.2439,
  });
  assert.deepEqual(request, {
    kind: "connect_request",
    id: "ext-connect-1771662593650-3e703a",
    params: {
      minProtocol: 3,
      maxProtocol: 3,
      client: { id: "webchat-ui", version: "0.1.0", platform: "chrome-extension", mode: "webchat" },
      role: "operator",
      scopes: ["operator.read", "operator.write"],
      caps: [],
      commands: [],
      auth: { token: "raw-token" },
      userAgent: UA,
    },
  });
});

Deno.test("buildConnectRequest() params pass the gateway v3 schema with no top-level nonce", () => {
  for (const userAgent of [UA, ""]) {
    const request = buildConnectRequest({
      token: "t",
      version: "0.1.0",
      userAgent,
      now: 1,
      random: () => 0.999999999,
    });
    const parsed = CONNECT_PARAMS_SCHEMA.safeParse(request.params);
    assert.equal(parsed.success, true, parsed.success ? "" : parsed.error.message);
    assert.equal(request.id, "ext-connect-1-ffffff");
    const wire = JSON.parse(encodeExtensionFrame(request)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(wire).sort(), ["id", "method", "params", "type"]);
    assert.equal("userAgent" in request.params, userAgent !== "");
    const decoded = decodeExtensionFrame(JSON.stringify(wire));
    assert.deepEqual(decoded, { ok: true, frame: request });
  }
});

Deno.test("buildConnectRequest() output would be rejected by the schema with OpenClaw's fields", () => {
  // The schema itself must catch the legacy bugs, or the test above proves nothing.
  const params = buildConnectRequest({ token: "t", version: "1", now: 1, random: () => 0 }).params;
  assert.equal(CONNECT_PARAMS_SCHEMA.safeParse({ ...params, nonce: "n" }).success, false);
  assert.equal(
    CONNECT_PARAMS_SCHEMA.safeParse({
      ...params,
      client: { ...params.client, id: "chrome-relay-extension" },
    }).success,
    false,
  );
});

Deno.test("isAuthError() recognises the gateway's authentication details", () => {
  const table: [GatewayError, boolean][] = [
    [{ code: "INVALID_REQUEST", message: "m", details: { code: "AUTH_TOKEN_MISMATCH" } }, true],
    [{ code: "INVALID_REQUEST", message: "m", details: { code: "AUTH_TOKEN_MISSING" } }, true],
    [{ code: "INVALID_REQUEST", message: "m", details: { code: "AUTH_RATE_LIMITED" } }, false],
    [{ code: "INVALID_REQUEST", message: "m", details: { code: "DEVICE_UNKNOWN" } }, true],
    [{ code: "INVALID_REQUEST", message: "m", details: { code: "CONTROL_UI_DISABLED" } }, true],
    [{ code: "INVALID_REQUEST", message: "m", details: { code: "PAIRING_REQUIRED" } }, true],
    [{ code: "NOT_PAIRED", message: "m" }, true],
    [{ code: "INVALID_REQUEST", message: "unauthorized: gateway token mismatch" }, false],
    [{ code: "AUTH_FAILED", message: "m" }, false], // error.code alone is not enough
    [{ code: "INVALID_REQUEST", message: "m", details: { expectedProtocol: 3 } }, false],
    [{ code: "INVALID_REQUEST", message: "m", details: ["AUTH_X"] }, false],
  ];
  for (const [error, expected] of table) {
    assert.equal(isAuthError(error), expected, JSON.stringify(error));
  }
});

Deno.test("classifyConnectReply() maps each §3.5 outcome", () => {
  const accepted = classifyConnectReply({
    kind: "hello_ok",
    id: "x",
    hello: {
      type: "hello-ok",
      protocol: 3,
      server: { version: "0.1.0", connId: "c" },
      policy: { maxPayload: 268435456, maxBufferedBytes: 536870912, tickIntervalMs: 5000 },
    },
  });
  assert.equal(accepted.kind, "accepted");
  assert.deepEqual(accepted.kind === "accepted" && accepted.policy, {
    maxPayload: 268435456,
    maxBufferedBytes: 536870912,
    livenessMs: 15_000,
  });

  const rows: [Parameters<typeof classifyConnectReply>[0], string, string, number?][] = [
    [
      { kind: "hello_ok", id: "x", hello: { type: "hello-ok", protocol: 4 } },
      "backoff",
      "handshake_rejected",
    ],
    [{ kind: "gateway_response", id: "x", payload: {} }, "backoff", "handshake_rejected"],
    [
      {
        kind: "gateway_error",
        id: "x",
        error: {
          code: "INVALID_REQUEST",
          message: "unauthorized: gateway token mismatch",
          details: { code: "AUTH_TOKEN_MISMATCH", authReason: "token_mismatch" },
        },
      },
      "never",
      "token_rejected",
    ],
    [
      {
        kind: "gateway_error",
        id: "x",
        error: {
          code: "INVALID_REQUEST",
          message: "protocol mismatch",
          details: { expectedProtocol: 3 },
        },
      },
      "never",
      "incompatible_relay",
    ],
    [
      {
        kind: "gateway_error",
        id: "x",
        error: {
          code: "INVALID_REQUEST",
          message: "slow down",
          details: { code: "AUTH_RATE_LIMITED" },
          retryAfterMs: 4_000,
        },
      },
      "backoff",
      "rate_limited",
      4_000,
    ],
    [
      { kind: "gateway_error", id: "x", error: { code: "UNAVAILABLE", message: "busy" } },
      "backoff",
      "handshake_rejected",
    ],
  ];
  for (const [reply, retry, code, retryAfterMs] of rows) {
    const outcome = classifyConnectReply(reply);
    assert.equal(outcome.kind, "rejected");
    if (outcome.kind !== "rejected") continue;
    assert.equal(outcome.retry, retry, JSON.stringify(reply));
    assert.equal(outcome.code, code);
    assert.equal(outcome.retryAfterMs, retryAfterMs);
    assert.ok(outcome.error instanceof RelayProtocolError);
    assert.equal(outcome.error.method, "connect");
  }
});

Deno.test("classifyConnectReply() pins the rejection message and code", () => {
  const outcome = classifyConnectReply({
    kind: "gateway_error",
    id: "x",
    error: {
      code: "INVALID_REQUEST",
      message: "unauthorized: gateway token missing",
      details: { code: "AUTH_TOKEN_MISSING" },
    },
  });
  assert.equal(outcome.kind, "rejected");
  if (outcome.kind !== "rejected") return;
  assert.equal(
    outcome.error.message,
    'Relay rejected the connect request: "unauthorized: gateway token missing"',
  );
  assert.equal(outcome.error.code, "AUTH_TOKEN_MISSING");
});

Deno.test("effectivePolicy() honours positive integers only", () => {
  assert.deepEqual(effectivePolicy(undefined), { maxPayload: 104_857_600, livenessMs: 15_000 });
  assert.deepEqual(effectivePolicy(undefined, 20_000), {
    maxPayload: 104_857_600,
    livenessMs: 20_000,
  });
  assert.deepEqual(effectivePolicy({ tickIntervalMs: 1_000 }), {
    maxPayload: 104_857_600,
    livenessMs: 15_000,
  });
  assert.deepEqual(effectivePolicy({ tickIntervalMs: 10_000, maxPayload: 200 }), {
    maxPayload: 200,
    livenessMs: 30_000,
  });
  assert.deepEqual(
    effectivePolicy({ maxPayload: -1, maxBufferedBytes: 1.5, tickIntervalMs: 0 }),
    { maxPayload: 104_857_600, livenessMs: 15_000 },
  );
});
