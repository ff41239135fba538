import assert from "node:assert/strict";
import { ClientSessions } from "../../relay/client_sessions.ts";

Deno.test("ClientSessions.addBrowser() and addAlias() make 32-hex-digit sessions", () => {
  const sessions = new ClientSessions();
  const browser = sessions.addBrowser(undefined);
  const alias = sessions.addAlias("cb-tab-1", "T1", browser.sessionId);
  assert.match(browser.sessionId, /^[0-9A-F]{32}$/);
  assert.notEqual(alias.sessionId, browser.sessionId);
  assert.deepEqual(sessions.get(browser.sessionId), {
    kind: "browser",
    sessionId: browser.sessionId,
    parent: undefined,
  });
  assert.deepEqual(sessions.get(alias.sessionId), {
    kind: "alias",
    sessionId: alias.sessionId,
    topLevel: "cb-tab-1",
    targetId: "T1",
    parent: browser.sessionId,
  });
  assert.equal(sessions.size, 2);
  assert.deepEqual(sessions.aliasesOf("cb-tab-1"), [alias]);
  assert.equal(sessions.hasAliasOf("cb-tab-1"), true);
  assert.deepEqual(sessions.aliasedTopLevels(), ["cb-tab-1"]);
});

Deno.test("ClientSessions.drop() ends a session and everything made on it, named one first", () => {
  const sessions = new ClientSessions();
  const root = sessions.addBrowser(undefined);
  const other = sessions.addBrowser(undefined);
  const child = sessions.addBrowser(root.sessionId);
  const alias = sessions.addAlias("cb-tab-1", "T1", child.sessionId);
  const kept = sessions.addAlias("cb-tab-1", "T1", other.sessionId);
  const dropped = sessions.drop(root.sessionId);
  assert.deepEqual(
    dropped.map((s) => s.sessionId).sort(),
    [
      alias.sessionId,
      child.sessionId,
      root.sessionId,
    ].sort(),
  );
  assert.equal(dropped[0], root);
  assert.equal(sessions.size, 2);
  assert.deepEqual(sessions.aliasesOf("cb-tab-1"), [kept]);
  assert.deepEqual(sessions.drop(root.sessionId), []);
  sessions.drop(kept.sessionId);
  assert.equal(sessions.hasAliasOf("cb-tab-1"), false);
  assert.deepEqual(sessions.aliasedTopLevels(), []);
});

Deno.test("ClientSessions.drop() tears down a chain of 20000 sessions without recursion", () => {
  const sessions = new ClientSessions();
  const root = sessions.addBrowser(undefined);
  let parent = root.sessionId;
  for (let i = 0; i < 20_000; i++) parent = sessions.addBrowser(parent).sessionId;
  assert.equal(sessions.drop(root.sessionId).length, 20_001);
  assert.equal(sessions.size, 0);
});

Deno.test("ClientSessions.dropMadeOn() silently ends what was made on ended sessions", () => {
  const sessions = new ClientSessions();
  const onTab = sessions.addAlias("cb-tab-1", "T1", "cb-tab-1");
  const onChild = sessions.addBrowser("child-1");
  const nested = sessions.addBrowser(onChild.sessionId);
  const atRoot = sessions.addAlias("cb-tab-1", "T1", undefined);
  sessions.dropMadeOn(new Set(["cb-tab-1", "child-1"]));
  assert.equal(sessions.get(onTab.sessionId), undefined);
  assert.equal(sessions.get(onChild.sessionId), undefined);
  assert.equal(sessions.get(nested.sessionId), undefined);
  assert.equal(sessions.get(atRoot.sessionId), atRoot);
  sessions.clear();
  assert.equal(sessions.size, 0);
});
