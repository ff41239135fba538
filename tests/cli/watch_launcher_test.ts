import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { parseProcStat, watchLauncher } from "../../cli/watch_launcher.ts";

function stat(
  pid: number,
  ppid: number,
  pgrp: number,
  start = "100",
  state = "S",
  name = "deno",
): string {
  const tail = Array.from({ length: 12 }, () => "0").join(" ");
  return `${pid} (${name}) ${state} ${ppid} ${pgrp} 1 0 -1 4194560 ${tail} ${start} 1 2 3`;
}

Deno.test("parseProcStat() reads the fields after the command name, which may hold ') '", () => {
  assert.deepEqual(parseProcStat(stat(40, 30, 10, "777", "R", "npm exec (x) y")), {
    pid: 40,
    state: "R",
    ppid: 30,
    pgrp: 10,
    startTime: "777",
  });
  assert.equal(parseProcStat(""), undefined);
  assert.equal(parseProcStat("garbage"), undefined);
});

/** A process table: self is 40 → deno task 30 → sh 20 → npm exec 10 (group leader) → shell 5. */
function table(): Map<number | "self", string> {
  return new Map<number | "self", string>([
    ["self", stat(40, 30, 10)],
    [30, stat(30, 20, 10)],
    [20, stat(20, 10, 10)],
    [10, stat(10, 5, 10)],
    [5, stat(5, 1, 5)],
  ]);
}

Deno.test("watchLauncher() watches the ancestors in its process group only", () => {
  const procs = table();
  using watch = watchLauncher(() => {}, { readStat: (pid) => procs.get(pid) });
  assert.deepEqual(watch.watched, [30, 20, 10]);
});

Deno.test("watchLauncher() reports once when the outermost launcher exits", async () => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const procs = table();
    const reasons: string[] = [];
    const watch = watchLauncher((why) => reasons.push(why), { readStat: (pid) => procs.get(pid) });
    await clock.tickAsync(2_000);
    assert.deepEqual(reasons, []);
    procs.delete(10); // npm exec killed; deno task lives on, re-parented to init
    procs.set(20, stat(20, 1, 10));
    await clock.tickAsync(500);
    assert.deepEqual(reasons, ["process 10 that launched this one exited"]);
    await clock.tickAsync(2_000);
    assert.equal(reasons.length, 1);
    assert.equal(clock.countTimers(), 0);
    watch.close();
  } finally {
    clock.uninstall();
  }
});

Deno.test("watchLauncher() treats a zombie or a reused pid as gone", async (t) => {
  const cases: [string, string][] = [
    ["zombie", stat(20, 10, 10, "100", "Z")],
    ["reused", stat(20, 10, 10, "999")],
  ];
  for (const [label, replacement] of cases) {
    await t.step(label, async () => {
      const clock = FakeTimers.install({ now: 0 });
      try {
        const procs = table();
        const reasons: string[] = [];
        watchLauncher((why) => reasons.push(why), { readStat: (pid) => procs.get(pid) });
        procs.set(20, replacement);
        await clock.tickAsync(500);
        assert.deepEqual(reasons, ["process 20 that launched this one exited"]);
        assert.equal(clock.countTimers(), 0);
      } finally {
        clock.uninstall();
      }
    });
  }
});

Deno.test("watchLauncher() falls back to the parent pid without /proc", async () => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    let ppid = 30;
    const reasons: string[] = [];
    const watch = watchLauncher((why) => reasons.push(why), {
      readStat: () => undefined,
      ppid: () => ppid,
    });
    assert.deepEqual(watch.watched, []);
    await clock.tickAsync(1_000);
    ppid = 1;
    await clock.tickAsync(500);
    assert.deepEqual(reasons, ["parent process 30 exited"]);
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("watchLauncher() close() stops polling", () => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const procs = table();
    const watch = watchLauncher(() => assert.fail("no report after close"), {
      readStat: (pid) => procs.get(pid),
    });
    watch.close();
    watch.close();
    procs.clear();
    clock.tick(5_000);
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});
