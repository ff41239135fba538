/**
 * A Chromium with the extension, started the way a person starts their browser: a plain process
 * with no automation client holding it. Only a debugging port is opened, so the same browser can
 * be driven directly (Chrome's own CDP endpoint) and through the relay.
 *
 * Why not the Playwright launcher of `scripts/_browser.ts`: Playwright's own connection stays
 * attached to every page and answers events nobody subscribed to. It dismisses every JavaScript
 * dialog at once (no `dialog` listener) and redirects downloads into its own artifacts folder,
 * so a dialog or download case would measure the launcher, not the relay.
 *
 * @module
 */

import { CdpSocket } from "../../../bench/_cdp_socket.ts";
import { EXTENSION_ID, findBrowser } from "../../../harness/browser.ts";
import { waitUntil } from "../../../harness/rig.ts";

/** A browser process plus a control socket on its browser endpoint. */
export class BareBrowser {
  readonly #process: Deno.ChildProcess;
  readonly userDataDir: string;
  /** The `--remote-debugging-port` Chrome picked. */
  readonly port: number;
  /** A browser-level control socket (never enables a page domain, so it answers no event). */
  readonly control: CdpSocket;
  #workerSession: string | undefined;

  private constructor(
    process: Deno.ChildProcess,
    userDataDir: string,
    port: number,
    control: CdpSocket,
  ) {
    this.#process = process;
    this.userDataDir = userDataDir;
    this.port = port;
    this.control = control;
  }

  /**
   * Launches Chromium headless with the extension in `dist` and a free debugging port.
   *
   * @param dist Absolute path of the built extension.
   * @param extraArgs More Chromium flags.
   * @returns The running browser, with the extension's service worker reachable.
   */
  static async launch(dist: string, extraArgs: readonly string[] = []): Promise<BareBrowser> {
    const executable = await findBrowser();
    if (executable === undefined) throw new Error("Chromium is required for e2e tests");
    const userDataDir = await Deno.makeTempDir({ prefix: "browser-relay-conformance-" });
    // Downloads that no client redirects (the relay cannot yet) land inside the profile, never
    // in the person's ~/Downloads.
    await Deno.mkdir(`${userDataDir}/Default`, { recursive: true });
    await Deno.writeTextFile(
      `${userDataDir}/Default/Preferences`,
      JSON.stringify({
        download: {
          default_directory: `${userDataDir}/Downloads`,
          prompt_for_download: false,
        },
      }),
    );
    const process = new Deno.Command(executable, {
      args: [
        "--headless=new",
        "--remote-debugging-port=0",
        `--user-data-dir=${userDataDir}`,
        `--disable-extensions-except=${dist}`,
        `--load-extension=${dist}`,
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-gpu",
        ...(Deno.uid?.() === 0 ? ["--no-sandbox"] : []),
        ...extraArgs,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const port = await waitUntil("DevToolsActivePort", async () => {
        const text = await Deno.readTextFile(`${userDataDir}/DevToolsActivePort`);
        const port = Number(text.split("\n")[0]);
        return Number.isInteger(port) && port > 0 ? port : undefined;
      });
      const version = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json() as {
        webSocketDebuggerUrl: string;
      };
      const control = await CdpSocket.open(version.webSocketDebuggerUrl);
      const browser = new BareBrowser(process, userDataDir, port, control);
      // On first install the extension opens its options page; let it load so it cannot take
      // over a tab a case is about to use.
      await waitUntil("the options page", async () => {
        const targets = await browser.targets();
        return targets.some((t) => t.url.startsWith(`chrome-extension://${EXTENSION_ID}/options`));
      }, 5_000).catch(() => undefined);
      return browser;
    } catch (error) {
      process.kill();
      await process.status;
      throw error;
    }
  }

  /** `http://127.0.0.1:<port>`: what a client passes to `connectOverCDP`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** All targets Chrome knows. */
  async targets(): Promise<{ targetId: string; type: string; url: string }[]> {
    const { targetInfos } = await this.control.call("Target.getTargets");
    return targetInfos as { targetId: string; type: string; url: string }[];
  }

  /**
   * Evaluates `expression` (which may await) in the extension's service worker.
   *
   * @param expression JavaScript source; its value must be JSON-serialisable.
   * @returns The value.
   */
  async worker<T>(expression: string): Promise<T> {
    if (this.#workerSession === undefined) {
      const worker = await waitUntil("the extension's service worker", async () => {
        const targets = await this.targets();
        return targets.find((t) =>
          t.type === "service_worker" && t.url.startsWith(`chrome-extension://${EXTENSION_ID}/`)
        );
      });
      const { sessionId } = await this.control.call("Target.attachToTarget", {
        targetId: worker.targetId,
        flatten: true,
      });
      this.#workerSession = sessionId as string;
    }
    const reply = await this.control.call("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    }, this.#workerSession);
    if (reply.exceptionDetails !== undefined) {
      throw new Error(`Worker evaluation failed: ${JSON.stringify(reply.exceptionDetails)}`);
    }
    return (reply.result as { value: T }).value;
  }

  /**
   * Opens `url` in a new tab as a person would (not through any client under test).
   *
   * @returns The tab's target id and tab id.
   */
  async openTab(url: string): Promise<{ targetId: string; tabId: number }> {
    const { targetId } = await this.control.call("Target.createTarget", { url });
    const tabId = await waitUntil(`the tab of ${url}`, () =>
      this.worker<number | null>(
        `chrome.tabs.query({}).then((tabs) => tabs.find((t) => t.url === ${
          JSON.stringify(url)
        } || t.pendingUrl === ${JSON.stringify(url)})?.id ?? null)`,
      ).then((id) => id ?? undefined));
    return { targetId: targetId as string, tabId };
  }

  /** Whether a target still exists. */
  async hasTarget(targetId: string): Promise<boolean> {
    return (await this.targets()).some((t) => t.targetId === targetId);
  }

  /** Closes a tab if it still exists. */
  async closeTarget(targetId: string): Promise<void> {
    await this.control.send("Target.closeTarget", { targetId });
  }

  /** Stops the browser and removes its profile. */
  async close(): Promise<void> {
    await this.control.send("Browser.close", {}, undefined, 5_000).catch(() => undefined);
    await this.control.close();
    const exited = await Promise.race([
      this.#process.status.then(() => true),
      new Promise<false>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5_000);
        this.#process.status.finally(() => clearTimeout(timer));
      }),
    ]);
    if (!exited) {
      this.#process.kill("SIGKILL");
      await this.#process.status;
    }
    await Deno.remove(this.userDataDir, { recursive: true }).catch(() => undefined);
  }
}
