import assert from "node:assert/strict";
import { decodeExtensionFrame } from "../../codec/decode_extension_frame.ts";
import { encodeExtensionFrame } from "../../codec/encode_extension_frame.ts";
import type { GatewayError } from "../../codec/extension_frame.ts";
import { RelayProtocolError } from "../../worker/errors.ts";
import {
  answerMutualChallenge,
  buildConnectRequest,
  classifyConnectReply,
  effectivePolicy,
  isAuthError,
  type MutualAnswer,
} from "../../worker/handshake.ts";
import { mutualAuthKey, mutualSocketUrl } from "../../codec/mutual_auth.ts";
import { deriveRelayToken } from "../../codec/derive_relay_token.ts";
import { FakeMutualRelay, seededNonce } from "../_fakes/fake_mutual_relay.ts";
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

// ---------------------------------------------------------------- mutual-v1 (issue 14)

const GATEWAY_TOKEN = "test-gateway-token";
const PORT = 18792;

/** The extension's side of one exchange with `relay`: URL, challenge, answer, connect. */
async function exchange(
  relay: FakeMutualRelay,
  options: { clientSeed?: number; challenge?: (url: string) => Promise<string> } = {},
): Promise<{ answer: MutualAnswer; accepted: boolean }> {
  const clientNonce = seededNonce(options.clientSeed ?? 1);
  const url = mutualSocketUrl(PORT, clientNonce);
  const challengeNonce = await (options.challenge ?? ((u) => relay.challenge(u)))(url);
  const answer = await answerMutualChallenge({
    key: await mutualAuthKey(GATEWAY_TOKEN, PORT),
    port: PORT,
    clientNonce,
    challengeNonce,
    version: "0.1.0",
    userAgent: UA,
    now: 1_771_662_593_647,
    random: () => 0.5,
  });
  if (answer.kind !== "proven") return { answer, accepted: false };
  const accepted = await relay.accept(answer.request, encodeExtensionFrame(answer.request));
  return { answer, accepted };
}

/** Fails when `texts` contain the gateway token or the derived relay token, in any case. */
async function assertNoCredential(texts: readonly string[]): Promise<void> {
  const relayToken = await deriveRelayToken(GATEWAY_TOKEN, PORT);
  const all = texts.join("\n").toLowerCase();
  assert.equal(all.includes(GATEWAY_TOKEN.toLowerCase()), false, "gateway token sent");
  assert.equal(all.includes(relayToken), false, "relay token sent");
}

Deno.test("answerMutualChallenge() proves the extension to the real relay with a schema-valid connect", async () => {
  const relay = new FakeMutualRelay(PORT, GATEWAY_TOKEN);
  const { answer, accepted } = await exchange(relay);
  assert.equal(answer.kind, "proven");
  assert.equal(accepted, true);
  if (answer.kind !== "proven") return;
  const parsed = CONNECT_PARAMS_SCHEMA.safeParse(answer.request.params);
  assert.equal(parsed.success, true, parsed.success ? "" : parsed.error.message);
  assert.match(answer.request.params.auth?.token ?? "", /^mutual-v1\.[A-Za-z0-9_-]{43}$/);
  const decoded = decodeExtensionFrame(encodeExtensionFrame(answer.request));
  assert.equal(decoded.ok && decoded.frame.kind, "connect_request");
  // Even the real relay never receives a reusable credential.
  await assertNoCredential(relay.received);
});

