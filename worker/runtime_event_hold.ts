/**
 * Puts a session's `Runtime.*` events back behind the replies they follow in Chrome.
 *
 * Chrome runs the commands of one debugger session in order: the replies to the commands sent
 * before `Runtime.enable` come out before the `Runtime.executionContextCreated` events that the
 * enable emits. `chrome.debugger` does not keep that order for an extension: `onEvent` and the
 * `sendCommand` results reach the service worker on separate paths, and under load an event
 * overtakes the reply of an earlier command. Measured with Chromium 156 through the relay: 47 of
 * 3,311 context events overtook a reply of their session, 4 of them the reply to
 * `Page.getFrameTree`; through Chrome's own endpoint, none did.
 *
 * Clients depend on that order. Playwright listens for execution contexts only once
 * `Page.getFrameTree` has answered, so a context that overtakes that reply is dropped, and every
 * evaluation in its frame waits forever (for an out-of-process iframe, `frame.evaluate()`).
 *
 * While `Runtime.enable` on a session waits behind commands sent earlier on it, this holds the
 * session's `Runtime.*` events, in order, until those commands are answered, then releases them
 * right after the last reply. Only `Runtime` events are held: before the enable, a fresh session
 * emits none, and the other domains' events may come before those replies in Chrome too
 * (Playwright would fail an assertion on a `Page.frameAttached` for a frame it already has). A
 * hold lasts at most `maxHoldMs`, so a slow earlier command (an `awaitPromise` evaluation) never
 * holds the session's events for longer.
 *
 * @module
 */

import type { CdpCall } from "../codec/extension_frame.ts";
import type { Clock, TimerHandle } from "./ports.ts";

/** Options of {@linkcode RuntimeEventHold}. */
export interface RuntimeEventHoldOptions {
  /** Sends one event to the relay. */
  readonly send: (event: CdpCall) => void;
  /**
   * Longest a session's events are held.
   *
   * @default {1000}
   */
  readonly maxHoldMs?: number;
}

interface Hold {
  /** Commands sent before the `Runtime.enable` and not answered yet. */
  readonly before: Set<object>;
  /** Held events, in arrival order. */
  readonly events: CdpCall[];
  timer: TimerHandle | undefined;
}

/**
 * Holds `Runtime.*` events of a session from its `Runtime.enable` until the commands sent before
 * it on the same session are answered.
 *
 * @example
 * ```ts
 * import { systemClock } from "./system_clock.ts";
 *
 * const hold = new RuntimeEventHold(systemClock(), { send: (event) => console.log(event) });
 * const getFrameTree = {};
 * hold.enabled("cb-tab-1", [getFrameTree]);
 * hold.event({ method: "Runtime.executionContextCreated", sessionId: "cb-tab-1" }); // true: held
 * hold.answered("cb-tab-1", getFrameTree); // sends the held event
 * hold.close();
 * ```
 */
export class RuntimeEventHold {
  readonly #clock: Clock;
  readonly #send: (event: CdpCall) => void;
  readonly #maxHoldMs: number;
  /** Session id → its hold. Empty on the hot path. */
  readonly #holds = new Map<string, Hold>();

  /**
   * Creates the hold; it keeps no timer until a session is held.
   *
   * @param clock The clock that times `maxHoldMs`.
   * @param options Where released events go, and the longest hold.
   * @throws {RangeError} If `maxHoldMs` is not positive and finite.
   */
  constructor(clock: Clock, options: RuntimeEventHoldOptions) {
    const ms = options.maxHoldMs ?? 1000;
    if (!(ms > 0) || !Number.isFinite(ms)) {
      throw new RangeError(
        `Cannot create a Runtime event hold: "maxHoldMs" must be positive, got "${ms}"`,
      );
    }
    this.#clock = clock;
    this.#send = options.send;
    this.#maxHoldMs = ms;
  }

  /** True while some session is held. */
  get active(): boolean {
    return this.#holds.size > 0;
  }

  /**
   * `Runtime.enable` was sent on `sessionId`: holds its `Runtime.*` events until every command
   * in `before` is answered. Nothing is held when `before` is empty.
   *
   * @param sessionId The session (a tab's relay session or a child session).
   * @param before The commands sent on it earlier and still unanswered, as identity tokens.
   */
  enabled(sessionId: string, before: Iterable<object>): void {
    let hold = this.#holds.get(sessionId);
    for (const command of before) {
      if (hold === undefined) {
        hold = { before: new Set(), events: [], timer: undefined };
        this.#holds.set(sessionId, hold);
        const started = hold;
        hold.timer = this.#clock.setTimeout(() => {
          started.timer = undefined;
          this.#release(sessionId, started);
        }, this.#maxHoldMs);
      }
      hold.before.add(command);
    }
  }

  /**
   * Offers an event; a `Runtime.*` event of a held session is kept.
   *
   * @param event The event with its outer session id.
   * @returns True when held (the caller must not send it).
   */
  event(event: CdpCall): boolean {
    const { sessionId } = event;
    if (sessionId === undefined || !event.method.startsWith("Runtime.")) return false;
    const hold = this.#holds.get(sessionId);
    if (hold === undefined) return false;
    hold.events.push(event);
    return true;
  }

  /**
   * A command of `sessionId` was answered (its reply already sent); the last one a hold waits for
   * releases the held events.
   *
   * @param sessionId The session the command was sent on.
   * @param command The command's identity token.
   */
  answered(sessionId: string | undefined, command: object): void {
    if (sessionId === undefined) return;
    const hold = this.#holds.get(sessionId);
    if (hold === undefined || !hold.before.delete(command) || hold.before.size > 0) return;
    this.#release(sessionId, hold);
  }

  /** Drops every hold and its timer; held events are not sent (the socket is gone). */
  close(): void {
    for (const hold of this.#holds.values()) this.#clock.clearTimeout(hold.timer);
    this.#holds.clear();
  }

  #release(sessionId: string, hold: Hold): void {
    if (this.#holds.get(sessionId) !== hold) return;
    this.#holds.delete(sessionId);
    this.#clock.clearTimeout(hold.timer);
    for (const event of hold.events) this.#send(event);
  }
}
