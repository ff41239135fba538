/**
 * `deno task bench`: runs the codec benchmarks (`deno bench --json bench/codec_bench.ts`, in a
 * child process) and the system benchmarks (bench/system_bench.ts, real Chromium), then prints
 * one table of ratios. Progress goes to stderr, the table to stdout.
 *
 * Flags: `--quick` (small sizes, for trying the script), `--json` (raw numbers after the table),
 * `--codec-only`, `--system-only`, `--only=floor,concurrency` (system sections: `roundTrip`,
 * `floor`, `concurrency`, `screenshot`, `flood`, `recovery`), `--dist=DIR` (load another build of
 * the extension, e.g. a copy of `dist/` from an earlier commit, to compare two versions).
 *
 * @module
 */

import { optionsFromArgs, runSystemBench } from "./system_bench.ts";
import { type BenchRow, ns, renderTable, times } from "./stats.ts";

interface BenchResult {
  readonly group?: string;
  readonly name: string;
  readonly baseline: boolean;
  readonly results: readonly { readonly ok?: { readonly avg: number; readonly min: number } }[];
}

interface BenchReport {
  readonly runtime: string;
  readonly cpu: string;
  readonly benches: readonly BenchResult[];
}

/** Runs the codec benchmarks in a child `deno bench --json` and returns its report. */
async function codecReport(): Promise<BenchReport> {
  const bench = new URL("./codec_bench.ts", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["bench", "-A", "--json", bench],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`deno bench failed with exit code ${output.code}`);
  return JSON.parse(new TextDecoder().decode(output.stdout)) as BenchReport;
}

function timing(result: BenchResult | undefined): { avg: number; min: number } | undefined {
  const ok = result?.results[0]?.ok;
  return ok === undefined ? undefined : { avg: ok.avg, min: ok.min };
}

/**
 * Codec rows: each group's codec entry against its baseline (targets ≤ 1.25× for decode,
 * ≤ 1.1× for encode), and zod ÷ codec for the decode groups (target ≥ 5×). "Met" is judged on
 * the ratio of minimum times, the least load-sensitive estimate on a shared machine; the
 * ratio of averages is shown next to it.
 */
export function codecRows(report: BenchReport): BenchRow[] {
  const groups = new Map<string, BenchResult[]>();
  for (const bench of report.benches) {
    const group = bench.group ?? bench.name;
    groups.set(group, [...(groups.get(group) ?? []), bench]);
  }
  const rows: BenchRow[] = [];
  const zodRows: BenchRow[] = [];
  for (const [group, benches] of groups) {
    if (group.startsWith("validate")) {
      const zod = timing(benches.find((b) => b.baseline));
      const mine = timing(benches.find((b) => b.name.startsWith("validate")));
      if (zod === undefined || mine === undefined) continue;
      const zodMin = zod.min / mine.min;
      zodRows.push({
        benchmark: `codec vs zod, validation only: ${group.slice("validate ".length)}`,
        baseline: `zod ${ns(zod.avg)} (min ${ns(zod.min)})`,
        ours: `${ns(mine.avg)} (min ${ns(mine.min)})`,
        ratio: `zod ÷ codec ${times(zodMin)} min, ${times(zod.avg / mine.avg)} avg`,
        target: "≥ 5× faster",
        met: zodMin >= 5 ? "yes" : "NO",
      });
      continue;
    }
    const base = timing(benches.find((b) => b.baseline));
    const baseName = benches.find((b) => b.baseline)?.name ?? "baseline";
    const codecBench = benches.find((b) => /^(decode|encode)/.test(b.name));
    const ours = timing(codecBench);
    if (base === undefined || ours === undefined) continue;
    const decode = group.startsWith("decode");
    const limit = decode ? 1.25 : 1.1;
    const minRatio = ours.min / base.min;
    rows.push({
      benchmark: `codec: ${group}`,
      baseline: `${baseName} ${ns(base.avg)} (min ${ns(base.min)})`,
      ours: `${ns(ours.avg)} (min ${ns(ours.min)})`,
      ratio: `${times(minRatio)} min, ${times(ours.avg / base.avg)} avg`,
      target: `≤ ${limit}×`,
      met: minRatio <= limit ? "yes" : "NO",
    });
    const zod = timing(benches.find((b) => b.name.startsWith("zod")));
    if (zod !== undefined) {
      const zodMin = zod.min / ours.min;
      zodRows.push({
        benchmark: `codec vs zod, with JSON.parse: ${group}`,
        baseline: `zod ${ns(zod.avg)} (min ${ns(zod.min)})`,
        ours: `${ns(ours.avg)} (min ${ns(ours.min)})`,
        ratio: `zod ÷ codec ${times(zodMin)} min, ${times(zod.avg / ours.avg)} avg`,
        target: "— (JSON.parse shared)",
        met: "—",
      });
    }
  }
  return [...rows, ...zodRows];
}

if (import.meta.main) {
  const rows: BenchRow[] = [];
  const raw: Record<string, unknown> = {};
  if (!Deno.args.includes("--system-only")) {
    console.error("codec benchmarks (deno bench bench/codec_bench.ts) …");
    const report = await codecReport();
    raw.codec = report;
    rows.push(...codecRows(report));
  }
  if (!Deno.args.includes("--codec-only")) {
    console.error("system benchmarks (bench/system_bench.ts, real Chromium) …");
    const system = await runSystemBench(optionsFromArgs(Deno.args));
    raw.system = system.details;
    rows.push(...system.rows);
  }
  const load = await Deno.readTextFile("/proc/loadavg").catch(() => "n/a");
  const browser = (raw.system as { browser?: string } | undefined)?.browser ?? "no browser run";
  console.log(
    `Deno ${Deno.version.deno}, ${browser}, ${navigator.hardwareConcurrency} cores, load ${
      load.split(" ").slice(0, 3).join(" ")
    }, ${new Date().toISOString()}`,
  );
  console.log(renderTable(rows));
  if (Deno.args.includes("--json")) console.log(JSON.stringify(raw, null, 2));
}
