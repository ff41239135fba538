// The user-facing error states in a real Chromium: a wrong token stops reconnecting and shows "!"
// with a title that says what to do; fixing the token in settings reconnects at once.
import assert from "node:assert/strict";
import { rigTest } from "./_harness.ts";
import { TOKEN, waitUntil } from "../../harness/rig.ts";

for (const compat of [false, true]) {
  rigTest(
    `worker() wrong or missing token: badge !, no retries, fixed by a settings change${
      compat ? " (OpenClaw relay compatibility)" : ""
    }`,
    async (rig) => {
      if (compat) {
        await rig.browser.worker.evaluate(() =>
          chrome.storage.local.set({ openclawRelayCompat: true })
        );
      }
      const { tabId, sessionId } = await rig.attachNewTab(`${rig.pages.a}/?title=Settings`);
      const lines: string[] = [];
      const relayLog = (line: string) => lines.push(line);
      await rig.restartRelay({ log: relayLog });
      await waitUntil("extension back", () => rig.relay.stats().extensionConnected);

      // A wrong token: in the OpenClaw flow the preflight's authenticated request gets 401; in
      // scheme mutual-v1 the relay's proof does not verify and the extension sends nothing. Either
      // way the worker stops.
      await rig.browser.worker.evaluate(
        (token) => chrome.storage.local.set({ gatewayToken: token }),
        "wrong-token",
      );
      const stopped = await waitUntil("connection stopped", async () => {
        const status = await rig.status() as unknown as {
          connection: { phase: string; lastError?: { code: string; message: string } };
        };
        return status.connection.phase === "stopped" ? status.connection : undefined;
      });
      assert.ok(stopped.lastError, "a stopped connection explains why");
      assert.match(stopped.lastError.message, /token/i);
      await waitUntil("badge !", async () => (await rig.badge(tabId)) === "!");
      const title = await rig.browser.worker.evaluate(
        (id) => chrome.action.getTitle({ tabId: id }),
        tabId,
      );
      assert.match(title, /token/i);
      assert.match(title, /options|settings/i);
      assert.equal(rig.relay.stats().extensionConnected, false);
      // The tab stays attached: only the relay side is stopped.
      assert.equal((await rig.status()).tabs.find((t) => t.tabId === tabId)?.sessionId, sessionId);

      // Not retried: the keepalive and the backoff stay quiet while the token is wrong. Watching for
      // absence needs a window: 3 s spans three of the fast retries (0.75–1 s) a retry loop would make.
      const rejected = () =>
        compat
          ? lines.filter((l) => l.startsWith("Rejected request") && l.endsWith(": 401"))
          : lines.filter((l) => l.startsWith("Rejected extension socket (mutual-v1)"));
      // The relay sees the refused socket end once its close handshake completes.
      await waitUntil("the relay to see the rejected attempt", () => rejected().length >= 1, 5_000);
      const attemptsBefore = rejected().length;
      assert.ok(attemptsBefore >= 1, `the preflight's 401 was seen: ${JSON.stringify(lines)}`);
      await rig.browser.worker.evaluate(() => new Promise((resolve) => setTimeout(resolve, 3_000)));
      const attemptsAfter = rejected().length;
      assert.equal(attemptsAfter, attemptsBefore, "no new rejected attempts after the stop");
      assert.equal((await rig.status()).connection.phase, "stopped");

      // Fixing the token reconnects at once, with the same session id.
      await rig.browser.worker.evaluate(
        (token) => chrome.storage.local.set({ gatewayToken: token }),
        TOKEN,
      );
      await rig.waitAttached(tabId, 5_000);
      await waitUntil("badge ON", async () => (await rig.badge(tabId)) === "ON");
      assert.equal((await rig.status()).tabs.find((t) => t.tabId === tabId)?.sessionId, sessionId);
      // The token never reached the relay's log.
      assert.ok(lines.every((l) => !l.includes(TOKEN) && !l.includes("wrong-token")));

      // A missing token: no network I/O at all, badge "!" with the fix in the title.
      const requestsBefore = lines.length;
      await rig.browser.worker.evaluate(() => chrome.storage.local.set({ gatewayToken: "   " }));
      const missing = await waitUntil("connection stopped for a missing token", async () => {
        const status = await rig.status() as unknown as {
          connection: { phase: string; lastError?: { message: string } };
        };
        return status.connection.phase === "stopped" ? status.connection : undefined;
      });
      assert.match(missing.lastError?.message ?? "", /gatewayToken|token/);
      await waitUntil("badge ! for a missing token", async () => (await rig.badge(tabId)) === "!");
      assert.equal(
        lines.slice(requestsBefore).filter((l) => l.startsWith("Rejected")).length,
        0,
        "a missing token makes no request",
      );
    },
  );
}
