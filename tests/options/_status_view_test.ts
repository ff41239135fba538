import assert from "node:assert/strict";
import { statusView } from "../../options/_status_view.ts";

const RELAY = "http://127.0.0.1:18792";

Deno.test("statusView() shows a ready connection with its tabs", () => {
  const view = statusView({
    connection: { phase: "ready", relayUrl: RELAY, attempt: 0, relayVersion: "0.1.0" },
    tabs: [
      {
        tabId: 7,
        sessionId: "cb-tab-1",
        title: "Example",
        url: "https://example.com/",
        state: "on",
      },
      { tabId: "bad" },
    ],
  }, 0);
  assert.deepEqual(view, {
    tone: "ok",
    label: "Connected",
    detail: "Connected to the relay (version 0.1.0); the handshake succeeded.",
    relayUrl: RELAY,
    tabs: [
      {
        tabId: 7,
        sessionId: "cb-tab-1",
        title: "Example",
        url: "https://example.com/",
        state: "on",
      },
    ],
  });
});

Deno.test("statusView() labels each phase", async (t) => {
  const label = (connection: Record<string, unknown>, now = 0) => {
    const view = statusView({
      connection: { relayUrl: RELAY, attempt: 1, ...connection },
      tabs: [],
    }, now);
    return [view.tone, view.label, view.detail];
  };
  await t.step("legacy mode", () => {
    assert.deepEqual(label({ phase: "ready", legacy: true }), [
      "ok",
      "Connected",
      "Connected to the relay in legacy mode, without a handshake.",
    ]);
  });
  await t.step("connecting and handshaking", () => {
    assert.deepEqual(label({ phase: "connecting" }), ["busy", "Connecting…", ""]);
    assert.deepEqual(label({ phase: "handshaking" }), ["busy", "Handshaking…", ""]);
  });
  await t.step("backoff counts down in whole seconds, rounded up", () => {
    const lastError = { code: "unreachable", message: "Relay server not reachable at " + RELAY };
    assert.deepEqual(label({ phase: "backoff", nextRetryAt: 5_000, lastError }, 1_200), [
      "busy",
      "Reconnecting in 4 s",
      "Relay server not reachable at " + RELAY,
    ]);
    assert.deepEqual(
      label({ phase: "backoff", nextRetryAt: 5_000, lastError }, 9_000)[1],
      "Reconnecting in 0 s",
    );
    assert.deepEqual(label({ phase: "backoff" })[1], "Reconnecting…");
  });
  await t.step("stopped shows the reason", () => {
    assert.deepEqual(
      label({ phase: "stopped", lastError: { code: "token_rejected", message: "Token rejected" } }),
      [
        "error",
        "Error",
        "Token rejected",
      ],
    );
  });
  await t.step("idle without tabs says how to attach one", () => {
    assert.deepEqual(label({ phase: "idle" }), [
      "idle",
      "Idle",
      "Not connected: the extension connects when a tab is attached.",
    ]);
  });
});

Deno.test("statusView() reports a missing or malformed status", () => {
  const expected = {
    tone: "error",
    label: "No status",
    detail: "The extension's service worker did not report its status. Reload the extension.",
    relayUrl: "",
    tabs: [],
  };
  assert.deepEqual(statusView(undefined, 0), expected);
  assert.deepEqual(statusView({ connection: { phase: "flying" } }, 0), expected);
});

Deno.test("statusView() shows the worker's summary as the detail, in the person's words", () => {
  const view = statusView({
    connection: {
      phase: "stopped",
      relayUrl: "http://127.0.0.1:18792",
      attempt: 0,
      lastError: {
        code: "missing_token",
        message: "Missing gatewayToken in extension settings (chrome.storage.local.gatewayToken)",
      },
    },
    summary: {
      tone: "error",
      text: "Not set up yet: the relay's token is missing",
      action: "setup",
      actionLabel: "Finish setup",
    },
    tabs: [],
  }, 0);
  assert.deepEqual([view.tone, view.label, view.detail], [
    "error",
    "Not set up",
    "Not set up yet: the relay's token is missing",
  ]);
});
