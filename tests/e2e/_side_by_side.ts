/**
 * Runs one case against Chromium's own CDP endpoint and through the relay, in the same browser
 * and the same run: a {@linkcode Rig} started with `--remote-debugging-port=0`, and the two
 * endpoints a client may connect to.
 *
 * @module
 */

import type { RelayOptions } from "../../relay/server.ts";
import { Rig, waitUntil } from "../../harness/rig.ts";
import { E2E } from "./_harness.ts";

/** Where a client connects. */
export type Mode = "direct" | "relay";

/** Both modes, direct first: it is the reference. */
export const MODES: readonly Mode[] = ["direct", "relay"];

/** A rig whose Chromium also serves its own CDP endpoint. */
export interface SideBySide {
  readonly rig: Rig;
  /** `http://127.0.0.1:<port>` of Chromium's own endpoint. */
  readonly direct: string;
  /** Playwright `connectOverCDP` endpoint for a mode. */
  playwright(mode: Mode): string;
  /** Puppeteer `connect` options for a mode. */
  puppeteer(mode: Mode): { browserURL: string; headers?: Record<string, string> };
  /**
   * Opens `url` in a new tab; in relay mode the tab is shared (attached and announced) before
   * this returns.
   */
  open(mode: Mode, url: string): Promise<{ readonly tabId: number }>;
}

async function devToolsPort(userDataDir: string): Promise<number> {
  return await waitUntil("DevToolsActivePort", async () => {
    const text = await Deno.readTextFile(`${userDataDir}/DevToolsActivePort`);
    const port = Number(text.split("\n")[0]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  });
}

/**
 * Registers an e2e test with a fresh side-by-side rig that is always closed.
 *
 * @param name Test name.
 * @param fn The test body.
 * @param relayOptions Relay options for the rig.
 */
export function sideBySideTest(
  name: string,
  fn: (s: SideBySide, t: Deno.TestContext) => Promise<void>,
  relayOptions: Partial<RelayOptions> = {},
): void {
  Deno.test({
    name,
    ...E2E,
    async fn(t) {
      const rig = await Rig.start(relayOptions, { args: ["--remote-debugging-port=0"] });
      try {
        const direct = `http://127.0.0.1:${await devToolsPort(rig.browser.userDataDir)}`;
        await fn({
          rig,
          direct,
          playwright: (mode) =>
            mode === "direct" ? direct : `${rig.relay.url}/?token=${rig.relay.relayToken}`,
          puppeteer: (mode) =>
            mode === "direct" ? { browserURL: direct } : {
              browserURL: rig.relay.url,
              headers: { "x-openclaw-relay-token": rig.relay.relayToken },
            },
          open: (mode, url) => mode === "direct" ? rig.openTab(url) : rig.attachNewTab(url),
        }, t);
      } finally {
        await rig.close();
      }
    },
  });
}

/**
 * Resolves with `promise`, or rejects naming `what` once `ms` passed: a hang fails the test
 * instead of stalling the run. The timer is cleared either way.
 */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
