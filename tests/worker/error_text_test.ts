import assert from "node:assert/strict";
import { ErrorText, frameTooLargeError } from "../../worker/error_text.ts";

Deno.test("frameTooLargeError() states the size and the limit", () => {
  assert.equal(frameTooLargeError(200, 100), "frame too large: 200 bytes exceeds maxPayload 100");
});

Deno.test("ErrorText() is frozen", () => {
  assert.equal(Object.isFrozen(ErrorText), true);
  assert.equal(ErrorText.CannotCloseLastTab, "Cannot close the last tab");
});
