/**
 * `ConnectAttempt` on its own: what each flow asks and sends, and what each outcome reports.
 * How those outcomes become phases is `relay_connection*_test.ts`.
 */

import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { decodeExtensionFrame } from "../../codec/decode_extension_frame.ts";
import { mutualAuthKey } from "../../codec/mutual_auth.ts";
import { ErrorText } from "../../worker/error_text.ts";
import { RelayProtocolError } from "../../worker/errors.ts";
import {
  ConnectAttempt,
  type ConnectAttemptOptions,
  type ReplyOutcome,
} from "../../worker/connect_attempt.ts";
import {
  buildConnectRequest,
  type ConnectReply,
  type MutualAnswer,
} from "../../worker/handshake.ts";
import { PhaseScope, ScopeReleasedError } from "../../worker/phase_scope.ts";
import { parseSettings, type Settings } from "../../worker/settings.ts";
import { systemClock } from "../../worker/system_clock.ts";
import { FakeRuntime } from "../_fakes/fake_chrome.ts";
import {
  connectionRefused,
  FakeHttp,
  type FakeHttpHandler,
  relayHandler,
} from "../_fakes/fake_http.ts";
import { mutualStatusHandler, seededNonce } from "../_fakes/fake_mutual_relay.ts";
import { fakeDerive, helloOk, TOKEN } from "./_connection_harness.ts";

const PORT = 18792;

interface Fixture {
  readonly http: FakeHttp;
  readonly step: PhaseScope;
  attempt(options?: ConnectAttemptOptions): ConnectAttempt;
}

