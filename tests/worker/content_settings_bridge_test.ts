import assert from "node:assert/strict";
import { ContentSettingsBridge } from "../../worker/content_settings_bridge.ts";
import { FakeContentSettings } from "../_fakes/fake_content_settings.ts";

const SITE = "https://a.example/page";
const PATTERN = "https://a.example:443/*";

Deno.test("ContentSettingsBridge.replace() sets the rules and clearing brings back the person's setting", async () => {
  const port = new FakeContentSettings();
  port.person.set("location", new Map([[PATTERN, "block"]]));
  const bridge = new ContentSettingsBridge(port);
  await bridge.replace("location", [{ pattern: PATTERN, setting: "allow" }]);
  assert.equal(port.effective("location", SITE), "allow");
  assert.deepEqual(port.snapshot(), { location: { [PATTERN]: "allow" } });
  await bridge.replace("location", []);
  assert.equal(port.effective("location", SITE), "block");
  assert.deepEqual(port.snapshot(), {});
  assert.deepEqual(Object.fromEntries(port.person.get("location") ?? []), { [PATTERN]: "block" });
});

Deno.test("ContentSettingsBridge.replace() applies replacements in order, so the last one wins", async () => {
  const port = new FakeContentSettings();
  const bridge = new ContentSettingsBridge(port);
  const first = bridge.replace("notifications", [
    { pattern: PATTERN, setting: "allow" },
    { pattern: "http://127.0.0.1:8080/*", setting: "allow" },
  ]);
  const second = bridge.replace("notifications", [{ pattern: PATTERN, setting: "block" }]);
  await Promise.all([first, second]);
  assert.deepEqual(port.snapshot(), { notifications: { [PATTERN]: "block" } });
});

Deno.test("ContentSettingsBridge.replace() rejects with Chrome's error and the next replacement still runs", async () => {
  const port = new FakeContentSettings();
  const bridge = new ContentSettingsBridge(port);
  port.failNextSet = "The pattern is invalid";
  const failed = bridge.replace("camera", [{ pattern: "bad", setting: "allow" }]);
  const next = bridge.replace("camera", [{ pattern: PATTERN, setting: "allow" }]);
  await assert.rejects(failed, { name: "Error", message: "The pattern is invalid" });
  await next;
  assert.deepEqual(port.snapshot(), { camera: { [PATTERN]: "allow" } });
});

Deno.test("ContentSettingsBridge.clearAll() removes every extension rule and no rule of the person", async () => {
  const port = new FakeContentSettings();
  port.person.set("microphone", new Map([[PATTERN, "allow"]]));
  const bridge = new ContentSettingsBridge(port);
  await bridge.replace("location", [{ pattern: PATTERN, setting: "allow" }]);
  await bridge.replace("microphone", [{ pattern: PATTERN, setting: "block" }]);
  // A rule left by an earlier worker (rules outlive a restart) goes too.
  await port.set("clipboard", PATTERN, "allow");
  await bridge.clearAll();
  assert.deepEqual(port.snapshot(), {});
  assert.equal(port.effective("microphone", SITE), "allow");
});
