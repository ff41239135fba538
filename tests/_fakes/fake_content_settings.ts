/**
 * In-memory `chrome.contentSettings` for unit tests, with Chrome's two layers: the person's own
 * rules and the extension's rules above them. `effective()` answers as Chrome would for a URL
 * (an extension rule wins over the person's; the default is `ask`).
 *
 * @module
 */

import type {
  ContentSettingsPort,
  ContentSettingType,
  ContentSettingValue,
} from "../../worker/ports.ts";

/** Whether a `scheme://host:port/*` pattern matches a URL (the only shape the emulation sets). */
function matches(pattern: string, url: string): boolean {
  const parsed = new URL(url);
  const port = parsed.port !== "" ? parsed.port : parsed.protocol === "https:" ? "443" : "80";
  return pattern === `${parsed.protocol}//${parsed.hostname}:${port}/*`;
}

/** In-memory {@linkcode ContentSettingsPort}. */
export class FakeContentSettings implements ContentSettingsPort {
  /** The person's own rules: type → pattern → value. Never written by the port. */
  readonly person = new Map<ContentSettingType, Map<string, ContentSettingValue>>();
  /** The extension's rules: type → pattern → value. */
  readonly extension = new Map<ContentSettingType, Map<string, ContentSettingValue>>();
  /** When set, the next `set` rejects with this message (as Chrome does for a bad pattern). */
  failNextSet: string | undefined;

  clear(type: ContentSettingType): Promise<void> {
    this.extension.delete(type);
    return Promise.resolve();
  }

  set(type: ContentSettingType, pattern: string, setting: ContentSettingValue): Promise<void> {
    if (this.failNextSet !== undefined) {
      const message = this.failNextSet;
      this.failNextSet = undefined;
      return Promise.reject(new Error(message));
    }
    let rules = this.extension.get(type);
    if (rules === undefined) {
      rules = new Map();
      this.extension.set(type, rules);
    }
    rules.set(pattern, setting);
    return Promise.resolve();
  }

  /** The setting Chrome applies to `url` for `type`. */
  effective(type: ContentSettingType, url: string): ContentSettingValue {
    for (const layer of [this.extension, this.person]) {
      for (const [pattern, value] of layer.get(type) ?? []) {
        if (matches(pattern, url)) return value;
      }
    }
    return "ask";
  }

  /** The extension's rules as plain data, for `deepEqual`. */
  snapshot(): Record<string, Record<string, ContentSettingValue>> {
    return Object.fromEntries(
      [...this.extension].map(([type, rules]) => [type, Object.fromEntries(rules)]),
    );
  }
}
