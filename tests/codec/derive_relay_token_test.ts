import assert from "node:assert/strict";
import { deriveRelayToken } from "../../mod.ts";

// relay-protocol.md §2.1: every implementation must reproduce these.
const VECTORS = [
  ["test-gateway-token", 18792, "29cafced061131831da3a26e53d52a9acdfe945a5595ead3c4223b96c3c3cf78"],
  ["test-gateway-token", 9999, "5ff0f3db6d5821bd4cf074abfdff064b3bddaadc7e7f0337b66f411d1eca0f6c"],
  [
    "c18bf8430baa9e1bc187951361b684eba063d586",
    18792,
    "17edf52c87e7bca435bb3c8e824b90b85f9c35efbe5bacd84ee1de0ed987221a",
  ],
  ["test-token", 18792, "f0f0433d5dfc42ee9066dba0dc2cd4aec533f98215cbaa383fe6868cce0ae21b"],
] as const;

Deno.test("deriveRelayToken() reproduces the four protocol vectors", async (t) => {
  for (const [gatewayToken, port, expected] of VECTORS) {
    await t.step(`${gatewayToken} @ ${port}`, async () => {
      assert.equal(await deriveRelayToken(gatewayToken, port), expected);
    });
  }
});

Deno.test("deriveRelayToken() trims the gateway token", async () => {
  assert.equal(await deriveRelayToken("  test-token\n", 18792), VECTORS[3][2]);
});

Deno.test("deriveRelayToken() rejects a port outside 1..65535", async (t) => {
  for (const port of [0, 65_536, 1.5, Number.NaN]) {
    await t.step(String(port), async () => {
      await assert.rejects(deriveRelayToken("t", port), {
        name: "RangeError",
        message:
          `Cannot derive relay token as "port" must be an integer between 1 and 65535: current value is ${port}`,
      });
    });
  }
});
