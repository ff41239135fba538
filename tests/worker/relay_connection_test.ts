import assert from "node:assert/strict";
import { decodeExtensionFrame } from "../../codec/decode_extension_frame.ts";
import { GATEWAY_CLIENT_IDS } from "../../codec/limits.ts";
import { badgeFor } from "../../worker/badge.ts";
import { ConnectionClosedError } from "../../worker/errors.ts";
import { connectionRefused, relayDownHandler, relayHandler } from "../_fakes/fake_http.ts";
import {
  CHALLENGE,
  connectError,
  connectReady,
  connectRequestOf,
  fakeDerive,
  helloOk,
  tickUntil,
  TOKEN,
  withHarness,
} from "./_connection_harness.ts";
import { CONNECT_PARAMS_SCHEMA } from "./_connect_params_schema.ts";

// ---------------------------------------------------------------- 1. challenge in the open tick

Deno.test("RelayConnection() completes the handshake when the challenge arrives in the same tick as open", async () => {
  await withHarness({ relay: "manual" }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    assert.equal(h.conn.status().phase, "connecting");
    // The relay opens and challenges synchronously: the handler was bound at creation.
    socket.open();
    socket.receive(CHALLENGE);
    assert.equal(socket.sent.length, 1);
    const { id } = connectRequestOf(socket);
    // Gating: before the matching res, nothing else goes out — no pong, no event, no response.
    socket.receive({ method: "ping" });
    assert.equal(h.conn.sendEvent({ method: "Page.loadEventFired", sessionId: "cb-tab-1" }), false);
    assert.equal(h.conn.isReady(), false);
    socket.receive({ type: "res", id: "someone-else", ok: true, payload: {} });
    assert.equal(h.conn.isReady(), false);
    assert.equal(socket.sent.length, 1);
    socket.receive(helloOk(id));
    assert.equal(h.conn.isReady(), true);
    assert.equal(h.tabs.readyCalls, 1);
    assert.deepEqual(h.conn.status(), {
      phase: "ready",
      relayUrl: "http://127.0.0.1:18792",
      attachedTabCount: 1,
      attempt: 0,
      legacy: false,
      relayVersion: "0.1.0",
    });
    socket.receive({ method: "ping" });
    assert.deepEqual(socket.sentJson.slice(1), [{ method: "pong" }]);
  });
});

// ---------------------------------------------------------------- 2. connect params schema

Deno.test("RelayConnection() sends connect params valid under the gateway v3 schema", async () => {
  await withHarness({ token: `  ${TOKEN}  ` }, async (h) => {
    const socket = await connectReady(h);
    const { id, params } = connectRequestOf(socket);
    assert.match(id, /^ext-connect-\d+-[0-9a-f]{6}$/);
    const parsed = CONNECT_PARAMS_SCHEMA.safeParse(params);
    assert.equal(parsed.success, true, parsed.success ? "" : parsed.error.message);
    assert.deepEqual(params, {
      minProtocol: 3,
      maxProtocol: 3,
      client: { id: "webchat-ui", version: "0.1.0", platform: "chrome-extension", mode: "webchat" },
      role: "operator",
      scopes: ["operator.read", "operator.write"],
      caps: [],
      commands: [],
      auth: { token: TOKEN },
      userAgent: h.runtime.userAgent,
    });
    assert.ok(GATEWAY_CLIENT_IDS.includes("webchat-ui"));
    const raw = socket.sentJson[0] as Record<string, unknown>;
    assert.equal("nonce" in raw, false);
    assert.equal("nonce" in (raw.params as Record<string, unknown>), false);
    const decoded = decodeExtensionFrame(socket.sent[0] ?? "");
    assert.equal(decoded.ok && decoded.frame.kind, "connect_request");
    // The socket URL carries the derived token, never the raw one.
    assert.equal(
      socket.url,
      `ws://127.0.0.1:18792/extension?token=${await fakeDerive(TOKEN, 18792)}`,
    );
  });
});

// ---------------------------------------------------------------- 3. handshake outcomes

