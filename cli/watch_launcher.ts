/**
 * Notices when the process that launched this one goes away without signalling it.
 *
 * `npx -y deno@2.9.6 task start` runs `npm exec` → `sh -c deno task start` → `deno task` →
 * `deno run scripts/start.ts`. A supervisor that signals only the process it started (`timeout`,
 * a process manager, an IDE's stop button, `kill <npx pid>`) kills `npm exec`; `deno task` is
 * re-parented to init and keeps its child, so no signal ever reaches this process. The watch
 * therefore records the ancestors in this process's process group (the processes of this run)
 * and reports when any of them exits. Ancestors outside the group (the user's shell) are not
 * watched, so `nohup … &` keeps working after the shell exits.
 *
 * @module
 */

/** One line of `/proc/<pid>/stat`, the fields the watch needs. */
export interface ProcStat {
  /** Process id. */
  readonly pid: number;
  /** State letter; `Z` (zombie) and `X` (dead) count as gone. */
  readonly state: string;
  /** Parent process id. */
  readonly ppid: number;
  /** Process group id. */
  readonly pgrp: number;
  /** Start time in clock ticks since boot; tells a reused pid apart. */
  readonly startTime: string;
}

/**
 * Parses `/proc/<pid>/stat`. The command name may contain spaces and parentheses, so the fields
 * are read after its last `)`.
 *
 * @param text The file's text.
 * @returns The fields, or `undefined` when the text is not a stat line.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open === -1 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  const startTime = rest[19];
  if (state === undefined || startTime === undefined || !Number.isInteger(pid)) return undefined;
  if (!Number.isInteger(ppid) || !Number.isInteger(pgrp)) return undefined;
  return { pid, state, ppid, pgrp, startTime };
}

/** Options of {@linkcode watchLauncher}. */
export interface WatchLauncherOptions {
  /**
   * Poll interval.
   *
   * @default {500}
   */
  readonly intervalMs?: number;
  /**
   * Reads `/proc/<pid>/stat` (`"self"` for this process); `undefined` when it cannot.
   *
   * @default {Deno.readTextFileSync}
   */
  readonly readStat?: (pid: number | "self") => string | undefined;
  /**
   * The parent pid, used where `/proc` is unavailable.
   *
   * @default {() => Deno.ppid}
   */
  readonly ppid?: () => number;
}

/** A running watch; `close()` stops it. */
export interface LauncherWatch extends Disposable {
  /** The watched ancestors, innermost first (empty when only the parent pid is polled). */
  readonly watched: readonly number[];
  /** Stops polling; idempotent. */
  close(): void;
}

function defaultReadStat(pid: number | "self"): string | undefined {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
}

/**
 * Calls `onGone` once when an ancestor of this run (an ancestor in this process's group) exits
 * or, without `/proc`, when the parent changes.
 *
 * @param onGone Called with a description such as `"process 4242 (npm exec deno) exited"`.
 * @param options Poll interval and `/proc` access.
 * @returns The watch.
 */
export function watchLauncher(
  onGone: (why: string) => void,
  options: WatchLauncherOptions = {},
): LauncherWatch {
  const readStat = options.readStat ?? defaultReadStat;
  const ppidOf = options.ppid ?? (() => Deno.ppid);
  const self = parseProcStat(readStat("self") ?? "");
  const watched: ProcStat[] = [];
  if (self !== undefined) {
    let pid = self.ppid;
    while (pid > 1 && watched.length < 32) {
      const stat = parseProcStat(readStat(pid) ?? "");
      if (stat === undefined || stat.pgrp !== self.pgrp) break;
      watched.push(stat);
      pid = stat.ppid;
    }
  }
  const firstParent = ppidOf();
  const check = (): string | undefined => {
    if (self === undefined) {
      const now = ppidOf();
      return now === firstParent ? undefined : `parent process ${firstParent} exited`;
    }
    for (const ancestor of watched) {
      const now = parseProcStat(readStat(ancestor.pid) ?? "");
      if (
        now === undefined || now.startTime !== ancestor.startTime || now.state === "Z" ||
        now.state === "X"
      ) {
        return `process ${ancestor.pid} that launched this one exited`;
      }
    }
    return undefined;
  };
  let timer: ReturnType<typeof setInterval> | undefined = setInterval(() => {
    const why = check();
    if (why === undefined) return;
    close();
    onGone(why);
  }, options.intervalMs ?? 500);
  const close = () => {
    clearInterval(timer);
    timer = undefined;
  };
  return { watched: watched.map((s) => s.pid), close, [Symbol.dispose]: close };
}
