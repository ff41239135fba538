import assert from "node:assert/strict";
import { formatFailure, runFuzz } from "../../harness/fuzz.ts";

// A fresh seed per run explores new inputs; a failure prints the seed and the replay command.
const seed = Number(Deno.env.get("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 32));

Deno.test("decodeExtensionFrame() and decodeCdpFrame() survive 100,000 fuzzed inputs", () => {
  const failure = runFuzz({ seed, count: 100_000 });
  assert.equal(failure, undefined, failure === undefined ? "" : formatFailure(failure));
});