Deno.test("RelayConnection() closes 1008 at the handshake deadline and retries with backoff", async () => {
  await withHarness({ relay: "mute" }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const first = h.sockets.last;
    assert.equal(first.sent.length, 1); // the connect, never answered
    await h.clock.tickAsync(7_999);
    assert.equal(h.conn.status().phase, "handshaking");
    assert.equal(first.clientClose, undefined);
    await h.clock.tickAsync(1);
    assert.deepEqual(first.clientClose, { code: 1008, reason: "handshake timeout" });
    const status = h.conn.status();
    assert.equal(status.phase, "backoff");
    assert.equal(status.attempt, 1);
    assert.equal(status.lastError?.code, "handshake_timeout");
    assert.equal(status.nextRetryAt, Date.now() + 750);
    h.relay("challenge");
    await h.clock.tickAsync(749);
    assert.equal(h.sockets.sockets.length, 1);
    await tickUntil(h, () => h.conn.isReady(), 100, 1);
    assert.equal(h.sockets.sockets.length, 2);
  });
});

Deno.test("RelayConnection() stops after an authentication error and makes no further attempts", async () => {
  await withHarness({ relay: "manual", tabs: 2 }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    socket.open();
    socket.receive(CHALLENGE);
    const { id } = connectRequestOf(socket);
    socket.receive(connectError(id, {
      code: "INVALID_REQUEST",
      message: "unauthorized: gateway token mismatch",
      details: { code: "AUTH_TOKEN_MISMATCH", authReason: "token_mismatch" },
    }));
    assert.deepEqual(socket.clientClose, { code: 1008, reason: "gateway connect failed" });
    assert.equal(h.conn.status().phase, "stopped");
    assert.equal(h.conn.status().lastError?.code, "token_rejected");
    await h.settle();
    assert.equal(h.runtime.optionsOpened, 1);
    const attempts = h.attempts.length;
    for (let i = 0; i < 10; i++) {
      h.conn.onKeepalive();
      await h.clock.tickAsync(30_000);
    }
    assert.equal(h.attempts.length, attempts);
    assert.equal(h.sockets.sockets.length, 1);
    assert.equal(h.conn.status().phase, "stopped");
    assert.equal(badgeFor(h.conn.status(), "attached").text, "!");
  });
});

Deno.test("RelayConnection() retries after a non-authentication connect error", async () => {
  await withHarness({ relay: "manual" }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    socket.open();
    socket.receive(CHALLENGE);
    const { id } = connectRequestOf(socket);
    socket.receive(connectError(id, { code: "UNAVAILABLE", message: "gateway busy" }));
    assert.deepEqual(socket.clientClose, { code: 1008, reason: "gateway connect failed" });
    assert.equal(h.conn.status().phase, "backoff");
    assert.equal(h.conn.status().lastError?.code, "handshake_rejected");
    h.relay("challenge");
    await tickUntil(h, () => h.conn.isReady(), 1_000);
    assert.equal(h.sockets.sockets.length, 2);
    assert.equal(h.runtime.optionsOpened, 0);
  });
});

Deno.test("RelayConnection() waits at least retryAfterMs after AUTH_RATE_LIMITED", async () => {
  await withHarness({ relay: "manual" }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    socket.open();
    socket.receive(CHALLENGE);
    socket.receive(connectError(connectRequestOf(socket).id, {
      code: "INVALID_REQUEST",
      message: "rate limited",
      details: { code: "AUTH_RATE_LIMITED" },
      retryAfterMs: 5_000,
    }));
    assert.equal(h.conn.status().phase, "backoff");
    assert.equal(h.conn.status().nextRetryAt, Date.now() + 5_000);
    await h.clock.tickAsync(4_999);
    assert.equal(h.attempts.length, 1);
    await h.clock.tickAsync(1);
    assert.equal(h.attempts.length, 2);
  });
});

