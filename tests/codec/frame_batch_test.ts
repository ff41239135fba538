import assert from "node:assert/strict";
import {
  decodeFrameBatch,
  encodeFrameBatch,
  FrameBatcher,
  isFrameBatch,
  MAX_BATCHED_FRAME_CHARS,
} from "../../codec/frame_batch.ts";
import { encodeExtensionFrame } from "../../codec/encode_extension_frame.ts";
import { validateExtensionFrame } from "../../codec/validate_extension_frame.ts";

const reply = (id: number) => `{"id":${id},"result":{}}`;

/** A batcher whose turn ends when the test says so. */
function manual(maxFrames: number) {
  const sent: string[] = [];
  const turns: (() => void)[] = [];
  const batcher = new FrameBatcher((text) => sent.push(text), {
    maxFrames,
    schedule: (flush) => turns.push(flush),
  });
  const endTurn = () => {
    for (const flush of turns.splice(0)) flush();
  };
  return { sent, turns, batcher, endTurn };
}

Deno.test("encodeFrameBatch() sends one frame as itself and several as one array", () => {
  assert.equal(encodeFrameBatch([reply(1)]), reply(1));
  assert.equal(encodeFrameBatch([reply(1), reply(2)]), `[${reply(1)},${reply(2)}]`);
  assert.equal(isFrameBatch(encodeFrameBatch([reply(1), reply(2)])), true);
  assert.equal(isFrameBatch(reply(1)), false);
  assert.equal(isFrameBatch(""), false);
  assert.equal(isFrameBatch(new TextEncoder().encode("[{}]")), true);
  assert.equal(isFrameBatch(new TextEncoder().encode("{}")), false);
  assert.equal(isFrameBatch(new Uint8Array()), false);
});

Deno.test("decodeFrameBatch() returns the elements in order, each valid as a frame", () => {
  const text = encodeFrameBatch([
    encodeExtensionFrame({ kind: "pong" }),
    reply(7),
    '{"id":8,"method":"forwardCDPCommand","params":{}}',
  ]);
  const batch = decodeFrameBatch(text);
  assert.equal(batch.ok, true);
  if (!batch.ok) return;
  const results = batch.frame.map(validateExtensionFrame);
  assert.equal(results.length, 3);
  assert.deepEqual(results[0], { ok: true, frame: { kind: "pong" } });
  assert.deepEqual(results[1], {
    ok: true,
    frame: { kind: "response", id: 7, outcome: { ok: true, result: {} } },
  });
  // A malformed element fails on its own, with its id so it can still be answered.
  assert.equal(results[2]!.ok, false);
  assert.equal(!results[2]!.ok && results[2]!.id, 8);
});

Deno.test("decodeFrameBatch() rejects text that is not JSON, too large, or not an array", () => {
  const notJson = decodeFrameBatch("[{");
  assert.equal(!notJson.ok && notJson.issues[0].code, "invalid_json");
  const notArray = decodeFrameBatch(reply(1));
  assert.equal(!notArray.ok && notArray.issues[0].code, "wrong_type");
  assert.match(!notArray.ok ? notArray.issues[0].message : "", /array of frames/);
  const tooLarge = decodeFrameBatch(`[${reply(1)}]`, { maxBytes: 5 });
  assert.equal(!tooLarge.ok && tooLarge.issues[0].code, "too_large");
  const bytes = decodeFrameBatch(new TextEncoder().encode(`[${reply(1)}]`));
  assert.equal(bytes.ok && bytes.frame.length, 1);
});

Deno.test("FrameBatcher.push() sends one turn's frames as one message at the end of the turn", () => {
  const { sent, turns, batcher, endTurn } = manual(64);
  batcher.push(reply(1));
  batcher.push(reply(2));
  batcher.push(reply(3));
  assert.deepEqual(sent, []);
  assert.equal(turns.length, 1, "one flush scheduled per turn");
  assert.equal(batcher.pending, 3);
  endTurn();
  assert.deepEqual(sent, [`[${reply(1)},${reply(2)},${reply(3)}]`]);
  assert.equal(batcher.pending, 0);
  // A turn with one frame sends it unwrapped.
  batcher.push(reply(4));
  endTurn();
  assert.deepEqual(sent.slice(1), [reply(4)]);
  endTurn();
  assert.equal(sent.length, 2, "an empty turn sends nothing");
});

Deno.test("FrameBatcher.push() sends a full batch at once and starts the next", () => {
  const { sent, batcher, endTurn } = manual(2);
  batcher.push(reply(1));
  batcher.push(reply(2));
  assert.deepEqual(sent, [`[${reply(1)},${reply(2)}]`]);
  batcher.push(reply(3));
  endTurn();
  assert.deepEqual(sent, [`[${reply(1)},${reply(2)}]`, reply(3)]);
});

Deno.test("FrameBatcher.push() sends a large frame alone, after the frames queued before it", () => {
  const { sent, batcher, endTurn } = manual(64);
  const large = `{"id":9,"result":{"data":"${"A".repeat(MAX_BATCHED_FRAME_CHARS)}"}}`;
  batcher.push(reply(1));
  batcher.push(reply(2));
  batcher.push(large);
  batcher.push(reply(3));
  endTurn();
  assert.deepEqual(sent, [`[${reply(1)},${reply(2)}]`, large, reply(3)]);
});

Deno.test("FrameBatcher.push() keeps a batch within four large-frame sizes", () => {
  const { sent, batcher, endTurn } = manual(64);
  const medium = `{"id":1,"result":{"data":"${"A".repeat(MAX_BATCHED_FRAME_CHARS - 100)}"}}`;
  for (let i = 0; i < 5; i++) batcher.push(medium);
  endTurn();
  assert.equal(sent.length, 2);
  assert.equal(decodeFrameBatch(sent[0]!).ok && JSON.parse(sent[0]!).length, 4);
  assert.equal(sent[1], medium);
});

Deno.test("FrameBatcher with maxFrames 1 sends every frame at once", () => {
  const { sent, turns, batcher } = manual(1);
  batcher.push(reply(1));
  batcher.push(reply(2));
  assert.deepEqual(sent, [reply(1), reply(2)]);
  assert.equal(turns.length, 0);
});

Deno.test("FrameBatcher.discard() drops the queue and says how much", () => {
  const { sent, batcher, endTurn } = manual(64);
  batcher.push(reply(1));
  batcher.push(reply(2));
  assert.equal(batcher.discard(), 2);
  endTurn();
  assert.deepEqual(sent, []);
});

Deno.test("FrameBatcher() refuses a maxFrames that is not a positive integer", () => {
  for (const maxFrames of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => new FrameBatcher(() => {}, { maxFrames }),
      new RangeError(
        `Cannot create a frame batcher as "maxFrames" must be a positive integer: current value is ${maxFrames}`,
      ),
    );
  }
});

Deno.test("FrameBatcher() flushes on a real microtask by default", async () => {
  const sent: string[] = [];
  const batcher = new FrameBatcher((text) => sent.push(text), { maxFrames: 8 });
  batcher.push(reply(1));
  batcher.push(reply(2));
  assert.deepEqual(sent, []);
  await Promise.resolve();
  assert.deepEqual(sent, [`[${reply(1)},${reply(2)}]`]);
});
