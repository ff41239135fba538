// Long fuzz run: `deno task fuzz` (1,000,000 inputs). `--seed=N` replays a run, `--count=N` sets
// its length. Exits 1 on any decoder throw or schema-violating accept.

import { formatFailure, runFuzz } from "../harness/fuzz.ts";

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return Deno.args.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

const count = Number(flag("count") ?? 1_000_000);
const seed = Number(flag("seed") ?? Math.floor(Math.random() * 2 ** 32));
if (!Number.isSafeInteger(count) || count < 1) {
  throw new RangeError(
    `Cannot fuzz as "count" must be a positive integer: current value is ${flag("count")}`,
  );
}
if (!Number.isSafeInteger(seed) || seed < 0) {
  throw new RangeError(
    `Cannot fuzz as "seed" must be a non-negative integer: current value is ${flag("seed")}`,
  );
}

console.log(`fuzz: seed ${seed}, ${count} inputs`);
const started = performance.now();
const failure = runFuzz({
  seed,
  count,
  progressEvery: 100_000,
  onProgress: (done) =>
    console.log(`  ${done} inputs, ${((performance.now() - started) / 1000).toFixed(1)} s`),
});
if (failure !== undefined) {
  console.error(formatFailure(failure));
  Deno.exit(1);
}
console.log(
  `fuzz: ok, ${count} inputs in ${
    ((performance.now() - started) / 1000).toFixed(1)
  } s (seed ${seed})`,
);
