/**
 * Spawning the real `deno task start` / `deno task relay` commands for the CLI tests, and
 * looking for what they leave behind in /proc and the temporary directory.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash. */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The deno binary running the tests (the pinned one under npx). */
export const DENO = Deno.execPath();
/** The file name the port-owner lookup shows for it. */
export const DENO_NAME = DENO.slice(DENO.lastIndexOf("/") + 1);

/**
 * A private config and temporary directory, so the user's token store is not touched. HOME stays:
 * Deno's and npm's caches live under it.
 */
export interface Sandbox extends AsyncDisposable {
  readonly dir: string;
  readonly tmp: string;
  readonly env: Record<string, string>;
}

/**
 * Creates a sandbox: XDG_CONFIG_HOME and TMPDIR inside one temporary directory, no
 * CHROME_PATH or BROWSER_RELAY_TOKEN from the outer environment, no colours.
 */
export async function sandbox(): Promise<Sandbox> {
  const dir = await Deno.makeTempDir({ prefix: "cli-test-" });
  const tmp = `${dir}/tmp`;
  await Deno.mkdir(tmp);
  const env = Deno.env.toObject();
  for (const name of ["CHROME_PATH", "BROWSER_RELAY_TOKEN", "DISPLAY", "WAYLAND_DISPLAY"]) {
    delete env[name];
  }
  Object.assign(env, {
    XDG_CONFIG_HOME: `${dir}/config`,
    TMPDIR: tmp,
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
  });
  return {
    dir,
    tmp,
    env,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A spawned command with its output collected. */
export class CliRun {
  readonly child: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  readonly #wake = new Set<() => void>();
  readonly #done: Promise<void>;

  constructor(child: Deno.ChildProcess) {
    this.child = child;
    this.#done = Promise.all([
      this.#pump(child.stdout, (text) => this.#stdout += text),
      this.#pump(child.stderr, (text) => this.#stderr += text),
    ]).then(() => {});
  }

  async #pump(stream: ReadableStream<Uint8Array>, add: (text: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      add(decoder.decode(chunk, { stream: true }));
      for (const wake of [...this.#wake]) wake();
    }
  }

  get pid(): number {
    return this.child.pid;
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Stderr without npm's own notices (update and install notes npx may print). */
  get denoStderr(): string {
    return this.#stderr.split("\n").filter((line) => !/^npm (notice|warn|WARN)\b/.test(line))
      .join("\n");
  }

  /** Waits until stdout contains `text`; fails with both outputs after `timeoutMs`. */
  waitForStdout(text: string, timeoutMs = 90_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.#stdout.includes(text)) return;
        clearTimeout(timer);
        this.#wake.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#wake.delete(check);
        reject(
          new Error(`No "${text}" on stdout:\n${this.#stdout}\n--- stderr:\n${this.#stderr}`),
        );
      }, timeoutMs);
      this.#wake.add(check);
      this.child.status.then(() => setTimeout(check, 0));
      check();
    });
  }

  /** Waits for the exit and the end of both outputs. */
  async finished(): Promise<Deno.CommandStatus> {
    const status = await this.child.status;
    await this.#done;
    return status;
  }
}

/** Options of {@linkcode spawnCli}. */
export interface SpawnCliOptions {
  readonly env: Record<string, string>;
  /** Run in a new session and process group (as a terminal or supervisor would). */
  readonly detached?: boolean;
}

/**
 * Spawns a command in the repository root with piped output.
 *
 * @param command The program.
 * @param args Its arguments.
 * @param options Environment and process group.
 * @returns The run.
 */
export function spawnCli(command: string, args: string[], options: SpawnCliOptions): CliRun {
  return new CliRun(
    new Deno.Command(command, {
      args,
      cwd: ROOT,
      env: options.env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: options.detached ?? false,
    }).spawn(),
  );
}

/** Runs `deno run -A <script> ...args` to completion. */
export async function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = spawnCli(DENO, ["run", "-A", script, ...args], { env });
  const status = await run.finished();
  return { code: status.code, stdout: run.stdout, stderr: run.stderr };
}

interface Proc {
  readonly pid: number;
  readonly pgrp: number;
  readonly state: string;
  readonly cmdline: string;
}

function processes(): Proc[] {
  const list: Proc[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      list.push({
        pid: Number(entry.name),
        state: fields[0] ?? "",
        pgrp: Number(fields[2]),
        cmdline,
      });
    } catch {
      // exited meanwhile
    }
  }
  return list;
}

/**
 * What a run left behind: live processes in its process group or mentioning its sandbox
 * (Chromium runs in a group of its own with its profile in the sandbox), and temporary profiles.
 */
export function leftovers(pgid: number, box: Sandbox): string[] {
  const found: string[] = [];
  for (const proc of processes()) {
    if (proc.state === "Z") continue;
    if (proc.pgrp === pgid || proc.cmdline.includes(box.dir)) {
      found.push(`process ${proc.pid}: ${proc.cmdline.slice(0, 120)}`);
    }
  }
  for (const entry of Deno.readDirSync(box.tmp)) {
    if (entry.name.startsWith("browser-relay-")) found.push(`profile ${box.tmp}/${entry.name}`);
  }
  return found;
}

/** Whether nothing listens on 127.0.0.1:`port`. */
export function portIsFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

/** The port of the first `http://127.0.0.1:PORT` in `text`. */
export function portIn(text: string): number {
  const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
  if (match === null) throw new Error(`No relay URL in:\n${text}`);
  return Number(match[1]);
}
