/**
 * Chaos run (issue 9, item 4): `deno task chaos [--seed=N] [--restarts=30] [--kills=10]
 * [--navigations=10]`. Real Chromium with the built extension (run `deno task build` first),
 * the real relay, and a raw CDP client that keeps a continuous stream of `Runtime.evaluate`
 * commands on two attached tabs while the run restarts the relay, stops the service worker
 * and navigates the tabs cross-origin, in a seeded random order with seeded random gaps.
 *
 * **Accounting.** Every command has a relay-wide unique id on the client side.
 * - *answered*: exactly one reply, a result with the right value or an error with a specific
 *   message, within the deadline;
 * - *cut by stop*: no reply, the client's socket was closed by a relay restart (1001
 *   `server stopping`), and the command was sent after the run had begun stopping that relay.
 *   A relay that is stopping answers everything it has read with `server stopping`, but it
 *   cannot answer a frame that reaches it after its close frame left; such commands are
 *   counted separately, never as answered;
 * - anything else is a failure: no reply on a socket that was not closed by a restart, a reply
 *   to a command sent before the stop began that never came, a second reply, a reply to an
 *   unknown id, a wrong value, a late reply, an empty or generic error.
 *
 * Pass also needs: no duplicate `Target.attachedToTarget` for a targetId on one client socket
 * without a detach in between, session ids never change, and afterwards nothing is pending in
 * the relay (`relay.stats()`) or in the worker (`self.browserRelay.pendingWork()`).
 *
 * @module
 */

import type { Page } from "playwright-core";
import type { RelayStats } from "../relay/server.ts";
import { WorkerControl } from "../harness/browser.ts";
import { createRng, type Rng } from "../harness/rng.ts";
import { Rig, waitUntil } from "../harness/rig.ts";

/** Options of {@linkcode runChaos}. */
export interface ChaosOptions {
  /** Seed of every random choice. */
  readonly seed: number;
  /** Relay restarts. */
  readonly restarts: number;
  /** Service-worker stops. */
  readonly kills: number;
  /** Cross-origin navigations. */
  readonly navigations: number;
  /**
   * Commands kept in flight per tab.
   *
   * @default {3}
   */
  readonly concurrency?: number;
  /**
   * Longest pause between two chaos events, in ms (the shortest is 100 ms).
   *
   * @default {1200}
   */
  readonly maxGapMs?: number;
  /** Progress lines. @default {no output} */
  readonly log?: (line: string) => void;
}

/** What the worker's test hook reports as still pending. */
export interface WorkerPending {
  readonly inflight: number;
  readonly buffered: number;
  readonly reattaching: number;
}

/** The outcome of a chaos run. */
export interface ChaosReport {
  readonly seed: number;
  readonly restarts: number;
  readonly kills: number;
  readonly navigations: number;
  readonly durationMs: number;
  readonly commands: {
    readonly sent: number;
    readonly results: number;
    readonly errors: number;
    readonly cutByStop: number;
    readonly maxLatencyMs: number;
  };
  /** Error replies by message (numbers and ids folded), for the record. */
  readonly errorMessages: Readonly<Record<string, number>>;
  /** Top-level detach reasons the client saw. */
  readonly detachReasons: Readonly<Record<string, number>>;
  readonly clientConnections: number;
  readonly relayAfter: RelayStats;
  readonly workerAfter: WorkerPending;
  /** Every violated pass condition; empty means pass. */
  readonly failures: readonly string[];
}

/** Relay options of the run: short enough that a stuck command shows within the deadline. */
const RELAY_OPTIONS = { commandTimeoutMs: 10_000, commandReconnectWaitMs: 10_000 } as const;
/** Per-command deadline: the longest a relay hold (10 s) plus the longest forward (10 s). */
const DEADLINE_MS = 25_000;
/** Pause of each stream loop between a reply and its next command. */
const PACE_MS = 5;
/** Error messages that say nothing about what happened. */
const GENERIC_ERRORS: ReadonlySet<string> = new Set(["", "unknown error", "Error", "undefined"]);

