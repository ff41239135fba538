import assert from "node:assert/strict";
import { TargetRegistry } from "../../relay/targets.ts";

Deno.test("TargetRegistry.set() fills in missing targetInfo fields", () => {
  const targets = new TargetRegistry();
  const entry = targets.set("cb-tab-1", { targetId: "T1", attached: false });
  const { browserContextId, ...rest } = entry.targetInfo;
  assert.match(browserContextId, /^[0-9A-F]{32}$/);
  assert.deepEqual(rest, {
    targetId: "T1",
    type: "page",
    title: "",
    url: "",
    attached: true,
    canAccessOpener: false,
  });
  // The placeholder is fixed per process.
  assert.equal(
    new TargetRegistry().set("x", { targetId: "T9" }).targetInfo.browserContextId,
    browserContextId,
  );
});

Deno.test("TargetRegistry.set() takes browserContextId from the target, then from other targets", () => {
  const targets = new TargetRegistry();
  targets.set("cb-tab-1", { targetId: "T1", browserContextId: "CTX" });
  assert.equal(targets.set("cb-tab-1", { targetId: "T1" }).targetInfo.browserContextId, "CTX");
  assert.equal(targets.set("cb-tab-2", { targetId: "T2" }).targetInfo.browserContextId, "CTX");
});

Deno.test("TargetRegistry.merge() updates every entry of a target", () => {
  const targets = new TargetRegistry();
  targets.set("cb-tab-1", { targetId: "T1", title: "a" });
  targets.set("cb-tab-2", { targetId: "T1", title: "a" });
  targets.set("cb-tab-3", { targetId: "T3", title: "c" });
  const updated = targets.merge({ targetId: "T1", title: "b" });
  assert.deepEqual(updated.map((e) => e.sessionId), ["cb-tab-1", "cb-tab-2"]);
  assert.deepEqual(targets.list().map((e) => e.targetInfo.title), ["b", "b", "c"]);
  assert.deepEqual(targets.merge({ title: "no id" }), []);
});

Deno.test("TargetRegistry.deleteTarget() removes every entry and their children", () => {
  const targets = new TargetRegistry();
  targets.set("cb-tab-1", { targetId: "T1" });
  targets.set("cb-tab-2", { targetId: "T2" });
  targets.addChild("CHILD", "cb-tab-1");
  targets.addChild("GRANDCHILD", "CHILD");
  assert.equal(targets.topLevelOf("GRANDCHILD"), "cb-tab-1");
  assert.equal(targets.isChild("CHILD"), true);
  assert.deepEqual(targets.deleteTarget("T1").map((e) => e.sessionId), ["cb-tab-1"]);
  assert.equal(targets.topLevelOf("CHILD"), undefined);
  assert.equal(targets.isChild("GRANDCHILD"), false);
  assert.equal(targets.size, 1);
  targets.clear();
  assert.equal(targets.size, 0);
});

Deno.test("TargetRegistry.childrenOf() lists the children linked to a top-level session", () => {
  const targets = new TargetRegistry();
  targets.set("cb-tab-1", { targetId: "T1" });
  targets.set("cb-tab-2", { targetId: "T2" });
  targets.addChild("CHILD", "cb-tab-1");
  targets.addChild("GRANDCHILD", "CHILD");
  targets.addChild("OTHER", "cb-tab-2");
  assert.deepEqual(targets.childrenOf("cb-tab-1"), ["CHILD", "GRANDCHILD"]);
  targets.removeChild("CHILD");
  assert.deepEqual(targets.childrenOf("cb-tab-1"), ["GRANDCHILD"]);
  assert.deepEqual(targets.childrenOf("CHILD"), []);
});

Deno.test("TargetRegistry.addChild() keeps at most maxChildren links, evicting the oldest", () => {
  const targets = new TargetRegistry(3);
  targets.set("cb-tab-1", { targetId: "T1" });
  for (const child of ["c1", "c2", "c3", "c4"]) targets.addChild(child, "cb-tab-1");
  assert.deepEqual(targets.childrenOf("cb-tab-1"), ["c2", "c3", "c4"]);
  targets.addChild("c2", "cb-tab-1"); // refreshed: now the newest
  targets.addChild("c5", "unknown-parent");
  assert.deepEqual(targets.childrenOf("cb-tab-1"), ["c4", "c2"]);
  assert.equal(targets.topLevelOf("c5"), "unknown-parent");
});
