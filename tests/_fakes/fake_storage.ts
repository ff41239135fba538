/**
 * In-memory `StoragePort` for unit tests: two areas (`local`, `session`) with JSON-copy
 * semantics and a `chrome.storage.onChanged`-style event.
 *
 * Semantics modelled on Chrome:
 * - values are JSON-copied on `set` and on `get`, so callers never share objects with the store;
 *   `undefined` values are dropped by `set` (as Chrome does);
 * - `onChanged` fires once per `set`/`remove` call with only the keys whose JSON actually
 *   changed, and not at all when nothing changed;
 * - listeners run after the store is updated and before the returned promise resolves, but never
 *   synchronously inside the caller's `set()` call (one microtask later), so a listener cannot
 *   re-enter code that is still running.
 *
 * @module
 */

import type { PortEvent, StorageArea, StorageChange, StoragePort } from "../../worker/ports.ts";

/** Area names, as passed to `onChanged` listeners. */
export type FakeStorageAreaName = "local" | "session";

type ChangedListener = (changes: Record<string, StorageChange>, areaName: string) => void;

function jsonCopy(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** One in-memory area; values are stored as JSON text. */
class FakeStorageArea implements StorageArea {
  readonly #name: FakeStorageAreaName;
  readonly #data = new Map<string, string>();
  readonly #notify: (changes: Record<string, StorageChange>, areaName: string) => void;
  /** When set, the next call rejects with this error (then it is cleared). */
  failNext: Error | undefined;

  constructor(
    name: FakeStorageAreaName,
    notify: (changes: Record<string, StorageChange>, areaName: string) => void,
  ) {
    this.#name = name;
    this.#notify = notify;
  }

  #takeFailure(): Error | undefined {
    const error = this.failNext;
    this.failNext = undefined;
    return error;
  }

  get(keys: readonly string[]): Promise<Record<string, unknown>> {
    const failure = this.#takeFailure();
    if (failure) return Promise.reject(failure);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const text = this.#data.get(key);
      if (text !== undefined) out[key] = JSON.parse(text);
    }
    return Promise.resolve(out);
  }

  async set(items: Record<string, unknown>): Promise<void> {
    const failure = this.#takeFailure();
    if (failure) throw failure;
    const changes: Record<string, StorageChange> = {};
    for (const [key, value] of Object.entries(items)) {
      if (value === undefined) continue;
      const text = JSON.stringify(value);
      const old = this.#data.get(key);
      if (old === text) continue;
      this.#data.set(key, text);
      changes[key] = old === undefined
        ? { newValue: JSON.parse(text) }
        : { oldValue: JSON.parse(old), newValue: JSON.parse(text) };
    }
    await this.#deliver(changes);
  }

  async remove(keys: readonly string[]): Promise<void> {
    const failure = this.#takeFailure();
    if (failure) throw failure;
    const changes: Record<string, StorageChange> = {};
    for (const key of keys) {
      const old = this.#data.get(key);
      if (old === undefined) continue;
      this.#data.delete(key);
      changes[key] = { oldValue: JSON.parse(old) };
    }
    await this.#deliver(changes);
  }

  async #deliver(changes: Record<string, StorageChange>): Promise<void> {
    if (Object.keys(changes).length === 0) return;
    // One microtask later: listeners never run inside the caller's synchronous code.
    await Promise.resolve();
    this.#notify(changes, this.#name);
  }

  /** Writes values without firing `onChanged` (test setup). */
  seed(items: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(items)) {
      if (value === undefined) this.#data.delete(key);
      else this.#data.set(key, JSON.stringify(value));
    }
  }

  /** A JSON copy of everything in the area. */
  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, text] of this.#data) out[key] = JSON.parse(text);
    return out;
  }

  /** Empties the area without firing `onChanged`. */
  clear(): void {
    this.#data.clear();
    this.failNext = undefined;
  }
}

/**
 * In-memory {@linkcode StoragePort}.
 *
 * @example
 * ```ts
 * const storage = new FakeStorage({ local: { gatewayToken: "t" } });
 * storage.onChanged.addListener((changes, area) => console.log(area, changes));
 * await storage.local.set({ relayPort: 9999 }); // logs: local { relayPort: { newValue: 9999 } }
 * ```
 */
export class FakeStorage implements StoragePort {
  readonly local: FakeStorageArea;
  readonly session: FakeStorageArea;
  readonly onChanged: PortEvent<ChangedListener>;
  readonly #listeners = new Set<ChangedListener>();

  constructor(
    initial: {
      readonly local?: Record<string, unknown>;
      readonly session?: Record<string, unknown>;
    } = {},
  ) {
    const notify = (changes: Record<string, StorageChange>, areaName: string) =>
      this.emit(changes, areaName);
    this.local = new FakeStorageArea("local", notify);
    this.session = new FakeStorageArea("session", notify);
    if (initial.local) this.local.seed(initial.local);
    if (initial.session) this.session.seed(initial.session);
    this.onChanged = {
      addListener: (listener) => void this.#listeners.add(listener),
      removeListener: (listener) => void this.#listeners.delete(listener),
    };
  }

  /** Number of registered `onChanged` listeners (to check that owners remove theirs). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Fires `onChanged` directly, with JSON copies of `changes` for each listener. */
  emit(changes: Record<string, StorageChange>, areaName: string): void {
    for (const listener of [...this.#listeners]) {
      const copy: Record<string, StorageChange> = {};
      for (const [key, change] of Object.entries(changes)) {
        const entry: { oldValue?: unknown; newValue?: unknown } = {};
        if ("oldValue" in change) entry.oldValue = jsonCopy(change.oldValue);
        if ("newValue" in change) entry.newValue = jsonCopy(change.newValue);
        copy[key] = entry;
      }
      listener(copy, areaName);
    }
  }

  /** Empties both areas and drops all listeners. */
  reset(): void {
    this.local.clear();
    this.session.clear();
    this.#listeners.clear();
  }
}
