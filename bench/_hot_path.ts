/**
 * The per-command hot path (issue 12): `Runtime.evaluate("1")` end to end against the
 * extension's own floors, measured interleaved in one run, and throughput with many commands in
 * flight through the relay against direct CDP to the same browser, with the CPU time each
 * process spent while it ran (what limits the throughput).
 *
 * @module
 */

import type { CdpSocket } from "./_cdp_socket.ts";
import { percentile } from "./stats.ts";

/** A percentile summary of round-trip samples, in ms. */
export interface Summary {
  readonly p50: number;
  readonly p95: number;
  readonly n: number;
}

function summarize(samples: readonly number[]): Summary {
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), n: samples.length };
}

/** One sample series of the relaying floor: each iteration's whole time and its debugger part. */
export interface RelayingSamples {
  /** Echo and `chrome.debugger.sendCommand` in sequence, per iteration, in ms. */
  readonly total: readonly number[];
  /** The `chrome.debugger.sendCommand` part of each iteration, in ms. */
  readonly debuggerPart: readonly number[];
}

/** The ways of timing one command that {@linkcode endToEndVsFloor} interleaves. */
export interface FloorProbes {
  /** `n` sequential `Runtime.evaluate("1")` through relay + extension, each timed by the client. */
  readonly endToEnd: (n: number) => Promise<number[]>;
  /** `n` sequential `chrome.debugger.sendCommand` of the same command, timed inside the worker. */
  readonly debuggerInWorker: (n: number) => Promise<number[]>;
  /** `n` WebSocket echoes of a command-sized frame from the worker to a loopback server. */
  readonly socketFromWorker: (n: number) => Promise<number[]>;
  /**
   * `n` iterations inside the worker of what a relay that costs nothing would do per command:
   * a command-sized frame over the worker's WebSocket and its echo, then the
   * `chrome.debugger.sendCommand`, in sequence, each iteration timed whole and its debugger part
   * on its own.
   */
  readonly relayingFloor: (n: number) => Promise<RelayingSamples>;
  /**
   * `n` sequential commands through relay + extension that the worker answers without a
   * `chrome.*` call (a session it does not know), each timed by the client: the relay's and the
   * worker's own cost on top of the worker's socket.
   */
  readonly withoutDebugger?: (n: number) => Promise<number[]>;
  /**
   * `n` sequential `Runtime.evaluate("1")` through the minimal relay path (a pass-through relay
   * and a minimal handler in the worker), each timed by the client.
   */
  readonly minimalPath?: (n: number) => Promise<number[]>;
}

/** End to end against the extension's floors, with the floors' parts. */
export interface FloorResult {
  readonly endToEnd: Summary;
  /** Per-sample sum of a `chrome.debugger` round trip and a worker socket echo. */
  readonly floor: Summary;
  readonly debuggerInWorker: Summary;
  readonly socketFromWorker: Summary;
  /** Echo then `chrome.debugger` in sequence, inside the worker, per iteration. */
  readonly relayingFloor: Summary;
  /** The `chrome.debugger` part of each relaying-floor iteration. */
  readonly debuggerInRelayingFloor: Summary;
  /** The echo part of each relaying-floor iteration (the whole minus its debugger part). */
  readonly echoInRelayingFloor: Summary;
  /** Only when the probe was given. */
  readonly withoutDebugger?: Summary;
  /** Only when the probe was given. */
  readonly minimalPath?: Summary;
}

/**
 * Measures the end-to-end round trip and the extension's floors in alternating blocks, so load
 * drift on a shared machine hits all of them equally. The sum-of-parts floor of one command is
 * the sum of the i-th `chrome.debugger` sample and the i-th socket echo of the same block (not
 * the sum of two percentiles, which would overstate the floor's tail). The relaying floor is
 * timed whole: the echo and the debugger call in sequence, as a relay must do them. The minimal
 * relay path, when given, runs right after each end-to-end block.
 *
 * @param probes How to time each part.
 * @param total Samples per part.
 * @param block Samples per part per block.
 * @returns Summaries of all the series.
 */
export async function endToEndVsFloor(
  probes: FloorProbes,
  total: number,
  block = 50,
): Promise<FloorResult> {
  await probes.endToEnd(50);
  await probes.debuggerInWorker(20);
  await probes.socketFromWorker(20);
  await probes.relayingFloor(20);
  const endToEnd: number[] = [];
  const debuggerSamples: number[] = [];
  const socketSamples: number[] = [];
  const floor: number[] = [];
  const relaying: number[] = [];
  const relayingDebugger: number[] = [];
  const relayingEcho: number[] = [];
  const withoutDebugger: number[] = [];
  const minimalPath: number[] = [];
  if (probes.withoutDebugger !== undefined) await probes.withoutDebugger(20);
  if (probes.minimalPath !== undefined) await probes.minimalPath(50);
  for (let done = 0; done < total; done += block) {
    const n = Math.min(block, total - done);
    endToEnd.push(...await probes.endToEnd(n));
    if (probes.minimalPath !== undefined) minimalPath.push(...await probes.minimalPath(n));
    if (probes.withoutDebugger !== undefined) {
      withoutDebugger.push(...await probes.withoutDebugger(n));
    }
    const d = await probes.debuggerInWorker(n);
    const s = await probes.socketFromWorker(n);
    debuggerSamples.push(...d);
    socketSamples.push(...s);
    for (let i = 0; i < n; i++) floor.push(d[i]! + s[i]!);
    const r = await probes.relayingFloor(n);
    relaying.push(...r.total);
    relayingDebugger.push(...r.debuggerPart);
    r.total.forEach((whole, i) => relayingEcho.push(whole - r.debuggerPart[i]!));
  }
  return {
    endToEnd: summarize(endToEnd),
    floor: summarize(floor),
    debuggerInWorker: summarize(debuggerSamples),
    socketFromWorker: summarize(socketSamples),
    relayingFloor: summarize(relaying),
    debuggerInRelayingFloor: summarize(relayingDebugger),
    echoInRelayingFloor: summarize(relayingEcho),
    ...(probes.withoutDebugger === undefined
      ? {}
      : { withoutDebugger: summarize(withoutDebugger) }),
    ...(probes.minimalPath === undefined ? {} : { minimalPath: summarize(minimalPath) }),
  };
}

