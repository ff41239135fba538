/**
 * The setup page (opened on first install, and when a share is refused because no token is
 * saved): the relay command, the token field, how to pin the extension, and a live check that
 * turns green once the relay answers and accepts the token (it checks every 2 s until then, and
 * after that only when the settings change). Entry point of `dist/setup.js`.
 *
 * @module
 */

import { parseSettings, type Settings, SETTINGS_KEYS } from "../worker/settings.ts";
import type { StorageChange, TimerHandle } from "../worker/ports.ts";
import { chromePagePorts, type PagePorts } from "./chrome_page_ports.ts";
import { type FormField, readForm } from "./_form.ts";
import { checkView } from "./_check_view.ts";
import { byId as byIdOn } from "./_dom.ts";

const CHECK_EVERY_MS = 2_000;
const FIELDS: readonly FormField[] = ["gatewayToken", "relayPort"];

function byId<T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T {
  return byIdOn("setup page", id, type);
}

class SetupPage {
  readonly #ports: PagePorts;
  readonly #form = byId("setup-form", HTMLFormElement);
  readonly #fields: { readonly [K in FormField]: HTMLInputElement } = {
    relayPort: byId("relayPort", HTMLInputElement),
    gatewayToken: byId("gatewayToken", HTMLInputElement),
  };
  readonly #errors: { readonly [K in FormField]: HTMLElement } = {
    relayPort: byId("relayPort-error", HTMLElement),
    gatewayToken: byId("gatewayToken-error", HTMLElement),
  };
  readonly #saveState = byId("save-state", HTMLElement);
  readonly #live = byId("live", HTMLElement);
  #settings: Settings | undefined;
  #timer: TimerHandle | undefined;
  #lastLive = "";
  /**
   * True once a check succeeded. Until then the page checks every 2 s; afterwards only when the
   * settings change, so a page left open does not keep knocking on the relay.
   */
  #succeeded = false;

  constructor(ports: PagePorts) {
    this.#ports = ports;
  }

  start(): void {
    if (new URLSearchParams(location.search).get("reason") === "share") {
      byId("reason", HTMLElement).hidden = false;
    }
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.#save();
    });
    this.#ports.storage.onChanged.addListener(this.#onChanged);
    globalThis.addEventListener("pagehide", () => this.close(), { once: true });
    void this.#load().then(() => this.#check());
  }

  close(): void {
    this.#ports.clock.clearTimeout(this.#timer);
    this.#ports.storage.onChanged.removeListener(this.#onChanged);
  }

  readonly #onChanged = (changes: Record<string, StorageChange>, areaName: string): void => {
    if (areaName !== "local" || !SETTINGS_KEYS.some((key) => key in changes)) return;
    void this.#load().then(() => this.#check());
  };

  async #load(): Promise<void> {
    this.#settings = parseSettings(await this.#ports.storage.local.get(SETTINGS_KEYS));
    const { gatewayToken, relayPort } = this.#fields;
    if (document.activeElement !== gatewayToken && gatewayToken.value === "") {
      gatewayToken.value = this.#settings.gatewayToken;
    }
    if (document.activeElement !== relayPort && relayPort.value === "") {
      relayPort.value = String(this.#settings.relayPort);
    }
  }

  async #save(): Promise<void> {
    const result = readForm({
      relayPort: this.#fields.relayPort.value,
      gatewayToken: this.#fields.gatewayToken.value,
    });
    for (const name of FIELDS) {
      const message = result.ok ? undefined : result.errors[name];
      this.#errors[name].textContent = message ?? "";
      this.#errors[name].hidden = message === undefined;
      if (message === undefined) this.#fields[name].removeAttribute("aria-invalid");
      else this.#fields[name].setAttribute("aria-invalid", "true");
    }
    if (!result.ok) {
      const first = FIELDS.find((name) => result.errors[name] !== undefined);
      if (first !== undefined) this.#fields[first].focus();
      this.#saveState.textContent = "";
      return;
    }
    await this.#ports.storage.local.set({
      relayPort: result.settings.relayPort,
      gatewayToken: result.settings.gatewayToken,
    });
    this.#saveState.textContent = "Saved.";
    this.#settings = result.settings;
    await this.#check();
  }

  #show(tone: string, text: string): void {
    if (this.#lastLive === `${tone}:${text}`) return;
    this.#lastLive = `${tone}:${text}`;
    this.#live.dataset.tone = tone;
    this.#live.textContent = text;
  }

  async #check(): Promise<void> {
    this.#ports.clock.clearTimeout(this.#timer);
    const settings = this.#settings;
    if (settings === undefined || settings.gatewayToken === "") {
      this.#show("idle", "Paste the token to check the relay.");
    } else {
      let response: unknown;
      try {
        response = await this.#ports.sendMessage({
          type: "checkConnection",
          port: settings.relayPort,
          token: settings.gatewayToken,
        });
      } catch {
        response = undefined;
      }
      const view = checkView(response);
      if (view.tone === "ok") this.#succeeded = true;
      if (view.tone === "ok") {
        this.#show(
          "ok",
          "Ready: the relay answers and accepts the token. Open a tab and click the Browser Relay icon to share it.",
        );
      } else {
        this.#show(
          "error",
          `${view.title}: ${view.hint === "" ? view.message : view.hint}${
            this.#succeeded ? "" : " Checking again every 2 s."
          }`,
        );
      }
    }
    if (this.#succeeded) return;
    this.#timer = this.#ports.clock.setTimeout(() => void this.#check(), CHECK_EVERY_MS);
  }
}

new SetupPage(chromePagePorts()).start();
