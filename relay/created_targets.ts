/**
 * Which client created which tab, so that a client's `Browser.close` closes the tabs it opened
 * (`Target.createTarget`, Playwright's and Puppeteer's `newPage`) and nothing else: never the
 * person's own tabs, tabs another client opened, or the browser.
 *
 * @module
 */

/**
 * Target ids by the client that created them. Clients are any objects (the router's
 * `CdpClient`); an entry goes away with its target or its client.
 *
 * @example
 * ```ts
 * import { CreatedTargets } from "./created_targets.ts";
 *
 * const created = new CreatedTargets<object>();
 * const client = {};
 * created.add(client, "T1");
 * created.take(client); // ["T1"]
 * ```
 */
export class CreatedTargets<Client extends object> {
  readonly #byClient = new Map<Client, Set<string>>();

  /** Number of clients with at least one created target. */
  get size(): number {
    return this.#byClient.size;
  }

  /**
   * Records that `client` created `targetId`.
   *
   * @param client The creating client.
   * @param targetId The `targetId` of the `Target.createTarget` reply.
   */
  add(client: Client, targetId: string): void {
    let ids = this.#byClient.get(client);
    if (ids === undefined) this.#byClient.set(client, ids = new Set());
    ids.add(targetId);
  }

  /**
   * The targets a client created and that are still recorded, in creation order.
   *
   * @param client The client.
   * @returns Their target ids.
   */
  of(client: Client): string[] {
    return [...this.#byClient.get(client) ?? []];
  }

  /**
   * Forgets a target (it was closed or destroyed), whoever created it.
   *
   * @param targetId The target id.
   */
  forgetTarget(targetId: string): void {
    for (const [client, ids] of this.#byClient) {
      if (ids.delete(targetId) && ids.size === 0) this.#byClient.delete(client);
    }
  }

  /**
   * Removes and returns a client's created targets (it closes them or goes away).
   *
   * @param client The client.
   * @returns Their target ids, in creation order.
   */
  take(client: Client): string[] {
    const ids = this.of(client);
    this.#byClient.delete(client);
    return ids;
  }
}