Deno.test("answerMutualChallenge() leaves an impostor relay with no token, no reusable proof and no connect", async (t) => {
  await t.step("an impostor that does not know the token", async () => {
    const impostor = new FakeMutualRelay(PORT, undefined);
    const { answer } = await exchange(impostor);
    assert.equal(answer.kind, "refused");
    assert.equal(answer.kind === "refused" && answer.reason, "bad_proof");
    assert.deepEqual(impostor.received, [mutualSocketUrl(PORT, seededNonce(1))]);
    await assertNoCredential(impostor.received);
  });
  await t.step(
    "an impostor replaying the real relay's challenge from an earlier socket",
    async () => {
      const real = new FakeMutualRelay(PORT, GATEWAY_TOKEN);
      const captured = await real.challenge(mutualSocketUrl(PORT, seededNonce(1)));
      const impostor = new FakeMutualRelay(PORT, undefined);
      const { answer } = await exchange(impostor, {
        clientSeed: 2, // a fresh client nonce for the new socket
        challenge: async (url) => {
          await impostor.challenge(url);
          return captured;
        },
      });
      assert.equal(answer.kind === "refused" && answer.reason, "bad_proof");
    },
  );
  await t.step("an impostor forwarding the real relay's challenge from another port", async () => {
    // The real relay on 18793 answers for the extension's nonce, but its proof names its port.
    const real = new FakeMutualRelay(PORT + 1, GATEWAY_TOKEN);
    const { answer } = await exchange(real, {
      challenge: (url) => real.challenge(url.replace(`:${PORT}/`, `:${PORT + 1}/`)),
    });
    assert.equal(answer.kind === "refused" && answer.reason, "bad_proof");
  });
  await t.step("an impostor downgrading to a plain challenge", async () => {
    const impostor = new FakeMutualRelay(PORT, undefined);
    const { answer } = await exchange(impostor, {
      challenge: () => Promise.resolve("b08424c6-99f6-4a1a-afef-0dc44ac8cb84"),
    });
    assert.equal(answer.kind, "refused");
    if (answer.kind !== "refused") return;
    assert.equal(answer.reason, "not_mutual");
    assert.ok(answer.error instanceof RelayProtocolError);
    assert.equal(answer.error.code, "MUTUAL_AUTH_MISSING");
    assert.equal(
      answer.error.message,
      "Relay at http://127.0.0.1:18792 did not offer mutual authentication: update the relay, or enable OpenClaw relay compatibility in the extension options",
    );
  });
  await t.step("a proof captured by a man in the middle does not open a new socket", async () => {
    // Suppose an observer saw a complete exchange: the proof it saw is bound to that socket's
    // nonces, so the real relay refuses it on a socket with a fresh relay nonce.
    const real = new FakeMutualRelay(PORT, GATEWAY_TOKEN);
    const first = await exchange(real);
    assert.equal(first.accepted, true);
    if (first.answer.kind !== "proven") return;
    await real.challenge(mutualSocketUrl(PORT, seededNonce(1))); // same client nonce, new relay nonce
    assert.equal(
      await real.accept(first.answer.request, encodeExtensionFrame(first.answer.request)),
      false,
    );
  });
});

Deno.test("answerMutualChallenge() refuses a relay with another gateway token and says what to check", async () => {
  const relay = new FakeMutualRelay(PORT, "someone-elses-token");
  const { answer } = await exchange(relay);
  assert.equal(answer.kind, "refused");
  if (answer.kind !== "refused") return;
  assert.equal(answer.reason, "bad_proof");
  assert.equal(answer.error.code, "MUTUAL_AUTH_FAILED");
  assert.equal(
    answer.error.message,
    "Relay at http://127.0.0.1:18792 could not prove that it knows the gateway token: check the token in the extension options, or another program is listening on port 18792",
  );
});

Deno.test("effectivePolicy() turns batches on only for maxBatchFrames of 2 or more, at most 1024", () => {
  const base = { maxPayload: 104_857_600, livenessMs: 15_000 };
  assert.deepEqual(effectivePolicy({ maxBatchFrames: 64 }), { ...base, maxBatchFrames: 64 });
  assert.deepEqual(effectivePolicy({ maxBatchFrames: 1 }), base);
  assert.deepEqual(effectivePolicy({ maxBatchFrames: 0 }), base);
  assert.deepEqual(effectivePolicy({ maxBatchFrames: 2.5 }), base);
  assert.deepEqual(effectivePolicy({ maxBatchFrames: 1e9 }), { ...base, maxBatchFrames: 1_024 });
});

Deno.test("buildConnectRequest() sends empty caps unless given; the mutual-v1 answer offers frame-batch-v1", () => {
  const plain = buildConnectRequest({ token: "t", version: "0.1.0", now: 1, random: () => 0 });
  assert.deepEqual(plain.params.caps, []);
  const offered = buildConnectRequest({
    token: "t",
    version: "0.1.0",
    now: 1,
    random: () => 0,
    caps: ["frame-batch-v1"],
  });
  assert.deepEqual(offered.params.caps, ["frame-batch-v1"]);
  assert.equal(CONNECT_PARAMS_SCHEMA.safeParse(offered.params).success, true);
});
