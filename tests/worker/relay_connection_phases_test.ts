/**
 * Phase ownership of `RelayConnection` on fake time: every phase and step releases its own
 * timers when it is left, and hooks run only after a transition completed.
 */
import assert from "node:assert/strict";
import { relayDownHandler, relayHandler } from "../_fakes/fake_http.ts";
import type { ConnectionStatus } from "../../worker/relay_link.ts";
import { CHALLENGE, connectReady, type Harness, withHarness } from "./_connection_harness.ts";

/** The socket of the current attempt, opened by the test. */
async function openManually(h: Harness) {
  h.conn.requestConnect("user");
  await h.settle();
  const socket = h.sockets.last;
  socket.open();
  return socket;
}

Deno.test("RelayConnection() clears the timers of each phase and step it leaves", async (t) => {
  await t.step(
    "connecting/preflight → stopped: the request deadline goes with the step",
    async () => {
      await withHarness({ http: () => "hang" }, async (h) => {
        h.conn.requestConnect("user");
        await h.settle();
        assert.equal(h.conn.status().phase, "connecting");
        assert.equal(h.http.pending, 1);
        assert.equal(h.clock.countTimers(), 1);
        await h.storage.local.set({ gatewayToken: "" });
        await h.settle();
        assert.equal(h.conn.status().phase, "stopped");
        assert.equal(h.http.pending, 0);
        assert.equal(h.clock.countTimers(), 0);
      });
    },
  );
  await t.step("connecting/opening → idle: the open deadline goes with the step", async () => {
    await withHarness({ relay: "never-open", tabs: 0 }, async (h) => {
      h.conn.requestConnect("user");
      await h.settle();
      assert.equal(h.conn.status().phase, "connecting");
      assert.equal(h.clock.countTimers(), 1);
      h.sockets.last.drop(1006, "");
      assert.equal(h.conn.status().phase, "idle");
      assert.equal(h.clock.countTimers(), 0);
    });
  });
  await t.step(
    "awaiting-challenge → awaiting-hello: the legacy grace goes, the deadline stays",
    async () => {
      await withHarness({ relay: "manual", http: relayHandler({ legacy: true }) }, async (h) => {
        const socket = await openManually(h);
        assert.equal(h.clock.countTimers(), 2); // handshake deadline + legacy grace
        socket.receive(CHALLENGE);
        assert.equal(h.conn.status().phase, "handshaking");
        assert.equal(h.clock.countTimers(), 1);
        await h.clock.tickAsync(1_000); // past the grace: still waiting for hello-ok
        assert.equal(h.conn.isReady(), false);
      });
    },
  );
  await t.step("handshaking → stopped: deadline and grace go with the phase", async () => {
    await withHarness({ relay: "manual", http: relayHandler({ legacy: true }) }, async (h) => {
      const socket = await openManually(h);
      assert.equal(h.clock.countTimers(), 2);
      socket.drop(1002, "");
      assert.equal(h.conn.status().phase, "stopped");
      assert.equal(h.clock.countTimers(), 0);
    });
  });
  await t.step("handshaking → ready: only the liveness timer is left", async () => {
    await withHarness({}, async (h) => {
      await connectReady(h);
      assert.equal(h.clock.countTimers(), 1);
    });
  });
  await t.step("ready → idle: the liveness timer goes with the phase", async () => {
    await withHarness({ tabs: 0 }, async (h) => {
      const socket = await connectReady(h);
      assert.equal(h.clock.countTimers(), 1);
      socket.drop(1006, "");
      assert.equal(h.conn.status().phase, "idle");
      assert.equal(h.clock.countTimers(), 0);
    });
  });
  await t.step("backoff → stopped: the retry timer goes with the phase", async () => {
    await withHarness({ http: relayDownHandler() }, async (h) => {
      h.conn.requestConnect("user");
      await h.settle();
      assert.equal(h.conn.status().phase, "backoff");
      assert.equal(h.clock.countTimers(), 1);
      await h.storage.local.set({ gatewayToken: "" });
      await h.settle();
      assert.equal(h.conn.status().phase, "stopped");
      assert.equal(h.clock.countTimers(), 0);
      await h.clock.tickAsync(60_000);
      assert.equal(h.attempts.length, 1);
    });
  });
  await t.step("backoff → connecting: a user request replaces the retry timer", async () => {
    await withHarness({ http: relayDownHandler() }, async (h) => {
      h.conn.requestConnect("user");
      await h.settle();
      assert.equal(h.conn.status().phase, "backoff");
      h.http.handler = () => "hang";
      h.conn.requestConnect("user");
      await h.settle();
      assert.equal(h.conn.status().phase, "connecting");
      assert.equal(h.clock.countTimers(), 1); // the request deadline only
      assert.equal(h.attempts.length, 2);
    });
  });
});

Deno.test("RelayConnection() calls hooks only after the transition completed", async (t) => {
  await t.step(
    "ready: status first, then onReady, with liveness armed and events accepted",
    async () => {
      await withHarness({}, async (h) => {
        const seen: { ready: boolean; timers: number; readyCalls: number; sent: boolean }[] = [];
        h.tabs.onStatusHook = (status) => {
          if (status.phase !== "ready") return;
          seen.push({
            ready: h.conn.isReady(),
            timers: h.clock.countTimers(),
            readyCalls: h.tabs.readyCalls,
            sent: h.conn.sendEvent({ method: "Page.loadEventFired", sessionId: "cb-tab-1" }),
          });
        };
        const socket = await connectReady(h);
        assert.deepEqual(seen, [{ ready: true, timers: 1, readyCalls: 0, sent: true }]);
        assert.equal(h.tabs.readyCalls, 1);
        assert.deepEqual(socket.sentJson.slice(1), [{
          method: "forwardCDPEvent",
          params: { sessionId: "cb-tab-1", method: "Page.loadEventFired" },
        }]);
      });
    },
  );
  await t.step(
    "drop: onClosed first, then the backoff status, with the retry timer armed",
    async () => {
      await withHarness({}, async (h) => {
        const socket = await connectReady(h);
        const seen: { phase: string; closed: number; timers: number; current: ConnectionStatus }[] =
          [];
        h.tabs.onStatusHook = (status) => {
          seen.push({
            phase: status.phase,
            closed: h.tabs.closed.length,
            timers: h.clock.countTimers(),
            current: h.conn.status(),
          });
        };
        h.relay("manual");
        socket.drop(1001, "server stopping");
        assert.equal(seen.length, 1);
        assert.equal(seen[0]?.phase, "backoff");
        assert.equal(seen[0]?.closed, 1);
        assert.equal(seen[0]?.timers, 1);
        assert.deepEqual(seen[0]?.current, h.tabs.statuses.at(-1));
      });
    },
  );
  await t.step(
    "a hook that asks for a connection on the backoff status starts one attempt",
    async () => {
      await withHarness({ http: relayDownHandler() }, async (h) => {
        let asked = 0;
        h.tabs.onStatusHook = (status) => {
          if (status.phase === "backoff" && asked++ === 0) {
            h.http.handler = () => "hang";
            h.conn.requestConnect("user");
          }
        };
        h.conn.requestConnect("user");
        await h.settle();
        assert.equal(asked, 1);
        assert.equal(h.conn.status().phase, "connecting");
        assert.equal(h.attempts.length, 2);
        assert.equal(h.http.pending, 1);
        assert.equal(h.clock.countTimers(), 1); // the request deadline; the retry timer is gone
        assert.deepEqual(h.tabs.statuses.map((s) => s.phase), [
          "connecting",
          "backoff",
          "connecting",
        ]);
      });
    },
  );
});
