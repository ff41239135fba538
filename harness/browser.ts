/**
 * Finding and launching a Chromium with the unpacked extension. Shared by `deno task start`,
 * the e2e suite and the benchmarks.
 *
 * @module
 */

import type { BrowserContext, CDPSession, Page, Worker } from "playwright-core";
import { CliError } from "../cli/cli_error.ts";
import { ExitCode } from "../cli/exit_code.ts";

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

/** The one-line error printed when no browser is found. */
export const NO_BROWSER_MESSAGE =
  "No Chromium found: install it (Debian/Ubuntu: sudo apt-get install -y chromium; Fedora: " +
  "sudo dnf install -y chromium; macOS: brew install --cask chromium; any OS: npx " +
  "@puppeteer/browsers install chrome@stable), then pass --browser PATH or set CHROME_PATH " +
  "(branded Google Chrome ignores --load-extension since version 137)";

async function checkExecutable(path: string, source: string): Promise<string> {
  const what = `Browser "${path}" from ${source}`;
  const fix = "pass the path of a Chromium or Chrome for Testing executable";
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(`${what} does not exist: ${fix}`, ExitCode.BrowserNotFound);
    }
    throw new CliError(
      `${what} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      ExitCode.BrowserNotFound,
    );
  }
  if (info.isDirectory) {
    throw new CliError(`${what} is a directory: ${fix} inside it`, ExitCode.BrowserNotFound);
  }
  if (Deno.build.os !== "windows" && ((info.mode ?? 0) & 0o111) === 0) {
    throw new CliError(
      `${what} is not executable: run "chmod +x ${path}" or ${fix}`,
      ExitCode.BrowserNotFound,
    );
  }
  return path;
}

/**
 * Finds the browser executable: `--browser`, else `CHROME_PATH`, else well-known places. A path
 * the person gave is used or refused, never replaced by another browser.
 *
 * @param explicit A path given with `--browser`.
 * @returns The executable path, or `undefined` when neither was given and none is installed.
 * @throws {CliError} If `--browser` or `CHROME_PATH` is empty, missing, a directory or not
 * executable.
 */
export async function findBrowser(explicit?: string): Promise<string | undefined> {
  if (explicit !== undefined) {
    if (explicit.trim() === "") {
      throw new CliError(
        'Option "--browser" is empty: pass the path of a Chromium or Chrome for Testing executable',
        ExitCode.Usage,
      );
    }
    return await checkExecutable(explicit, "--browser");
  }
  // An empty CHROME_PATH counts as unset, as for most variables that name a path.
  const env = Deno.env.get("CHROME_PATH") ?? "";
  if (env !== "") return await checkExecutable(env, "CHROME_PATH");
  for (const path of CANDIDATES) {
    try {
      const info = await Deno.stat(path);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

/**
 * For benchmarks: keeps Playwright from enabling `Network` on the extension's service worker
 * (its `PLAYWRIGHT_DISABLE_SERVICE_WORKER_NETWORK` switch). With it on, Chrome turns every frame
 * of the worker's WebSocket into a `Network.webSocketFrameSent`/`Received` event for Playwright:
 * serialised in the browser process, written to the debugging pipe and parsed in this process,
 * which also runs the relay. No real user has a DevTools client with `Network` on the extension's
 * worker, so a benchmark that leaves it on charges every relay frame a cost that is not ours.
 * Call it before the browser launches; it holds for the whole process.
 */
export function withoutWorkerNetworkInspection(): void {
  Deno.env.set("PLAYWRIGHT_DISABLE_SERVICE_WORKER_NETWORK", "1");
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
  const removeProfile = async () => {
    if (temporary) await removeDir(userDataDir);
  };
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
  let context: BrowserContext;
  try {
    // Loaded on first use: playwright-core takes seconds to load, which `--help` and argument
    // errors should not wait for.
    const { chromium } = await import("playwright-core");
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: options.executablePath,
      headless: options.headless,
      args,
      viewport: null,
      // The caller owns signals: Playwright's own handlers would exit the process before the
      // relay and the temporary profile are cleaned up.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (error) {
    await removeProfile();
    throw error;
  }
  // The launcher stands in for the person, who answers dialogs themselves. Without a listener
  // Playwright dismisses every dialog of every page it knows, before any relay or direct CDP
  // client under test can handle it ("No dialog is showing").
  context.on("dialog", () => {});
  try {
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
        await removeProfile();
      },
    };
  } catch (error) {
    await context.close().catch(() => {});
    await removeProfile();
    throw error;
  }
}

/**
 * Removes a directory, retrying briefly: Chromium's helper processes may still write to the
 * profile for a moment after the browser process exits.
 */
async function removeDir(path: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await Deno.remove(path, { recursive: true });
      return;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || attempt === 20) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
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

/**
 * Makes a profile in which the extension may not read local files, as for a person who never
 * turned on "Allow access to file URLs": Chromium grants that access to an extension loaded with
 * `--load-extension`, so this launches once, turns it off on `chrome://extensions` (which
 * reloads the extension) and closes. The setting survives in the profile.
 *
 * @param options The built extension and the browser executable.
 * @returns The profile directory; the caller removes it.
 */
export async function profileWithoutFileAccess(
  options: Pick<LaunchOptions, "dist" | "executablePath">,
): Promise<string> {
  const userDataDir = await Deno.makeTempDir({ prefix: "browser-relay-nofile-" });
  const browser = await launchWithExtension({ ...options, headless: true, userDataDir });
  try {
    const page = await browser.context.newPage();
    await page.goto("chrome://extensions");
    const fileAccess = await page.evaluate(async (extensionId) => {
      // `chrome.developerPrivate` exists only on chrome://extensions and is not in @types/chrome.
      const api = (globalThis as unknown as {
        chrome: {
          developerPrivate: {
            updateExtensionConfiguration(update: object): Promise<void>;
            getExtensionInfo(id: string): Promise<{ fileAccess: { isActive: boolean } }>;
          };
        };
      }).chrome.developerPrivate;
      await api.updateExtensionConfiguration({ extensionId, fileAccess: false });
      return (await api.getExtensionInfo(extensionId)).fileAccess.isActive;
    }, browser.extensionId);
    if (fileAccess) throw new Error("Cannot turn off file access of the extension");
  } catch (error) {
    await browser.close();
    await removeDir(userDataDir);
    throw error;
  }
  await browser.close();
  return userDataDir;
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
