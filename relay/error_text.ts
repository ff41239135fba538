/**
 * Error texts only the relay produces: what it answers CDP clients when the extension is away,
 * slow or stopping, what it answers for methods it refuses, and how it rejects a handshake. The
 * extension never reads them (it acts on close codes), so they are the relay's own and stay out
 * of the published codec.
 *
 * @module
 */

import type { CdpError } from "../codec/cdp_frame.ts";

/**
 * Fixed error texts of the relay.
 *
 * @example
 * ```ts
 * import { ErrorText } from "./error_text.ts";
 *
 * console.log(ErrorText.ExtensionDisconnected); // "extension disconnected"
 * ```
 */
export const ErrorText: {
  readonly ExtensionDisconnected: "extension disconnected";
  readonly ExtensionNotConnected: "Extension not connected";
  readonly ServerStopping: "server stopping";
  readonly MalformedExtensionError: "malformed error from extension";
  readonly NoTargetWithGivenId: "No target with given id found";
  readonly TargetIdRequired: "targetId required";
  readonly ProtocolMismatch: "protocol mismatch";
  readonly UnauthorizedTokenMissing: "unauthorized: gateway token missing";
  readonly UnauthorizedTokenMismatch: "unauthorized: gateway token mismatch";
  readonly CannotCreateBrowserContext:
    "Cannot create a browser context through Browser Relay as an extension cannot create browser contexts: use the default context (browser.contexts()[0] in Playwright, browser.defaultBrowserContext() in Puppeteer)";
} = Object.freeze({
  ExtensionDisconnected: "extension disconnected",
  ExtensionNotConnected: "Extension not connected",
  ServerStopping: "server stopping",
  MalformedExtensionError: "malformed error from extension",
  NoTargetWithGivenId: "No target with given id found",
  TargetIdRequired: "targetId required",
  ProtocolMismatch: "protocol mismatch",
  UnauthorizedTokenMissing: "unauthorized: gateway token missing",
  UnauthorizedTokenMismatch: "unauthorized: gateway token mismatch",
  CannotCreateBrowserContext:
    "Cannot create a browser context through Browser Relay as an extension cannot create browser contexts: use the default context (browser.contexts()[0] in Playwright, browser.defaultBrowserContext() in Puppeteer)",
});

/**
 * Builds the relay's timeout error for a forwarded command.
 *
 * @param method The CDP method that timed out.
 * @returns `extension request timeout: <method>`.
 *
 * @example
 * ```ts
 * import { requestTimeoutError } from "./error_text.ts";
 *
 * requestTimeoutError("Page.navigate"); // "extension request timeout: Page.navigate"
 * ```
 */
export function requestTimeoutError(method: string): string {
  return `extension request timeout: ${method}`;
}

/**
 * Builds the error for a method the relay refuses.
 *
 * @param method The CDP method.
 * @returns `<method> is not supported by Browser Relay`.
 *
 * @example
 * ```ts
 * import { unsupportedMethodError } from "./error_text.ts";
 *
 * unsupportedMethodError("Browser.crash"); // "Browser.crash is not supported by Browser Relay"
 * ```
 */
export function unsupportedMethodError(method: string): string {
  return `${method} is not supported by Browser Relay`;
}

/**
 * Reads an error the extension relayed from Chrome. `chrome.debugger` rejects with the CDP error
 * serialised as JSON (`{"code":-32000,"message":"Not allowed"}`); a client must see Chrome's own
 * code and message, as on Chrome's endpoint. Any other text is a message of code -32000.
 *
 * @param text The `error` string of the extension's reply.
 * @returns The CDP error code and message.
 *
 * @example
 * ```ts
 * import { cdpError } from "./error_text.ts";
 *
 * cdpError('{"code":-32000,"message":"Not allowed"}'); // { code: -32000, message: "Not allowed" }
 * cdpError("extension disconnected"); // { code: -32000, message: "extension disconnected" }
 * ```
 */
export function cdpError(text: string): CdpError & { readonly code: number } {
  if (text.startsWith("{") && text.endsWith("}")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === "object" && parsed !== null) {
        const { code, message, data } = parsed as {
          code?: unknown;
          message?: unknown;
          data?: unknown;
        };
        if (Number.isInteger(code) && typeof message === "string" && message !== "") {
          return typeof data === "string"
            ? { code: code as number, message, data }
            : { code: code as number, message };
        }
      }
    } catch {
      // Not JSON: the text is the message.
    }
  }
  return { code: -32000, message: text };
}
