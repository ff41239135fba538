import assert from "node:assert/strict";
import {
  cdpError,
  ErrorText,
  requestTimeoutError,
  unsupportedMethodError,
} from "../../relay/error_text.ts";

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

Deno.test("cdpError() unwraps the JSON chrome.debugger rejects with, and keeps other text", () => {
  assert.deepEqual(cdpError('{"code":-32000,"message":"Not allowed"}'), {
    code: -32000,
    message: "Not allowed",
  });
  assert.deepEqual(
    cdpError('{"code":-32602,"message":"Invalid parameters","data":"Failed to deserialize"}'),
    { code: -32602, message: "Invalid parameters", data: "Failed to deserialize" },
  );
  for (const text of ["extension disconnected", "{not json}", '{"message":"no code"}', "{}"]) {
    assert.deepEqual(cdpError(text), { code: -32000, message: text });
  }
});