Deno.test("RelayConnection() stops on an incompatible relay (expectedProtocol or close 1002 before ready)", async (t) => {
  await t.step("expectedProtocol", async () => {
    await withHarness({ relay: "manual" }, async (h) => {
      h.conn.requestConnect("user");
      await h.settle();
      const socket = h.sockets.last;
      socket.open();
      socket.receive(CHALLENGE);
      socket.receive(connectError(connectRequestOf(socket).id, {
        code: "INVALID_REQUEST",
        message: "protocol mismatch",
        details: { expectedProtocol: 3 },
      }));
      assert.equal(h.conn.status().phase, "stopped");
      assert.equal(h.conn.status().lastError?.code, "incompatible_relay");
      await h.clock.tickAsync(120_000);
      assert.equal(h.attempts.length, 1);
    });
  });
  await t.step("close 1002", async () => {
    await withHarness({ relay: "manual" }, async (h) => {
      h.conn.requestConnect("user");
      await h.settle();
      const socket = h.sockets.last;
      socket.open();
      socket.receive(CHALLENGE);
      socket.drop(1002, "protocol mismatch");
      assert.equal(h.conn.status().phase, "stopped");
      assert.equal(h.conn.status().lastError?.code, "incompatible_relay");
      assert.equal(h.tabs.closed.length, 1);
      await h.clock.tickAsync(120_000);
      assert.equal(h.attempts.length, 1);
    });
  });
});

Deno.test("RelayConnection() closes 1008 on a relay frame other than ping while awaiting hello-ok", async () => {
  await withHarness({ relay: "manual" }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    socket.open();
    socket.receive(CHALLENGE);
    socket.receive({
      id: 1,
      method: "forwardCDPCommand",
      params: { method: "Browser.getVersion" },
    });
    assert.deepEqual(socket.clientClose, {
      code: 1008,
      reason: "unexpected frame before hello-ok",
    });
    assert.equal(socket.sent.length, 1); // only the connect; the command got no reply on this socket
    assert.equal(h.tabs.commands.length, 0);
    assert.equal(h.conn.status().phase, "backoff");
  });
});

// ---------------------------------------------------------------- 4. legacy relays

Deno.test("RelayConnection() treats a relay without challenge as ready on its first relay frame", async () => {
  await withHarness({ relay: "legacy", http: relayHandler({ legacy: true }) }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    assert.equal(h.conn.status().phase, "handshaking");
    socket.receive({
      id: 1,
      method: "forwardCDPCommand",
      params: { method: "Browser.getVersion" },
    });
    assert.equal(h.conn.isReady(), true);
    assert.equal(h.conn.status().legacy, true);
    assert.equal(h.tabs.readyCalls, 1);
    // The frame that made it ready is dispatched normally.
    assert.deepEqual(h.tabs.commands, [{ id: 1, cdp: { method: "Browser.getVersion" } }]);
    assert.equal(h.conn.sendResponse(1, { ok: true, result: {} }), true);
    assert.deepEqual(socket.sentJson, [{ id: 1, result: {} }]);
  });
});

Deno.test("RelayConnection() treats a silent relay as legacy after the 500 ms grace window", async () => {
  await withHarness({ relay: "legacy", http: relayHandler({ legacy: true }) }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    await h.clock.tickAsync(499);
    assert.equal(h.conn.status().phase, "handshaking");
    await h.clock.tickAsync(1);
    assert.equal(h.conn.isReady(), true);
    assert.equal(h.conn.status().legacy, true);
    assert.equal(h.sockets.last.sent.length, 0);
  });
});

Deno.test("RelayConnection() has no grace window when the preflight announced a challenge", async () => {
  await withHarness({ relay: "legacy" }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    await h.clock.tickAsync(7_999);
    assert.equal(h.conn.status().phase, "handshaking");
    await h.clock.tickAsync(1);
    assert.deepEqual(h.sockets.last.clientClose, { code: 1008, reason: "handshake timeout" });
  });
});

