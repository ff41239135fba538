/**
 * The toolbar popup: the connection in one line with the action that fixes it, share or stop
 * the current tab, the shared tabs with Show and Stop, Stop sharing all, and copy buttons for
 * the endpoint and client configurations. Entry point of `dist/popup.js`.
 *
 * Everything goes through the worker's message API (`worker/messages.ts`); the popup keeps no
 * state of its own and re-reads the worker's state every second while open, so it always
 * agrees with the badge and the options page.
 *
 * `popup.html?tabId=N` acts on tab N instead of the active tab (the e2e tests open the popup as
 * a page, where the active tab is the popup itself).
 *
 * @module
 */

import type { TimerHandle } from "../worker/ports.ts";
import type { PopupState } from "../worker/messages.ts";
import type { Endpoints } from "../worker/endpoints.ts";
import { chromePagePorts, type PagePorts } from "./chrome_page_ports.ts";
import { placementNote, readPopupState } from "./_popup_view.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import { byId as byIdOn } from "./_dom.ts";

const POLL_MS = 1_000;

const COPY_LABELS: { readonly [K in keyof Endpoints]: string } = {
  cdpUrl: "endpoint",
  playwright: "Playwright snippet",
  puppeteer: "Puppeteer snippet",
  playwrightMcp: "Playwright MCP configuration",
  devtoolsMcp: "Chrome DevTools MCP configuration",
};

function byId<T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T {
  return byIdOn("popup", id, type);
}

function isEndpointKey(value: string | undefined): value is keyof Endpoints {
  return value !== undefined && Object.hasOwn(COPY_LABELS, value);
}

class Popup {
  readonly #ports: PagePorts;
  readonly #tabId: number | undefined;
  readonly #status = byId("status", HTMLElement);
  readonly #statusText = byId("status-text", HTMLElement);
  readonly #statusAction = byId("status-action", HTMLButtonElement);
  readonly #current = byId("current", HTMLElement);
  readonly #currentTitle = byId("current-title", HTMLElement);
  readonly #currentOrigin = byId("current-origin", HTMLElement);
  readonly #toggle = byId("toggle-current", HTMLButtonElement);
  readonly #currentNote = byId("current-note", HTMLElement);
  readonly #count = byId("shared-count", HTMLElement);
  readonly #noShared = byId("no-shared", HTMLElement);
  readonly #list = byId("shared-list", HTMLUListElement);
  readonly #stopAll = byId("stop-all", HTMLButtonElement);
  readonly #connect = byId("connect", HTMLElement);
  readonly #copyState = byId("copy-state", HTMLElement);
  readonly #shortcut = byId("shortcut", HTMLElement);
  #state: PopupState | undefined;
  #rendered = "";
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(ports: PagePorts) {
    this.#ports = ports;
    const raw = new URLSearchParams(location.search).get("tabId");
    const tabId = raw === null ? Number.NaN : Number(raw);
    this.#tabId = Number.isInteger(tabId) ? tabId : undefined;
  }

