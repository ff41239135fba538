import assert from "node:assert/strict";
import {
  heldQueueFullError,
  MAX_CLIENT_SESSIONS,
  privateMethodError,
  RelayBounds,
  tooManySessionsError,
} from "../../relay/bounds.ts";

Deno.test("heldQueueFullError() names the bound that was hit", () => {
  assert.equal(
    heldQueueFullError(RelayBounds.maxHeldCommands),
    "Cannot hold command while the extension is away as the held queue is full: current size is 1000",
  );
});

Deno.test("RelayBounds() is frozen", () => {
  assert.equal(Object.isFrozen(RelayBounds), true);
});

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
