// Popups side by side: each case runs against Chromium's own CDP endpoint and through the
// relay in the same run, and both must show the same outcome.
import assert from "node:assert/strict";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import puppeteer, { type Target } from "puppeteer-core";
import { RawCdp, waitUntil } from "../../harness/rig.ts";
import { type Mode, MODES, sideBySideTest, within } from "./_side_by_side.ts";

type Kind = "window.open" | "target=_blank" | "noopener" | "cross-site";

/** Every kind, in the order they run. `cross-site` is `window.open` to another site (OAuth). */
const KINDS: readonly Kind[] = ["window.open", "target=_blank", "noopener", "cross-site"];

interface PopupOutcome {
  readonly title: string;
  readonly url: string;
  readonly contextPageEvent: boolean;
  readonly openerIsPage: boolean;
  readonly evaluated: number;
}

async function openPopup(page: Page, kind: Kind, url: string): Promise<void> {
  if (kind === "window.open" || kind === "cross-site") {
    await page.evaluate((u) => void globalThis.open(u), url);
    return;
  }
  await page.evaluate(([u, k]) => {
    const link = document.createElement("a");
    link.href = u;
    link.target = "_blank";
    if (k === "noopener") link.rel = "noopener";
    link.id = "popup-link";
    link.textContent = k;
    document.body.replaceChildren(link);
  }, [url, kind] as const);
  await page.click("#popup-link");
}

async function popupOutcome(
  context: BrowserContext,
  page: Page,
  kind: Kind,
  url: string,
): Promise<PopupOutcome> {
  const popupEvent = page.waitForEvent("popup", { timeout: 15_000 });
  const pageEvent = context.waitForEvent("page", { timeout: 15_000 });
  await openPopup(page, kind, url);
  const popup = await popupEvent;
  const fromContext = await pageEvent;
  await popup.waitForLoadState();
  const outcome = {
    title: await popup.title(),
    url: popup.url(),
    contextPageEvent: fromContext === popup,
    openerIsPage: (await popup.opener()) === page,
    evaluated: await popup.evaluate(() => 6 * 7),
  };
  await popup.close();
  return outcome;
}

sideBySideTest(
  "relay() shows Playwright popups from window.open, target=_blank, noopener and another site as direct CDP does",
  async (s, t) => {
    const { rig } = s;
    const outcomes = new Map<string, PopupOutcome>();
    for (const mode of MODES) {
      const openerUrl = `${rig.pages.a}/?title=Opener-${mode}`;
      await s.open(mode, openerUrl);
      const browser = await chromium.connectOverCDP(s.playwright(mode));
      try {
        const context = browser.contexts()[0];
        const page = context?.pages().find((p) => p.url() === openerUrl);
        assert.ok(context && page, `${mode}: opener page not found`);
        for (const kind of KINDS) {
          await t.step(`${mode}: ${kind} fires popup and the context's page event`, async () => {
            const title = `${kind}-${mode}`;
            const origin = kind === "cross-site" ? rig.pages.b : rig.pages.a;
            const url = `${origin}/?title=${encodeURIComponent(title)}`;
            const outcome = await popupOutcome(context, page, kind, url);
            assert.equal(outcome.title, title);
            assert.equal(outcome.url, url);
            assert.equal(outcome.contextPageEvent, true);
            assert.equal(outcome.evaluated, 42);
            outcomes.set(`${mode} ${kind}`, outcome);
          });
        }
      } finally {
        await browser.close();
      }
    }
    await t.step("the relay shows the same outcome as direct CDP", () => {
      for (const kind of KINDS) {
        const direct = outcomes.get(`direct ${kind}`);
        const relay = outcomes.get(`relay ${kind}`);
        assert.ok(direct && relay, `${kind}: both modes ran`);
        assert.deepEqual(
          { ...relay, title: "", url: "" },
          { ...direct, title: "", url: "" },
          kind,
        );
      }
    });
    await t.step("closed popups leave nothing in the worker or relay tables", async () => {
      await waitUntil("only the opener shared", async () => {
        const status = await rig.status();
        return status.tabs.length === 1 && rig.relay.stats().targets === 1;
      });
    });
  },
);

