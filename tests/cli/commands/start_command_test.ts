import assert from "node:assert/strict";
import { formatHelp, formatUsage } from "../../../cli/format_help.ts";
import { START_COMMAND } from "../../../cli/start_command.ts";
import {
  type CliRun,
  DENO,
  DENO_NAME,
  eventually,
  leftovers,
  portIn,
  portIsFree,
  ROOT,
  runScript,
  type Sandbox,
  sandbox,
  spawnCli,
} from "./_cli_run.ts";

const USAGE = formatUsage(START_COMMAND);
const READY = "Ctrl-C (or SIGTERM) stops the relay and Chromium.";
const FIX = "pass the path of a Chromium or Chrome for Testing executable";

Deno.test("deno task start --help describes every option, variable and exit code", async () => {
  await using box = await sandbox();
  const result = await runScript("scripts/start.ts", ["--help"], box.env);
  assert.deepEqual(result, { code: 0, stdout: `${formatHelp(START_COMMAND)}\n`, stderr: "" });
});

Deno.test("deno task start refuses what it cannot use with one line and a documented code", async (t) => {
  await using box = await sandbox();
  const plain = `${box.dir}/plain-file`;
  await Deno.writeTextFile(plain, "#!/bin/sh\n", { mode: 0o644 });
  await Deno.chmod(plain, 0o644);
  const cases: [string, string[], Record<string, string>, number, string][] = [
    [
      "a typo",
      ["--headles"],
      {},
      2,
      `Unknown option "--headles": did you mean "--headless"?\n${USAGE}`,
    ],
    [
      "a missing value",
      ["--headless", "--port"],
      {},
      2,
      `Option "--port" needs a value, as in "--port 18792"\n${USAGE}`,
    ],
    [
      "an empty token",
      ["--headless", "--token="],
      {},
      2,
      'Option "--token" is empty: pass the gateway token, or leave the option out to use BROWSER_RELAY_TOKEN or the stored token',
    ],
    [
      "a URL that is not one",
      ["--headless", "--url", "not-a-url"],
      {},
      2,
      'Option "--url" must be an absolute URL such as "https://example.com": current value is "not-a-url"',
    ],
    [
      "--browser that does not exist",
      ["--headless", "--browser=/nonexistent/chrome"],
      {},
      5,
      `Browser "/nonexistent/chrome" from --browser does not exist: ${FIX}`,
    ],
    [
      "CHROME_PATH that does not exist",
      ["--headless"],
      { CHROME_PATH: "/nonexistent" },
      5,
      `Browser "/nonexistent" from CHROME_PATH does not exist: ${FIX}`,
    ],
    [
      "--browser that is not executable",
      ["--headless", "--browser", plain],
      {},
      5,
      `Browser "${plain}" from --browser is not executable: run "chmod +x ${plain}" or ${FIX}`,
    ],
    [
      "--browser that is a directory",
      ["--headless", "--browser", box.dir],
      {},
      5,
      `Browser "${box.dir}" from --browser is a directory: ${FIX} inside it`,
    ],
    [
      "a window without a screen",
      [],
      {},
      7,
      "No screen for a Chromium window (DISPLAY and WAYLAND_DISPLAY are unset): pass --headless",
    ],
  ];
  for (const [label, args, env, code, stderr] of cases) {
    await t.step(label, async () => {
      const result = await runScript("scripts/start.ts", args, { ...box.env, ...env });
      assert.deepEqual(result, { code, stdout: "", stderr: `${stderr}\n` });
      assert.deepEqual(leftovers(-1, box), []);
    });
  }
});

Deno.test("deno task start checks the port before building and names its holder", async () => {
  await using box = await sandbox();
  const holder = spawnCli(DENO, [
    "run",
    "-A",
    "relay/main.ts",
    "--port",
    "0",
    "--quiet",
    "--token",
    "t",
  ], {
    env: box.env,
  });
  // build.ts empties dist/ first: a marker that survives shows no build ran.
  const marker = `${ROOT}dist/.cli-test-marker`;
  await Deno.mkdir(`${ROOT}dist`, { recursive: true });
  await Deno.writeTextFile(marker, "");
  try {
    await holder.waitForStdout("\n");
    const port = portIn(holder.stdout);
    const result = await runScript("scripts/start.ts", [
      "--headless",
      "--port",
      String(port),
      "--token",
      "t",
    ], box.env);
    assert.deepEqual(result, {
      code: 3,
      stdout: "",
      stderr:
        `Port ${port} on 127.0.0.1 is already in use by process ${holder.pid} "${DENO_NAME} run -A relay/main.ts --port 0 --quiet --token t": stop that process, or pass --port with another port (--port 0 picks a free one)\n`,
    });
    await Deno.stat(marker);
  } finally {
    await Deno.remove(marker).catch(() => {});
    holder.child.kill("SIGTERM");
    await holder.finished();
  }
});

Deno.test("deno task start: a browser that fails to launch is one line, exit code 7, no profile left", async () => {
  await using box = await sandbox();
  const broken = `${box.dir}/broken-chrome`;
  await Deno.writeTextFile(broken, "#!/bin/sh\necho 'cannot start' >&2\nexit 1\n");
  await Deno.chmod(broken, 0o755);
  const run = spawnCli(DENO, [
    "run",
    "-A",
    "scripts/start.ts",
    "--headless",
    "--port",
    "0",
    "--token",
    "t",
    "--browser",
    broken,
  ], {
    env: box.env,
    detached: true,
  });
  const status = await run.finished();
  assert.equal(status.code, 7, run.stderr);
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, run.stderr);
  const line = lines[0] ?? "";
  assert.ok(
    line.startsWith(
      `Chromium "${broken}" failed to start (exited with code 1, its last error output was "cannot start")`,
    ),
    line,
  );
  assert.ok(
    line.endsWith("): check that it runs, or pass --browser with another Chromium"),
    line,
  );
  assert.deepEqual(leftovers(run.pid, box), []);
});