/** Fake time, a fake relay over HTTP and one step scope; no timer may be left. */
async function withAttempt(
  handler: FakeHttpHandler,
  body: (f: Fixture) => Promise<void>,
): Promise<void> {
  const clock = FakeTimers.install({ now: 1_000, toFake: ["setTimeout", "clearTimeout", "Date"] });
  const step = new PhaseScope(systemClock());
  try {
    const http = new FakeHttp(handler);
    await body({
      http,
      step,
      attempt: (options = {}) =>
        new ConnectAttempt(PORT, {
          ports: {
            clock: { ...systemClock(), random: () => 0 },
            http: http.get,
            runtime: new FakeRuntime(),
          },
          options: { deriveToken: fakeDerive, ...options },
          preflightTimeoutMs: 2_000,
          livenessMs: 15_000,
        }),
    });
    step.release();
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
}

function settings(raw: Record<string, unknown>): Settings {
  return parseSettings({ gatewayToken: TOKEN, relayPort: PORT, ...raw });
}

/** Made outside fake time: WebCrypto resolves outside it. */
const KEY = await mutualAuthKey(TOKEN, PORT);

function mutualOptions(answer: (nonce: string) => Promise<MutualAnswer>): ConnectAttemptOptions {
  return {
    mutualKey: () => Promise.resolve(KEY),
    clientNonce: () => seededNonce(1),
    answerChallenge: (input) => answer(input.challengeNonce),
  };
}

function helloOkOf(wire: object): ConnectReply {
  const decoded = decodeExtensionFrame(JSON.stringify(wire));
  if (!decoded.ok || decoded.frame.kind !== "hello_ok") throw new TypeError("Not a hello-ok");
  return decoded.frame;
}

Deno.test("ConnectAttempt.prepare() asks nothing without a gateway token", async () => {
  await withAttempt(relayHandler(), async ({ http, step, attempt }) => {
    const plan = await attempt().prepare(settings({ gatewayToken: "" }), step, new Set());
    assert.deepEqual(plan, {
      kind: "failed",
      failure: {
        code: "missing_token",
        message: ErrorText.MissingGatewayToken,
        retry: "never",
        close: "already",
      },
    });
    assert.deepEqual(http.requests, []);
  });
});

Deno.test("ConnectAttempt.prepare() opens a tokenless socket with a fresh nonce in scheme mutual-v1", async () => {
  await withAttempt(mutualStatusHandler(), async ({ http, step, attempt }) => {
    const connect = attempt(mutualOptions(() => Promise.reject(new Error("unused"))));
    const plan = await connect.prepare(settings({}), step, new Set());
    assert.deepEqual(plan, {
      kind: "open",
      url: `ws://127.0.0.1:${PORT}/extension?auth=mutual-v1&nonce=${seededNonce(1)}`,
    });
    assert.equal(connect.expectsChallenge, true);
    assert.deepEqual(http.requests, [{
      url: `http://127.0.0.1:${PORT}/extension/status`,
      headers: {},
    }]);
  });
});

Deno.test("ConnectAttempt.prepare() waits for a challenge on a port that sent a late one", async (t) => {
  for (const [seen, expected] of [[false, false], [true, true]] as const) {
    await t.step(`late challenge seen: ${seen}`, async () => {
      await withAttempt(relayHandler({ legacy: true }), async ({ step, attempt }) => {
        const connect = attempt();
        const plan = await connect.prepare(
          settings({ openclawRelayCompat: true }),
          step,
          new Set(seen ? [PORT] : []),
        );
        assert.deepEqual(plan, {
          kind: "open",
          url: `ws://127.0.0.1:${PORT}/extension?token=${
            encodeURIComponent(await fakeDerive(TOKEN, PORT))
          }`,
        });
        assert.equal(connect.expectsChallenge, expected);
      });
    });
  }
});

Deno.test("ConnectAttempt.prepare() reports each refused preflight once, retried only when unreachable", async (t) => {
  const cases: [string, FakeHttpHandler, boolean, string, string][] = [
    ["unreachable", () => connectionRefused(), true, "relay_unreachable", "backoff"],
    ["token refused", relayHandler({ token: "other" }), true, "token_rejected", "never"],
    ["no mutual-v1", mutualStatusHandler(false), false, "incompatible_relay", "never"],
  ];
  for (const [name, handler, compat, code, retry] of cases) {
    await t.step(name, async () => {
      await withAttempt(handler, async ({ step, attempt }) => {
        const plan = await attempt(mutualOptions(() => Promise.reject(new Error("unused"))))
          .prepare(settings(compat ? { openclawRelayCompat: true } : {}), step, new Set());
        assert.equal(plan.kind, "failed");
        if (plan.kind !== "failed") return;
        assert.deepEqual([plan.failure.code, plan.failure.retry, plan.failure.close], [
          code,
          retry,
          "already",
        ]);
      });
    });
  }
});

Deno.test("ConnectAttempt.prepare() stops at its next await once its step is released", async () => {
  await withAttempt(() => "hang", async ({ http, step, attempt }) => {
    const plan = attempt().prepare(settings({ openclawRelayCompat: true }), step, new Set());
    for (let i = 0; i < 20 && http.pending === 0; i++) await Promise.resolve();
    assert.equal(http.pending, 1, "/extension/status is waiting");
    step.release();
    await assert.rejects(plan, ScopeReleasedError);
    assert.equal(http.pending, 0, "the request was aborted");
    assert.equal(http.requests.length, 1, "/json/version was never asked");
  });
});

Deno.test("ConnectAttempt.answer() sends the OpenClaw connect at once with the gateway token", async () => {
  await withAttempt(relayHandler(), async ({ step, attempt }) => {
    const connect = attempt();
    await connect.prepare(settings({ openclawRelayCompat: true }), step, new Set());
    const answer = connect.answer("nonce");
    assert.equal(answer.kind, "send");
    if (answer.kind !== "send") return;
    assert.equal(answer.request.params.auth?.token, TOKEN);
    assert.deepEqual(answer.request.params.caps, []);
    assert.equal(connect.connectId, answer.request.id);
  });
});

Deno.test("ConnectAttempt.answer() checks one mutual-v1 challenge per socket", async (t) => {
  const refused: MutualAnswer = {
    kind: "refused",
    reason: "bad_proof",
    error: new RelayProtocolError("Relay proof is bad", {
      code: "MUTUAL_AUTH_FAILED",
      method: "connect",
    }),
  };
  await t.step("a second challenge while the first is checked is ignored", async () => {
    await withAttempt(mutualStatusHandler(), async ({ step, attempt }) => {
      const connect = attempt(mutualOptions(() => Promise.resolve(refused)));
      await connect.prepare(settings({}), step, new Set());
      const first = connect.answer("first");
      assert.equal(first.kind, "checking");
      assert.deepEqual(connect.answer("second"), { kind: "ignored" });
      if (first.kind !== "checking") return;
      assert.deepEqual(await first.checked, {
        kind: "failed",
        failure: {
          code: "relay_unproven",
          message: "Relay proof is bad",
          retry: "never",
          close: { code: 1008, reason: "relay proof invalid" },
        },
      });
      assert.equal(connect.connectId, undefined);
    });
  });
  await t.step("a check that throws is retried with backoff", async () => {
    await withAttempt(mutualStatusHandler(), async ({ step, attempt }) => {
      const connect = attempt(mutualOptions(() => Promise.reject(new Error("no crypto"))));
      await connect.prepare(settings({}), step, new Set());
      const answer = connect.answer("nonce");
      assert.equal(answer.kind, "checking");
      if (answer.kind !== "checking") return;
      assert.deepEqual(await answer.checked, {
        kind: "failed",
        failure: {
          code: "handshake_rejected",
          message: "Cannot answer the relay's challenge: Error: no crypto",
          retry: "backoff",
          close: { code: 1008, reason: "gateway connect failed" },
        },
      });
    });
  });
});

Deno.test("ConnectAttempt.accept() keeps frame batches only in scheme mutual-v1", async (t) => {
  const policy = { maxPayload: 1_000_000, tickIntervalMs: 5_000, maxBatchFrames: 64 };
  const proven = (): Promise<MutualAnswer> =>
    Promise.resolve({
      kind: "proven",
      request: buildConnectRequest({ token: "proof", version: "0.1.0", now: 1, random: () => 0 }),
    });
  for (const mutual of [true, false]) {
    await t.step(mutual ? "mutual-v1" : "OpenClaw flow", async () => {
      const handler = mutual ? mutualStatusHandler() : relayHandler();
      await withAttempt(handler, async ({ step, attempt }) => {
        const connect = attempt(mutualOptions(proven));
        await connect.prepare(
          settings(mutual ? {} : { openclawRelayCompat: true }),
          step,
          new Set(),
        );
        const answer = connect.answer("nonce");
        const request = answer.kind === "checking" ? await answer.checked : answer;
        assert.equal(request.kind, "send");
        const outcome: ReplyOutcome = connect.accept(
          helloOkOf(helloOk(connect.connectId!, policy)),
        );
        assert.equal(outcome.kind, "ready");
        if (outcome.kind !== "ready") return;
        assert.equal(outcome.policy.maxBatchFrames, mutual ? 64 : undefined);
        assert.equal(outcome.relayVersion, "0.1.0");
      });
    });
  }
});
