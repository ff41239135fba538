import assert from "node:assert/strict";
import { SessionOverrides } from "../../relay/session_overrides.ts";

Deno.test("SessionOverrides.release() undoes what a client left on sessions still shared", () => {
  const overrides = new SessionOverrides<string>();
  overrides.record("a", "S1", "Fetch.enable", { patterns: [{ urlPattern: "*" }] });
  overrides.record("a", "S1", "Emulation.setDeviceMetricsOverride", { width: 333 });
  overrides.record("a", "S1", "Page.setInterceptFileChooserDialog", { enabled: true });
  overrides.record("a", "S2", "Fetch.enable", {});
  overrides.record("a", "S1", "Runtime.evaluate", { expression: "1" }); // not an override
  assert.deepEqual(overrides.release("a", (sessionId) => sessionId === "S1"), [
    { method: "Fetch.disable", sessionId: "S1" },
    { method: "Emulation.clearDeviceMetricsOverride", sessionId: "S1" },
    { method: "Page.setInterceptFileChooserDialog", params: { enabled: false }, sessionId: "S1" },
  ]);
  assert.equal(overrides.size, 0, "S2 is reset whole by the relay; nothing is kept for it");
});

Deno.test("SessionOverrides leaves an override to the client that set it last", () => {
  const overrides = new SessionOverrides<string>();
  overrides.record("a", "S1", "Emulation.setDeviceMetricsOverride", { width: 1 });
  overrides.record("b", "S1", "Emulation.setDeviceMetricsOverride", { width: 2 });
  assert.deepEqual(overrides.release("a", () => true), []);
  assert.deepEqual(overrides.release("b", () => true), [
    { method: "Emulation.clearDeviceMetricsOverride", sessionId: "S1" },
  ]);
});

Deno.test("SessionOverrides forgets what a client turned off itself and ended sessions", () => {
  const overrides = new SessionOverrides<string>();
  overrides.record("a", "S1", "Fetch.enable", {});
  overrides.record("a", "S1", "Fetch.disable", {});
  overrides.record("a", "S1", "Page.setInterceptFileChooserDialog", { enabled: true });
  overrides.record("a", "S1", "Page.setInterceptFileChooserDialog", { enabled: false });
  assert.equal(overrides.size, 0);
  overrides.record("a", "S2", "Emulation.setTimezoneOverride", { timezoneId: "Asia/Tokyo" });
  overrides.forgetSessions(["S2"]);
  assert.deepEqual(overrides.release("a", () => true), []);
});