interface Command {
  readonly id: number;
  readonly connection: Connection;
  readonly sessionId: string | undefined;
  readonly expected: number | undefined;
  readonly sentAt: number;
  replies: number;
  replyAt?: number;
  done: () => void;
}

interface Connection {
  readonly index: number;
  readonly ws: WebSocket;
  /** Top-level sessions held on this socket → their targetId. */
  readonly held: Map<string, string>;
  /** TargetIds attached on this socket and not detached since. */
  readonly attached: Set<string>;
  /** Set when the orchestrator began stopping the relay this socket belongs to. */
  stoppingSince: number | undefined;
  close: { code: number; reason: string } | undefined;
  readonly closed: Promise<void>;
}

type Frame = Record<string, unknown>;

function fold(message: string): string {
  return message.replace(/\d+/g, "N").replace(/"[^"]*"/g, '"…"').slice(0, 120);
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/** The raw CDP client of the run: reconnects when told, records everything it sees. */
class ChaosClient {
  readonly #port: () => number;
  readonly #token: () => string;
  readonly #failures: string[];
  readonly commands = new Map<number, Command>();
  readonly errorMessages: Record<string, number> = {};
  readonly detachReasons: Record<string, number> = {};
  readonly connections: Connection[] = [];
  /** The only session ids allowed to ever appear (set once both tabs are attached). */
  sessions: ReadonlySet<string> = new Set();
  #nextId = 1;
  #current: Connection | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(port: () => number, token: () => string, failures: string[]) {
    this.#port = port;
    this.#token = token;
    this.#failures = failures;
  }

  get current(): Connection | undefined {
    return this.#current;
  }

  async connect(): Promise<void> {
    const ws = new WebSocket(`ws://127.0.0.1:${this.#port()}/cdp?token=${this.#token()}`);
    const closed = Promise.withResolvers<void>();
    const connection: Connection = {
      index: this.connections.length,
      ws,
      held: new Map(),
      attached: new Set(),
      stoppingSince: undefined,
      close: undefined,
      closed: closed.promise,
    };
    ws.addEventListener("message", (event) => this.#onMessage(connection, String(event.data)));
    ws.addEventListener("close", (event) => {
      connection.close = { code: event.code, reason: event.reason };
      for (const command of this.commands.values()) {
        if (command.connection === connection && command.replies === 0) command.done();
      }
      closed.resolve();
      this.#wake();
    });
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("CDP socket failed to open")), {
        once: true,
      });
    });
    this.connections.push(connection);
    this.#current = connection;
    await this.send("Target.setAutoAttach", {
      autoAttach: true,
      waitForDebuggerOnStart: false,
      flatten: true,
    });
  }

  /** Sends a command; resolves on its reply or when its socket closes. */
  send(
    method: string,
    params: Frame,
    sessionId?: string,
    expected?: number,
  ): Promise<void> {
    const connection = this.#current;
    if (connection === undefined || connection.ws.readyState !== WebSocket.OPEN) {
      return Promise.resolve();
    }
    const id = this.#nextId++;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.commands.set(id, {
      id,
      connection,
      sessionId,
      expected,
      sentAt: performance.now(),
      replies: 0,
      done: resolve,
    });
    connection.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return promise;
  }

  /** Resolves when `check` holds (re-checked on every frame, open and close), or rejects. */
  waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Wakes waiters that poll external state (e.g. a stop flag). */
  wake(): void {
    this.#wake();
  }

  async close(): Promise<void> {
    const connection = this.#current;
    if (connection !== undefined && connection.ws.readyState !== WebSocket.CLOSED) {
      connection.ws.close();
      await connection.closed;
    }
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #onMessage(connection: Connection, text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      this.#failures.push(`client ${connection.index}: unparseable frame ${text.slice(0, 100)}`);
      return;
    }
    if (typeof frame.id === "number") {
      this.#onReply(connection, frame);
    } else if (typeof frame.method === "string" && frame.sessionId === undefined) {
      this.#onEvent(connection, frame.method, (frame.params ?? {}) as Frame);
    }
    this.#wake();
  }

  #onReply(connection: Connection, frame: Frame): void {
    const command = this.commands.get(frame.id as number);
    if (command === undefined || command.connection !== connection) {
      this.#failures.push(`client ${connection.index}: reply to unknown id ${frame.id}`);
      return;
    }
    command.replies++;
    if (command.replies > 1) {
      this.#failures.push(`command ${command.id}: ${command.replies} replies`);
      return;
    }
    command.replyAt = performance.now();
    const error = frame.error as { message?: unknown } | undefined;
    if (error !== undefined) {
      const message = typeof error.message === "string" ? error.message : "";
      bump(this.errorMessages, fold(message));
      if (GENERIC_ERRORS.has(message)) {
        this.#failures.push(`command ${command.id}: generic error ${JSON.stringify(error)}`);
      }
    } else if (command.expected !== undefined) {
      const value = (frame.result as { result?: { value?: unknown } } | undefined)?.result?.value;
      if (value !== command.expected) {
        this.#failures.push(
          `command ${command.id}: expected ${command.expected}, got ${JSON.stringify(value)}`,
        );
      }
    }
    command.done();
  }

  #onEvent(connection: Connection, method: string, params: Frame): void {
    if (method === "Target.attachedToTarget") {
      const sessionId = String(params.sessionId);
      const targetId = String((params.targetInfo as Frame | undefined)?.targetId);
      if (connection.attached.has(targetId)) {
        this.#failures.push(
          `client ${connection.index}: duplicate attach of target ${targetId} (${sessionId})`,
        );
      }
      if (this.sessions.size > 0 && !this.sessions.has(sessionId)) {
        this.#failures.push(`client ${connection.index}: new session id ${sessionId}`);
      }
      connection.attached.add(targetId);
      connection.held.set(sessionId, targetId);
    } else if (method === "Target.detachedFromTarget") {
      const sessionId = String(params.sessionId);
      const targetId = typeof params.targetId === "string"
        ? params.targetId
        : connection.held.get(sessionId);
      bump(this.detachReasons, String(params.reason ?? "none"));
      if (targetId !== undefined) connection.attached.delete(targetId);
      connection.held.delete(sessionId);
    }
  }
}

