/**
 * The worker's half of the permission emulation (issue 13): it replaces the extension's
 * `chrome.contentSettings` rules for one content type with the rules the relay has in force
 * (`BrowserRelay.setContentSettings`), one replacement at a time, and clears them all when the
 * relay connection closes or opens (no client of a new connection holds a grant). Extension rules are a layer above the person's own
 * settings: clearing them brings back exactly what the person had, without reading or writing
 * the person's settings.
 *
 * @module
 */

import type { ContentSettingsPort, ContentSettingType, ContentSettingValue } from "./ports.ts";

/** One rule: a content setting pattern and its value. */
export interface ContentSettingRuleView {
  readonly pattern: string;
  readonly setting: ContentSettingValue;
}

/** Every content type the permission emulation sets. */
export const CONTENT_SETTING_TYPES: readonly ContentSettingType[] = [
  "location",
  "notifications",
  "camera",
  "microphone",
  "clipboard",
];

/**
 * Applies the relay's content setting rules in the order they arrive.
 *
 * @example
 * ```ts ignore
 * const bridge = new ContentSettingsBridge(ports.contentSettings);
 * await bridge.replace("location", [{ pattern: "https://example.com:443/*", setting: "allow" }]);
 * ```
 */
export class ContentSettingsBridge {
  readonly #port: ContentSettingsPort;
  /** The last replacement: each one starts after the previous settled, so the last one wins. */
  #queue: Promise<void> = Promise.resolve();

  /**
   * Creates the bridge.
   *
   * @param port `chrome.contentSettings`.
   */
  constructor(port: ContentSettingsPort) {
    this.#port = port;
  }

  /**
   * Replaces every rule of `type` with `rules`.
   *
   * @param type The content type.
   * @param rules The rules in force; empty clears the type.
   * @returns Resolves once Chrome has them; rejects with Chrome's error.
   */
  replace(type: ContentSettingType, rules: readonly ContentSettingRuleView[]): Promise<void> {
    return this.#enqueue(async () => {
      await this.#port.clear(type);
      for (const rule of rules) await this.#port.set(type, rule.pattern, rule.setting);
    });
  }

  /**
   * Clears every type the permission emulation sets, whether or not this worker set it: rules
   * outlive a worker restart, and no other part of the extension sets content settings.
   *
   * @returns Resolves once cleared; rejects with Chrome's first error.
   */
  clearAll(): Promise<void> {
    return this.#enqueue(async () => {
      for (const type of CONTENT_SETTING_TYPES) await this.#port.clear(type);
    });
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(work);
    // A failed replacement must not stop the next one.
    this.#queue = run.catch(() => {});
    return run;
  }
}
