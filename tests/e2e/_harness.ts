/**
 * What only the e2e tests need on top of the shared rig (harness/rig.ts): test options and a
 * `Deno.test` wrapper that gives each test a fresh rig.
 *
 * @module
 */

import type { RelayOptions } from "../../relay/server.ts";
import { Rig } from "../../harness/rig.ts";

/** Options shared by every e2e test: browser pipes stay open between steps. */
export const E2E = { sanitizeOps: false, sanitizeResources: false } as const;

/**
 * Registers an e2e test that gets a fresh {@linkcode Rig} and always closes it.
 *
 * @param name Test name.
 * @param fn The test body.
 * @param relayOptions Relay options for the rig (e.g. `{ legacy: true }`).
 */
export function rigTest(
  name: string,
  fn: (rig: Rig, t: Deno.TestContext) => Promise<void>,
  relayOptions: Partial<RelayOptions> = {},
): void {
  Deno.test({
    name,
    ...E2E,
    async fn(t) {
      const rig = await Rig.start(relayOptions);
      try {
        await fn(rig, t);
      } finally {
        await rig.close();
      }
    },
  });
}
