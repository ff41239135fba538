/**
 * Frame batches on the `/extension` socket (docs/protocol-extensions.md, "Frame batches"): one
 * WebSocket message that carries several relay frames as a JSON array, in order. Used only when
 * both sides agreed in the handshake: the extension lists {@linkcode FRAME_BATCH_CAP} in
 * `connect.caps`, and the relay answers with a positive `policy.maxBatchFrames`. A peer that did
 * not agree ignores an array (protocol §4.5), so neither side may send one unasked.
 *
 * A batch of one frame is never sent: one frame goes out as itself, byte for byte what it would
 * be without batching.
 *
 * @module
 */

import { parseInput, resolveMaxBytes } from "./_check.ts";
import { addIssue, asIssues, describe, type IssueList } from "./_check.ts";
import type { DecodeResult } from "./issue.ts";
import { MAX_FRAME_BYTES } from "./limits.ts";

/** The capability the extension lists in `connect.caps` to offer frame batches. */
export const FRAME_BATCH_CAP = "frame-batch-v1";

/**
 * Frames per batch that the project's relay allows in `policy.maxBatchFrames`.
 */
export const DEFAULT_MAX_BATCH_FRAMES = 64;

/**
 * Frames of at least this many UTF-16 code units are never batched: they go out alone, after
 * the frames queued before them, so a batch never costs a large copy.
 */
export const MAX_BATCHED_FRAME_CHARS = 65_536;

/**
 * Tells whether a message is a frame batch: its text starts with `[`.
 *
 * @param message The message text, or its UTF-8 bytes.
 * @returns `true` for a batch.
 */
export function isFrameBatch(message: string | Uint8Array): boolean {
  return (typeof message === "string" ? message.charCodeAt(0) : message[0]) === 0x5b;
}

/**
 * Joins encoded frames into one message: the frame itself when there is one, else a JSON array.
 *
 * @param frames Encoded frames (each one JSON object text, e.g. from `encodeExtensionFrame`).
 * @returns The message text.
 *
 * @example
 * ```ts
 * import { encodeFrameBatch } from "@browser-relay/codec";
 *
 * encodeFrameBatch(['{"method":"pong"}']); // '{"method":"pong"}'
 * encodeFrameBatch(['{"id":1,"result":{}}', '{"id":2,"result":{}}']);
 * // '[{"id":1,"result":{}},{"id":2,"result":{}}]'
 * ```
 */
export function encodeFrameBatch(frames: readonly string[]): string {
  return frames.length === 1 ? frames[0]! : `[${frames.join(",")}]`;
}

/** Options of {@linkcode decodeFrameBatch}. */
export interface DecodeFrameBatchOptions {
  /**
   * Maximum message size in UTF-8 bytes; larger input is rejected with `too_large` before parsing.
   *
   * @default {268435456}
   */
  readonly maxBytes?: number;
}

/**
 * Parses one batch message into its elements, still unvalidated: pass each to
 * `validateExtensionFrame`, in order. Never throws.
 *
 * @param input Message text, or its UTF-8 bytes.
 * @param options Size limit.
 * @returns The elements, or issues when the message is not JSON, too large, or not an array.
 *
 * @example
 * ```ts
 * import { decodeFrameBatch, validateExtensionFrame } from "@browser-relay/codec";
 *
 * const batch = decodeFrameBatch('[{"method":"ping"},{"method":"pong"}]');
 * if (batch.ok) for (const value of batch.frame) console.log(validateExtensionFrame(value).ok);
 * ```
 */
export function decodeFrameBatch(
  input: string | Uint8Array,
  options: DecodeFrameBatchOptions = {},
): DecodeResult<readonly unknown[]> {
  const parsed = parseInput(input, resolveMaxBytes(options.maxBytes, MAX_FRAME_BYTES));
  if (!parsed.ok) return parsed;
  if (!Array.isArray(parsed.value)) {
    const issues: IssueList = [];
    addIssue(issues, "wrong_type", [], "array of frames", describe(parsed.value));
    return { ok: false, issues: asIssues(issues) };
  }
  return { ok: true, frame: parsed.value };
}

/** Options of {@linkcode FrameBatcher}. */
export interface FrameBatcherOptions {
  /** Most frames in one message (the relay's `policy.maxBatchFrames`); 1 turns batching off. */
  readonly maxFrames: number;
  /**
   * When queued frames are sent. The default sends them once the current task's synchronous
   * work and its microtasks are done.
   *
   * @default {queueMicrotask}
   */
  readonly schedule?: (flush: () => void) => void;
}

/**
 * Collects the frames sent during one turn of work and sends them as one message. Order is kept
 * across batched and unbatched frames: a large frame first sends what is queued, then itself.
 *
 * @example
 * ```ts
 * import { FrameBatcher } from "@browser-relay/codec";
 *
 * const sent: string[] = [];
 * const batcher = new FrameBatcher((text) => sent.push(text), { maxFrames: 64 });
 * batcher.push('{"id":1,"result":{}}');
 * batcher.push('{"id":2,"result":{}}');
 * batcher.flush();
 * sent; // ['[{"id":1,"result":{}},{"id":2,"result":{}}]']
 * ```
 */
export class FrameBatcher {
  readonly #send: (text: string) => void;
  readonly #maxFrames: number;
  readonly #schedule: (flush: () => void) => void;
  #queue: string[] = [];
  #chars = 0;
  #scheduled = false;
  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /**
   * Creates an empty batcher.
   *
   * @param send Sends one message (a frame or a batch).
   * @param options Batch size and when to send.
   * @throws {RangeError} When `maxFrames` is not a positive integer.
   */
  constructor(send: (text: string) => void, options: FrameBatcherOptions) {
    if (!Number.isSafeInteger(options.maxFrames) || options.maxFrames < 1) {
      throw new RangeError(
        `Cannot create a frame batcher as "maxFrames" must be a positive integer: current value is ${options.maxFrames}`,
      );
    }
    this.#send = send;
    this.#maxFrames = options.maxFrames;
    // Called as a plain function: a browser's `queueMicrotask` refuses any other `this`.
    this.#schedule = options.schedule ?? ((flush) => queueMicrotask(flush));
  }

  /** Frames queued and not yet sent. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Queues one encoded frame, or sends it at once (after the queue) when it is large or batching
   * is off.
   *
   * @param text One encoded frame.
   */
  push(text: string): void {
    if (this.#maxFrames === 1 || text.length >= MAX_BATCHED_FRAME_CHARS) {
      this.flush();
      this.#send(text);
      return;
    }
    if (this.#chars + text.length > MAX_BATCHED_FRAME_CHARS * 4) this.flush();
    this.#queue.push(text);
    this.#chars += text.length;
    if (this.#queue.length >= this.#maxFrames) {
      this.flush();
      return;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(this.#onTurnEnd);
    }
  }

  /** Sends the queued frames now, as one message. */
  flush(): void {
    if (this.#queue.length === 0) return;
    const frames = this.#queue;
    this.#queue = [];
    this.#chars = 0;
    this.#send(encodeFrameBatch(frames));
  }

  /**
   * Drops the queued frames (the socket is gone).
   *
   * @returns How many were dropped.
   */
  discard(): number {
    const dropped = this.#queue.length;
    this.#queue = [];
    this.#chars = 0;
    return dropped;
  }
}
