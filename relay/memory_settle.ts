/**
 * Gives memory back after large frames (issue 14: "after every load test, the relay's RSS must
 * come back within 64 MiB of its idle baseline").
 *
 * A 255 MiB frame costs about five copies while it is handled (received chunks, the joined
 * buffer, the decoded string, the parsed value, the forwarded text), over 1 GiB at the peak.
 * All of it is garbage a moment later, but an idle relay allocates nothing, so V8 has no reason
 * to collect: measured on Deno 2.9.6, RSS was still 1086 MiB 30 s after such a frame (idle
 * 55 MiB). One full collection returns it to the OS at once. So after the last large frame of
 * a burst, and only then, the relay asks for one, through `gc()`, which exists when the relay
 * runs with `--v8-flags=--expose-gc` (as `deno task relay` and `deno task start` do). Without
 * the flag nothing happens and V8 collects whenever it next needs to. The same tasks set
 * `MALLOC_MMAP_THRESHOLD_=65536` so that glibc unmaps freed socket chunks at once; without it
 * about 260 MiB of freed, fragmented pages stayed mapped for 35–60+ s after the collection.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/** Options of {@linkcode MemorySettle}. */
export interface MemorySettleOptions {
  /** Time source of the delay. */
  readonly clock: Clock;
  /** Frames of at least this many bytes count as large. */
  readonly thresholdBytes: number;
  /** Quiet time after the last large frame before collecting. */
  readonly delayMs: number;
  /** Runs a full collection; `undefined` when the runtime offers none. */
  readonly collect: (() => void) | undefined;
}

/**
 * The runtime's `gc()`, present under `--v8-flags=--expose-gc`.
 *
 * @returns The function, or `undefined`.
 */
function exposedGc(): (() => void) | undefined {
  const gc: unknown = Reflect.get(globalThis, "gc");
  return typeof gc === "function" ? () => gc() : undefined;
}

/**
 * Schedules one full collection after each burst of large frames.
 *
 * @example
 * ```ts ignore
 * const settle = new MemorySettle({ clock, thresholdBytes: 8 << 20, delayMs: 1000, collect: MemorySettle.exposedGc() });
 * ws.on("message", (data: Buffer) => settle.note(data.length));
 * ```
 */
export class MemorySettle {
  readonly #options: MemorySettleOptions;
  #timer: unknown;
  #closed = false;
  #collections = 0;

  /**
   * Creates an idle settle.
   *
   * @param options Clock, threshold, delay and the collection function.
   */
  constructor(options: MemorySettleOptions) {
    this.#options = options;
  }

  /** The runtime's `gc()` when exposed, else `undefined`. */
  static exposedGc(): (() => void) | undefined {
    return exposedGc();
  }

  /** Collections run so far. */
  get collections(): number {
    return this.#collections;
  }

  /**
   * Records a frame; a large one (re)starts the quiet period.
   *
   * @param bytes The frame's size.
   */
  note(bytes: number): void {
    if (this.#closed || this.#options.collect === undefined) return;
    if (bytes < this.#options.thresholdBytes) return;
    const clock = this.#options.clock;
    clock.clearTimeout(this.#timer);
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      this.#collections++;
      this.#options.collect?.();
    }, this.#options.delayMs);
  }

  /** Cancels a pending collection; idempotent. */
  close(): void {
    this.#closed = true;
    this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