function startDirect(box: Sandbox): CliRun {
  return spawnCli(DENO, [
    "run",
    "-A",
    "scripts/start.ts",
    "--headless",
    "--port",
    "0",
    "--token",
    "gw",
  ], {
    env: box.env,
    detached: true,
  });
}

/** The indented lines under the line starting with `heading`, up to the next blank line. */
function snippet(stdout: string, heading: string): string {
  const lines = stdout.split("\n");
  const start = lines.findIndex((line) => line.startsWith(heading));
  assert.ok(start !== -1, `No "${heading}" section in:\n${stdout}`);
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    body.push(line.slice(2));
  }
  return body.join("\n");
}

async function runNode(
  file: string,
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("node", {
    args: [file],
    cwd: file.slice(0, file.lastIndexOf("/")),
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // A script that never ends is the failure this guards against: kill it after a minute.
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const output = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return {
    code: output.code,
    output: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

Deno.test("npx deno task start: the printed scripts run to completion, and killing npx stops everything", async () => {
  await using box = await sandbox();
  const run = spawnCli("npx", [
    "-y",
    "deno@2.9.6",
    "task",
    "start",
    "--headless",
    "--port",
    "0",
    "--token",
    "gw-secret-2",
  ], {
    env: box.env,
    detached: true,
  });
  try {
    await run.waitForStdout(READY);
    const port = portIn(run.stdout);
    assert.ok(run.stdout.includes("Ready: tab "), run.stdout);
    assert.ok(!run.stdout.includes("toolbar"), "no instruction that needs a screen");
    assert.ok(!run.stdout.includes("gw-secret-2"));
    assert.ok(
      run.stdout.includes(
        `  Playwright MCP:      npx @playwright/mcp@latest --cdp-endpoint http://127.0.0.1:${port}/?token=`,
      ),
    );

    // Next to the repository's node_modules, so `node` resolves playwright-core and puppeteer-core.
    const dir = `${ROOT}test-output/cli-${run.pid}`;
    await Deno.mkdir(dir, { recursive: true });
    try {
      for (
        const [heading, file] of [["Playwright", "pw.mjs"], ["Puppeteer", "pptr.mjs"]] as const
      ) {
        await Deno.writeTextFile(`${dir}/${file}`, snippet(run.stdout, heading));
        const result = await runNode(`${dir}/${file}`, box.env);
        assert.equal(result.code, 0, `${file}:\n${result.output}`);
        assert.match(result.output, /^Browser Relay data:text\/html/, file);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    // The scripts disconnected without closing the shared tab.
    const token = /\?token=([0-9a-f]+)/.exec(run.stdout)?.[1] ?? "";
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`, {
      headers: { "x-openclaw-relay-token": token },
    })).json();
    assert.equal(targets.length, 1);

    // Only the outermost process, as `kill <npx pid>` or a supervisor would.
    run.child.kill("SIGKILL");
    await run.finished();
    assert.ok(
      await eventually(() => leftovers(run.pid, box).length === 0 && portIsFree(port), 10_000),
      leftovers(run.pid, box).join("\n"),
    );
  } finally {
    try {
      Deno.kill(-run.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await run.finished();
  }
});

Deno.test("deno task start stopped while Chromium launches leaves nothing behind", async () => {
  await using box = await sandbox();
  const run = startDirect(box);
  try {
    await run.waitForStdout("Built ");
    run.child.kill("SIGTERM");
    const status = await run.finished();
    assert.equal(status.code, 0, run.stderr);
    assert.ok(run.stdout.includes("Stopping (received SIGTERM)"), run.stdout);
    assert.ok(!run.stdout.includes("Ready:"));
    assert.ok(
      await eventually(() => leftovers(run.pid, box).length === 0, 5_000),
      leftovers(run.pid, box).join("\n"),
    );
  } finally {
    try {
      Deno.kill(-run.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await run.finished();
  }
});

Deno.test("deno task start stops on SIGINT, SIGTERM and SIGHUP: exit code 0, nothing left", async (t) => {
  await using box = await sandbox();
  // SIGINT goes to the whole process group, as Ctrl-C in a terminal; the others to the process.
  for (
    const [signal, target] of [["SIGINT", "group"], ["SIGTERM", "process"], [
      "SIGHUP",
      "process",
    ]] as const
  ) {
    await t.step(`${signal} to the ${target}`, async () => {
      const run = startDirect(box);
      try {
        await run.waitForStdout(READY);
        const port = portIn(run.stdout);
        Deno.kill(target === "group" ? -run.pid : run.pid, signal);
        const status = await run.finished();
        assert.equal(status.code, 0, run.stderr);
        assert.ok(run.stdout.includes(`Stopping (received ${signal})`), run.stdout);
        assert.ok(portIsFree(port));
        assert.ok(
          await eventually(() => leftovers(run.pid, box).length === 0, 5_000),
          leftovers(run.pid, box).join("\n"),
        );
      } finally {
        try {
          Deno.kill(-run.pid, "SIGKILL");
        } catch {
          // already gone
        }
        await run.finished();
      }
    });
  }
});
