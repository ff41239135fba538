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

Deno.test("badgeFor() titles are short: the tab's state, then the connection summary", () => {
  assert.equal(
    badgeFor(READY, "attached").title,
    "Browser Relay: this tab is shared. Connected to the relay on port 18792",
  );
  assert.equal(
    badgeFor(BACKOFF, "attached", 7_100).title,
    "Browser Relay: this tab is shared. No relay is running on port 18792: retrying in 3 s",
  );
  assert.equal(
    badgeFor(STOPPED, "attached").title,
    "Browser Relay: this tab is shared. Not set up yet: the relay's token is missing",
  );
  assert.equal(
    badgeFor(READY, "detached").title,
    "Browser Relay: this tab is not shared. Connected to the relay on port 18792",
  );
  assert.equal(
    badgeFor(IDLE, "detached", undefined, { configured: false }).title,
    "Browser Relay: this tab is not shared. Not set up yet: the relay's token is missing",
  );
  assert.match(
    badgeFor({ ...STOPPED, lastError: { code: "incompatible_relay", message: "m" } }, "attached")
      .title,
    /not a compatible relay/,
  );
  assert.match(badgeFor({ ...READY, legacy: true }, "attached").title, /older relay/);
  for (const status of [READY, CONNECTING, BACKOFF, IDLE, STOPPED]) {
    for (const tab of ["detached", "attaching", "attached", "reattaching"] as const) {
      const { title } = badgeFor(status, tab, 0);
      assert.ok(title.length <= 120, `${status.phase}/${tab}: ${title.length} characters`);
      assert.doesNotMatch(title, /gatewayToken|chrome\.storage/);
    }
  }
});
