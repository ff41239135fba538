import assert from "node:assert/strict";
import { type WebSocket, WebSocketServer } from "ws";
import type { CdpCall, Outcome } from "../../codec/extension_frame.ts";
import type { JsonObject } from "../../codec/json.ts";
import {
  type ChannelCommand,
  ExtensionChannel,
  type ExtensionChannelOptions,
} from "../../relay/extension_channel.ts";
import { connectRequest } from "../../harness/fake_extension.ts";
import { TestClock, TOKEN, until } from "./_helpers.ts";
import { TestSocket } from "../../harness/test_socket.ts";

/** A command that records its outcomes (a second one would be a bug). */
class Recorded implements ChannelCommand {
  readonly outcomes: Outcome[] = [];
  readonly method: string;
  readonly sessionId?: string;
  constructor(method: string, sessionId?: string) {
    this.method = method;
    if (sessionId !== undefined) this.sessionId = sessionId;
  }
  settle(outcome: Outcome): void {
    this.outcomes.push(outcome);
  }
}

const failed = (error: string): Outcome[] => [{ ok: false, error }];

/**
 * A channel on fake time whose extension sockets are real: each `open()` makes a loopback
 * socket pair, hands the server side to the channel and returns the peer side.
 */
class Harness implements AsyncDisposable {
  readonly clock = new TestClock();
  readonly events: CdpCall[] = [];
  graceExpired = 0;
  hasState = false;
  readonly channel: ExtensionChannel;
  readonly #server: WebSocketServer;
  readonly #accepted: WebSocket[] = [];
  readonly #peers: TestSocket[] = [];

  private constructor(server: WebSocketServer, options: Partial<ExtensionChannelOptions>) {
    this.#server = server;
    server.on("connection", (ws: WebSocket) => {
      ws.on("error", () => {});
      this.#accepted.push(ws);
    });
    this.channel = new ExtensionChannel({
      clock: this.clock,
      link: {
        legacy: false,
        handshakeTimeoutMs: 1_000,
        pingIntervalMs: 5_000,
        idleTimeoutMs: 30_000,
        maxFrameBytes: 268_435_456,
        version: "test",
        uptimeMs: () => 0,
        verifyToken: (token) => token === TOKEN,
      },
      graceMs: 20_000,
      commandWaitMs: undefined,
      commandTimeoutMs: 30_000,
      hasState: () => this.hasState,
      onEvent: (event) => this.events.push(event),
      onGraceExpired: () => this.graceExpired++,
      log: () => {},
      ...options,
    });
  }

