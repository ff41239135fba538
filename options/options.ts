/**
 * The options page: relay port and gateway token, Check connection, and the live status of the
 * worker. Entry point of `dist/options.js`; the only module in `options/` with side effects.
 *
 * Deviation from style.md item 20 ("options.ts never messages the worker"), required by issue 6:
 * - **Check connection** runs in the worker (it has the host permissions and can set the token
 *   header), so the page sends `{type: "checkConnection", port, token}`;
 * - the **live status** (phase, relay URL, attached tabs) exists only in the worker, so the page
 *   polls `{type: "status"}` once a second while it is visible, and sends `{type: "detachAll"}`.
 *
 * Settings still follow item 20: they are validated with `validateSettings()` and written
 * directly to `chrome.storage.local` through the `StoragePort`; the worker reacts to its own
 * `storage.onChanged` listener and reconnects at once. Nothing about settings goes through
 * messaging.
 *
 * @module
 */

import {
  parseSettings,
  parseSharePopups,
  parseUseTabGroups,
  type Settings,
  SETTINGS_KEYS,
  SHARE_POPUPS_KEY,
  TAB_GROUPS_KEY,
} from "../worker/settings.ts";
import type { StorageChange, TimerHandle } from "../worker/ports.ts";
import { chromePagePorts, type PagePorts } from "./chrome_page_ports.ts";
import { type FormField, readForm } from "./_form.ts";
import { checkView } from "./_check_view.ts";
import { type StatusView, statusView, type TabRow } from "./_status_view.ts";
import { byId as byIdOn } from "./_dom.ts";

/** How often the status is asked for while the page is visible. */
const POLL_MS = 1_000;

const FIELDS: readonly FormField[] = ["relayPort", "gatewayToken"];

