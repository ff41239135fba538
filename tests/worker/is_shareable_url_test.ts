import assert from "node:assert/strict";
import { isShareableUrl } from "../../worker/is_shareable_url.ts";

Deno.test("isShareableUrl() refuses browser pages and the Web Store", () => {
  assert.equal(isShareableUrl("https://example.com/"), true);
  assert.equal(isShareableUrl(undefined), true);
  assert.equal(isShareableUrl("chrome://settings/"), false);
  assert.equal(isShareableUrl("chrome-extension://abc/popup.html"), false);
  assert.equal(isShareableUrl("https://chromewebstore.google.com/detail/x"), false);
});
