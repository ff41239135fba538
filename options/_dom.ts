/**
 * The one DOM look-up the pages share: an element by id, of the expected class, or a clear error
 * naming the page whose markup lacks it.
 *
 * @module
 */

/**
 * Returns the element with `id`, checked to be an instance of `type`.
 *
 * @param page The page, for the error ("options page", "popup", …).
 * @param id The element's id.
 * @param type The expected element class, e.g. `HTMLButtonElement`.
 * @returns The element.
 * @throws {TypeError} When it is missing or of another class.
 */
export function byId<T extends HTMLElement>(
  page: string,
  id: string,
  type: { new (): T; prototype: T },
): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) {
    throw new TypeError(`Cannot start ${page} as element "#${id}" is missing`);
  }
  return found;
}
