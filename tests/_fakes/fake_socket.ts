/**
 * In-memory `SocketFactory`/`SocketPort` for unit tests. The test plays the relay: it opens the
 * socket, delivers frames, closes it from the far side, and reads what the client sent.
 *
 * Modelled on a browser `WebSocket`:
 * - handlers are bound at creation (the factory contract), nothing fires until the test says so;
 * - `send()` while connecting throws `InvalidStateError`; after `close()` it is discarded;
 * - a client `close()` fires `onClose` with the same code and reason one microtask later
 *   (never synchronously), as the browser's close event arrives after the call returns.
 *
 * @module
 */

import type { SocketFactory, SocketHandlers, SocketPort } from "../../worker/ports.ts";

/** Lifecycle of a {@linkcode FakeSocket}, as `WebSocket.readyState` names it. */
export type FakeSocketState = "connecting" | "open" | "closing" | "closed";

/** One fake WebSocket. */
export class FakeSocket implements SocketPort {
  readonly url: string;
  readonly #handlers: SocketHandlers;
  #state: FakeSocketState = "connecting";
  /** Text frames the client sent while open, in order. */
  readonly sent: string[] = [];
  /** Frames the client tried to send after closing (discarded, as a browser does). */
  readonly discarded: string[] = [];
  /** What the client passed to `close()`, if it closed the socket. */
  clientClose:
    | { readonly code: number | undefined; readonly reason: string | undefined }
    | undefined;
  /** Settable by tests to simulate a relay that does not drain. */
  bufferedAmount = 0;
  /** Called synchronously with each frame the client sends while open (to script a relay). */
  onSend: ((text: string) => void) | undefined;

  constructor(url: string, handlers: SocketHandlers) {
    this.url = url;
    this.#handlers = handlers;
  }

  /** Current state. */
  get state(): FakeSocketState {
    return this.#state;
  }

  /** The sent frames parsed as JSON. */
  get sentJson(): unknown[] {
    return this.sent.map((text) => JSON.parse(text));
  }

  // --- client side (SocketPort) ---

  send(text: string): void {
    if (this.#state === "connecting") {
      throw new DOMException("Still in CONNECTING state", "InvalidStateError");
    }
    if (this.#state !== "open") {
      this.discarded.push(text);
      return;
    }
    this.sent.push(text);
    this.onSend?.(text);
  }

  close(code?: number, reason?: string): void {
    if (this.#state === "closing" || this.#state === "closed") return;
    this.clientClose = { code, reason };
    const wasConnecting = this.#state === "connecting";
    this.#state = "closing";
    queueMicrotask(() => {
      if (this.#state !== "closing") return;
      this.#state = "closed";
      // A browser reports 1006 when a connecting socket is closed by the client.
      this.#handlers.onClose(
        wasConnecting ? 1006 : code ?? 1005,
        wasConnecting ? "" : reason ?? "",
      );
    });
  }

  // --- relay / network side (driven by the test) ---

  /** The upgrade succeeded: fires `onOpen`. */
  open(): void {
    if (this.#state !== "connecting") throw new Error(`Cannot open a ${this.#state} socket`);
    this.#state = "open";
    this.#handlers.onOpen();
  }

  /** Delivers one text frame; objects are JSON-encoded. */
  receive(frame: string | object): void {
    if (this.#state !== "open" && this.#state !== "closing") {
      throw new Error(`Cannot deliver a frame on a ${this.#state} socket`);
    }
    this.#handlers.onMessage(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Fires `onError` (a browser follows it with a close event; call `drop()` for that). */
  error(): void {
    this.#handlers.onError();
  }

  /** The relay or the network closed the socket: fires `onClose` now. */
  drop(code = 1006, reason = ""): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#handlers.onClose(code, reason);
  }

  /**
   * Fires handlers regardless of state: for stale-socket tests that replay late events from a
   * socket the client already replaced.
   */
  replay(event: "open" | "error" | { message: string } | { close: number; reason?: string }): void {
    if (event === "open") this.#handlers.onOpen();
    else if (event === "error") this.#handlers.onError();
    else if ("message" in event) this.#handlers.onMessage(event.message);
    else this.#handlers.onClose(event.close, event.reason ?? "");
  }
}

/** A {@linkcode SocketFactory} that records every socket it creates. */
export class FakeSocketFactory {
  /** Every socket created, oldest first. */
  readonly sockets: FakeSocket[] = [];
  /** Called synchronously after each socket is created (e.g. to script a relay). */
  onCreate: ((socket: FakeSocket) => void) | undefined;
  /** When set, the next `create` throws this (e.g. a `SyntaxError` for a bad URL). */
  failNext: Error | undefined;

  /** The factory function to pass as the `socket` port. */
  readonly create: SocketFactory = (url, handlers) => {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
    const socket = new FakeSocket(url, handlers);
    this.sockets.push(socket);
    this.onCreate?.(socket);
    return socket;
  };

  /** The most recently created socket. */
  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error("No socket was created");
    return socket;
  }

  /** Forgets every socket and hook. */
  reset(): void {
    this.sockets.length = 0;
    this.onCreate = undefined;
    this.failNext = undefined;
  }
}
