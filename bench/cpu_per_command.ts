/**
 * CPU time per command, per process, of the relay path against the extension's floor: what the
 * worker and relay add on top of Chrome's own cost, measured in CPU time rather than wall time so
 * a busy shared machine does not blur it (docs/benchmarks.md). Not part of `deno task bench`.
 *
 * Four workloads, each `Runtime.evaluate("1")`-sized with 16 in flight, interleaved for `rounds`
 * rounds, with `/proc` CPU time of every process read before and after each:
 * - **relay path**: a `/cdp` client → relay → extension → `chrome.debugger` → tab;
 * - **debugger in worker**: `chrome.debugger.sendCommand` called by a loop inside the worker;
 * - **worker socket echo**: a 150-byte frame from the worker to a loopback Deno echo server;
 * - **direct CDP**: the same client on the page's `webSocketDebuggerUrl`.
 *
 * The floor is the sum of the two middle rows; "ours" is the relay path minus the floor.
 *
 * `deno run -A bench/cpu_per_command.ts [--commands=N] [--rounds=R] [--dist=DIR] [--profile]`
 * (after `deno task build`); `--dist` loads another build of the extension, to compare two
 * versions; `--profile` first prints the worker's self time per command and function for the
 * three worker workloads (a sampled V8 profile of the service worker).
 *
 * @module
 */

import { withoutWorkerNetworkInspection } from "../harness/browser.ts";
import { Rig, waitUntil } from "../harness/rig.ts";
import { CdpSocket } from "./_cdp_socket.ts";
import { browserPid, type CpuByRole, cpuByRole, cpuSpent, pipelined } from "./_hot_path.ts";

function flag(name: string): string | undefined {
  return Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const commands = Number(flag("commands") ?? 4_000);
const rounds = Number(flag("rounds") ?? 3);
const dist = flag("dist");
const IN_FLIGHT = 16;

interface Profile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string };
    readonly hitCount?: number;
  }[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

/** Self time per command of the worker's top functions, from a sampled V8 profile. */
function printProfile(name: string, profile: Profile, elapsedMs: number, n: number): void {
  const self = new Map<string, number>();
  let hits = 0;
  for (const node of profile.nodes) {
    const key = `${node.callFrame.functionName || "(anonymous)"} ${
      node.callFrame.url.split("/").pop() ?? ""
    }`;
    self.set(key, (self.get(key) ?? 0) + (node.hitCount ?? 0));
    hits += node.hitCount ?? 0;
  }
  const usPerHit = (profile.endTime - profile.startTime) / Math.max(1, hits);
  const busy = [...self].filter(([key]) => !key.startsWith("(idle)"))
    .reduce((sum, [, h]) => sum + h, 0);
  console.log(
    `worker profile, ${name}: ${n} commands in ${elapsedMs.toFixed(0)} ms; JS thread busy ${
      (busy * usPerHit / n).toFixed(1)
    } µs per command`,
  );
  for (const [key, h] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 14)) {
    if (key.startsWith("(idle)")) continue;
    console.log(`  ${(h * usPerHit / n).toFixed(1).padStart(6)} µs  ${key}`);
  }
}

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onmessage = (event) => socket.send(String(event.data));
  return response;
});
const echoUrl = `ws://127.0.0.1:${server.addr.port}/`;

