/**
 * Which pages Chrome lets an extension debug.
 *
 * @module
 */

const RESTRICTED =
  /^(chrome|chrome-extension|chrome-untrusted|chrome-search|devtools|edge|about:devtools|view-source)(:|$)|^https:\/\/chromewebstore\.google\.com\//;

/**
 * Tells whether Chrome lets an extension debug a page at `url`: the one rule for the popup's
 * share button and for every attach (`worker/tab_attachment.ts`).
 *
 * @param url The tab URL; an unknown URL counts as shareable.
 * @returns False for `chrome://` and other browser pages and the Chrome Web Store.
 *
 * @example
 * ```ts
 * isShareableUrl("chrome://settings"); // false
 * ```
 */
export function isShareableUrl(url: string | undefined): boolean {
  return url === undefined || !RESTRICTED.test(url);
}
