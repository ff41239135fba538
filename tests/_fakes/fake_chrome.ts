/**
 * In-memory `chrome.windows`, `chrome.action`, `chrome.alarms` and `chrome.runtime` for unit
 * tests, plus a `Clock` that delegates to the (possibly faked) globals at call time.
 *
 * @module
 */

import type {
  ActionPort,
  AlarmsPort,
  Clock,
  RuntimeMessageListener,
  RuntimePort,
  TabInfo,
  WindowsPort,
} from "../../worker/ports.ts";
import { FakeEvent, type FakeTabs } from "./fake_tabs.ts";
import { systemClock } from "../../worker/system_clock.ts";

/**
 * A clock over the globals, looked up at call time, so `@sinonjs/fake-timers` installed after
 * import still drives it.
 *
 * @returns A {@linkcode Clock}.
 */
export function globalClock(): Clock {
  return { ...systemClock(), random: () => 0.5 };
}

/** In-memory {@linkcode WindowsPort} over a {@linkcode FakeTabs}. */
export class FakeWindows implements WindowsPort {
  readonly #tabs: FakeTabs;
  #nextId = 100;
  /** The window `getLastFocused()` reports. */
  lastFocused = 1;
  /** Windows focused through `update`, in order. */
  readonly focused: number[] = [];

  constructor(tabs: FakeTabs) {
    this.#tabs = tabs;
  }

  create(
    properties: { readonly url: string; readonly focused: boolean },
  ): Promise<{ readonly id?: number; readonly tabs?: TabInfo[] }> {
    const id = this.#nextId++;
    const tab = this.#tabs.add({ url: properties.url, windowId: id, active: true });
    if (properties.focused) this.lastFocused = id;
    return Promise.resolve({ id, tabs: [{ ...tab }] });
  }

  update(windowId: number, properties: { readonly focused: boolean }): Promise<void> {
    if (properties.focused) {
      this.lastFocused = windowId;
      this.focused.push(windowId);
    }
    return Promise.resolve();
  }

  getLastFocused(): Promise<{ readonly id?: number }> {
    return Promise.resolve({ id: this.lastFocused });
  }
}

/** A badge as last set. */
export interface FakeBadge {
  readonly text: string;
  readonly color: string;
  readonly title: string;
}

/** In-memory {@linkcode ActionPort}: remembers the last badge per tab (key `global` for none). */
export class FakeAction implements ActionPort {
  readonly badges = new Map<number | "global", FakeBadge>();
  readonly onClicked: FakeEvent<(tab: TabInfo) => void> = new FakeEvent();

  setBadge(tabId: number | undefined, badge: FakeBadge): Promise<void> {
    this.badges.set(tabId ?? "global", { ...badge });
    return Promise.resolve();
  }

  /** The badge of a tab, or undefined when never set. */
  badgeOf(tabId: number): FakeBadge | undefined {
    return this.badges.get(tabId);
  }
}

/** In-memory {@linkcode AlarmsPort}. */
export class FakeAlarms implements AlarmsPort {
  readonly alarms = new Map<string, { readonly periodInMinutes: number }>();
  readonly onAlarm: FakeEvent<(alarm: { readonly name: string }) => void> = new FakeEvent();

  create(name: string, info: { readonly periodInMinutes: number }): Promise<void> {
    this.alarms.set(name, { ...info });
    return Promise.resolve();
  }

  get(name: string): Promise<{ readonly name: string } | undefined> {
    return Promise.resolve(this.alarms.has(name) ? { name } : undefined);
  }

  /** Fires the alarm. */
  fire(name: string): void {
    this.onAlarm.emit({ name });
  }
}

/** In-memory {@linkcode RuntimePort}. */
export class FakeRuntime implements RuntimePort {
  readonly version = "0.1.0";
  readonly userAgent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36";
  /** How many times the options page was opened. */
  optionsOpened = 0;
  readonly onMessage: FakeEvent<RuntimeMessageListener> = new FakeEvent();
  readonly onInstalled: FakeEvent<(details: { readonly reason: string }) => void> = new FakeEvent();
  readonly onStartup: FakeEvent<() => void> = new FakeEvent();

  openOptionsPage(): Promise<void> {
    this.optionsOpened++;
    return Promise.resolve();
  }

  /**
   * Sends a message as the options page would; resolves with the first response, or
   * `undefined` when no listener answers.
   */
  send(message: unknown): Promise<unknown> {
    return new Promise((resolve) => {
      let answered = false;
      const reply = (response: unknown) => {
        if (answered) return;
        answered = true;
        resolve(response);
      };
      const results = this.onMessage.emit(message, reply);
      if (!answered && !results.includes(true)) reply(undefined);
    });
  }
}
