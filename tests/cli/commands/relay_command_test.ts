import assert from "node:assert/strict";
import { formatHelp, formatUsage } from "../../../cli/format_help.ts";
import { RELAY_COMMAND } from "../../../cli/relay_command.ts";
import {
  DENO,
  DENO_NAME,
  eventually,
  leftovers,
  portIn,
  portIsFree,
  runScript,
  sandbox,
  spawnCli,
} from "./_cli_run.ts";

const USAGE = formatUsage(RELAY_COMMAND);
/** The relay task's command as `deno task` echoes it before the arguments. */
const RELAY_TASK = (JSON.parse(
  Deno.readTextFileSync(new URL("../../../deno.json", import.meta.url)),
) as { tasks: { relay: string } }).tasks.relay;

Deno.test("deno task relay --help describes every option, variable and exit code", async () => {
  await using box = await sandbox();
  const result = await runScript("relay/main.ts", ["--help"], box.env);
  assert.deepEqual(result, { code: 0, stdout: `${formatHelp(RELAY_COMMAND)}\n`, stderr: "" });
});

Deno.test("deno task relay refuses bad arguments with one line and exit code 2", async (t) => {
  await using box = await sandbox();
  const cases: [string[], string, boolean][] = [
    [["--prot", "1"], 'Unknown option "--prot": did you mean "--port"?', true],
    [["--port"], 'Option "--port" needs a value, as in "--port 18792"', true],
    [["--quiet", "--json"], 'Options "--quiet" and "--json" exclude each other: pick one', true],
    [
      ["--port", "abc"],
      'Option "--port" must be an integer from 0 to 65535 (0 picks a free port): current value is "abc"',
      false,
    ],
    [
      ["--token="],
      'Option "--token" is empty: pass the gateway token, or leave the option out to use BROWSER_RELAY_TOKEN or the stored token',
      false,
    ],
    [
      ["--token", "  "],
      'Option "--token" is empty: pass the gateway token, or leave the option out to use BROWSER_RELAY_TOKEN or the stored token',
      false,
    ],
  ];
  for (const [args, line, usage] of cases) {
    await t.step(args.join(" "), async () => {
      const result = await runScript("relay/main.ts", args, box.env);
      const stderr = usage ? `${line}\n${USAGE}\n` : `${line}\n`;
      assert.deepEqual(result, { code: 2, stdout: "", stderr });
    });
  }
  await t.step("BROWSER_RELAY_TOKEN of whitespace", async () => {
    const result = await runScript("relay/main.ts", ["--port", "0"], {
      ...box.env,
      BROWSER_RELAY_TOKEN: "   ",
    });
    assert.deepEqual(result, {
      code: 2,
      stdout: "",
      stderr:
        "BROWSER_RELAY_TOKEN holds only whitespace: set it to the gateway token or unset it\n",
    });
  });
});

Deno.test("deno task relay explains hosts it cannot listen on", async (t) => {
  await using box = await sandbox();
  await t.step("unresolvable host: exit code 4", async () => {
    const result = await runScript(
      "relay/main.ts",
      ["--host", "nosuchhost.invalid", "--port", "0", "--token", "t"],
      box.env,
    );
    assert.deepEqual(result, {
      code: 4,
      stdout: "",
      stderr:
        'Host "nosuchhost.invalid" cannot be resolved: pass --host with an address of this machine, such as 127.0.0.1\n',
    });
  });
  await t.step("an address of another machine: exit code 3", async () => {
    const result = await runScript(
      "relay/main.ts",
      ["--host", "192.0.2.1", "--port", "0", "--token", "t"],
      box.env,
    );
    assert.deepEqual(result, {
      code: 3,
      stdout: "",
      stderr:
        'Host "192.0.2.1" is not an address of this machine: pass --host with a local address, such as 127.0.0.1\n',
    });
  });
});

Deno.test("deno task relay reports a token file it cannot use, exit code 8", async () => {
  await using box = await sandbox();
  const file = `${box.dir}/not-a-directory`;
  await Deno.writeTextFile(file, "");
  const result = await runScript("relay/main.ts", ["--port", "0"], {
    ...box.env,
    XDG_CONFIG_HOME: file,
  });
  assert.deepEqual(result, {
    code: 8,
    stdout: "",
    stderr:
      `Cannot read or create the stored token (Not a directory (os error 20): readfile '${file}/browser-relay/token'): pass --token or set BROWSER_RELAY_TOKEN\n`,
  });
});

Deno.test("deno task relay names the process holding its port, exit code 3", async () => {
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
  try {
    await holder.waitForStdout("\n");
    const port = portIn(holder.stdout);
    const result = await runScript(
      "relay/main.ts",
      ["--port", String(port), "--token", "t"],
      box.env,
    );
    assert.deepEqual(result, {
      code: 3,
      stdout: "",
      stderr:
        `Port ${port} on 127.0.0.1 is already in use by process ${holder.pid} "${DENO_NAME} run -A relay/main.ts --port 0 --quiet --token t": stop that process, or pass --port with another port (--port 0 picks a free one)\n`,
    });
  } finally {
    holder.child.kill("SIGTERM");
    await holder.finished();
  }
});

