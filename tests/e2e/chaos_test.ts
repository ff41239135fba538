// Issue 9, item 4 (CI slice): the chaos run of `deno task chaos` with 5 relay restarts, 3 worker
// kills and 3 cross-origin navigations. A fresh seed per run; CHAOS_SEED=N replays one.
import assert from "node:assert/strict";
import { runChaos } from "../../scripts/chaos.ts";
import { E2E } from "./_harness.ts";

const seed = Number(Deno.env.get("CHAOS_SEED") ?? Math.floor(Math.random() * 2 ** 32));

Deno.test({
  name: "runChaos() answers every command once through 5 restarts, 3 kills and 3 navigations",
  ...E2E,
  async fn() {
    const lines: string[] = [];
    const report = await runChaos({
      seed,
      restarts: 5,
      kills: 3,
      navigations: 3,
      log: (line) => lines.push(line),
    });
    console.log(
      `chaos (seed ${seed}): ${report.commands.sent} commands, ${report.commands.results} results, ${report.commands.errors} errors, ${report.commands.cutByStop} cut by stop, max latency ${report.commands.maxLatencyMs} ms, ${report.durationMs} ms`,
    );
    assert.deepEqual(
      report.failures,
      [],
      `replay with CHAOS_SEED=${seed}\n${lines.join("\n")}\n${JSON.stringify(report, null, 2)}`,
    );
    assert.ok(report.commands.results > 0, "the stream produced results");
    assert.deepEqual(report.workerAfter, { inflight: 0, buffered: 0, reattaching: 0 });
    assert.equal(report.relayAfter.pendingCommands, 0);
    assert.equal(report.relayAfter.heldCommands, 0);
  },
});
