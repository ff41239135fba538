import assert from "node:assert/strict";
import { ErrorText, requestTimeoutError, unsupportedMethodError } from "../../relay/error_text.ts";

Deno.test("requestTimeoutError() names the method", () => {
  assert.equal(requestTimeoutError("Page.navigate"), "extension request timeout: Page.navigate");
});

Deno.test("unsupportedMethodError() names the method", () => {
  assert.equal(
    unsupportedMethodError("Browser.crash"),
    "Browser.crash is not supported by Browser Relay",
  );
});

Deno.test("ErrorText() is frozen", () => {
  assert.equal(Object.isFrozen(ErrorText), true);
  assert.equal(ErrorText.ExtensionNotConnected, "Extension not connected");
});
