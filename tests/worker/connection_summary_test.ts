import assert from "node:assert/strict";
import { summarizeConnection } from "../../worker/connection_summary.ts";
import type { ConnectionStatus } from "../../worker/relay_link.ts";

const URL = "http://127.0.0.1:18792";
const base = { relayUrl: URL, attempt: 0 } as const;
const ctx = { configured: true, sharedCount: 1, now: 1_000 } as const;

Deno.test("summarizeConnection() gives one line and one action per state", () => {
  const table: [
    string,
    ConnectionStatus,
    typeof ctx | { configured: boolean; sharedCount: number },
    string,
    string,
    string,
  ][] = [
    [
      "ready",
      { ...base, phase: "ready" },
      ctx,
      "ok",
      "Connected to the relay on port 18792",
      "none",
    ],
    [
      "legacy",
      { ...base, phase: "ready", legacy: true },
      ctx,
      "ok",
      "Connected to the relay on port 18792 (older relay)",
      "none",
    ],
    [
      "connecting",
      { ...base, phase: "connecting" },
      ctx,
      "busy",
      "Connecting to the relay on port 18792…",
      "none",
    ],
    [
      "reconnecting",
      { ...base, phase: "handshaking", attempt: 2 },
      ctx,
      "busy",
      "Reconnecting to the relay on port 18792…",
      "none",
    ],
    [
      "backoff, relay down",
      {
        ...base,
        phase: "backoff",
        attempt: 1,
        nextRetryAt: 4_000,
        lastError: { code: "relay_unreachable", message: "x" },
      },
      ctx,
      "busy",
      "No relay is running on port 18792: retrying in 3 s",
      "retry",
    ],
    [
      "backoff, dropped",
      {
        ...base,
        phase: "backoff",
        attempt: 1,
        lastError: { code: "connection_closed", message: "x" },
      },
      { configured: true, sharedCount: 1 },
      "busy",
      "Lost the connection to the relay on port 18792: retrying shortly",
      "retry",
    ],
    [
      "missing token",
      {
        ...base,
        phase: "stopped",
        lastError: {
          code: "missing_token",
          message: "Missing gatewayToken in extension settings (chrome.storage.local.gatewayToken)",
        },
      },
      ctx,
      "error",
      "Not set up yet: the relay's token is missing",
      "setup",
    ],
    [
      "never configured",
      { ...base, phase: "idle" },
      { configured: false, sharedCount: 0 },
      "error",
      "Not set up yet: the relay's token is missing",
      "setup",
    ],
    [
      "token rejected",
      {
        ...base,
        phase: "stopped",
        lastError: {
          code: "token_rejected",
          message: "unauthorized: gateway token mismatch: enter the gateway token",
        },
      },
      ctx,
      "error",
      "The relay refused the token: paste the one it printed in the settings",
      "settings",
    ],
    [
      "relay did not prove the token (mutual-v1)",
      { ...base, phase: "stopped", lastError: { code: "relay_unproven", message: "x" } },
      ctx,
      "error",
      "The relay refused the token: paste the one it printed in the settings",
      "settings",
    ],
    [
      "incompatible",
      { ...base, phase: "stopped", lastError: { code: "incompatible_relay", message: "x" } },
      ctx,
      "error",
      "The program on port 18792 is not a compatible relay: update it or change the port",
      "settings",
    ],
    [
      "idle, nothing shared",
      { ...base, phase: "idle" },
      { configured: true, sharedCount: 0 },
      "idle",
      "Ready: share a tab to connect to the relay",
      "none",
    ],
  ];
  for (const [name, status, context, tone, text, action] of table) {
    const summary = summarizeConnection(status, context);
    assert.deepEqual([summary.tone, summary.text, summary.action], [tone, text, action], name);
    assert.doesNotMatch(summary.text, /gatewayToken|chrome\.storage|\.$/, name);
  }
});

Deno.test("summarizeConnection() labels each action's button", () => {
  const label = (status: ConnectionStatus, configured = true) =>
    summarizeConnection(status, { configured, sharedCount: 1 }).actionLabel;
  assert.equal(label({ ...base, phase: "ready" }), "");
  assert.equal(label({ ...base, phase: "backoff" }), "Retry now");
  assert.equal(label({ ...base, phase: "idle" }, false), "Finish setup");
  assert.equal(
    label({ ...base, phase: "stopped", lastError: { code: "token_rejected", message: "" } }),
    "Open settings",
  );
});