Deno.test("RelayConnection() closes on a late challenge and waits for a challenge on later attempts", async () => {
  await withHarness({ relay: "legacy", http: relayHandler({ legacy: true }) }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    await h.clock.tickAsync(500);
    assert.equal(h.conn.isReady(), true);
    const first = h.sockets.last;
    first.receive(CHALLENGE);
    assert.deepEqual(first.clientClose, { code: 1008, reason: "late connect.challenge" });
    assert.equal(h.conn.status().lastError?.code, "late_challenge");
    h.relay("manual");
    await tickUntil(h, () => h.sockets.sockets.length === 2, 2_000);
    const second = h.sockets.last;
    second.open();
    // The status endpoint still says "legacy", but this port sent a challenge once.
    await h.clock.tickAsync(600);
    assert.equal(h.conn.status().phase, "handshaking");
    second.receive(CHALLENGE);
    second.receive(helloOk(connectRequestOf(second).id));
    assert.equal(h.conn.isReady(), true);
    assert.equal(h.conn.status().legacy, false);
  });
});

// ---------------------------------------------------------------- 5. missing / rejected token

Deno.test("RelayConnection() does no network I/O without a token, opens the options page once and waits for settings", async () => {
  await withHarness({ token: null }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    assert.equal(h.http.requests.length, 0);
    assert.equal(h.sockets.sockets.length, 0);
    assert.deepEqual(h.conn.status().lastError, {
      code: "missing_token",
      message: "Missing gatewayToken in extension settings (chrome.storage.local.gatewayToken)",
    });
    assert.equal(h.conn.status().phase, "stopped");
    const badge = badgeFor(h.conn.status(), "attached");
    assert.equal(badge.text, "!");
    assert.match(badge.title, /Not set up yet: the relay.s token is missing/);
    assert.equal(h.runtime.optionsOpened, 1);
    assert.deepEqual(await h.storage.local.get(["helpOnErrorShown"]), { helpOnErrorShown: true });
    // A second click retries (still missing) but the options page stays at one opening.
    h.conn.requestConnect("user");
    await h.settle();
    assert.equal(h.runtime.optionsOpened, 1);
    for (let i = 0; i < 5; i++) {
      h.conn.onKeepalive();
      await h.clock.tickAsync(30_000);
    }
    assert.equal(h.http.requests.length, 0);
    // Settings change: connects at once, without waiting for any timer.
    await h.storage.local.set({ gatewayToken: TOKEN });
    await h.settle();
    assert.equal(h.conn.isReady(), true);
  });
});

Deno.test("RelayConnection() stops on a preflight 401 and reconnects at once with a fresh policy when settings change", async () => {
  await withHarness({ http: relayDownHandler() }, async (h) => {
    // A long outage first, so the policy is on its slow curve.
    h.conn.requestConnect("user");
    await h.clock.tickAsync(200_000);
    const slow = h.conn.status();
    assert.equal(slow.phase, "backoff");
    assert.equal((slow.nextRetryAt ?? 0) - (h.attempts.at(-1) ?? 0), 30_000);
    // The relay comes back with another token: rejected, not retried.
    h.http.handler = relayHandler({ token: await fakeDerive("right-token", 18792) });
    h.conn.requestConnect("user");
    await h.settle();
    assert.equal(h.conn.status().phase, "stopped");
    assert.equal(h.conn.status().lastError?.code, "token_rejected");
    assert.equal(h.sockets.sockets.length, 0);
    const attempts = h.attempts.length;
    for (let i = 0; i < 10; i++) {
      h.conn.onKeepalive();
      await h.clock.tickAsync(30_000);
    }
    assert.equal(h.attempts.length, attempts);
    // Settings change: one attempt at once, policy reset.
    await h.storage.local.set({ gatewayToken: "right-token" });
    await h.settle();
    assert.equal(h.attempts.length, attempts + 1);
    assert.equal(h.conn.isReady(), true);
    assert.equal(h.conn.status().attempt, 0);
  });
});

