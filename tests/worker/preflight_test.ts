import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { preflight } from "../../worker/preflight.ts";
import { systemClock } from "../../worker/system_clock.ts";
import { connectionRefused, FakeHttp, relayHandler } from "../_fakes/fake_http.ts";
import { mutualStatusHandler } from "../_fakes/fake_mutual_relay.ts";

const TARGET = { port: 18792, relayToken: "derived" };

async function withClock(body: (clock: FakeTimers.Clock) => Promise<void>): Promise<void> {
  const clock = FakeTimers.install({ now: 0, toFake: ["setTimeout", "clearTimeout", "Date"] });
  try {
    await body(clock);
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
}

Deno.test("preflight() asks /extension/status without and /json/version with the token header", async () => {
  await withClock(async () => {
    const http = new FakeHttp(relayHandler({ token: "derived" }));
    const result = await preflight(TARGET, { http: http.get, clock: systemClock() });
    assert.deepEqual(result, { kind: "ok", expectsChallenge: true });
    assert.deepEqual(http.requests, [
      { url: "http://127.0.0.1:18792/extension/status", headers: {} },
      {
        url: "http://127.0.0.1:18792/json/version",
        headers: { "x-openclaw-relay-token": "derived" },
      },
    ]);
  });
});

Deno.test("preflight() expects no challenge from a legacy relay", async () => {
  await withClock(async () => {
    const http = new FakeHttp(relayHandler({ legacy: true }));
    assert.deepEqual(await preflight(TARGET, { http: http.get, clock: systemClock() }), {
      kind: "ok",
      expectsChallenge: false,
    });
  });
});

Deno.test("preflight() tells a stopped relay from a rejected token", async () => {
  await withClock(async () => {
    const down = new FakeHttp(() => connectionRefused());
    assert.deepEqual(await preflight(TARGET, { http: down.get, clock: systemClock() }), {
      kind: "unreachable",
      message: "Relay server not reachable at http://127.0.0.1:18792 (Failed to fetch)",
    });
    assert.equal(down.requests.length, 1);
    const wrong = new FakeHttp(relayHandler({ token: "other" }));
    assert.deepEqual(await preflight(TARGET, { http: wrong.get, clock: systemClock() }), {
      kind: "token_rejected",
      message:
        "Relay at http://127.0.0.1:18792 rejected the gateway token (HTTP 401): enter the token the relay printed at start in the extension options",
    });
  });
});

Deno.test("preflight() continues on any /json/version status other than 401", async () => {
  await withClock(async () => {
    for (const status of [200, 403, 404, 500]) {
      const http = new FakeHttp((request) =>
        request.url.endsWith("/extension/status")
          ? { status: 200, body: "not json" }
          : { status, body: "x" }
      );
      assert.deepEqual(await preflight(TARGET, { http: http.get, clock: systemClock() }), {
        kind: "ok",
        expectsChallenge: false,
      });
    }
  });
});

Deno.test("preflight() gives up on a silent request after its deadline and aborts it", async () => {
  await withClock(async (clock) => {
    const http = new FakeHttp(() => "hang");
    const pending = preflight(TARGET, { http: http.get, clock: systemClock() }, {
      timeoutMs: 2_000,
    });
    await clock.tickAsync(1_999);
    assert.equal(http.pending, 1);
    await clock.tickAsync(1);
    assert.deepEqual(await pending, {
      kind: "unreachable",
      message: "Relay server not reachable at http://127.0.0.1:18792 (timed out after 2000 ms)",
    });
    assert.equal(http.pending, 0);
  });
});

Deno.test("preflight() rejects with the abort reason and clears its deadline at once", async () => {
  await withClock(async (clock) => {
    const http = new FakeHttp(() => "hang");
    const controller = new AbortController();
    const pending = preflight(TARGET, { http: http.get, clock: systemClock() }, {
      signal: controller.signal,
    });
    await clock.tickAsync(10);
    const reason = new Error("stop");
    controller.abort(reason);
    assert.equal(clock.countTimers(), 0);
    await assert.rejects(pending, (error) => error === reason);
    assert.equal(http.pending, 0);
  });
});

Deno.test("preflight() in mutual-v1 asks only /extension/status and sends no credential", async () => {
  await withClock(async () => {
    const http = new FakeHttp(mutualStatusHandler());
    const result = await preflight({ port: 18792 }, { http: http.get, clock: systemClock() });
    assert.deepEqual(result, { kind: "ok", expectsChallenge: true });
    assert.deepEqual(http.requests, [
      { url: "http://127.0.0.1:18792/extension/status", headers: {} },
    ]);
  });
});

Deno.test("preflight() in mutual-v1 reports a relay that does not offer it, and never falls back", async () => {
  await withClock(async () => {
    for (
      const handler of [mutualStatusHandler(false), relayHandler(), relayHandler({ legacy: true })]
    ) {
      const http = new FakeHttp(handler);
      assert.deepEqual(await preflight({ port: 18792 }, { http: http.get, clock: systemClock() }), {
        kind: "mutual_unsupported",
        message:
          "Relay at http://127.0.0.1:18792 does not offer mutual authentication: update the relay, or enable OpenClaw relay compatibility in the extension options",
      });
      assert.equal(http.requests.length, 1);
      assert.deepEqual(http.requests[0]?.headers, {});
    }
  });
});
