import assert from "node:assert/strict";
import { originOf } from "../../worker/origin_of.ts";

Deno.test("originOf() shows scheme and host, or the URL when it has no origin", () => {
  assert.equal(originOf("https://example.com:8443/a?b#c"), "https://example.com:8443");
  assert.equal(originOf("about:blank"), "about:blank");
  assert.equal(originOf("not a url"), "not a url");
});
