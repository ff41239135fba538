import assert from "node:assert/strict";
import { isSessionStateMethod, SESSION_STATE_METHODS } from "../../worker/session_state_methods.ts";

Deno.test("isSessionStateMethod() accepts every *.enable and every listed setter", () => {
  for (const method of ["Network.enable", "Page.enable", "Runtime.enable", "Fetch.enable"]) {
    assert.equal(isSessionStateMethod(method), true, method);
  }
  for (const method of SESSION_STATE_METHODS) assert.equal(isSessionStateMethod(method), true);
});

Deno.test("isSessionStateMethod() rejects commands that leave no session state", () => {
  for (
    const method of [
      "Runtime.evaluate",
      "Page.navigate",
      "Network.disable",
      "enable",
      "Page.enabled",
    ]
  ) {
    assert.equal(isSessionStateMethod(method), false, method);
  }
});
