/**
 * A WebSocket test client (npm `ws`, so frames over 64 MiB and custom headers work) that
 * buffers every text frame as parsed JSON and lets tests wait for frames and the close.
 *
 * @module
 */

import { WebSocket } from "ws";
import type { JsonObject } from "../codec/json.ts";

/** How a socket closed. */
export interface CloseInfo {
  /** Close code. */
  readonly code: number;
  /** Close reason. */
  readonly reason: string;
}

/** Options of {@linkcode TestSocket.open}. */
export interface TestSocketOptions {
  /** Extra request headers, e.g. the relay token or an `Origin`. */
  readonly headers?: Record<string, string>;
  /** Largest inbound message. @default {512 MiB} */
  readonly maxPayload?: number;
  /** Called for every parsed text frame, before it is buffered. */
  readonly onFrame?: (frame: JsonObject, socket: TestSocket) => void;
}

/** A rejected upgrade. */
export interface UpgradeRejection {
  /** HTTP status. */
  readonly status: number;
  /** Response body. */
  readonly body: string;
}

/** Default wait for frames and closes in tests. */
export const WAIT_MS = 5_000;

/**
 * A buffered test WebSocket.
 */
export class TestSocket {
  readonly ws: WebSocket;
  /** Every text frame received, parsed; non-JSON frames are kept as `{raw}`. */
  readonly received: JsonObject[] = [];
  /** Resolves once the socket closed. */
  readonly closed: Promise<CloseInfo>;
  #taken = new Set<number>();
  #waiters = new Set<() => void>();
  #onFrame: ((frame: JsonObject, socket: TestSocket) => void) | undefined;
  #closeInfo: CloseInfo | undefined;

  private constructor(ws: WebSocket, options: TestSocketOptions) {
    this.ws = ws;
    this.#onFrame = options.onFrame;
    this.closed = new Promise<CloseInfo>((resolve) => {
      ws.on("close", (code: number, reason: Buffer) => {
        this.#closeInfo = { code, reason: reason.toString() };
        resolve(this.#closeInfo);
        this.#wake();
      });
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const text = data.toString();
      let frame: JsonObject;
      try {
        frame = JSON.parse(text);
      } catch {
        frame = { raw: text };
      }
      this.#onFrame?.(frame, this);
      this.received.push(frame);
      this.#wake();
    });
  }

  /**
   * Opens a socket and resolves once it is open.
   *
   * @throws {UpgradeRejection} (as a rejected value) when the server answers the upgrade with
   *   an HTTP status.
   */
  static open(url: string, options: TestSocketOptions = {}): Promise<TestSocket> {
    const ws = new WebSocket(url, {
      headers: options.headers ?? {},
      maxPayload: options.maxPayload ?? 512 * 1024 * 1024,
    });
    ws.on("error", () => {});
    const socket = new TestSocket(ws, options);
    return new Promise<TestSocket>((resolve, reject) => {
      ws.once("open", () => resolve(socket));
      ws.once("unexpected-response", (_req, res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          ws.terminate();
          reject({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        });
      });
      ws.once("close", () => reject({ status: 0, body: "closed before open" }));
    });
  }

  /**
   * Opens a socket that the server must refuse, and returns the HTTP status and body.
   */
  static async rejection(url: string, options: TestSocketOptions = {}): Promise<UpgradeRejection> {
    try {
      const socket = await TestSocket.open(url, options);
      await socket.close();
    } catch (error) {
      const rejection = error as UpgradeRejection;
      return rejection;
    }
    throw new Error(`Upgrade to ${url} was accepted`);
  }

  /** Sends a JSON object or raw text. */
  send(frame: JsonObject | string): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /**
   * Waits for the first not-yet-taken frame that matches, marks it taken and returns it.
   *
   * @throws {Error} After `timeoutMs` or when the socket closes first.
   */
  async next(
    predicate: (frame: JsonObject) => boolean = () => true,
    timeoutMs = WAIT_MS,
  ): Promise<JsonObject> {
    const find = () => {
      for (let i = 0; i < this.received.length; i++) {
        const frame = this.received[i];
        if (frame !== undefined && !this.#taken.has(i) && predicate(frame)) {
          this.#taken.add(i);
          return frame;
        }
      }
      return undefined;
    };
    const found = find();
    if (found !== undefined) return found;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiter: (() => void) | undefined;
    try {
      return await new Promise<JsonObject>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`No matching frame within ${timeoutMs} ms`)),
          timeoutMs,
        );
        let settled = false;
        waiter = () => {
          // A waiter stays registered until `finally` runs: never take a second frame.
          if (settled) return;
          const frame = find();
          if (frame !== undefined || this.#closeInfo !== undefined) settled = true;
          if (frame !== undefined) resolve(frame);
          else if (this.#closeInfo !== undefined) {
            reject(
              new Error(
                `Socket closed (${this.#closeInfo.code} ${this.#closeInfo.reason}) before a matching frame`,
              ),
            );
          }
        };
        this.#waiters.add(waiter);
        waiter();
      });
    } finally {
      clearTimeout(timer);
      if (waiter !== undefined) this.#waiters.delete(waiter);
    }
  }

  /** Frames not taken yet that match. */
  pending(predicate: (frame: JsonObject) => boolean = () => true): JsonObject[] {
    return this.received.filter((frame, i) => !this.#taken.has(i) && predicate(frame));
  }

  /** Waits for the close, with a deadline. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<CloseInfo> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        this.closed,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Socket not closed within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the socket (if open) and waits for the close to complete. */
  async close(code = 1000, reason = ""): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, reason);
    }
    try {
      return await this.waitClosed();
    } catch {
      this.ws.terminate();
      return await this.closed;
    }
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
