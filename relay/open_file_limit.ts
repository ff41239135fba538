/**
 * The process's soft limit on open file descriptors, which bounds how many sockets the relay
 * can hold (issue 14 defect 1).
 *
 * @module
 */

/**
 * Reads the soft `Max open files` limit from the text of `/proc/<pid>/limits`.
 *
 * @param text The file's contents.
 * @returns The soft limit, `Infinity` for `unlimited`, or `undefined` if the line is missing.
 *
 * @example
 * ```ts
 * import { parseOpenFileLimit } from "./open_file_limit.ts";
 *
 * parseOpenFileLimit("Max open files            1024                 524288               files");
 * // 1024
 * ```
 */
export function parseOpenFileLimit(text: string): number | undefined {
  const match = /^Max open files\s+(\S+)\s+\S+/m.exec(text);
  const soft = match?.[1];
  if (soft === undefined) return undefined;
  if (soft === "unlimited") return Infinity;
  const value = Number(soft);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * The soft open-file limit of this process: read from `/proc/self/limits` on Linux. Deno lets
 * a process read its own `/proc/self` files only with `--allow-all` (2.9.6: `NotCapable:
 * Requires all access`), so under narrower permissions, as in `deno task relay`, the fallback
 * is used.
 *
 * @param fallback Returned where the limit cannot be read (another OS, no read permission).
 * @returns The soft limit.
 *
 * @example
 * ```ts ignore
 * import { readOpenFileLimit } from "./open_file_limit.ts";
 *
 * console.log(readOpenFileLimit(256));
 * ```
 */
export function readOpenFileLimit(fallback: number): number {
  if (Deno.build.os !== "linux") return fallback;
  try {
    return parseOpenFileLimit(Deno.readTextFileSync("/proc/self/limits")) ?? fallback;
  } catch {
    // NotCapable without --allow-all, or no procfs: the conservative fallback holds.
    return fallback;
  }
}
