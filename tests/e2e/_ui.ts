/**
 * Helpers for the e2e tests of the extension's pages: opening the popup as a page, reading the
 * worker's tab groups, and running axe-core in the page.
 *
 * @module
 */

import type { Page } from "playwright-core";
import { type Rig, root, waitUntil } from "../../harness/rig.ts";

/** A tab group as `chrome.tabGroups` reports it. */
export interface GroupInfo {
  readonly id: number;
  readonly windowId: number;
  readonly title: string;
  readonly color: string;
  readonly tabIds: readonly number[];
}

/** Opens `popup.html` as a page acting on `tabId`. */
export async function openPopup(rig: Rig, tabId: number): Promise<Page> {
  const page = await rig.browser.context.newPage();
  await page.setViewportSize({ width: 360, height: 600 });
  await page.goto(`chrome-extension://${rig.browser.extensionId}/popup.html?tabId=${tabId}`);
  await page.locator("#status-text").filter({ hasNotText: "Loading…" }).waitFor();
  return page;
}

/** Every tab group in the browser with its tabs, through the worker. */
export function groups(rig: Rig): Promise<GroupInfo[]> {
  return rig.browser.worker.evaluate(async () => {
    const all = await chrome.tabGroups.query({});
    return await Promise.all(all.map(async (g) => ({
      id: g.id,
      windowId: g.windowId,
      title: g.title ?? "",
      color: g.color,
      tabIds: (await chrome.tabs.query({ groupId: g.id })).flatMap((t) =>
        t.id === undefined ? [] : [t.id]
      ),
    })));
  });
}

/** Our groups ("Browser Relay", orange). */
export async function relayGroups(rig: Rig): Promise<GroupInfo[]> {
  return (await groups(rig)).filter((g) => g.title === "Browser Relay" && g.color === "orange");
}

/** The page URLs the relay lists on `/json/list`. */
export async function listedUrls(rig: Rig): Promise<string[]> {
  const response = await fetch(`${rig.relay.url}/json/list?token=${rig.relay.relayToken}`);
  const body = await response.json() as { url: string }[];
  return body.map((t) => t.url);
}

/** Waits until the worker reports exactly `tabIds` as shared (in any order). */
export async function waitShared(rig: Rig, tabIds: readonly number[]): Promise<void> {
  const want = [...tabIds].sort((a, b) => a - b).join(",");
  await waitUntil(`shared tabs to be [${want}]`, async () => {
    const status = await rig.status();
    return status.tabs.map((t) => t.tabId).sort((a, b) => a - b).join(",") === want;
  });
}

/** A violation as axe-core reports it (the fields the tests print). */
export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly string[] }[];
}

/** Runs axe-core (npm:axe-core, pinned) in the page; returns serious and critical violations. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const source = await Deno.readTextFile(`${root}node_modules/axe-core/axe.min.js`);
  // A colour-scheme switch starts CSS transitions; judge the settled colours.
  await page.evaluate(() => {
    for (const animation of document.getAnimations()) animation.finish();
  });
  // Evaluated through CDP, so the extension page's CSP does not block it.
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as {
      axe: { run(context: Document): Promise<{ violations: AxeViolation[] }> };
    }).axe;
    const result = await axe.run(document);
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}
