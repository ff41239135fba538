import assert from "node:assert/strict";
import { heldQueueFullError, RelayBounds } from "../../relay/bounds.ts";

Deno.test("heldQueueFullError() names the bound that was hit", () => {
  assert.equal(
    heldQueueFullError(RelayBounds.maxHeldCommands),
    "Cannot hold command while the extension is away as the held queue is full: current size is 1000",
  );
});

Deno.test("RelayBounds() is frozen", () => {
  assert.equal(Object.isFrozen(RelayBounds), true);
});
