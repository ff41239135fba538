// Service workers side by side: stock Playwright sees a shared page's service worker through
// the relay as it does on Chromium's own endpoint (issue 13).
import assert from "node:assert/strict";
import { type BrowserContext, chromium, type Worker } from "playwright-core";
import puppeteer from "puppeteer-core";
import { waitUntil } from "../../harness/rig.ts";
import { MODES, sideBySideTest, within } from "./_side_by_side.ts";

interface WorkerOutcome {
  readonly evaluated: number;
  readonly listed: boolean;
  readonly lateEvaluated: number;
  readonly lateListed: boolean;
}

function waitForWorker(context: BrowserContext, mode: string): Promise<Worker> {
  const match = (w: Worker) => w.url().endsWith(`/sw.js?mode=${mode}`);
  const known = context.serviceWorkers().find(match);
  if (known !== undefined) return Promise.resolve(known);
  return context.waitForEvent("serviceworker", { predicate: match, timeout: 15_000 });
}

sideBySideTest(
  "relay() shows a shared page's service workers to Playwright as direct CDP does, and hides unshared origins",
  async (s, t) => {
    const { rig } = s;
    const outcomes = new Map<string, WorkerOutcome>();
    for (const mode of MODES) {
      // The relay serves a WebSocket URL once a tab is shared: share first, as a person would.
      const url = `${rig.pages.a}/sw?mode=${mode}&title=SW-${mode}`;
      const { tabId } = await s.open(mode, url);
      const browser = await chromium.connectOverCDP(s.playwright(mode));
      try {
        const context = browser.contexts()[0];
        assert.ok(context, `${mode}: no default context`);
        const page = await waitUntil(
          `${mode}: the page`,
          () => context.pages().find((p) => p.url() === url),
        );
        await page.evaluate(() =>
          (globalThis as unknown as { registered: Promise<string> }).registered
        );
        await t.step(`${mode}: a worker registered by the page is seen and evaluates`, async () => {
          const worker = await within(15_000, `${mode} worker`, waitForWorker(context, mode));
          const evaluated = await worker.evaluate(() =>
            (globalThis as unknown as { marker: number }).marker
          );
          // A worker started after the client connected arrives as an event.
          const late = `${mode}-late`;
          const lateEvent = waitForWorker(context, late);
          await page.evaluate(
            (m) =>
              (globalThis as unknown as { registerWorker(m: string): Promise<string> })
                .registerWorker(m),
            late,
          );
          const lateWorker = await within(15_000, `${late} worker`, lateEvent);
          outcomes.set(mode, {
            evaluated,
            listed: context.serviceWorkers().includes(worker),
            lateEvaluated: await lateWorker.evaluate(() => 6 * 7),
            lateListed: context.serviceWorkers().includes(lateWorker),
          });
        });
        if (mode !== "relay") continue;
        await t.step(
          "relay: a second client (Puppeteer) evaluates in the same worker",
          async () => {
            // Puppeteer's disconnect() leaves every page alone; the first client keeps its worker.
            const second = await puppeteer.connect(s.puppeteer(mode));
            try {
              const target = await second.waitForTarget(
                (t) => t.type() === "service_worker" && t.url().endsWith(`/sw.js?mode=${mode}`),
                { timeout: 15_000 },
              );
              const worker = await target.worker();
              assert.ok(worker, "no worker handle");
              assert.equal(
                await within(15_000, "second evaluate", worker.evaluate(() => 6 * 7)),
                42,
              );
            } finally {
              await second.disconnect();
            }
          },
        );
        await t.step(
          "relay: a worker of an origin no shared tab shows is never exposed",
          async () => {
            // Origin B in a tab that is not shared registers a worker; a worker of origin A
            // registered afterwards proves the relay looked at the targets since.
            const unshared = await rig.browser.context.newPage();
            await unshared.goto(`${rig.pages.b}/sw?mode=unshared`);
            await unshared.evaluate(() =>
              (globalThis as unknown as { registered: Promise<string> }).registered
            );
            const after = waitForWorker(context, "relay-after");
            await page.evaluate(() =>
              (globalThis as unknown as { registerWorker(m: string): Promise<string> })
                .registerWorker("relay-after")
            );
            await within(15_000, "relay-after worker", after);
            assert.deepEqual(
              context.serviceWorkers().filter((w) => w.url().startsWith(rig.pages.b)).map((w) =>
                w.url()
              ),
              [],
            );
            await unshared.close();
          },
        );
        await t.step(
          "relay: stopping sharing the last tab of the origin closes its workers",
          async () => {
            const workers = context.serviceWorkers().filter((w) => w.url().startsWith(rig.pages.a));
            assert.ok(workers.length >= 3, `expected 3 workers of origin A, got ${workers.length}`);
            const closed = workers.map((w) =>
              new Promise<void>((done) => w.once("close", () => done()))
            );
            await rig.toggle(tabId);
            await within(15_000, "workers closed", Promise.all(closed));
            assert.deepEqual(
              context.serviceWorkers().filter((w) => w.url().startsWith(rig.pages.a)).length,
              0,
            );
          },
        );
      } finally {
        await browser.close().catch(() => {});
      }
    }
    assert.deepEqual(outcomes.get("relay"), outcomes.get("direct"));
    assert.deepEqual(outcomes.get("direct"), {
      evaluated: 42,
      listed: true,
      lateEvaluated: 42,
      lateListed: true,
    });
  },
);
