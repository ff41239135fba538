// E2E 8: the handshake against the real relay, and the same flow against a legacy relay.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { rigTest } from "./_harness.ts";

for (const legacy of [false, true]) {
  rigTest(
    `relay() ${
      legacy ? "legacy mode (no challenge)" : "handshake mode"
    }: attach, connect, evaluate`,
    async (rig) => {
      const url = `${rig.pages.a}/?title=${legacy ? "Legacy" : "Handshake"}`;
      const { sessionId } = await rig.attachNewTab(url);
      const status = await rig.status() as unknown as { connection: { legacy?: boolean } };
      assert.equal(status.connection.legacy === true, legacy);
      const browser = await chromium.connectOverCDP(
        `${rig.relay.url}/?token=${rig.relay.relayToken}`,
      );
      try {
        const page = browser.contexts().flatMap((c) => c.pages()).find((p) => p.url() === url);
        assert.ok(page);
        assert.equal(await page.evaluate(() => document.title), legacy ? "Legacy" : "Handshake");
      } finally {
        await browser.close();
      }
      assert.match(sessionId, /^cb-tab-\d+$/);
    },
    { legacy },
  );
}