  static async start(options: Partial<ExtensionChannelOptions> = {}): Promise<Harness> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    return new Harness(server, options);
  }

  /** Opens a socket and gives its server side to the channel; the handshake is not answered. */
  async open(): Promise<TestSocket> {
    const address = this.#server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    const count = this.#accepted.length;
    const peer = await TestSocket.open(`ws://127.0.0.1:${port}/`);
    this.#peers.push(peer);
    await until("accepted", () => this.#accepted.length > count);
    const ws = this.#accepted[count];
    assert.ok(ws !== undefined);
    this.channel.connect(ws);
    return peer;
  }

  /** Opens a socket and completes the handshake: the channel is `ready` afterwards. */
  async connect(): Promise<TestSocket> {
    const peer = await this.open();
    await peer.next((f) => f.event === "connect.challenge");
    peer.send(connectRequest("c1", TOKEN));
    await peer.next((f) => f.type === "res" && f.id === "c1");
    await until("ready", () => this.channel.phase.name === "ready");
    return peer;
  }

  /** Waits for the next forwarded command on a peer. */
  static async command(peer: TestSocket): Promise<JsonObject> {
    return await peer.next((f) => f.method === "forwardCDPCommand");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const peer of this.#peers) await peer.close();
    await until("links ended", () => this.#accepted.every((ws) => ws.readyState === ws.CLOSED));
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

Deno.test("ExtensionChannel() starts absent and fails commands at once", async () => {
  await using h = await Harness.start();
  assert.equal(h.channel.phase.name, "absent");
  const command = new Recorded("Runtime.evaluate");
  h.channel.forward(command);
  assert.deepEqual(command.outcomes, failed("Extension not connected"));
  assert.equal(h.clock.countTimers(), 0);
});

Deno.test("ExtensionChannel() moves absent → handshaking → ready and clears the handshake timer", async () => {
  await using h = await Harness.start();
  const peer = await h.open();
  assert.equal(h.channel.phase.name, "handshaking");
  assert.equal(h.channel.inGracePeriod, false);
  assert.equal(h.clock.countTimers(), 1); // the handshake deadline
  // A command during the handshake is held, not failed.
  const early = new Recorded("Runtime.evaluate", "cb-tab-1");
  h.channel.forward(early);
  assert.equal(h.channel.heldCount, 1);
  await peer.next((f) => f.event === "connect.challenge");
  peer.send(connectRequest("c1", TOKEN));
  await until("ready", () => h.channel.phase.name === "ready");
  assert.equal(h.channel.connected, true);
  assert.equal(h.channel.heldCount, 0);
  const sent = await Harness.command(peer);
  assert.deepEqual(sent, {
    id: 1,
    method: "forwardCDPCommand",
    params: { method: "Runtime.evaluate", sessionId: "cb-tab-1" },
  });
  // Ping and idle timers of the ready link, plus the sweep of the pending command.
  assert.equal(h.clock.countTimers(), 3);
});

Deno.test("ExtensionChannel() settles a reply synchronously and times out a silent command", async () => {
  await using h = await Harness.start({ commandTimeoutMs: 50 });
  const peer = await h.connect();
  const answered = new Recorded("Runtime.evaluate");
  h.channel.forward(answered);
  const first = await Harness.command(peer);
  peer.send({ id: first.id as number, result: { value: 1 } });
  await until("reply", () => answered.outcomes.length > 0);
  assert.deepEqual(answered.outcomes, [{ ok: true, result: { value: 1 } }]);

  const silent = new Recorded("Page.captureScreenshot");
  h.clock.tick(10);
  h.channel.forward(silent);
  await Harness.command(peer);
  h.clock.tick(49);
  assert.deepEqual(silent.outcomes, []);
  h.clock.tick(1);
  assert.deepEqual(silent.outcomes, failed("extension request timeout: Page.captureScreenshot"));
  assert.equal(h.channel.pendingCount, 0);
  // A late reply is ignored.
  peer.send({ id: 2, result: {} });
  peer.send({ method: "forwardCDPEvent", params: { method: "Test.after" } });
  await until("event", () => h.events.length > 0);
  assert.deepEqual(silent.outcomes.length, 1);
  // The sweep timer does not outlive the table: only ping and idle remain.
  assert.equal(h.clock.countTimers(), 2);
});

Deno.test("ExtensionChannel() moves ready → grace on a drop and fails in-flight commands", async () => {
  await using h = await Harness.start();
  const peer = await h.connect();
  const inFlight = new Recorded("Page.printToPDF");
  h.channel.forward(inFlight);
  await Harness.command(peer);
  await peer.close();
  await until("grace", () => h.channel.phase.name === "grace");
  assert.deepEqual(inFlight.outcomes, failed("extension disconnected"));
  assert.equal(h.channel.inGracePeriod, true);
  assert.equal(h.clock.countTimers(), 1); // the grace timer only: link timers are gone
});

Deno.test("ExtensionChannel() moves grace → handshaking → ready, keeping the grace timer until ready", async () => {
  await using h = await Harness.start();
  await (await h.connect()).close();
  await until("grace", () => h.channel.phase.name === "grace");
  const a = new Recorded("Runtime.evaluate", "cb-tab-1");
  const b = new Recorded("Runtime.evaluate", "cb-tab-1");
  h.channel.forward(a);
  h.channel.forward(b);
  assert.equal(h.channel.heldCount, 2);
  assert.equal(h.clock.countTimers(), 2); // grace and the held commands' sweep
  const peer = await h.open();
  const phase = h.channel.phase;
  assert.equal(phase.name, "handshaking");
  assert.ok(phase.name === "handshaking" && phase.grace !== undefined);
  assert.equal(h.channel.inGracePeriod, true);
  await peer.next((f) => f.event === "connect.challenge");
  peer.send(connectRequest("c2", TOKEN));
  await until("ready", () => h.channel.phase.name === "ready");
  assert.equal(h.channel.inGracePeriod, false);
  // Held commands go out in arrival order, with relay-wide ids.
  const first = await Harness.command(peer);
  const second = await Harness.command(peer);
  assert.ok((second.id as number) > (first.id as number));
  // Grace timer and held sweep are gone: ping, idle and the pending sweep remain.
  assert.equal(h.clock.countTimers(), 3);
  peer.send({ id: first.id as number, result: {} });
  peer.send({ id: second.id as number, error: "Target closed" });
  await until("replies", () => b.outcomes.length > 0);
  assert.deepEqual(a.outcomes, [{ ok: true, result: {} }]);
  assert.deepEqual(b.outcomes, failed("Target closed"));
});

Deno.test("ExtensionChannel() moves grace → absent when the period ends", async () => {
  await using h = await Harness.start({ graceMs: 1_000 });
  await (await h.connect()).close();
  await until("grace", () => h.channel.phase.name === "grace");
  h.clock.tick(400);
  const held = new Recorded("Runtime.evaluate");
  h.channel.forward(held);
  h.clock.tick(599);
  assert.equal(h.channel.phase.name, "grace");
  assert.equal(h.graceExpired, 0);
  h.clock.tick(1);
  assert.equal(h.channel.phase.name, "absent");
  assert.deepEqual(held.outcomes, failed("Extension not connected"));
  assert.equal(h.graceExpired, 1);
  assert.equal(h.clock.countTimers(), 0);
});

Deno.test("ExtensionChannel() fails a held command after commandWaitMs, within the grace period", async () => {
  await using h = await Harness.start({ graceMs: 1_000, commandWaitMs: 100 });
  await (await h.connect()).close();
  await until("grace", () => h.channel.phase.name === "grace");
  const held = new Recorded("Page.reload");
  h.channel.forward(held);
  h.clock.tick(99);
  assert.deepEqual(held.outcomes, []);
  h.clock.tick(1);
  assert.deepEqual(held.outcomes, failed("Extension not connected"));
  assert.equal(h.channel.phase.name, "grace");
  // A command that arrives near the end waits only for what is left of the period.
  h.clock.tick(850);
  const late = new Recorded("Page.reload");
  h.channel.forward(late);
  h.clock.tick(50);
  assert.deepEqual(late.outcomes, failed("Extension not connected"));
  assert.equal(h.channel.phase.name, "absent");
  assert.equal(h.clock.countTimers(), 0);
});

Deno.test("ExtensionChannel() moves handshaking → absent or grace when the handshake fails", async (t) => {
  await t.step("absent when the relay has nothing to keep", async () => {
    await using h = await Harness.start();
    const peer = await h.open();
    h.clock.tick(1_000);
    assert.deepEqual(await peer.waitClosed(), { code: 1008, reason: "handshake timeout" });
    assert.equal(h.channel.phase.name, "absent");
    assert.equal(h.clock.countTimers(), 0);
  });
  await t.step("grace when targets or clients exist", async () => {
    await using h = await Harness.start();
    h.hasState = true;
    const peer = await h.open();
    h.clock.tick(1_000);
    await peer.waitClosed();
    assert.equal(h.channel.phase.name, "grace");
    assert.equal(h.clock.countTimers(), 1);
    h.clock.tick(20_000);
    assert.equal(h.channel.phase.name, "absent");
    assert.equal(h.clock.countTimers(), 0);
  });
  await t.step("back to the running grace period when a reconnect fails", async () => {
    await using h = await Harness.start();
    await (await h.connect()).close();
    await until("grace", () => h.channel.phase.name === "grace");
    h.clock.tick(5_000);
    const peer = await h.open();
    h.clock.tick(1_000);
    await peer.waitClosed();
    assert.equal(h.channel.phase.name, "grace");
    h.clock.tick(13_999);
    assert.equal(h.channel.phase.name, "grace");
    h.clock.tick(1);
    assert.equal(h.channel.phase.name, "absent");
    assert.equal(h.clock.countTimers(), 0);
  });
});

Deno.test("ExtensionChannel() stop() fails everything from every phase and releases every timer", async (t) => {
  await t.step("from ready, with pending commands", async () => {
    await using h = await Harness.start();
    const peer = await h.connect();
    const pending = new Recorded("Page.reload");
    h.channel.forward(pending);
    await Harness.command(peer);
    h.channel.stop();
    assert.equal(h.channel.phase.name, "stopping");
    assert.deepEqual(pending.outcomes, failed("server stopping"));
    const after = new Recorded("Page.reload");
    h.channel.forward(after);
    assert.deepEqual(after.outcomes, failed("server stopping"));
    h.channel.closeLink(1001, "server stopping");
    assert.deepEqual(await peer.waitClosed(), { code: 1001, reason: "server stopping" });
    assert.equal(h.clock.countTimers(), 0);
  });
  await t.step("from grace, with held commands", async () => {
    await using h = await Harness.start();
    await (await h.connect()).close();
    await until("grace", () => h.channel.phase.name === "grace");
    const held = new Recorded("Page.reload");
    h.channel.forward(held);
    h.channel.stop();
    assert.deepEqual(held.outcomes, failed("server stopping"));
    assert.equal(h.channel.phase.name, "stopping");
    assert.equal(h.clock.countTimers(), 0);
    assert.equal(h.graceExpired, 0);
  });
  await t.step("from handshaking", async () => {
    await using h = await Harness.start();
    const peer = await h.open();
    h.channel.stop();
    h.channel.closeLink(1001, "server stopping");
    assert.deepEqual(await peer.waitClosed(), { code: 1001, reason: "server stopping" });
    assert.equal(h.clock.countTimers(), 0);
  });
});

Deno.test("ExtensionChannel() admit() refuses a second open socket and replaces a closing one", async () => {
  await using h = await Harness.start();
  const first = await h.connect();
  assert.equal(h.channel.admit(), false);
  // The peer's close frame arrives; the relay's socket is closing, not closed.
  first.ws.close(1000);
  first.ws.pause();
  await until("closing", () => h.channel.connected === false);
  assert.equal(h.channel.admit(), true);
  assert.equal(h.channel.phase.name, "grace");
  first.ws.resume();
  await h.connect();
  assert.equal(h.channel.phase.name, "ready");
});

Deno.test("ExtensionChannel() in legacy mode is ready on connect and sends held commands", async () => {
  await using h = await Harness.start({
    link: {
      legacy: true,
      handshakeTimeoutMs: 1_000,
      pingIntervalMs: 5_000,
      idleTimeoutMs: 30_000,
      maxFrameBytes: 268_435_456,
      version: "test",
      uptimeMs: () => 0,
      verifyToken: () => false,
    },
  });
  const first = await h.open();
  assert.equal(h.channel.phase.name, "ready");
  await first.close();
  await until("grace", () => h.channel.phase.name === "grace");
  const held = new Recorded("Runtime.evaluate", "cb-tab-1");
  h.channel.forward(held);
  const second = await h.open();
  assert.equal(h.channel.phase.name, "ready");
  assert.equal(h.channel.inGracePeriod, false);
  const sent = await Harness.command(second);
  second.send({ id: sent.id as number, result: { ok: 1 } });
  await until("reply", () => held.outcomes.length > 0);
  assert.deepEqual(held.outcomes, [{ ok: true, result: { ok: 1 } }]);
  assert.equal(second.pending((f) => f.event === "connect.challenge").length, 0);
});

Deno.test("ExtensionChannel() fails a command at once when the held queue is full", async () => {
  await using h = await Harness.start({ maxHeld: 3 });
  await (await h.connect()).close();
  await until("grace", () => h.channel.phase.name === "grace");
  const held = [1, 2, 3].map(() => new Recorded("Runtime.evaluate", "cb-tab-1"));
  for (const command of held) h.channel.forward(command);
  const over = new Recorded("Runtime.evaluate", "cb-tab-1");
  h.channel.forward(over);
  assert.deepEqual(
    over.outcomes,
    failed(
      "Cannot hold command while the extension is away as the held queue is full: current size is 3",
    ),
  );
  assert.equal(h.channel.heldCount, 3);
  // The held ones still go out when the extension returns, and the queue has room again.
  const peer = await h.open();
  await peer.next((f) => f.event === "connect.challenge");
  peer.send(connectRequest("c2", TOKEN));
  await until("ready", () => h.channel.phase.name === "ready");
  for (let i = 0; i < 3; i++) {
    const command = await Harness.command(peer);
    peer.send({ id: command.id as number, result: {} });
  }
  await until("replies", () => held.every((command) => command.outcomes.length === 1));
  assert.equal(h.channel.heldCount, 0);
});
