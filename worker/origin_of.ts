/**
 * The origin the popup shows for a tab.
 *
 * @module
 */

/**
 * The origin shown for a tab URL.
 *
 * @param url The tab URL.
 * @returns `scheme://host[:port]`, or the URL itself when it has no origin (`about:blank`).
 *
 * @example
 * ```ts
 * originOf("https://example.com/a?b"); // "https://example.com"
 * ```
 */
export function originOf(url: string): string {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? url : origin;
  } catch {
    return url;
  }
}
