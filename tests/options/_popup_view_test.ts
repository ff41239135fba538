import assert from "node:assert/strict";
import { placementNote, readPopupState } from "../../options/_popup_view.ts";

Deno.test("readPopupState() keeps a well-formed state", () => {
  const state = {
    summary: {
      tone: "ok",
      text: "Connected to the relay on port 18792",
      action: "none",
      actionLabel: "",
    },
    configured: true,
    groupsEnabled: true,
    shortcut: "Alt+Shift+R",
    current: { tabId: 3, title: "A", origin: "https://a.test", shared: true, shareable: true },
    tabs: [{
      tabId: 3,
      title: "A",
      url: "https://a.test/",
      origin: "https://a.test",
      favIconUrl: "",
      state: "attached",
      placement: { kind: "own_group", title: "Work" },
    }],
  };
  assert.deepEqual(readPopupState(state), state);
});

Deno.test("readPopupState() says so when the worker did not answer", () => {
  for (const response of [undefined, { error: "x" }, { summary: { tone: "weird" } }]) {
    const state = readPopupState(response);
    assert.equal(state.summary.tone, "error");
    assert.equal(
      state.summary.text,
      "The extension did not answer: reload it on chrome://extensions",
    );
    assert.deepEqual(state.tabs, []);
  }
});

Deno.test("readPopupState() drops malformed tabs and defaults unknown placements", () => {
  const state = readPopupState({
    summary: { tone: "idle", text: "t", action: "none" },
    tabs: [{ tabId: "x" }, { tabId: 1, placement: { kind: "?" } }],
  });
  assert.deepEqual(state.tabs.map((t) => [t.tabId, t.placement]), [[1, { kind: "none" }]]);
  assert.equal(state.current, undefined);
});

Deno.test("placementNote() says where a shared tab sits", () => {
  assert.equal(placementNote({ kind: "group" }, true), "");
  assert.equal(
    placementNote({ kind: "own_group", title: "Work" }, true),
    'In your group "Work", not moved',
  );
  assert.equal(
    placementNote({ kind: "own_group", title: "" }, true),
    "In one of your groups, not moved",
  );
  assert.equal(placementNote({ kind: "none" }, true), "Not in the Browser Relay group");
  assert.equal(placementNote({ kind: "none" }, false), "");
});
