/**
 * Domain enables counted per client on a debugger session several clients share. On Chrome's
 * endpoint each client has its own session, so one client's `Network.disable` never silences
 * another's `Network` events. Through the relay a tab has one `chrome.debugger` session, so a
 * `<Domain>.disable` goes out only when no other client of that session still has the domain
 * enabled; otherwise the relay answers it itself.
 *
 * @module
 */

/**
 * Domains whose `enable`/`disable` the relay counts. `Fetch` is not among them: its `enable`
 * carries patterns, which are an override (see `session_overrides.ts`), not a switch.
 */
const COUNTED: ReadonlySet<string> = new Set([
  "Accessibility",
  "Animation",
  "Audits",
  "CSS",
  "Console",
  "DOM",
  "DOMStorage",
  "Debugger",
  "HeapProfiler",
  "IndexedDB",
  "Inspector",
  "LayerTree",
  "Log",
  "Media",
  "Network",
  "Overlay",
  "Page",
  "Performance",
  "Profiler",
  "Runtime",
  "Security",
  "ServiceWorker",
]);

/**
 * Which clients have which domain enabled on which session.
 *
 * @example
 * ```ts
 * import { SharedDomains } from "./shared_domains.ts";
 *
 * const domains = new SharedDomains<string>();
 * domains.shouldForward("a", "cb-tab-1", "Network.enable"); // true
 * domains.shouldForward("b", "cb-tab-1", "Network.enable"); // true
 * domains.shouldForward("b", "cb-tab-1", "Network.disable"); // false: "a" still listens
 * ```
 */
export class SharedDomains<Client> {
  /** `sessionId domain` → clients with the domain enabled. */
  readonly #enabled = new Map<string, Set<Client>>();

  /** Number of (session, domain) pairs with at least one client. */
  get size(): number {
    return this.#enabled.size;
  }

  /**
   * Books a command and tells whether it must reach Chrome.
   *
   * @param client The sending client.
   * @param sessionId The debugger session it runs on.
   * @param method The CDP method.
   * @returns `false` for a `disable` while another client still has the domain enabled: the
   *   relay answers it with `{}`. `true` otherwise.
   */
  shouldForward(client: Client, sessionId: string, method: string): boolean {
    if (!method.endsWith("able")) return true; // the hot path: neither enable nor disable
    const dot = method.indexOf(".");
    const action = method.slice(dot + 1);
    if (action !== "enable" && action !== "disable") return true;
    const domain = method.slice(0, dot);
    if (!COUNTED.has(domain)) return true;
    const key = `${sessionId} ${domain}`;
    let clients = this.#enabled.get(key);
    if (action === "enable") {
      if (clients === undefined) this.#enabled.set(key, clients = new Set());
      clients.add(client);
      return true;
    }
    clients?.delete(client);
    if (clients === undefined || clients.size === 0) {
      this.#enabled.delete(key);
      return true;
    }
    return false;
  }

  /**
   * Tells whether a client other than `client` has a domain enabled on a session.
   *
   * @param client The asking client.
   * @param sessionId The debugger session.
   * @param domain The domain, e.g. `Runtime`.
   * @returns `true` if another client enabled it and has not disabled it.
   */
  enabledByOthers(client: Client, sessionId: string, domain: string): boolean {
    const clients = this.#enabled.get(`${sessionId} ${domain}`);
    if (clients === undefined) return false;
    return clients.size > (clients.has(client) ? 1 : 0);
  }

  /**
   * Forgets a client that went away; its domains stay enabled for the others.
   *
   * @param client The client.
   */
  release(client: Client): void {
    for (const [key, clients] of this.#enabled) {
      if (clients.delete(client) && clients.size === 0) this.#enabled.delete(key);
    }
  }

  /**
   * Forgets sessions that ended.
   *
   * @param sessionIds The ended sessions.
   */
  forgetSessions(sessionIds: Iterable<string>): void {
    const gone = new Set(sessionIds);
    for (const key of this.#enabled.keys()) {
      if (gone.has(key.slice(0, key.indexOf(" ")))) this.#enabled.delete(key);
    }
  }
}
