/**
 * The small set of errors worker callers catch (style.md item 10). Callers branch on
 * `instanceof` and on the readonly fields, never on `message`.
 *
 * @module
 */

/** Options of {@linkcode RelayProtocolError}. */
export interface RelayProtocolErrorOptions extends ErrorOptions {
  /** Stable machine-readable code, e.g. the gateway's `AUTH_TOKEN_MISMATCH`. */
  readonly code: string;
  /** The request method the error belongs to, e.g. `"connect"`. */
  readonly method?: string;
}

/**
 * The relay answered, but not in a way the protocol accepts (a rejected `connect`, a reply of
 * the wrong shape).
 *
 * @example
 * ```ts
 * const error = new RelayProtocolError("Relay rejected the connect request: unauthorized", {
 *   code: "AUTH_TOKEN_MISMATCH",
 *   method: "connect",
 * });
 * ```
 */
export class RelayProtocolError extends Error {
  override readonly name = "RelayProtocolError";
  /** Stable machine-readable code. */
  readonly code: string;
  /** The request method the error belongs to, when there is one. */
  readonly method: string | undefined;

  /**
   * @param message Sentence-case description without a trailing period.
   * @param options The code, the method and an optional `cause`.
   */
  constructor(message: string, options: RelayProtocolErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.method = options.method;
  }
}

/** Options of {@linkcode ConnectionClosedError}. */
export interface ConnectionClosedErrorOptions extends ErrorOptions {
  /** WebSocket close code, e.g. `1006`. */
  readonly closeCode: number;
  /** WebSocket close reason (may be empty). */
  readonly closeReason: string;
}

/**
 * The relay socket closed; work that was waiting on it fails with this error.
 *
 * @example
 * ```ts
 * const error = new ConnectionClosedError("Relay connection closed: code 1006", {
 *   closeCode: 1006,
 *   closeReason: "",
 * });
 * ```
 */
export class ConnectionClosedError extends Error {
  override readonly name = "ConnectionClosedError";
  /** WebSocket close code. */
  readonly closeCode: number;
  /** WebSocket close reason. */
  readonly closeReason: string;

  /**
   * @param message Sentence-case description without a trailing period.
   * @param options The close code and reason and an optional `cause`.
   */
  constructor(message: string, options: ConnectionClosedErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.closeCode = options.closeCode;
    this.closeReason = options.closeReason;
  }
}

/** Options of {@linkcode HandshakeTimeoutError}. */
export interface HandshakeTimeoutErrorOptions extends ErrorOptions {
  /** The deadline that expired, in milliseconds. */
  readonly timeoutMs: number;
}

/**
 * The relay did not complete the handshake (challenge + hello-ok, or legacy readiness) within
 * the deadline. Built before the deadline starts, so its stack points at the attempt.
 *
 * @example
 * ```ts
 * const error = new HandshakeTimeoutError(
 *   "Relay did not complete the handshake within 8000 ms",
 *   { timeoutMs: 8000 },
 * );
 * ```
 */
export class HandshakeTimeoutError extends Error {
  override readonly name = "HandshakeTimeoutError";
  /** The deadline that expired, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * @param message Sentence-case description without a trailing period.
   * @param options The deadline and an optional `cause`.
   */
  constructor(message: string, options: HandshakeTimeoutErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.timeoutMs = options.timeoutMs;
  }
}

/**
 * The text to show or log for a caught value: an `Error`'s message, or the value as a string
 * (a rejected `chrome.*` call may throw either).
 *
 * @param error What was caught.
 * @returns The message, never empty for an `Error` with a message.
 *
 * @example
 * ```ts
 * errorText(new Error("No tab with id: 5")); // "No tab with id: 5"
 * errorText("gone"); // "gone"
 * ```
 */
export function errorText(error: unknown): string {
  return error instanceof Error && error.message !== "" ? error.message : String(error);
}