Deno.test("RelayConnection() closes 1000 on a settings change and retries with a reset policy", async () => {
  await withHarness({}, async (h) => {
    const first = await connectReady(h);
    h.http.handler = relayDownHandler();
    first.drop(1006, "");
    await h.clock.tickAsync(180_000); // long outage: slow curve
    assert.equal((h.conn.status().nextRetryAt ?? 0) - (h.attempts.at(-1) ?? 0), 30_000);
    const before = h.attempts.length;
    await h.storage.local.set({ relayPort: 9999 });
    await h.settle();
    assert.equal(h.attempts.length, before + 1); // immediately
    assert.equal(h.conn.status().relayUrl, "http://127.0.0.1:9999");
    assert.equal(h.conn.status().phase, "backoff");
    assert.equal(h.conn.status().attempt, 1);
    assert.equal(h.conn.status().nextRetryAt, Date.now() + 750); // fast again
  });
  await withHarness({}, async (h) => {
    const first = await connectReady(h);
    await h.storage.local.set({ gatewayToken: "new-token" });
    assert.deepEqual(first.clientClose, { code: 1000, reason: "settings changed" });
    await tickUntil(h, () => h.conn.isReady(), 100, 1);
    assert.equal(h.sockets.sockets.length, 2);
    assert.equal(h.tabs.readyCalls, 2);
  });
});

// ---------------------------------------------------------------- 6. relay drop

Deno.test("RelayConnection() keeps attachments on a relay drop, shows reconnecting, and re-announces once", async () => {
  await withHarness({ tabs: 2 }, async (h) => {
    const first = await connectReady(h);
    assert.equal(h.tabs.readyCalls, 1);
    first.receive({ id: 41, method: "forwardCDPCommand", params: { method: "Runtime.evaluate" } });
    assert.equal(h.tabs.commands.length, 1);
    h.relay("manual");
    first.drop(1001, "server stopping");
    const status = h.conn.status();
    assert.equal(status.phase, "backoff");
    assert.equal(badgeFor(status, "attached").text, "\u2026");
    assert.equal(h.tabs.closed.length, 1);
    const closed = h.tabs.closed[0];
    assert.ok(closed instanceof ConnectionClosedError);
    assert.equal(closed.closeCode, 1001);
    assert.equal(closed.closeReason, "server stopping");
    assert.deepEqual(h.tabs.attachments, [101, 102]);
    // The pending command belongs to the dead socket: its answer is not sent anywhere.
    assert.equal(h.conn.sendResponse(41, { ok: true, result: {} }), false);
    h.relay("challenge");
    await tickUntil(h, () => h.conn.isReady(), 1_500);
    assert.equal(h.tabs.readyCalls, 2);
    assert.equal(h.sockets.last.sent.length, 1); // only the connect: no stale response
    assert.equal(badgeFor(h.conn.status(), "attached").text, "ON");
    await h.clock.tickAsync(10_000);
    assert.equal(h.tabs.readyCalls, 2);
  });
});

Deno.test("RelayConnection() goes idle on a drop when no tab is attached", async () => {
  await withHarness({ tabs: 0 }, async (h) => {
    const first = await connectReady(h);
    h.http.handler = relayDownHandler();
    first.drop(1006, "");
    assert.equal(h.conn.status().phase, "idle");
    await h.clock.tickAsync(300_000);
    assert.equal(h.attempts.length, 1);
    // An attempt the user asked for fails once and does not loop.
    h.conn.requestConnect("user");
    await h.clock.tickAsync(300_000);
    assert.equal(h.attempts.length, 2);
    assert.equal(h.conn.status().phase, "idle");
    assert.equal(h.conn.status().lastError?.code, "relay_unreachable");
  });
});

// ---------------------------------------------------------------- 7. stale sockets

