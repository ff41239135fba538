import assert from "node:assert/strict";
import {
  MAX_CLIENT_SESSIONS,
  privateMethodError,
  tooManySessionsError,
} from "../../relay/limits.ts";

Deno.test("tooManySessionsError() states the cap and the current count", () => {
  assert.equal(MAX_CLIENT_SESSIONS, 10_000);
  assert.equal(
    tooManySessionsError(MAX_CLIENT_SESSIONS, 10_000),
    "Cannot attach as a client may hold at most 10000 relay-made sessions: current count is 10000",
  );
});

Deno.test("privateMethodError() quotes the method", () => {
  assert.equal(
    privateMethodError("BrowserRelay.resetSession"),
    'Cannot call "BrowserRelay.resetSession" as relay-private methods are not accepted from CDP clients',
  );
});
