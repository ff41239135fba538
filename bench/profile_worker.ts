/**
 * CPU profile of the extension's service worker while traffic goes through the relay, to tell
 * whether the worker's own code or Chrome is the bottleneck (docs/benchmarks.md). Not part of
 * `deno task bench`.
 *
 * `deno run -A bench/profile_worker.ts [--flood | --screenshot | --concurrent | --sequential]`
 * (after `deno task build`); `--concurrent` sends 4,000 `Runtime.evaluate("1")` with 16 in
 * flight, `--sequential` 3,000 one at a time. `PROFILE_TOP=N` prints N rows (default 15).
 * Prints the top functions by self time; `(idle)` is time the worker had nothing to run.
 *
 * @module
 */

import { withoutWorkerNetworkInspection } from "../harness/browser.ts";
import { Rig, waitUntil } from "../harness/rig.ts";
import { CdpSocket } from "./_cdp_socket.ts";
import { pipelined } from "./_hot_path.ts";

interface ProfileNode {
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly hitCount?: number;
}

const screenshot = Deno.args.includes("--screenshot");
const concurrent = Deno.args.includes("--concurrent");
const sequential = Deno.args.includes("--sequential");
withoutWorkerNetworkInspection();
const rig = await Rig.start({}, { args: ["--remote-debugging-port=0"] });
const sockets: CdpSocket[] = [];
try {
  const port = await waitUntil("DevToolsActivePort", async () => {
    const text = await Deno.readTextFile(`${rig.browser.userDataDir}/DevToolsActivePort`);
    return Number(text.split("\n")[0]) || undefined;
  });
  const url = `${rig.pages.a}/flood`;
  const { sessionId } = await rig.attachNewTab(url);
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as {
    type: string;
    url: string;
    webSocketDebuggerUrl: string;
  }[];
  const worker = targets.find((t) =>
    t.type === "service_worker" && t.url.includes(rig.browser.extensionId)
  );
  if (worker === undefined) throw new Error("Cannot find the service-worker target");
  const profiler = await CdpSocket.open(worker.webSocketDebuggerUrl);
  sockets.push(profiler);
  const relay = await CdpSocket.open(
    `ws://127.0.0.1:${rig.relay.port}/cdp?token=${rig.relay.relayToken}`,
  );
  sockets.push(relay);
  await relay.autoAttach();
  if (screenshot) {
    const metrics = { width: 1300, height: 1300, deviceScaleFactor: 1, mobile: false };
    await relay.call("Emulation.setDeviceMetricsOverride", metrics, sessionId);
    await relay.call("Runtime.evaluate", {
      expression: `(() => { const c = document.createElement("canvas"); c.width = c.height = 1300;
        c.style = "position:fixed;left:0;top:0"; const x = c.getContext("2d");
        const im = x.createImageData(1300, 1300);
        for (let i = 0; i < im.data.length; i += 65536) crypto.getRandomValues(im.data.subarray(i, i + 65536));
        for (let i = 3; i < im.data.length; i += 4) im.data[i] = 255;
        x.putImageData(im, 0, 0); document.body.appendChild(c); })()`,
    }, sessionId);
  } else if (!concurrent && !sequential) {
    await relay.call("Runtime.enable", {}, sessionId);
  } else {
    await pipelined([{ socket: relay, sessionId }], 16, 500);
  }
  await profiler.call("Profiler.enable");
  await profiler.call("Profiler.setSamplingInterval", { interval: 200 });
  await profiler.call("Profiler.start");
  const started = performance.now();
  if (concurrent) {
    await pipelined([{ socket: relay, sessionId }], 16, 4_000);
  } else if (sequential) {
    for (let i = 0; i < 3_000; i++) {
      await relay.call("Runtime.evaluate", { expression: "1" }, sessionId);
    }
  } else if (screenshot) {
    for (let i = 0; i < 5; i++) {
      await relay.call("Page.captureScreenshot", { format: "png" }, sessionId);
    }
  } else {
    await relay.call(
      "Runtime.evaluate",
      { expression: "flood(10000, 3)", awaitPromise: true, returnByValue: true },
      sessionId,
      120_000,
    );
  }
  const elapsed = performance.now() - started;
  const { profile } = await profiler.call("Profiler.stop") as {
    profile: { nodes: ProfileNode[] };
  };
  const self = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    const key = `${frame.functionName || "(anonymous)"} ${
      frame.url.split("/").pop() ?? ""
    }:${frame.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (node.hitCount ?? 0));
    total += node.hitCount ?? 0;
  }
  const workload = concurrent
    ? "4000 × Runtime.evaluate, 16 in flight"
    : sequential
    ? "3000 × Runtime.evaluate, one at a time"
    : screenshot
    ? "5 screenshots"
    : "flood 10000/s × 3 s";
  console.log(`${workload}: ${elapsed.toFixed(0)} ms`);
  for (
    const [key, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(
      0,
      Number(Deno.env.get("PROFILE_TOP") ?? 15),
    )
  ) {
    console.log(`${(hits / total * 100).toFixed(1).padStart(5)} %  ${key}`);
  }
} finally {
  for (const socket of sockets) await socket.close().catch(() => {});
  await rig.close();
}