Deno.test("RelayConnection() ignores close, error, open and message events of a replaced socket", async () => {
  await withHarness({}, async (h) => {
    const stale = await connectReady(h);
    h.relay("manual");
    stale.drop(1006, "");
    await tickUntil(h, () => h.sockets.sockets.length === 2, 2_000);
    const current = h.sockets.last;
    const closedBefore = h.tabs.closed.length;
    // Late events of the old socket while the new one is connecting.
    stale.replay("error");
    stale.replay({ close: 1000 });
    stale.replay("open");
    stale.replay({ message: JSON.stringify(CHALLENGE) });
    assert.equal(h.conn.status().phase, "connecting");
    assert.equal(h.tabs.closed.length, closedBefore);
    current.open();
    current.receive(CHALLENGE);
    current.receive(helloOk(connectRequestOf(current).id));
    assert.equal(h.conn.isReady(), true);
    // …and while it is ready.
    stale.replay({ message: JSON.stringify({ method: "ping" }) });
    stale.replay({
      message: JSON.stringify({ id: 9, method: "forwardCDPCommand", params: { method: "X.y" } }),
    });
    stale.replay({ close: 1006 });
    stale.replay("error");
    assert.equal(h.conn.isReady(), true);
    assert.equal(h.tabs.commands.length, 0);
    assert.equal(h.tabs.closed.length, closedBefore);
    assert.deepEqual(stale.sent.length, 1);
    assert.deepEqual(current.sent.length, 1);
  });
});

// ---------------------------------------------------------------- 8. single flight

Deno.test("RelayConnection() keeps one attempt in flight when alarm, close and settings fire together", async () => {
  await withHarness({ tabs: 1 }, async (h) => {
    const first = await connectReady(h);
    const attempts = h.attempts.length;
    h.relay("manual");
    first.drop(1006, "");
    h.conn.onKeepalive();
    h.conn.requestConnect("user");
    h.conn.onKeepalive();
    await h.storage.local.set({ gatewayToken: "other-token" });
    h.conn.onKeepalive();
    h.conn.requestConnect("attach");
    await h.settle();
    assert.equal(h.attempts.length, attempts + 1);
    assert.equal(h.sockets.sockets.length, 2);
    assert.equal(h.conn.status().phase, "connecting");
    await h.clock.tickAsync(1_000);
    h.conn.onKeepalive();
    assert.equal(h.attempts.length, attempts + 1);
    assert.equal(h.sockets.sockets.length, 2);
  });
});

Deno.test("RelayConnection.onKeepalive() starts an attempt only when idle with tabs attached", async () => {
  await withHarness({ tabs: 0 }, async (h) => {
    h.conn.onKeepalive();
    await h.settle();
    assert.equal(h.attempts.length, 0);
    h.tabs.tabs = 1;
    h.conn.onKeepalive();
    await h.settle();
    assert.equal(h.conn.isReady(), true);
    h.conn.onKeepalive();
    await h.settle();
    assert.equal(h.attempts.length, 1);
    assert.equal(h.sockets.sockets.length, 1);
  });
});

// ---------------------------------------------------------------- 9. recovery targets

Deno.test("RelayConnection() reaches a relay that returns within a minute in at most 1.5 s", async (t) => {
  for (
    const [downFor, random] of [[100, 0.999], [5_300, 0.5], [30_000, 0.999], [59_900, 0]] as const
  ) {
    await t.step(`relay back after ${downFor} ms`, async () => {
      await withHarness({ tabs: 1, random }, async (h) => {
        const first = await connectReady(h);
        h.http.handler = relayDownHandler();
        first.drop(1006, "");
        await h.clock.tickAsync(downFor);
        h.http.handler = relayHandler();
        const elapsed = await tickUntil(h, () => h.conn.isReady(), 1_500, 5);
        assert.ok(elapsed <= 1_500, `ready after ${elapsed} ms`);
      });
    });
  }
});

Deno.test("RelayConnection() slows to one attempt per 30 s after a long outage", async () => {
  await withHarness({ tabs: 1, random: 0.5 }, async (h) => {
    const first = await connectReady(h);
    h.http.handler = () => connectionRefused();
    const droppedAt = Date.now();
    first.drop(1006, "");
    await h.clock.tickAsync(10 * 60_000);
    const times = h.attempts.slice(1).map((at) => at - droppedAt);
    const gaps = times.slice(1).map((at, i) => at - (times[i] ?? 0));
    const fast = gaps.filter((_, i) => (times[i + 1] ?? 0) <= 60_000);
    assert.ok(fast.every((gap) => gap <= 1_000), `fast gaps ${fast}`);
    const late = gaps.filter((_, i) => (times[i] ?? 0) >= 120_000);
    assert.ok(late.length >= 10);
    assert.ok(late.every((gap) => gap >= 30_000 && gap <= 31_000), `late gaps ${late}`);
  });
});