sideBySideTest(
  "relay() fires Puppeteer targetcreated for a popup as direct CDP does",
  async (s, t) => {
    const { rig } = s;
    const seen = new Map<Mode, { type: string; openerUrl: string | undefined; title: string }>();
    for (const mode of MODES) {
      await t.step(`${mode}: targetcreated with the opener`, async () => {
        const openerUrl = `${rig.pages.a}/?title=PptrOpener-${mode}`;
        await s.open(mode, openerUrl);
        const browser = await puppeteer.connect({ ...s.puppeteer(mode), defaultViewport: null });
        try {
          const page = (await browser.pages()).find((p) => p.url() === openerUrl);
          assert.ok(page, `${mode}: opener page not found`);
          const url = `${rig.pages.a}/?title=PptrPopup`;
          const created = new Promise<Target>((resolve) => {
            const listener = (target: Target) => {
              if (target.type() !== "page") return;
              browser.off("targetcreated", listener);
              resolve(target);
            };
            browser.on("targetcreated", listener);
          });
          await page.evaluate((u) => void globalThis.open(u), url);
          const target = await within(15_000, `${mode}: targetcreated`, created);
          const popup = await target.page();
          assert.ok(popup, `${mode}: popup page`);
          await waitUntil(
            `${mode}: popup loaded`,
            async () => (await popup.title()) === "PptrPopup" || undefined,
          );
          seen.set(mode, {
            type: target.type(),
            openerUrl: target.opener()?.url(),
            title: await popup.title(),
          });
          await popup.close();
        } finally {
          await browser.disconnect();
        }
      });
    }
    await t.step("same target type, opener and page as direct CDP", () => {
      const direct = seen.get("direct");
      const relay = seen.get("relay");
      assert.ok(direct && relay);
      assert.equal(direct.openerUrl, `${rig.pages.a}/?title=PptrOpener-direct`);
      assert.deepEqual(relay, { ...direct, openerUrl: `${rig.pages.a}/?title=PptrOpener-relay` });
    });
  },
);

sideBySideTest(
  "relay() hangs nothing and keeps nothing for a popup closed at once",
  async (s, t) => {
    const { rig } = s;
    for (const mode of MODES) {
      await t.step(`${mode}: opener stays usable, the popup is gone everywhere`, async () => {
        const openerUrl = `${rig.pages.a}/?title=Closer-${mode}`;
        await s.open(mode, openerUrl);
        const raw = mode === "relay" ? await RawCdp.connect(rig.relay) : undefined;
        await raw?.call("Target.setDiscoverTargets", { discover: true });
        await raw?.call("Target.setAutoAttach", { autoAttach: true, flatten: true });
        const browser = await chromium.connectOverCDP(s.playwright(mode));
        try {
          const context = browser.contexts()[0];
          const page = context?.pages().find((p) => p.url() === openerUrl);
          assert.ok(context && page, `${mode}: opener page not found`);
          const url = `${rig.pages.a}/?title=Gone-${mode}`;
          await page.evaluate((u) => globalThis.open(u)?.close(), url);
          assert.equal(await within(10_000, "opener evaluate", page.evaluate(() => 1 + 1)), 2);
          await waitUntil("the popup's tab closed", async () => {
            const urls = await rig.browser.worker.evaluate(async () =>
              (await chrome.tabs.query({})).map((tab) => tab.pendingUrl ?? tab.url ?? "")
            );
            return !urls.includes(url);
          });
          await waitUntil(
            "no page for the popup",
            () => context.pages().every((p) => p.url() !== url),
          );
          assert.equal(
            await within(
              10_000,
              "opener evaluate",
              page.evaluate(() => 3),
            ),
            3,
          );
        } finally {
          await browser.close();
        }
        if (raw === undefined) return;
        try {
          await waitUntil("only the opener shared", async () => {
            const status = await rig.status();
            return status.tabs.length === 1 && rig.relay.stats().targets === 1;
          });
          // Whatever was announced for the popup was also taken back.
          const created = raw.events.filter((e) => e.method === "Target.targetCreated").length;
          const destroyed = raw.events.filter((e) => e.method === "Target.targetDestroyed").length;
          assert.equal(created - destroyed, 1, "only the opener is left");
          const held = [...raw.attachCounts().values()].filter((count) => count > 0);
          assert.deepEqual(held, [1], "only the opener is still attached");
        } finally {
          await raw.close();
        }
      });
    }
  },
);

sideBySideTest("relay() leaves a popup unshared while sharePopups is off", async (s) => {
  const { rig } = s;
  const openerUrl = `${rig.pages.a}/?title=NoShare`;
  await s.open("relay", openerUrl);
  await rig.browser.worker.evaluate(() => chrome.storage.local.set({ sharePopups: false }));
  const browser = await chromium.connectOverCDP(s.playwright("relay"));
  try {
    const page = browser.contexts()[0]?.pages().find((p) => p.url() === openerUrl);
    assert.ok(page, "opener page not found");
    const url = `${rig.pages.a}/?title=Unshared`;
    await page.evaluate((u) => void globalThis.open(u), url);
    const tabId = await rig.tabIdOf(url);
    // No event marks "decided not to share": give the worker time it would need to attach.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const status = await rig.status();
    assert.deepEqual(status.tabs.map((tab) => tab.url), [openerUrl]);
    assert.equal(status.tabs.some((tab) => tab.tabId === tabId), false);
    assert.equal(rig.relay.stats().targets, 1);
  } finally {
    await browser.close();
  }
});