withoutWorkerNetworkInspection();
const rig = await Rig.start({}, {
  args: ["--remote-debugging-port=0"],
  ...(dist === undefined ? {} : { dist }),
});
const sockets: CdpSocket[] = [];
try {
  const port = await waitUntil("DevToolsActivePort", async () => {
    const text = await Deno.readTextFile(`${rig.browser.userDataDir}/DevToolsActivePort`);
    return Number(text.split("\n")[0]) || undefined;
  });
  const url = `${rig.pages.a}/flood`;
  const { tabId, sessionId } = await rig.attachNewTab(url);
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as {
    type: string;
    url: string;
    webSocketDebuggerUrl: string;
  }[];
  const page = targets.find((t) => t.type === "page" && t.url === url);
  if (page === undefined) throw new Error(`Cannot find the page target at "${url}"`);
  const relay = await CdpSocket.open(
    `ws://127.0.0.1:${rig.relay.port}/cdp?token=${rig.relay.relayToken}`,
  );
  sockets.push(relay);
  await relay.autoAttach();
  const direct = await CdpSocket.open(page.webSocketDebuggerUrl);
  sockets.push(direct);
  const worker = rig.browser.worker;

  const workloads: Record<string, (n: number) => Promise<unknown>> = {
    "relay path": (n) => pipelined([{ socket: relay, sessionId }], IN_FLIGHT, n),
    "debugger in worker": (n) =>
      worker.evaluate(async ([tab, total, inFlight]) => {
        let sent = 0;
        const lane = async () => {
          while (sent < total) {
            sent++;
            await chrome.debugger.sendCommand({ tabId: tab }, "Runtime.evaluate", {
              expression: "1",
            });
          }
        };
        await Promise.all(Array.from({ length: inFlight }, lane));
      }, [tabId, n, IN_FLIGHT] as const),
    "worker socket echo": (n) =>
      worker.evaluate(async ([address, total, inFlight]) => {
        const ws = new WebSocket(address);
        await new Promise<void>((resolve, reject) => {
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error("Cannot open the echo socket"));
        });
        const frame = `{"id":1,"result":{"data":"${"A".repeat(126)}"}}`;
        await new Promise<void>((resolve) => {
          let sent = 0;
          let received = 0;
          ws.onmessage = () => {
            if (++received === total) {
              resolve();
            } else if (sent < total) {
              sent++;
              ws.send(frame);
            }
          };
          for (; sent < Math.min(inFlight, total); sent++) ws.send(frame);
        });
        ws.close();
      }, [echoUrl, n, IN_FLIGHT] as const),
    "direct CDP": (n) => pipelined([{ socket: direct }], IN_FLIGHT, n),
  };

  for (const run of Object.values(workloads)) await run(500);
  if (Deno.args.includes("--profile")) {
    const target = targets.find((t) =>
      t.type === "service_worker" && t.url.includes(rig.browser.extensionId)
    );
    if (target === undefined) throw new Error("Cannot find the service-worker target");
    const profiler = await CdpSocket.open(target.webSocketDebuggerUrl);
    sockets.push(profiler);
    await profiler.call("Profiler.enable");
    await profiler.call("Profiler.setSamplingInterval", { interval: 100 });
    for (const name of ["relay path", "debugger in worker", "worker socket echo"]) {
      await profiler.call("Profiler.start");
      const start = performance.now();
      await workloads[name]!(commands);
      const elapsed = performance.now() - start;
      const { profile } = await profiler.call("Profiler.stop") as { profile: Profile };
      printProfile(name, profile, elapsed, commands);
    }
  }
  const pid = await browserPid(rig.browser.userDataDir);
  if (pid === undefined) throw new Error("Cannot find the browser process in /proc");
  const cpu: Record<string, CpuByRole> = {};
  const wall: Record<string, number> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(workloads)) {
      const before = await cpuByRole(pid);
      const start = performance.now();
      await run(commands);
      wall[name] = (wall[name] ?? 0) + (performance.now() - start);
      const spent = cpuSpent(before, await cpuByRole(pid));
      const into = cpu[name] ??= {};
      for (const [role, seconds] of spent) into[role] = (into[role] ?? 0) + seconds;
    }
  }

  const total = commands * rounds;
  const perCommand = (name: string, role: string) => (cpu[name]?.[role] ?? 0) / total * 1000;
  const roles = [...new Set(Object.values(cpu).flatMap((c) => Object.keys(c)))].sort((a, b) =>
    perCommand("relay path", b) - perCommand("relay path", a)
  );
  const cell = (value: number) => `${value.toFixed(3)} ms`;
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  console.log(
    `CPU per command, ${rounds} rounds × ${commands} commands, ${IN_FLIGHT} in flight, load ${load}`,
  );
  console.log(
    "| Process | relay path | debugger in worker | worker socket echo | floor (sum) | ours (relay path − floor) | direct CDP |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  const sums = [0, 0, 0, 0, 0];
  for (const role of roles) {
    const path = perCommand("relay path", role);
    const dbg = perCommand("debugger in worker", role);
    const echo = perCommand("worker socket echo", role);
    const directCpu = perCommand("direct CDP", role);
    const values = [path, dbg, echo, dbg + echo, directCpu];
    values.forEach((v, i) => sums[i]! += v);
    console.log(
      `| ${role} | ${cell(path)} | ${cell(dbg)} | ${cell(echo)} | ${cell(dbg + echo)} | ${
        cell(path - dbg - echo)
      } | ${cell(directCpu)} |`,
    );
  }
  const [path = 0, dbg = 0, echo = 0, floor = 0, directCpu = 0] = sums;
  console.log(
    `| **total** | ${cell(path)} | ${cell(dbg)} | ${cell(echo)} | ${cell(floor)} | ${
      cell(path - floor)
    } | ${cell(directCpu)} |`,
  );
  const rate = (name: string) => (total / (wall[name] ?? 1) * 1000).toFixed(0);
  console.log(
    `throughput: relay path ${rate("relay path")}/s, debugger in worker ${
      rate("debugger in worker")
    }/s, worker socket echo ${rate("worker socket echo")}/s, direct ${rate("direct CDP")}/s`,
  );
} finally {
  for (const socket of sockets) await socket.close().catch(() => {});
  await rig.close();
  await server.shutdown();
}
