import assert from "node:assert/strict";
import { badgeFor, type TabBadgeState } from "../../worker/badge.ts";
import type { ConnectionStatus } from "../../worker/relay_link.ts";

const URL = "http://127.0.0.1:18792";
const READY: ConnectionStatus = { phase: "ready", relayUrl: URL, attempt: 0 };
const CONNECTING: ConnectionStatus = { phase: "connecting", relayUrl: URL, attempt: 0 };
const BACKOFF: ConnectionStatus = {
  phase: "backoff",
  relayUrl: URL,
  attempt: 3,
  nextRetryAt: 10_000,
  lastError: { code: "relay_unreachable", message: `Relay server not reachable at ${URL} (x)` },
};
const IDLE: ConnectionStatus = { phase: "idle", relayUrl: URL, attempt: 0 };
const STOPPED: ConnectionStatus = {
  phase: "stopped",
  relayUrl: URL,
  attempt: 0,
  lastError: {
    code: "missing_token",
    message: "Missing gatewayToken in extension settings (chrome.storage.local.gatewayToken)",
  },
};

Deno.test("badgeFor() maps status and tab state to the §10 badge table", () => {
  const table: [ConnectionStatus, TabBadgeState, string, string, string][] = [
    [READY, "attached", "on", "ON", "#FF5A36"],
    [READY, "reattaching", "connecting", "\u2026", "#F59E0B"],
    [READY, "attaching", "connecting", "\u2026", "#F59E0B"],
    [READY, "detached", "off", "", "#000000"],
    [CONNECTING, "attached", "connecting", "\u2026", "#F59E0B"],
    [BACKOFF, "attached", "connecting", "\u2026", "#F59E0B"],
    [IDLE, "attached", "connecting", "\u2026", "#F59E0B"],
    [BACKOFF, "detached", "off", "", "#000000"],
    [STOPPED, "attached", "error", "!", "#B91C1C"],
    [STOPPED, "attaching", "error", "!", "#B91C1C"],
    [STOPPED, "reattaching", "error", "!", "#B91C1C"],
    [STOPPED, "detached", "off", "", "#000000"],
  ];
  for (const [status, tab, kind, text, color] of table) {
    const badge = badgeFor(status, tab);
    assert.deepEqual(
      [badge.kind, badge.text, badge.color],
      [kind, text, color],
      `${status.phase}/${tab}`,
    );
    assert.ok(badge.title.startsWith("Browser Relay: "));
  }
});

Deno.test("badgeFor() titles explain the state and what a click does", () => {
  assert.equal(
    badgeFor(READY, "attached").title,
    `Browser Relay: attached and connected to the relay at ${URL}. Click to detach this tab.`,
  );
  assert.equal(
    badgeFor(BACKOFF, "attached", 7_100).title,
    `Browser Relay: relay at ${URL} is not connected; retrying in 3 s. Last error: Relay server not reachable at ${URL} (x). Click to detach this tab.`,
  );
  assert.equal(
    badgeFor(STOPPED, "attached").title,
    "Browser Relay: Missing gatewayToken in extension settings (chrome.storage.local.gatewayToken). Fix the relay port or gateway token in the extension options; the extension retries as soon as they change. Click to retry, or detach this tab.",
  );
  assert.equal(
    badgeFor(READY, "detached").title,
    "Browser Relay: not attached. Click to attach this tab to the relay.",
  );
  assert.match(
    badgeFor({ ...STOPPED, lastError: { code: "incompatible_relay", message: "m" } }, "attached")
      .title,
    /Update the relay/,
  );
  assert.match(badgeFor({ ...READY, legacy: true }, "attached").title, /legacy relay/);
});