function byId<T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T {
  return byIdOn("options page", id, type);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The page's elements, looked up once. */
class Elements {
  readonly form = byId("settings-form", HTMLFormElement);
  readonly fields: { readonly [K in FormField]: HTMLInputElement } = {
    relayPort: byId("relayPort", HTMLInputElement),
    gatewayToken: byId("gatewayToken", HTMLInputElement),
  };
  readonly fieldErrors: { readonly [K in FormField]: HTMLElement } = {
    relayPort: byId("relayPort-error", HTMLElement),
    gatewayToken: byId("gatewayToken-error", HTMLElement),
  };
  /** Not a text field: a checkbox saved with the form, outside `FIELDS` (issue 14). */
  readonly openclawRelayCompat = byId("openclawRelayCompat", HTMLInputElement);
  readonly toggleToken = byId("toggle-token", HTMLButtonElement);
  readonly sharePopups = byId("sharePopups", HTMLInputElement);
  readonly save = byId("save", HTMLButtonElement);
  readonly saveState = byId("save-state", HTMLElement);
  readonly check = byId("check", HTMLButtonElement);
  readonly checkResult = byId("check-result", HTMLElement);
  readonly checkTitle = byId("check-title", HTMLElement);
  readonly checkMessage = byId("check-message", HTMLElement);
  readonly checkHint = byId("check-hint", HTMLElement);
  readonly checkUrl = byId("check-url", HTMLElement);
  readonly checkNote = byId("check-note", HTMLElement);
  readonly phase = byId("phase", HTMLElement);
  readonly phaseAnnounce = byId("phase-announce", HTMLElement);
  readonly statusDetail = byId("status-detail", HTMLElement);
  readonly relayUrl = byId("relay-url", HTMLElement);
  readonly detachAll = byId("detach-all", HTMLButtonElement);
  readonly noTabs = byId("no-tabs", HTMLElement);
  readonly tabsTable = byId("tabs-table", HTMLTableElement);
  readonly tabsBody = byId("tabs-body", HTMLTableSectionElement);
  readonly useTabGroups = byId("useTabGroups", HTMLInputElement);
  readonly groupsState = byId("groups-state", HTMLElement);
}

/** The options page controller: owns its poll timer and its storage listener. */
class OptionsPage {
  readonly #ports: PagePorts;
  readonly #el = new Elements();
  /** Fields edited since the last load or save; storage updates never overwrite them. */
  readonly #dirty = new Set<FormField>();
  /** Fields whose errors are shown (left once, or after a submit). */
  readonly #shown = new Set<FormField>();
  #saved: Settings | undefined;
  /** The compatibility checkbox was changed since the last load or save. */
  #compatDirty = false;
  /**
   * The connection state (tone and label without digits) when the shown check result was
   * made; once the state moves on, the result describes the past and is cleared.
   */
  #checkedIn: string | undefined;
  #stateKey = "";
  #statusTone = "";
  #pollTimer: TimerHandle | undefined;
  #polling = false;
  #lastAnnounced = "";

  constructor(ports: PagePorts) {
    this.#ports = ports;
  }

  start(): void {
    const { form, fields, toggleToken, check, detachAll } = this.#el;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.#save();
    });
    for (const name of FIELDS) {
      fields[name].addEventListener("input", () => {
        this.#dirty.add(name);
        this.#el.saveState.textContent = "";
        // A shown check result describes values that are no longer in the form.
        this.#el.checkResult.hidden = true;
        if (this.#shown.has(name)) this.#validate();
      });
      fields[name].addEventListener("blur", () => {
        if (!this.#dirty.has(name)) return;
        this.#shown.add(name);
        this.#validate();
      });
    }
    this.#el.openclawRelayCompat.addEventListener("change", () => {
      this.#compatDirty = true;
      this.#el.saveState.textContent = "";
    });
    toggleToken.addEventListener("click", () => this.#toggleToken());
    this.#wireSharePopups();
    this.#el.useTabGroups.addEventListener("change", () => void this.#saveGroups());
    check.addEventListener("click", () => void this.#check());
    detachAll.addEventListener("click", () => void this.#detachAll());
    this.#ports.storage.onChanged.addListener(this.#onStorageChanged);
    document.addEventListener("visibilitychange", this.#onVisibility);
    globalThis.addEventListener("pagehide", this.#onPageHide, { once: true });
    void this.#load();
    void this.#refresh();
  }

  /**
   * The popup checkbox is saved on its own, at once: it is not part of the connection settings
   * and a change never reconnects (the worker reads it when a popup opens).
   */
  #wireSharePopups(): void {
    const box = this.#el.sharePopups;
    box.addEventListener("change", () => {
      void this.#ports.storage.local.set({ [SHARE_POPUPS_KEY]: box.checked }).catch(
        (error: unknown) => {
          this.#el.saveState.textContent = `Cannot save the popup setting: ${errorText(error)}`;
        },
      );
    });
    void this.#ports.storage.local.get([SHARE_POPUPS_KEY]).then((raw) => {
      box.checked = parseSharePopups(raw[SHARE_POPUPS_KEY]);
    }, () => {});
  }

  /** Releases the poll timer and the listeners on the page's shared objects. */
  close(): void {
    this.#ports.clock.clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#ports.storage.onChanged.removeListener(this.#onStorageChanged);
    document.removeEventListener("visibilitychange", this.#onVisibility);
  }

  readonly #onPageHide = (): void => this.close();

  readonly #onVisibility = (): void => {
    if (document.hidden) {
      this.#ports.clock.clearTimeout(this.#pollTimer);
      this.#pollTimer = undefined;
    } else {
      void this.#refresh();
    }
  };

  readonly #onStorageChanged = (
    changes: Record<string, StorageChange>,
    areaName: string,
  ): void => {
    if (areaName !== "local") return;
    if (TAB_GROUPS_KEY in changes) {
      this.#el.useTabGroups.checked = parseUseTabGroups(changes[TAB_GROUPS_KEY]?.newValue);
    }
    if (!SETTINGS_KEYS.some((key) => key in changes)) return;
    void this.#load();
  };

  async #load(): Promise<void> {
    const raw = await this.#ports.storage.local.get([...SETTINGS_KEYS, TAB_GROUPS_KEY]);
    this.#el.useTabGroups.checked = parseUseTabGroups(raw[TAB_GROUPS_KEY]);
    const settings = parseSettings(raw);
    this.#saved = settings;
    const values = { relayPort: String(settings.relayPort), gatewayToken: settings.gatewayToken };
    for (const name of FIELDS) {
      const field = this.#el.fields[name];
      // Another tab (or the worker) changed settings: never overwrite what is being edited.
      if (this.#dirty.has(name) || document.activeElement === field) continue;
      field.value = values[name];
    }
    if (!this.#compatDirty) {
      this.#el.openclawRelayCompat.checked = settings.openclawRelayCompat === true;
    }
  }

  #values(): { readonly [K in FormField]: string } {
    return {
      relayPort: this.#el.fields.relayPort.value,
      gatewayToken: this.#el.fields.gatewayToken.value,
    };
  }

  /** Shows the form's issues next to the fields in `#shown`; returns the read result. */
  #validate(): ReturnType<typeof readForm> {
    const result = readForm(this.#values());
    for (const name of FIELDS) {
      const message = result.ok || !this.#shown.has(name) ? undefined : result.errors[name];
      const field = this.#el.fields[name];
      const error = this.#el.fieldErrors[name];
      error.textContent = message ?? "";
      error.hidden = message === undefined;
      if (message === undefined) field.removeAttribute("aria-invalid");
      else field.setAttribute("aria-invalid", "true");
    }
    return result;
  }

  /** Validates every field and moves focus to the first invalid one. */
  #validateAll(): ReturnType<typeof readForm> {
    for (const name of FIELDS) this.#shown.add(name);
    const result = this.#validate();
    if (!result.ok) {
      const first = FIELDS.find((name) => result.errors[name] !== undefined);
      if (first !== undefined) this.#el.fields[first].focus();
    }
    return result;
  }

  async #save(): Promise<void> {
    const result = this.#validateAll();
    const { saveState, save, fields } = this.#el;
    if (!result.ok) {
      saveState.textContent = "Not saved: fix the highlighted fields.";
      return;
    }
    const compat = this.#el.openclawRelayCompat.checked;
    const settings: Settings = {
      ...result.settings,
      ...(compat ? { openclawRelayCompat: true } : {}),
    };
    const saved = this.#saved;
    if (
      saved !== undefined && saved.relayPort === settings.relayPort &&
      saved.gatewayToken === settings.gatewayToken &&
      (saved.openclawRelayCompat === true) === compat
    ) {
      this.#dirty.clear();
      this.#compatDirty = false;
      saveState.textContent = "No changes to save.";
      return;
    }
    save.disabled = true;
    try {
      await this.#ports.storage.local.set({
        relayPort: settings.relayPort,
        gatewayToken: settings.gatewayToken,
        openclawRelayCompat: compat,
      });
      this.#saved = settings;
      this.#dirty.clear();
      this.#compatDirty = false;
      fields.relayPort.value = String(settings.relayPort);
      fields.gatewayToken.value = settings.gatewayToken;
      // Only what stays true: how the connection goes is the status panel's job, so no
      // "Connected" here that the next relay failure would make stale.
      saveState.textContent = "Saved.";
      void this.#refresh();
    } catch (error) {
      saveState.textContent = `Not saved: ${errorText(error)}`;
    } finally {
      save.disabled = false;
    }
  }

  #toggleToken(): void {
    const { toggleToken, fields } = this.#el;
    const show = fields.gatewayToken.type === "password";
    fields.gatewayToken.type = show ? "text" : "password";
    toggleToken.setAttribute("aria-pressed", String(show));
    toggleToken.textContent = show ? "Hide" : "Show";
    toggleToken.setAttribute("aria-label", show ? "Hide token" : "Show token");
  }

  async #check(): Promise<void> {
    const result = this.#validateAll();
    if (!result.ok) return;
    const { relayPort, gatewayToken } = result.settings;
    const { check } = this.#el;
    check.disabled = true;
    this.#showCheck({
      tone: "busy",
      kind: "checking",
      title: "Checking…",
      message: `Asking the relay at http://127.0.0.1:${relayPort}.`,
      hint: "",
      url: `http://127.0.0.1:${relayPort}/extension/status`,
    });
    let response: unknown;
    try {
      response = await this.#ports.sendMessage({
        type: "checkConnection",
        port: relayPort,
        token: gatewayToken,
        ...(this.#el.openclawRelayCompat.checked ? { openclawRelayCompat: true } : {}),
      });
    } catch (error) {
      response = { error: errorText(error) };
    } finally {
      check.disabled = false;
    }
    this.#showCheck(checkView(response));
    this.#checkedIn = this.#stateKey;
    this.#oneMessagePerProblem();
    const saved = this.#saved;
    this.#el.checkNote.hidden = saved !== undefined && saved.relayPort === relayPort &&
      saved.gatewayToken === gatewayToken;
  }

  #showCheck(view: {
    readonly tone: string;
    readonly kind: string;
    readonly title: string;
    readonly message: string;
    readonly hint: string;
    readonly url: string;
  }): void {
    const { checkResult, checkTitle, checkMessage, checkHint, checkUrl } = this.#el;
    checkResult.dataset.tone = view.tone;
    checkResult.dataset.kind = view.kind;
    checkTitle.textContent = view.title;
    checkMessage.textContent = view.message;
    checkHint.textContent = view.hint;
    checkUrl.textContent = view.url;
    checkUrl.parentElement?.toggleAttribute("hidden", view.url === "");
    this.#el.checkNote.hidden = true;
    checkResult.hidden = false;
  }

  async #saveGroups(): Promise<void> {
    const { useTabGroups, groupsState } = this.#el;
    try {
      await this.#ports.storage.local.set({ [TAB_GROUPS_KEY]: useTabGroups.checked });
      groupsState.textContent = useTabGroups.checked
        ? "Saved: shared tabs go in the Browser Relay group."
        : "Saved: shared tabs stay where they are.";
    } catch (error) {
      groupsState.textContent = `Not saved: ${errorText(error)}`;
    }
  }

  async #detachAll(): Promise<void> {
    const { detachAll } = this.#el;
    detachAll.disabled = true;
    try {
      await this.#ports.sendMessage({ type: "detachAll" });
    } catch {
      // The status refresh below shows what is still attached.
    }
    await this.#refresh();
  }

  /** Asks the worker for its status, renders it, and schedules the next poll. */
  async #refresh(): Promise<void> {
    const { clock } = this.#ports;
    clock.clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    if (this.#polling) return;
    this.#polling = true;
    let response: unknown;
    try {
      response = await this.#ports.sendMessage({ type: "status" });
    } catch {
      response = undefined;
    } finally {
      this.#polling = false;
    }
    this.#renderStatus(statusView(response, clock.now()));
    if (!document.hidden) {
      clock.clearTimeout(this.#pollTimer);
      this.#pollTimer = clock.setTimeout(() => void this.#refresh(), POLL_MS);
    }
  }

  #renderStatus(view: StatusView): void {
    const { phase, phaseAnnounce, statusDetail, relayUrl, detachAll } = this.#el;
    phase.dataset.tone = view.tone;
    phase.textContent = view.label;
    statusDetail.textContent = view.detail;
    relayUrl.textContent = view.relayUrl === "" ? "—" : view.relayUrl;
    // Announce phase changes, not every tick of the reconnect countdown.
    const announce = `${view.tone}:${view.label.replace(/\d+/g, "")}`;
    if (announce !== this.#lastAnnounced) {
      this.#lastAnnounced = announce;
      phaseAnnounce.textContent = `Status: ${view.label}. ${view.detail}`;
    }
    this.#renderTabs(view.tabs);
    detachAll.disabled = view.tabs.length === 0;
    // Honest states: results made in an earlier connection state are cleared, not kept green.
    this.#stateKey = announce;
    const { checkResult } = this.#el;
    if (this.#checkedIn !== undefined && this.#checkedIn !== announce) {
      checkResult.hidden = true;
      this.#checkedIn = undefined;
    }
    this.#statusTone = view.tone;
    this.#oneMessagePerProblem();
  }

  /** A shown failed check already says what the status detail would: show it only once. */
  #oneMessagePerProblem(): void {
    const { checkResult, statusDetail } = this.#el;
    statusDetail.hidden = !checkResult.hidden && checkResult.dataset.tone === "error" &&
      this.#statusTone === "error";
  }

  #renderTabs(tabs: readonly TabRow[]): void {
    const { noTabs, tabsTable, tabsBody } = this.#el;
    noTabs.hidden = tabs.length > 0;
    tabsTable.hidden = tabs.length === 0;
    const rows = tabs.map((tab) => {
      const row = document.createElement("tr");
      const tabCell = document.createElement("td");
      const title = document.createElement("span");
      title.className = "tab-title";
      title.textContent = tab.title === "" ? `Tab ${tab.tabId}` : tab.title;
      const url = document.createElement("span");
      url.className = "tab-url";
      url.textContent = tab.url;
      tabCell.append(title, url);
      const sessionCell = document.createElement("td");
      const session = document.createElement("code");
      session.textContent = tab.sessionId === "" ? "—" : tab.sessionId;
      sessionCell.append(session);
      const stateCell = document.createElement("td");
      stateCell.textContent = tab.state;
      row.append(tabCell, sessionCell, stateCell);
      return row;
    });
    tabsBody.replaceChildren(...rows);
  }
}

new OptionsPage(chromePagePorts()).start();