  start(): void {
    this.#statusAction.addEventListener("click", () => void this.#fix());
    this.#toggle.addEventListener("click", () => void this.#toggleCurrent());
    this.#stopAll.addEventListener("click", () => void this.#act({ type: "stopAll" }));
    for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-copy]")) {
      button.addEventListener("click", () => void this.#copy(button.dataset.copy));
    }
    globalThis.addEventListener("pagehide", () => this.close(), { once: true });
    void this.#refresh();
  }

  close(): void {
    this.#closed = true;
    this.#ports.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #send(request: Parameters<PagePorts["sendMessage"]>[0]): Promise<unknown> {
    try {
      return await this.#ports.sendMessage(request);
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }

  async #refresh(): Promise<void> {
    this.#ports.clock.clearTimeout(this.#timer);
    const request = this.#tabId === undefined
      ? { type: "state" as const }
      : { type: "state" as const, tabId: this.#tabId };
    this.#render(readPopupState(await this.#send(request)));
    if (this.#closed) return;
    this.#timer = this.#ports.clock.setTimeout(() => void this.#refresh(), POLL_MS);
  }

  async #act(request: Parameters<PagePorts["sendMessage"]>[0]): Promise<unknown> {
    const reply = await this.#send(request);
    await this.#refresh();
    return reply;
  }

  async #fix(): Promise<void> {
    const action = this.#state?.summary.action;
    if (action === "retry") await this.#act({ type: "retry" });
    else if (action === "settings") await this.#act({ type: "openSettings" });
    else if (action === "setup") await this.#act({ type: "openSetup" });
  }

  async #toggleCurrent(): Promise<void> {
    const current = this.#state?.current;
    if (current === undefined) return;
    this.#toggle.disabled = true;
    const reply = await this.#act(
      current.shared
        ? { type: "stop", tabId: current.tabId }
        : { type: "share", tabId: current.tabId },
    );
    this.#toggle.disabled = false;
    const message = isJsonObject(reply) && reply["ok"] === false
      ? String(reply["message"] ?? "")
      : isJsonObject(reply) && typeof reply["error"] === "string"
      ? reply["error"]
      : "";
    this.#currentNote.textContent = message;
    this.#currentNote.hidden = message === "";
  }

  async #copy(key: string | undefined): Promise<void> {
    if (!isEndpointKey(key)) return;
    const reply = await this.#send({ type: "endpoints" });
    if (!isJsonObject(reply) || typeof reply[key] !== "string") {
      this.#copyState.textContent = isJsonObject(reply) && typeof reply["error"] === "string"
        ? reply["error"]
        : "Nothing copied: the extension did not answer";
      return;
    }
    const value = reply[key];
    try {
      await navigator.clipboard.writeText(value);
      this.#copyState.textContent = `Copied the ${
        COPY_LABELS[key]
      }. It contains the token: keep it private.`;
    } catch {
      this.#copyState.textContent = "Nothing copied: the clipboard is not available";
    }
  }

  #render(state: PopupState): void {
    this.#state = state;
    const key = JSON.stringify(state);
    if (key === this.#rendered) return;
    this.#rendered = key;
    const { summary } = state;
    this.#status.dataset.tone = summary.tone;
    this.#statusText.textContent = summary.text;
    this.#statusAction.textContent = summary.actionLabel;
    this.#statusAction.hidden = summary.action === "none";

    const current = state.current;
    this.#current.hidden = current === undefined;
    if (current !== undefined) {
      this.#currentTitle.textContent = current.title === "" ? "Untitled tab" : current.title;
      this.#currentOrigin.textContent = current.origin;
      this.#toggle.textContent = current.shared ? "Stop sharing" : "Share this tab";
      this.#toggle.className = current.shared ? "danger" : "primary";
      this.#toggle.disabled = !current.shared && !current.shareable;
      if (!current.shareable) {
        this.#currentNote.textContent = "Chrome does not let extensions share this page";
        this.#currentNote.hidden = false;
      } else if (
        this.#currentNote.textContent === "Chrome does not let extensions share this page"
      ) {
        this.#currentNote.hidden = true;
      }
    }

    this.#count.textContent = String(state.tabs.length);
    this.#noShared.hidden = state.tabs.length > 0;
    this.#stopAll.disabled = state.tabs.length === 0;
    const focused = document.activeElement?.id ?? "";
    this.#list.replaceChildren(...state.tabs.map((tab) => {
      const item = document.createElement("li");
      item.dataset.tabId = String(tab.tabId);
      let icon: HTMLElement;
      if (/^(https?|data):/.test(tab.favIconUrl)) {
        const img = document.createElement("img");
        img.src = tab.favIconUrl;
        img.alt = "";
        icon = img;
      } else {
        icon = document.createElement("span");
        icon.className = "favicon";
      }
      const body = document.createElement("div");
      body.className = "tab-text";
      const title = document.createElement("p");
      title.className = "tab-title";
      const name = tab.title === "" ? tab.url : tab.title;
      title.textContent = name;
      title.title = tab.url;
      const origin = document.createElement("p");
      origin.className = "tab-origin";
      const note = placementNote(tab.placement, state.groupsEnabled);
      const reattaching = tab.state === "reattaching" ? " · resuming after a navigation" : "";
      origin.textContent = `${tab.origin}${note === "" ? "" : ` · ${note}`}${reattaching}`;
      body.append(title, origin);
      const show = document.createElement("button");
      show.type = "button";
      show.className = "secondary small";
      show.textContent = "Show";
      show.id = `show-${tab.tabId}`;
      show.setAttribute("aria-label", `Show ${name}`);
      show.addEventListener("click", () => void this.#act({ type: "show", tabId: tab.tabId }));
      const stop = document.createElement("button");
      stop.type = "button";
      stop.className = "danger small";
      stop.textContent = "Stop";
      stop.id = `stop-${tab.tabId}`;
      stop.setAttribute("aria-label", `Stop sharing ${name}`);
      stop.addEventListener("click", () => void this.#act({ type: "stop", tabId: tab.tabId }));
      item.append(icon, body, show, stop);
      return item;
    }));
    // A re-render keeps keyboard focus on the same button.
    if (focused !== "") document.getElementById(focused)?.focus();

    this.#connect.hidden = !state.configured;
    this.#shortcut.replaceChildren();
    if (state.shortcut !== "") {
      const kbd = document.createElement("kbd");
      kbd.textContent = state.shortcut;
      this.#shortcut.append(kbd, " shares or stops sharing the current tab.");
    } else {
      this.#shortcut.textContent = "Set a keyboard shortcut at chrome://extensions/shortcuts.";
    }
  }
}

new Popup(chromePagePorts()).start();
