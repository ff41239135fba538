// Conformance: every case once against Chrome's own endpoint and once through the relay, on one
// shared browser and relay. Set CONFORMANCE_ONLY=<regex> to run some cases, and
// CONFORMANCE_DOC=<path> to write the Markdown table (deno task conformance does).
import assert from "node:assert/strict";
import { E2E } from "../_harness.ts";
import type { CaseRecord } from "./_case.ts";
import { CASES } from "./_cases.ts";
import { renderConformance } from "./_report.ts";
import { ConformanceRunner } from "./_runner.ts";

Deno.test({
  name: "conformance() gives the same outcome directly and through the relay",
  ...E2E,
  async fn(t) {
    const only = Deno.env.get("CONFORMANCE_ONLY");
    const cases = CASES.filter((c) => only === undefined || new RegExp(only).test(c.feature));
    const runner = await ConformanceRunner.start();
    const records: CaseRecord[] = [];
    let browser = "";
    try {
      const version = await (await fetch(`${runner.browser.endpoint}/json/version`)).json();
      browser = String(version.Browser);
      for (const c of cases) {
        await t.step(`${c.feature} [relay: ${c.expectRelay}]`, async () => {
          const record = await runner.runCase(c);
          records.push(record);
          const relay = record.relay.ok
            ? JSON.stringify(record.relay.outcome)
            : `error: ${record.relay.error}`;
          const direct = record.direct.ok
            ? JSON.stringify(record.direct.outcome)
            : `error: ${record.direct.error}`;
          console.log(`  ${record.verdict}\n    direct ${direct}\n    relay  ${relay}`);
          if (record.verdict === "same" && c.expectRelay !== "pass") {
            console.log(`  now the same through the relay: flip expectRelay to "pass"`);
          }
          assert.ok(record.direct.ok, `direct run failed: ${direct}`);
          if (c.expectRelay === "pass") {
            assert.equal(record.verdict, "same", `relay differs from direct: ${relay}`);
          } else {
            assert.ok(c.why !== undefined && c.why !== "", "a non-pass row must say why");
          }
        });
      }
    } finally {
      await runner.close();
      await Deno.mkdir("test-output", { recursive: true });
      await Deno.writeTextFile(
        "test-output/conformance.json",
        JSON.stringify({ browser, records }, null, 2),
      );
      const doc = Deno.env.get("CONFORMANCE_DOC");
      if (doc !== undefined && doc !== "") {
        await Deno.writeTextFile(
          doc,
          renderConformance(records, { browser, date: new Date().toISOString().slice(0, 10) }),
        );
        // Keep `deno fmt --check` green: it aligns Markdown tables.
        await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", doc] }).output();
      }
    }
  },
});