/** One CDP client and the session its commands go to (none for a direct page socket). */
export interface Lane {
  readonly socket: CdpSocket;
  readonly sessionId?: string;
}

/** Throughput of one pipelined run. */
export interface Throughput {
  readonly commands: number;
  readonly ms: number;
  readonly perSecond: number;
}

/**
 * Sends `total` `Runtime.evaluate("1")` commands, keeping `inFlight` outstanding on every client
 * at all times (a new command goes out as soon as one is answered).
 *
 * @param clients The clients, each with its session.
 * @param inFlight Commands outstanding per client.
 * @param total Commands in all.
 * @returns Commands per second over the whole run.
 * @throws {Error} When a command fails.
 */
export async function pipelined(
  clients: readonly Lane[],
  inFlight: number,
  total: number,
): Promise<Throughput> {
  let sent = 0;
  const lane = async (client: Lane) => {
    while (sent < total) {
      sent++;
      const reply = await client.socket.send(
        "Runtime.evaluate",
        { expression: "1" },
        client.sessionId,
      );
      if (reply.error !== undefined) {
        throw new Error(`Runtime.evaluate failed in flight: ${JSON.stringify(reply.error)}`);
      }
    }
  };
  const start = performance.now();
  await Promise.all(
    clients.flatMap((client) => Array.from({ length: inFlight }, () => lane(client))),
  );
  const ms = performance.now() - start;
  return { commands: total, ms, perSecond: total / ms * 1000 };
}

/** CPU seconds per process role, from Linux `/proc`. */
export type CpuByRole = Record<string, number>;

const TICKS_PER_SECOND = 100;

async function readStat(pid: string): Promise<{ ppid: number; ticks: number } | undefined> {
  const text = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => undefined);
  if (text === undefined) return undefined;
  // The command name is in parentheses and may hold spaces; fields after it are fixed.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

function roleOf(args: readonly string[]): string {
  const type = args.find((a) => a.startsWith("--type="))?.slice("--type=".length);
  if (type === undefined) return "browser process";
  if (type === "renderer") {
    return args.includes("--extension-process") ? "extension renderer (worker)" : "page renderer";
  }
  if (type === "utility") {
    const sub = args.find((a) => a.startsWith("--utility-sub-type="));
    return sub?.includes("NetworkService") ? "network service" : "utility";
  }
  return type;
}

/**
 * CPU time used so far by the browser's process tree (by role) and by this Deno process (the
 * relay and the benchmark's own clients). Empty when `/proc` is unavailable.
 *
 * @param browserPid The browser's main process.
 * @returns Seconds of user + system CPU per role.
 */
export async function cpuByRole(browserPid: number | undefined): Promise<CpuByRole> {
  const out: CpuByRole = {};
  const self = await readStat("self");
  if (self === undefined) return out;
  out["relay + bench clients (this Deno)"] = self.ticks / TICKS_PER_SECOND;
  if (browserPid === undefined) return out;
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = await readStat(entry.name);
    if (stat !== undefined) stats.set(Number(entry.name), stat);
  }
  const inTree = (pid: number): boolean => {
    for (let at: number | undefined = pid, hops = 0; at !== undefined && hops < 8; hops++) {
      if (at === browserPid) return true;
      at = stats.get(at)?.ppid;
    }
    return false;
  };
  for (const [pid, stat] of stats) {
    if (!inTree(pid)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
    // Child processes rewrite their title, so their arguments are separated by spaces, not NULs.
    const role = roleOf(cmdline.split(/[\0 ]/));
    out[role] = (out[role] ?? 0) + stat.ticks / TICKS_PER_SECOND;
  }
  return out;
}

/** Per-role difference `after - before`, largest first, roles under 5 ms dropped. */
export function cpuSpent(before: CpuByRole, after: CpuByRole): [string, number][] {
  return Object.entries(after)
    .map(([role, seconds]): [string, number] => [role, seconds - (before[role] ?? 0)])
    .filter(([, seconds]) => seconds >= 0.005)
    .sort((a, b) => b[1] - a[1]);
}

/** The pid of the browser process using `userDataDir` (Linux `/proc`), if it can be found. */
export async function browserPid(userDataDir: string): Promise<number | undefined> {
  try {
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
      const args = cmdline.split("\0");
      if (
        args.some((a) => a === `--user-data-dir=${userDataDir}`) &&
        !args.some((a) => a.startsWith("--type="))
      ) {
        return Number(entry.name);
      }
    }
  } catch {
    // not Linux
  }
  return undefined;
}
