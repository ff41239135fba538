/**
 * Finding and launching a Chromium with the unpacked extension. Shared by `deno task start`,
 * the e2e suite and the benchmarks.
 *
 * @module
 */

import { chromium } from "playwright-core";
import type { BrowserContext, CDPSession, Page, Worker } from "playwright-core";

/** The extension id fixed by the manifest `key`. */
export const EXTENSION_ID = "macoianamknmnbaealknnjmmhfcaeaam";

const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/lib/chromium/chromium",
  "/snap/bin/chromium",
  "/opt/google/chrome-for-testing/chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
];

/** How to get a browser, printed when none is found. */
export const INSTALL_HINT = [
  "No Chromium found. Branded Google Chrome ignores --load-extension since version 137, so use",
  "Chromium or Chrome for Testing, then pass --browser=/path/to/chrome or set CHROME_PATH:",
  "  Debian/Ubuntu:  sudo apt-get install -y chromium",
  "  Fedora:         sudo dnf install -y chromium",
  "  macOS:          brew install --cask chromium",
  "  Any OS:         npx @puppeteer/browsers install chrome@stable   (Chrome for Testing)",
].join("\n");

/**
 * Finds a usable browser executable: an explicit path, `CHROME_PATH`, then well-known places.
 *
 * @param explicit A path given with `--browser`.
 * @returns The executable path, or `undefined` when none exists.
 */
export async function findBrowser(explicit?: string): Promise<string | undefined> {
  const env = Deno.env.get("CHROME_PATH");
  for (const path of [explicit, env, ...CANDIDATES]) {
    if (path === undefined || path === "") continue;
    try {
      const info = await Deno.stat(path);
      if (info.isFile) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** Options of {@linkcode launchWithExtension}. */
export interface LaunchOptions {
  /** Absolute path of the built extension (`dist/`). */
  readonly dist: string;
  /** Browser executable. */
  readonly executablePath: string;
  /** Profile directory; a fresh temporary one when omitted. */
  readonly userDataDir?: string;
  /** Run without a window. */
  readonly headless: boolean;
  /** Extra Chromium flags. */
  readonly args?: readonly string[];
}

/** A launched browser with the extension loaded. */
export interface LaunchedBrowser {
  readonly context: BrowserContext;
  readonly worker: Worker;
  readonly extensionId: string;
  readonly userDataDir: string;
  close(): Promise<void>;
}

/**
 * Launches Chromium over a debugging pipe (no open debugging port) with the extension loaded,
 * and waits for the extension's service worker.
 *
 * @param options Paths and flags.
 * @returns The context, the worker handle and a `close()` that removes a temporary profile.
 */
export async function launchWithExtension(options: LaunchOptions): Promise<LaunchedBrowser> {
  const temporary = options.userDataDir === undefined;
  const userDataDir = options.userDataDir ?? await Deno.makeTempDir({ prefix: "browser-relay-" });
  const args = [
    `--disable-extensions-except=${options.dist}`,
    `--load-extension=${options.dist}`,
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    ...(Deno.uid?.() === 0 ? ["--no-sandbox"] : []),
    ...(options.headless ? ["--disable-gpu"] : []),
    ...(options.args ?? []),
  ];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: options.executablePath,
    headless: options.headless,
    args,
    viewport: null,
  });
  const worker = context.serviceWorkers().find((w) => w.url().includes(EXTENSION_ID)) ??
    await context.waitForEvent("serviceworker", {
      predicate: (w) => w.url().includes(EXTENSION_ID),
      timeout: 15_000,
    });
  const extensionId = new URL(worker.url()).host;
  if (temporary) await settleFirstInstall(context, extensionId);
  return {
    context,
    worker,
    extensionId,
    userDataDir,
    async close() {
      await context.close().catch(() => {});
      if (temporary) await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * On a fresh profile the extension opens its options page on install, sometimes by navigating a
 * tab the caller is about to use. Wait for that page (up to 5 s) so it cannot interrupt later
 * navigations.
 */
async function settleFirstInstall(context: BrowserContext, extensionId: string): Promise<void> {
  // The first-install page: setup.html (options.html in builds before the setup page).
  const installPages = ["setup.html", "options.html"].map((page) =>
    `chrome-extension://${extensionId}/${page}`
  );
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const page = context.pages().find((p) => installPages.some((url) => p.url().startsWith(url)));
    if (page !== undefined) {
      await page.waitForLoadState().catch(() => {});
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Controls the extension's service worker through a page's CDP session (platform notes §7.3). */
export class WorkerControl {
  readonly #session: CDPSession;
  readonly #page: Page;
  readonly #extensionId: string;
  #versionId: string | undefined;
  #status = "unknown";
  readonly #waiters = new Set<() => void>();

  private constructor(page: Page, session: CDPSession, extensionId: string) {
    this.#page = page;
    this.#session = session;
    this.#extensionId = extensionId;
    session.on("ServiceWorker.workerVersionUpdated", (event) => {
      for (const version of event.versions) {
        if (!version.scriptURL.includes(this.#extensionId)) continue;
        this.#versionId = version.versionId;
        this.#status = version.runningStatus;
      }
      for (const wake of [...this.#waiters]) wake();
    });
  }

  /**
   * Opens a helper page and enables the `ServiceWorker` domain on it.
   *
   * @param context The browser context.
   * @param extensionId The extension id.
   * @returns A ready controller.
   */
  static async open(context: BrowserContext, extensionId: string): Promise<WorkerControl> {
    const page = await context.newPage();
    const session = await context.newCDPSession(page);
    const control = new WorkerControl(page, session, extensionId);
    await session.send("ServiceWorker.enable");
    await control.waitFor("running");
    return control;
  }

  /** The last reported running status. */
  get status(): string {
    return this.#status;
  }

  /**
   * Waits until the worker reports `status`.
   *
   * @param status e.g. `"running"` or `"stopped"`.
   * @param timeoutMs Deadline.
   */
  waitFor(status: string, timeoutMs = 15_000): Promise<void> {
    if (this.#status === status) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#status !== status) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(`Service worker did not reach "${status}": current status is ${this.#status}`),
        );
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Stops the worker as Chrome would after idling, and waits for `stopped`. */
  async stop(): Promise<void> {
    await this.waitFor("running");
    if (this.#versionId === undefined) throw new Error("Service worker version is unknown");
    await this.#session.send("ServiceWorker.stopWorker", { versionId: this.#versionId });
    await this.waitFor("stopped");
  }

  /** Closes the helper page. */
  async close(): Promise<void> {
    await this.#session.detach().catch(() => {});
    await this.#page.close().catch(() => {});
  }
}
