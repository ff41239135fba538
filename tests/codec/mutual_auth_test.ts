import assert from "node:assert/strict";
import { deriveRelayToken } from "../../codec/derive_relay_token.ts";
import {
  encodeNonce,
  isMutualToken,
  mutualAuthKey,
  mutualChallengeNonce,
  mutualConnectToken,
  mutualProof,
  mutualSocketUrl,
  parseMutualChallengeNonce,
  parseMutualConnectToken,
  verifyMutualProof,
} from "../../codec/mutual_auth.ts";

// Vectors computed independently (Python hmac/hashlib/base64), not with the code under test.
const CLIENT_NONCE = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"; // bytes 0..31
const RELAY_NONCE = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"; // bytes 32..63
const RELAY_PROOF = "Z8nWNQ7sdCA_ApOBNe1P5x2fc3S2G_98p15vWrj5jc8";
const EXTENSION_PROOF = "eRjsh7pqxosW8-r6deA8Guw2Ibv7Nx0Oef9YOO1uJO0";
const TRANSCRIPT = { port: 18792, clientNonce: CLIENT_NONCE, relayNonce: RELAY_NONCE };

Deno.test("encodeNonce() writes 32 bytes as 43 base64url characters", () => {
  assert.equal(encodeNonce(Uint8Array.from({ length: 32 }, (_, i) => i)), CLIENT_NONCE);
  assert.equal(encodeNonce(new Uint8Array(32).fill(0xff)), "_".repeat(42) + "8");
  assert.throws(() => encodeNonce(new Uint8Array(16)), {
    name: "RangeError",
    message: 'Cannot encode nonce as "bytes" must be 32 bytes long: current length is 16',
  });
});

Deno.test("isMutualToken() accepts only canonical 32-byte base64url", () => {
  assert.equal(isMutualToken(CLIENT_NONCE), true);
  assert.equal(isMutualToken(CLIENT_NONCE + "="), false);
  assert.equal(isMutualToken(CLIENT_NONCE.slice(1)), false);
  assert.equal(isMutualToken(CLIENT_NONCE.replace("A", "+")), false);
  // Last character with non-zero padding bits: decodes to the same bytes, but is not canonical.
  assert.equal(isMutualToken(CLIENT_NONCE.slice(0, 42) + "9"), false);
});

Deno.test("mutualProof() matches independent vectors for both roles", async () => {
  const key = await mutualAuthKey("  test-gateway-token  ", 18792);
  assert.equal(await mutualProof(key, "relay", TRANSCRIPT), RELAY_PROOF);
  assert.equal(await mutualProof(key, "extension", TRANSCRIPT), EXTENSION_PROOF);
});

Deno.test("verifyMutualProof() is bound to the role, both nonces, the port and the token", async (t) => {
  const key = await mutualAuthKey("test-gateway-token", 18792);
  await t.step("the right proof", async () => {
    assert.equal(await verifyMutualProof(key, "relay", TRANSCRIPT, RELAY_PROOF), true);
    assert.equal(await verifyMutualProof(key, "extension", TRANSCRIPT, EXTENSION_PROOF), true);
  });
  await t.step("the other role's proof (reflection)", async () => {
    assert.equal(await verifyMutualProof(key, "relay", TRANSCRIPT, EXTENSION_PROOF), false);
    assert.equal(await verifyMutualProof(key, "extension", TRANSCRIPT, RELAY_PROOF), false);
  });
  await t.step("another client nonce, relay nonce or port (replay)", async () => {
    const other = encodeNonce(new Uint8Array(32));
    for (
      const transcript of [
        { ...TRANSCRIPT, clientNonce: other },
        { ...TRANSCRIPT, relayNonce: other },
        { ...TRANSCRIPT, port: 18793 },
      ]
    ) {
      assert.equal(await verifyMutualProof(key, "relay", transcript, RELAY_PROOF), false);
    }
    const otherPort = await mutualAuthKey("test-gateway-token", 18793);
    assert.equal(await verifyMutualProof(otherPort, "relay", TRANSCRIPT, RELAY_PROOF), false);
  });
  await t.step("another gateway token", async () => {
    const wrong = await mutualAuthKey("other-token", 18792);
    assert.equal(await verifyMutualProof(wrong, "relay", TRANSCRIPT, RELAY_PROOF), false);
  });
  await t.step("malformed proofs are false, not errors", async () => {
    for (const proof of ["", "x", RELAY_PROOF + "A", RELAY_PROOF.slice(0, 42) + "+"]) {
      assert.equal(await verifyMutualProof(key, "relay", TRANSCRIPT, proof), false);
    }
  });
});

