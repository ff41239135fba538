// E2E: permissions (issue 13) with stock Playwright, through the relay and against Chromium's
// own endpoint in the same run: grantPermissions + setGeolocation, notifications,
// clearPermissions, Chrome's error texts, and grants that end with their client.
import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { Rig, waitUntil } from "../../harness/rig.ts";
import { E2E } from "./_harness.ts";

const WHERE = { latitude: 59.95, longitude: 30.31667 };

async function devToolsPort(userDataDir: string): Promise<number> {
  return await waitUntil("DevToolsActivePort", async () => {
    const text = await Deno.readTextFile(`${userDataDir}/DevToolsActivePort`);
    const port = Number(text.split("\n")[0]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  });
}

function findPage(browser: Browser, url: string): Page {
  const page = browser.contexts().flatMap((c) => c.pages()).find((p) => p.url() === url);
  assert.ok(page, `page ${url} not found`);
  return page;
}

/** What the page sees: the Permissions API's geolocation state and `Notification.permission`. */
function states(page: Page): Promise<{ geolocation: string; notifications: string }> {
  return page.evaluate(async () => ({
    geolocation: (await navigator.permissions.query({ name: "geolocation" })).state,
    notifications: Notification.permission,
  }));
}

/** `getCurrentPosition` in the page: the coordinates, or the error code. */
function position(
  page: Page,
): Promise<{ latitude: number; longitude: number } | { error: number }> {
  return page.evaluate(() =>
    new Promise((resolve) => {
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude }),
        (e) => resolve({ error: e.code }),
        { timeout: 5_000 },
      );
    })
  );
}

/** The extension's location setting for `url`, as the worker reads it. */
function locationSetting(rig: Rig, url: string): Promise<string> {
  return rig.browser.worker.evaluate(
    async (u) => (await chrome.contentSettings.location.get({ primaryUrl: u })).setting,
    url,
  );
}

/** Sends one raw `Browser.*` command on a browser session; resolves with its error text. */
async function browserError(
  browser: Browser,
  method: "Browser.grantPermissions" | "Browser.setPermission",
  params: Record<string, unknown>,
): Promise<string> {
  const session = await browser.newBrowserCDPSession();
  try {
    // Bad params on purpose: the typed protocol would not accept them.
    await session.send(method, params as never);
    return "no error";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await session.detach();
  }
}

Deno.test({
  name: "permissions() behave the same through the relay as on Chromium's own endpoint",
  ...E2E,
  async fn(t) {
    const rig = await Rig.start({}, { args: ["--remote-debugging-port=0"] });
    try {
      const origin = rig.pages.a;
      const pageUrl = `${origin}/?title=Permissions`;
      const direct = `http://127.0.0.1:${await devToolsPort(rig.browser.userDataDir)}`;
      const relayUrl = `${rig.relay.url}/?token=${rig.relay.relayToken}`;
      await rig.attachNewTab(pageUrl);
      const initial = { geolocation: "prompt", notifications: "default" };
      const seen: Record<string, unknown[]> = { relay: [], direct: [] };

      // The relay runs first: a direct client's grants are Chrome's own overrides, which the
      // relay never sees, so they must not be in force while the relay's cases run.
      for (const [name, endpoint] of [["relay", relayUrl], ["direct", direct]] as const) {
        await t.step(`${name}: grantPermissions(geolocation) + setGeolocation`, async () => {
          const browser = await chromium.connectOverCDP(endpoint);
          try {
            const context = browser.contexts()[0];
            assert.ok(context);
            const page = findPage(browser, pageUrl);
            assert.deepEqual(await states(page), initial);
            await context.grantPermissions(["geolocation"], { origin });
            await context.setGeolocation(WHERE);
            const where = await position(page);
            assert.deepEqual(where, WHERE);
            // Chrome grants the listed permissions and denies the others for that origin.
            const afterGeolocation = await states(page);
            assert.deepEqual(afterGeolocation, { geolocation: "granted", notifications: "denied" });
            await context.grantPermissions(["notifications"], { origin });
            const afterNotifications = await states(page);
            assert.deepEqual(afterNotifications, {
              geolocation: "granted",
              notifications: "granted",
            });
            await context.clearPermissions();
            const afterClear = await states(page);
            assert.deepEqual(afterClear, initial);
            seen[name]?.push(where, afterGeolocation, afterNotifications, afterClear);
          } finally {
            await browser.close();
          }
        });

        await t.step(`${name}: bad input gets Chrome's error text`, async () => {
          const browser = await chromium.connectOverCDP(endpoint);
          try {
            const errors = [
              await browserError(browser, "Browser.grantPermissions", { permissions: ["bogus"] }),
              await browserError(browser, "Browser.grantPermissions", {
                permissions: ["geolocation"],
                origin: "not a url",
              }),
              await browserError(browser, "Browser.setPermission", {
                permission: { name: "geolocation" },
                setting: "maybe",
              }),
            ];
            assert.deepEqual(errors, [
              "cdpSession.send: Protocol error (Browser.grantPermissions): Unknown permission type: bogus",
              "cdpSession.send: Protocol error (Browser.grantPermissions): Permission can't be granted to opaque origins.",
              "cdpSession.send: Protocol error (Browser.setPermission): Unknown permission setting: maybe",
            ]);
          } finally {
            await browser.close();
          }
        });

        if (name !== "relay") continue;

        await t.step("relay: a client that disconnects takes its grants with it", async () => {
          const browser = await chromium.connectOverCDP(endpoint);
          const context = browser.contexts()[0];
          assert.ok(context);
          await context.grantPermissions(["geolocation"], { origin });
          assert.equal(await locationSetting(rig, pageUrl), "allow");
          await browser.close();
          await waitUntil(
            "the location grant cleared",
            async () => await locationSetting(rig, pageUrl) === "ask" ? true : undefined,
          );
          // A fresh client sees the page as before any grant.
          const again = await chromium.connectOverCDP(endpoint);
          try {
            assert.deepEqual(await states(findPage(again, pageUrl)), initial);
          } finally {
            await again.close();
          }
        });

        await t.step("relay: only origins of shared tabs may be changed", async () => {
          const browser = await chromium.connectOverCDP(endpoint);
          try {
            const context = browser.contexts()[0];
            assert.ok(context);
            await assert.rejects(
              context.grantPermissions(["geolocation"], { origin: rig.pages.b }),
              (error: Error) => {
                assert.match(
                  error.message,
                  new RegExp(
                    `Cannot grant permissions as "origin" is not the origin of a shared tab: current value is "${rig.pages.b}"`,
                  ),
                );
                return true;
              },
            );
            assert.equal(await locationSetting(rig, `${rig.pages.b}/`), "ask");
          } finally {
            await browser.close();
          }
        });
      }
      assert.deepEqual(seen.relay, seen.direct);
    } finally {
      await rig.close();
    }
  },
});
