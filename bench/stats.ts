/**
 * Small helpers shared by the benchmark scripts: percentiles, formatting and the result table.
 *
 * @module
 */

/** One line of the combined benchmark table. */
export interface BenchRow {
  /** What was measured. */
  readonly benchmark: string;
  /** The floor or the alternative, with its number. */
  readonly baseline: string;
  /** Our number. */
  readonly ours: string;
  /** `ours ÷ baseline` (or the stated comparison). */
  readonly ratio: string;
  /** The target. */
  readonly target: string;
  /** Whether the target is met: `"yes"`, `"NO"`, or `"—"` when there is no target. */
  readonly met: "yes" | "NO" | "—";
}

/**
 * Nearest-rank percentile.
 *
 * @param values Samples, in any order.
 * @param p Percentile in [0, 100].
 * @returns The percentile, or `NaN` for no samples.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Formats milliseconds with a sensible precision. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 100) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(0)} ms`;
}

/** Formats nanoseconds (deno bench units) as ns or µs. */
export function ns(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (value < 1_000) return `${value.toFixed(0)} ns`;
  if (value < 1_000_000) return `${(value / 1_000).toFixed(1)} µs`;
  return `${(value / 1_000_000).toFixed(2)} ms`;
}

/** Formats a byte count as MB (10^6) or kB. */
export function bytes(value: number): string {
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(2)} MB`;
  if (value >= 1_000) return `${(value / 1_000).toFixed(1)} kB`;
  return `${value} B`;
}

/** Formats a ratio as `1.23×`. */
export function times(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : "n/a";
}

/**
 * Renders rows as a Markdown table (readable in a terminal too).
 *
 * @param rows The rows.
 * @returns The table text.
 */
export function renderTable(rows: readonly BenchRow[]): string {
  const header = ["Benchmark", "Baseline", "Ours", "Ratio", "Target", "Met?"];
  const cells = rows.map((r) => [r.benchmark, r.baseline, r.ours, r.ratio, r.target, r.met]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (values: readonly string[]) =>
    `| ${values.map((v, i) => v.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(header),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...cells.map(line),
  ].join("\n");
}
