import assert from "node:assert/strict";
import { checkView } from "../../options/_check_view.ts";
import type { CheckResult } from "../../worker/check_connection.ts";

Deno.test("checkView() shows a successful check in the ok tone", () => {
  const result: CheckResult = {
    kind: "ok",
    url: "http://127.0.0.1:18792/json/version",
    relayVersion: "BrowserRelay/0.1.0",
    protocolVersion: "1.3",
    challengeHandshake: true,
    message: "Connected to BrowserRelay/0.1.0 at http://127.0.0.1:18792",
    hint: "",
  };
  assert.deepEqual(checkView(result), {
    kind: "ok",
    tone: "ok",
    title: "Relay reachable and token accepted",
    message: "Connected to BrowserRelay/0.1.0 at http://127.0.0.1:18792",
    hint: "",
    url: "http://127.0.0.1:18792/json/version",
  });
});

Deno.test("checkView() titles each failure kind", () => {
  const titles =
    (["token_rejected", "wrong_port", "unreachable", "timeout", "invalid_input"] as const)
      .map((kind) => {
        const view = checkView({ kind, url: "u", message: "m", hint: "h" });
        return [view.kind, view.tone, view.title];
      });
  assert.deepEqual(titles, [
    ["token_rejected", "error", "Token rejected"],
    ["wrong_port", "error", "Not a Browser Relay"],
    ["unreachable", "error", "Relay not reachable"],
    ["timeout", "error", "No answer"],
    ["invalid_input", "error", "Check the settings"],
  ]);
});

Deno.test("checkView() explains a missing or malformed answer", async (t) => {
  await t.step("no answer at all", () => {
    assert.deepEqual(checkView(undefined), {
      kind: "no_answer",
      tone: "error",
      title: "No answer from the extension",
      message: "The extension's service worker did not run the check.",
      hint: "Reload the extension on chrome://extensions and try again.",
      url: "",
    });
  });
  await t.step("an error reply keeps its text", () => {
    const view = checkView({ error: "Receiving end does not exist" });
    assert.equal(view.kind, "no_answer");
    assert.equal(view.message, "Receiving end does not exist");
  });
  await t.step("an unknown kind", () => {
    assert.equal(checkView({ kind: "toString", url: "u", message: "m" }).kind, "no_answer");
  });
});