function gap(rng: Rng, maxGapMs: number): Promise<void> {
  const ms = 100 + rng.int(Math.max(1, maxGapMs - 100));
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function workerPending(rig: Rig): Promise<WorkerPending> {
  return rig.browser.worker.evaluate(() =>
    (self as unknown as { browserRelay: { pendingWork(): WorkerPending } }).browserRelay
      .pendingWork()
  );
}

/**
 * Runs the chaos scenario once against a fresh rig.
 *
 * @param options Seed and event counts.
 * @returns The report; `failures` is empty on a pass.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const concurrency = options.concurrency ?? 3;
  const rng = createRng(options.seed);
  const failures: string[] = [];
  const relayLog: string[] = [];
  const relayOptions = {
    ...RELAY_OPTIONS,
    log: (line: string) => {
      relayLog.push(`${performance.now().toFixed(0)} ${line}`);
      if (relayLog.length > 300) relayLog.shift();
    },
  };
  const started = performance.now();
  const rig = await Rig.start(relayOptions);
  const client = new ChaosClient(() => rig.relay.port, () => rig.relay.relayToken, failures);
  let control: WorkerControl | undefined;
  let running = true;
  try {
    // Two tabs on two origins, each attached through the toolbar path.
    const pages = new Map<number, { page: Page; origin: "a" | "b"; n: number }>();
    for (const origin of ["a", "b"] as const) {
      const url = `${rig.pages[origin]}/?title=chaos-${origin}-0`;
      const page = await rig.browser.context.newPage();
      await page.goto(url);
      const tabId = await rig.tabIdOf(url);
      await rig.toggle(tabId);
      await rig.waitAttached(tabId);
      pages.set(tabId, { page, origin, n: 0 });
    }
    const initial = await rig.status();
    const sessionOf = new Map(initial.tabs.map((tab) => [tab.tabId, tab.sessionId]));
    client.sessions = new Set(sessionOf.values());
    log(`tabs attached: ${[...sessionOf.values()].join(", ")}`);
    await client.connect();
    await client.waitFor(
      "both sessions held",
      () => [...client.sessions].every((s) => client.current?.held.has(s) === true),
    );
    log("client holds both sessions");
    control = await WorkerControl.open(rig.browser.context, rig.browser.extensionId);
    log("service worker control ready");

    // The stream: `concurrency` loops per session, each sending while its session is held.
    let counter = 0;
    const loop = async (sessionId: string) => {
      while (running) {
        const connection = client.current;
        if (connection === undefined || !connection.held.has(sessionId)) {
          await client.waitFor(
            `session ${sessionId} held`,
            () => !running || client.current?.held.has(sessionId) === true,
            60_000,
          );
          continue;
        }
        const n = counter++;
        await client.send(
          "Runtime.evaluate",
          { expression: `${n} + 1`, returnByValue: true },
          sessionId,
          n + 1,
        );
        // A steady stream, not a flood: back-to-back replies would starve the run's own timers.
        await new Promise((resolve) => setTimeout(resolve, PACE_MS));
      }
    };
    const loops = [...client.sessions].flatMap((sessionId) =>
      Array.from({ length: concurrency }, () => loop(sessionId))
    );

    // The chaos: a seeded shuffle of every event, each after a seeded random gap.
    const events: ("restart" | "kill" | "navigate")[] = [
      ...Array<"restart">(options.restarts).fill("restart"),
      ...Array<"kill">(options.kills).fill("kill"),
      ...Array<"navigate">(options.navigations).fill("navigate"),
    ];
    for (let i = events.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [events[i], events[j]] = [events[j]!, events[i]!];
    }
    for (const [index, event] of events.entries()) {
      await gap(rng, options.maxGapMs ?? 1200);
      const at = performance.now();
      switch (event) {
        case "restart": {
          const connection = client.current;
          if (connection !== undefined) connection.stoppingSince = performance.now();
          await rig.restartRelay();
          await client.connect();
          break;
        }
        case "kill": {
          await control.stop();
          // Any event wakes the worker: an extension page asking for the status.
          const wake = await rig.browser.context.newPage();
          await wake.goto(`chrome-extension://${rig.browser.extensionId}/options.html`);
          await control.waitFor("running");
          await wake.close();
          break;
        }
        case "navigate": {
          const tabIds = [...pages.keys()];
          const tabId = tabIds[rng.int(tabIds.length)]!;
          const entry = pages.get(tabId)!;
          entry.origin = entry.origin === "a" ? "b" : "a";
          entry.n++;
          await entry.page.goto(
            `${rig.pages[entry.origin]}/?title=chaos-${entry.origin}-${entry.n}`,
          );
          break;
        }
      }
      log(
        `event ${index + 1}/${events.length}: ${event} (${
          (performance.now() - at).toFixed(0)
        } ms), ${client.commands.size} commands so far`,
      );
    }

    // Stop the stream and let every command finish.
    running = false;
    client.wake();
    await Promise.all(loops);

    // Afterwards: the system settles with nothing pending anywhere.
    const settled = await waitUntil(
      "the relay and the worker to settle",
      async () => {
        const status = await rig.status();
        const stats = rig.relay.stats();
        const pending = await workerPending(rig);
        const tabsOk = status.tabs.length === 2 &&
          status.tabs.every((tab) => tab.state === "attached");
        const quiet = stats.pendingCommands === 0 && stats.heldCommands === 0 &&
          pending.inflight === 0 && pending.buffered === 0 && pending.reattaching === 0;
        return status.connection.phase === "ready" && stats.extensionConnected && tabsOk &&
            stats.targets === 2 && quiet
          ? { status, stats, pending }
          : undefined;
      },
      30_000,
      100,
    ).catch((error: unknown) => {
      failures.push(String(error));
      return undefined;
    });
    const relayAfter = rig.relay.stats();
    const workerAfter = await workerPending(rig);
    if (settled !== undefined) {
      for (const tab of settled.status.tabs) {
        if (sessionOf.get(tab.tabId) !== tab.sessionId) {
          failures.push(
            `tab ${tab.tabId}: session id ${sessionOf.get(tab.tabId)} became ${tab.sessionId}`,
          );
        }
      }
      // Still working: one more command per session, answered with the right value.
      for (const sessionId of client.sessions) {
        await client.waitFor(
          `session ${sessionId} held`,
          () => client.current?.held.has(sessionId) === true,
        );
        await client.send(
          "Runtime.evaluate",
          { expression: "41 + 1", returnByValue: true },
          sessionId,
          42,
        );
      }
    }

    // The accounting.
    let results = 0;
    let errors = 0;
    let cutByStop = 0;
    let maxLatencyMs = 0;
    for (const command of client.commands.values()) {
      if (command.replies === 1 && command.replyAt !== undefined) {
        const latency = command.replyAt - command.sentAt;
        maxLatencyMs = Math.max(maxLatencyMs, latency);
        if (latency > DEADLINE_MS) {
          failures.push(`command ${command.id}: replied after ${latency.toFixed(0)} ms`);
        }
        continue;
      }
      if (command.replies > 1) continue; // already a failure
      const { close, stoppingSince } = command.connection;
      if (
        close?.code === 1001 && stoppingSince !== undefined && command.sentAt >= stoppingSince
      ) {
        cutByStop++;
      } else {
        failures.push(
          `command ${command.id} (${command.sessionId}) got no reply: socket ${
            close === undefined ? "open" : `closed ${close.code} ${close.reason}`
          }`,
        );
      }
    }
    for (const count of Object.values(client.errorMessages)) errors += count;
    for (const command of client.commands.values()) {
      if (command.replies === 1) results++;
    }
    results -= errors;
    for (const connection of client.connections.slice(0, -1)) {
      if (connection.close?.code !== 1001) {
        failures.push(
          `client ${connection.index} closed with ${connection.close?.code} ${connection.close?.reason}`,
        );
      }
    }
    const report: ChaosReport = {
      seed: options.seed,
      restarts: options.restarts,
      kills: options.kills,
      navigations: options.navigations,
      durationMs: Math.round(performance.now() - started),
      commands: {
        sent: client.commands.size,
        results,
        errors,
        cutByStop,
        maxLatencyMs: Math.round(maxLatencyMs),
      },
      errorMessages: client.errorMessages,
      detachReasons: client.detachReasons,
      clientConnections: client.connections.length,
      relayAfter,
      workerAfter,
      failures,
    };
    if (failures.length > 0) {
      log("relay log (last lines):");
      for (const line of relayLog.slice(-60)) log(`  ${line}`);
    }
    return report;
  } finally {
    running = false;
    client.wake();
    await client.close().catch(() => {});
    await control?.close();
    await rig.close();
  }
}

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return Deno.args.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

function count(name: string, fallback: number): number {
  const raw = flag(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot run chaos as "${name}" must be a non-negative integer: current value is ${raw}`,
    );
  }
  return value;
}

if (import.meta.main) {
  const seed = count("seed", Math.floor(Math.random() * 2 ** 32));
  const options: ChaosOptions = {
    seed,
    restarts: count("restarts", 30),
    kills: count("kills", 10),
    navigations: count("navigations", 10),
    log: (line) => console.log(`  ${line}`),
  };
  console.log(
    `chaos: seed ${seed}, ${options.restarts} relay restarts, ${options.kills} worker kills, ${options.navigations} navigations (replay: deno task chaos --seed=${seed})`,
  );
  const report = await runChaos(options);
  console.log(JSON.stringify(report, null, 2));
  if (report.failures.length > 0) {
    console.error(`chaos: FAILED with ${report.failures.length} failures (seed ${seed})`);
    Deno.exit(1);
  }
  console.log(
    `chaos: ok, ${report.commands.sent} commands (${report.commands.results} results, ${report.commands.errors} errors, ${report.commands.cutByStop} cut by stop) in ${
      (report.durationMs / 1000).toFixed(1)
    } s (seed ${seed})`,
  );
}
