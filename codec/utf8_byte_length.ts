/**
 * UTF-8 size of a string without encoding it.
 *
 * @module
 */

/**
 * Counts the UTF-8 bytes of a string without allocating, as `TextEncoder` would encode it (a
 * lone surrogate counts as the 3 bytes of U+FFFD). Frame size limits are in these bytes.
 *
 * @param text The string.
 * @returns Its UTF-8 length in bytes.
 *
 * @example
 * ```ts
 * import { utf8ByteLength } from "@browser-relay/codec";
 *
 * utf8ByteLength("é€😀"); // 2 + 3 + 4 = 9
 * ```
 */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