Deno.test("mutualAuthKey() differs from the relay token of protocol §2.1", async () => {
  // A relay token leaked in OpenClaw compatibility mode must not forge mutual-v1 proofs.
  const relayToken = await deriveRelayToken("test-gateway-token", 18792);
  const leaked = await mutualAuthKey(relayToken, 18792);
  assert.equal(await verifyMutualProof(leaked, "relay", TRANSCRIPT, RELAY_PROOF), false);
  await assert.rejects(mutualAuthKey("t", 0), {
    name: "RangeError",
    message:
      'Cannot derive mutual authentication key as "port" must be an integer between 1 and 65535: current value is 0',
  });
});

Deno.test("parseMutualChallengeNonce() splits mutual-v1 nonces and refuses everything else", () => {
  const nonce = mutualChallengeNonce(RELAY_NONCE, RELAY_PROOF);
  assert.equal(nonce, `mutual-v1.${RELAY_NONCE}.${RELAY_PROOF}`);
  assert.deepEqual(parseMutualChallengeNonce(nonce), {
    relayNonce: RELAY_NONCE,
    proof: RELAY_PROOF,
  });
  for (
    const bad of [
      "b08424c6-99f6-4a1a-afef-0dc44ac8cb84", // a plain challenge nonce (§3.2)
      `mutual-v2.${RELAY_NONCE}.${RELAY_PROOF}`,
      `mutual-v1.${RELAY_NONCE}-${RELAY_PROOF}`,
      `mutual-v1.${RELAY_NONCE}.${RELAY_PROOF}A`,
      `mutual-v1.${RELAY_NONCE.replace("I", "*")}.${RELAY_PROOF}`,
      "",
    ]
  ) {
    assert.equal(parseMutualChallengeNonce(bad), undefined, bad);
  }
});

Deno.test("mutualSocketUrl() and mutualConnectToken() carry only the nonce and the proof", () => {
  assert.equal(
    mutualSocketUrl(18792, CLIENT_NONCE),
    `ws://127.0.0.1:18792/extension?auth=mutual-v1&nonce=${CLIENT_NONCE}`,
  );
  assert.equal(mutualConnectToken(EXTENSION_PROOF), `mutual-v1.${EXTENSION_PROOF}`);
});

Deno.test("parseMutualConnectToken() returns the proof only for mutual-v1.<proof>", () => {
  assert.equal(parseMutualConnectToken(`mutual-v1.${EXTENSION_PROOF}`), EXTENSION_PROOF);
  for (
    const token of [
      EXTENSION_PROOF,
      "test-gateway-token",
      "f0f0433d5dfc42ee9066dba0dc2cd4aec533f98215cbaa383fe6868cce0ae21b",
      `mutual-v1.${EXTENSION_PROOF}=`,
      `mutual-v1.${EXTENSION_PROOF.slice(1)}`,
      `mutual-v2.${EXTENSION_PROOF}`,
      `mutual-v1.${RELAY_NONCE}.${RELAY_PROOF}`,
      "mutual-v1.",
    ]
  ) {
    assert.equal(parseMutualConnectToken(token), undefined, token);
  }
});