Deno.test("deno task relay prints the endpoint and set-ups once, and the stored token once", async () => {
  await using box = await sandbox();
  const run = spawnCli(DENO, ["run", "-A", "relay/main.ts", "--port", "0"], { env: box.env });
  await run.waitForStdout("Ctrl-C stops the relay.");
  const token = (await Deno.readTextFile(`${box.dir}/config/browser-relay/token`)).trim();
  const port = portIn(run.stdout);
  run.child.kill("SIGINT");
  const status = await run.finished();
  assert.equal(status.code, 0);
  assert.equal(run.stderr, "");
  assert.equal(run.stdout.split(token).length - 1, 1, "the gateway token is printed once");
  for (
    const once of [
      "CDP endpoint: ",
      "import { chromium }",
      "import puppeteer",
      "@playwright/mcp",
      "chrome-devtools-mcp",
    ]
  ) {
    assert.equal(run.stdout.split(once).length - 1, 1, once);
  }
  assert.ok(
    run.stdout.includes(
      `--wsEndpoint ws://127.0.0.1:${port}/cdp --wsHeaders '{"x-openclaw-relay-token":"`,
    ),
  );
  assert.ok(run.stdout.trimEnd().endsWith("Stopping (received SIGINT)"));
  assert.ok(portIsFree(port));
});

Deno.test("deno task relay --quiet and --json print only the endpoint", async (t) => {
  await using box = await sandbox();
  for (const flag of ["--quiet", "--json"]) {
    await t.step(flag, async () => {
      const run = spawnCli(DENO, [
        "run",
        "-A",
        "relay/main.ts",
        "--port",
        "0",
        "--token",
        "gw",
        flag,
      ], {
        env: box.env,
      });
      await run.waitForStdout("\n");
      run.child.kill("SIGTERM");
      const status = await run.finished();
      assert.equal(status.code, 0);
      assert.equal(run.stderr, "");
      const lines = run.stdout.split("\n");
      assert.equal(lines.length, 2, run.stdout);
      const port = portIn(run.stdout);
      if (flag === "--quiet") {
        assert.match(
          lines[0] ?? "",
          new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?token=[0-9a-f]{64}$`),
        );
      } else {
        const json = JSON.parse(lines[0] ?? "");
        assert.equal(json.wsEndpoint, `ws://127.0.0.1:${port}/cdp`);
        assert.equal(json.endpoint, `http://127.0.0.1:${port}/?token=${json.relayToken}`);
      }
    });
  }
});

Deno.test("deno task relay stops on SIGINT, SIGTERM and SIGHUP with exit code 0 and frees the port", async (t) => {
  await using box = await sandbox();
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    await t.step(signal, async () => {
      const run = spawnCli(DENO, ["run", "-A", "relay/main.ts", "--port", "0", "--token", "gw"], {
        env: box.env,
        detached: true,
      });
      await run.waitForStdout("Ctrl-C stops the relay.");
      const port = portIn(run.stdout);
      run.child.kill(signal);
      const status = await run.finished();
      assert.equal(status.code, 0, run.stderr);
      assert.ok(run.stdout.trimEnd().endsWith(`Stopping (received ${signal})`));
      assert.ok(portIsFree(port));
      assert.deepEqual(leftovers(run.pid, box), []);
    });
  }
});

Deno.test("npx deno task relay: the token is shown once, and killing npx stops everything", async (t) => {
  await using box = await sandbox();
  // SIGINT to the whole group is Ctrl-C in a terminal; the others go to the outermost process
  // only, as `kill <npx pid>`, `timeout --foreground` or a supervisor would send them.
  const cases = [["SIGINT", "group"], ["SIGTERM", "npx"], ["SIGKILL", "npx"]] as const;
  for (const [signal, target] of cases) {
    await t.step(`${signal} to ${target}`, async () => {
      const run = spawnCli(
        "npx",
        ["-y", "deno@2.9.6", "task", "relay", "--port", "0", "--token", "gw-secret-1"],
        { env: box.env, detached: true },
      );
      try {
        await run.waitForStdout("Ctrl-C stops the relay.");
        const port = portIn(run.stdout);
        assert.equal(
          run.denoStderr,
          `Task relay ${RELAY_TASK} '--port' '0' '--token' 'gw-secret-1'\n`,
        );
        assert.ok(!run.stdout.includes("gw-secret-1"));
        assert.ok(run.stdout.includes("Gateway token: the one given with --token"));
        Deno.kill(target === "group" ? -run.pid : run.pid, signal);
        await run.finished();
        assert.ok(
          await eventually(
            () => leftovers(run.pid, box).length === 0 && portIsFree(port),
            5_000,
          ),
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

Deno.test("npx deno task relay refuses an unknown option after Deno's task line", async () => {
  await using box = await sandbox();
  const run = spawnCli("npx", ["-y", "deno@2.9.6", "task", "relay", "--verbose"], { env: box.env });
  const status = await run.finished();
  assert.equal(status.code, 2);
  assert.equal(
    run.denoStderr,
    `Task relay ${RELAY_TASK} '--verbose'\n` +
      'Unknown option "--verbose": see "deno task relay --help" for the options\n' +
      `${USAGE}\n`,
  );
});