// ---------------------------------------------------------------- 10. open deadline

Deno.test("RelayConnection() closes a socket that does not open within 5 s and retries", async () => {
  await withHarness({ relay: "never-open" }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const first = h.sockets.last;
    await h.clock.tickAsync(4_999);
    assert.equal(first.clientClose, undefined);
    await h.clock.tickAsync(1);
    assert.notEqual(first.clientClose, undefined);
    assert.notEqual(first.state, "connecting");
    assert.equal(h.conn.status().phase, "backoff");
    assert.equal(h.conn.status().lastError?.code, "open_timeout");
    await h.settle();
    assert.equal(h.tabs.closed.length, 1);
    // A late open of the discarded socket changes nothing.
    first.replay("open");
    assert.equal(h.conn.status().phase, "backoff");
    h.relay("challenge");
    await tickUntil(h, () => h.conn.isReady(), 2_000);
    assert.equal(h.sockets.sockets.length, 2);
  });
});

// ---------------------------------------------------------------- ready-state rules

Deno.test("RelayConnection() closes 4000 after the liveness window without frames", async () => {
  await withHarness({}, async (h) => {
    const socket = await connectReady(h); // tickIntervalMs 5000 → window 15 000 ms
    await h.clock.tickAsync(10_000);
    socket.receive({ method: "ping" });
    await h.clock.tickAsync(14_999);
    assert.equal(h.conn.isReady(), true);
    await h.clock.tickAsync(1);
    assert.deepEqual(socket.clientClose, { code: 4000, reason: "heartbeat timeout" });
    assert.equal(h.conn.status().lastError?.code, "heartbeat_timeout");
  });
});

Deno.test("RelayConnection() honours tickIntervalMs for the liveness window", async () => {
  await withHarness({ relay: "manual" }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    socket.open();
    socket.receive(CHALLENGE);
    socket.receive(helloOk(connectRequestOf(socket).id, { tickIntervalMs: 10_000 }));
    await h.clock.tickAsync(29_999);
    assert.equal(h.conn.isReady(), true);
    await h.clock.tickAsync(1);
    assert.deepEqual(socket.clientClose, { code: 4000, reason: "heartbeat timeout" });
  });
});

Deno.test("RelayConnection.sendResponse() replaces a response over maxPayload with a frame-too-large error", async () => {
  await withHarness({ relay: "manual" }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    socket.open();
    socket.receive(CHALLENGE);
    socket.receive(helloOk(connectRequestOf(socket).id, { maxPayload: 200 }));
    socket.receive({
      id: 7,
      method: "forwardCDPCommand",
      params: { method: "Page.captureScreenshot" },
    });
    const big = { data: "x".repeat(300) };
    assert.equal(h.conn.sendResponse(7, { ok: true, result: big }), true);
    const size = new TextEncoder().encode(JSON.stringify({ id: 7, result: big })).length;
    assert.deepEqual(socket.sentJson.at(-1), {
      id: 7,
      error: `frame too large: ${size} bytes exceeds maxPayload 200`,
    });
    // Exactly one reply per command.
    assert.equal(h.conn.sendResponse(7, { ok: true, result: {} }), false);
    // An oversize event is dropped; the connection survives.
    const before = socket.sent.length;
    assert.equal(
      h.conn.sendEvent({ method: "Network.dataReceived", params: { blob: "é".repeat(150) } }),
      false,
    );
    assert.equal(socket.sent.length, before);
    assert.equal(h.conn.sendEvent({ method: "Page.loadEventFired" }), true);
    assert.equal(h.conn.isReady(), true);
  });
});

