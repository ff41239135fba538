import assert from "node:assert/strict";
import { parseClientMessage } from "../../worker/messages.ts";

Deno.test("parseClientMessage() reads every request the pages send", () => {
  assert.deepEqual(parseClientMessage({ type: "status" }), { type: "status" });
  assert.deepEqual(parseClientMessage({ type: "state" }), { type: "state" });
  assert.deepEqual(parseClientMessage({ type: "state", tabId: 4 }), { type: "state", tabId: 4 });
  assert.deepEqual(parseClientMessage({ type: "share", tabId: 3 }), { type: "share", tabId: 3 });
  assert.deepEqual(parseClientMessage({ type: "stop", tabId: 0 }), { type: "stop", tabId: 0 });
  assert.deepEqual(parseClientMessage({ type: "show", tabId: 9 }), { type: "show", tabId: 9 });
  for (const type of ["stopAll", "detachAll", "retry", "openSettings", "openSetup", "endpoints"]) {
    assert.deepEqual(parseClientMessage({ type }), { type });
  }
  assert.deepEqual(parseClientMessage({ type: "checkConnection", port: 1, token: "t" }), {
    type: "checkConnection",
    port: 1,
    token: "t",
  });
});

Deno.test("parseClientMessage() ignores foreign messages and rejects bad fields", () => {
  assert.equal(parseClientMessage("status"), undefined);
  assert.equal(parseClientMessage({ type: "somethingElse" }), undefined);
  assert.equal(parseClientMessage({}), undefined);
  assert.deepEqual(parseClientMessage({ type: "share" }), {
    error: 'Cannot read "share" as "tabId" must be a tab id: current value is undefined',
  });
  assert.deepEqual(parseClientMessage({ type: "stop", tabId: "3" }), {
    error: 'Cannot read "stop" as "tabId" must be a tab id: current value is "3"',
  });
  assert.deepEqual(parseClientMessage({ type: "checkConnection", port: "1", token: "t" }), {
    error: 'Cannot check the connection as "port" must be a number and "token" a string',
  });
});