Deno.test("RelayConnection.sendEvent() closes 4001 when bufferedAmount exceeds maxBufferedBytes", async () => {
  await withHarness({ relay: "manual" }, async (h) => {
    h.conn.requestConnect("user");
    await h.settle();
    const socket = h.sockets.last;
    socket.open();
    socket.receive(CHALLENGE);
    socket.receive(helloOk(connectRequestOf(socket).id, { maxBufferedBytes: 1_000 }));
    assert.equal(h.conn.sendEvent({ method: "A.b" }), true);
    socket.bufferedAmount = 1_001;
    assert.equal(h.conn.sendEvent({ method: "A.c" }), false);
    assert.deepEqual(socket.clientClose, { code: 4001, reason: "send buffer overflow" });
    assert.equal(h.conn.status().phase, "backoff");
    assert.equal(h.conn.status().lastError?.code, "send_buffer_overflow");
  });
});

Deno.test("RelayConnection() answers a malformed forwardCDPCommand exactly once", async () => {
  await withHarness({}, async (h) => {
    const socket = await connectReady(h);
    socket.receive({ id: 12, method: "forwardCDPCommand", params: { method: 5 } });
    assert.equal(h.tabs.commands.length, 0);
    const reply = socket.sentJson.at(-1) as { id: number; error: string };
    assert.equal(reply.id, 12);
    assert.equal(typeof reply.error, "string");
    assert.ok(reply.error.startsWith("Invalid forwardCDPCommand: "));
  });
});

Deno.test("RelayConnection.close() is idempotent and leaves no timer in any phase", async (t) => {
  const phases: [string, (h: Parameters<Parameters<typeof withHarness>[1]>[0]) => Promise<void>][] =
    [
      ["preflight hanging", async (h) => {
        h.http.handler = () => "hang";
        h.conn.requestConnect("user");
        await h.settle();
        assert.equal(h.http.pending, 1);
      }],
      ["opening", async (h) => {
        h.relay("never-open");
        h.conn.requestConnect("user");
        await h.settle();
      }],
      ["awaiting challenge", async (h) => {
        h.relay("legacy");
        h.http.handler = relayHandler({ legacy: true });
        h.conn.requestConnect("user");
        await h.settle();
      }],
      ["awaiting hello", async (h) => {
        h.relay("mute");
        h.conn.requestConnect("user");
        await h.settle();
      }],
      ["ready", async (h) => {
        await connectReady(h);
      }],
      ["backoff", async (h) => {
        h.http.handler = relayDownHandler();
        h.conn.requestConnect("user");
        await h.settle();
        assert.equal(h.conn.status().phase, "backoff");
      }],
    ];
  for (const [name, drive] of phases) {
    await t.step(name, async () => {
      await withHarness({}, async (h) => {
        await drive(h);
        const sockets = h.sockets.sockets.length;
        h.conn.close();
        h.conn.close();
        assert.equal(h.clock.countTimers(), 0);
        await h.settle();
        assert.equal(h.http.pending, 0);
        h.conn.requestConnect("user");
        h.conn.onKeepalive();
        await h.clock.tickAsync(60_000);
        assert.equal(h.sockets.sockets.length, sockets);
        for (const socket of h.sockets.sockets) assert.notEqual(socket.state, "open");
      });
    });
  }
});

Deno.test("RelayConnection() survives hooks that re-enter from onStatus", async (t) => {
  await t.step("close() on the first backoff status", async () => {
    await withHarness({ http: relayDownHandler() }, async (h) => {
      h.tabs.onStatusHook = (status) => {
        if (status.phase === "backoff") h.conn.close();
      };
      h.conn.requestConnect("user");
      await h.settle();
      assert.equal(h.clock.countTimers(), 0);
      assert.equal(h.attempts.length, 1);
    });
  });
  await t.step("close() on the ready status", async () => {
    await withHarness({}, async (h) => {
      h.tabs.onStatusHook = (status) => {
        if (status.phase === "ready") h.conn.close();
      };
      h.conn.requestConnect("user");
      await h.settle();
      assert.equal(h.clock.countTimers(), 0);
      assert.equal(h.tabs.readyCalls, 0);
    });
  });
});
