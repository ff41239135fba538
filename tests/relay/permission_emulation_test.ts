import assert from "node:assert/strict";
import type { CdpOutcome } from "../../codec/cdp_frame.ts";
import type { JsonObject } from "../../codec/json.ts";
import { FakeExtension } from "../../harness/fake_extension.ts";
import { PermissionEmulation } from "../../relay/permission_emulation.ts";
import { announceAndWait, CdpTestClient, startTestRelay, TOKEN, until } from "./_helpers.ts";

interface Client {
  readonly id: number;
}

const A = "https://a.example:443/*";
const B = "http://127.0.0.1:8080/*";

function setup() {
  const clients: Client[] = [{ id: 1 }, { id: 2 }];
  const sent: { method: string; params: JsonObject }[] = [];
  const replies: CdpOutcome[] = [];
  const emulation = new PermissionEmulation<Client>({
    clients: () => clients,
    sharedUrls: () => ["https://a.example/inbox", "http://127.0.0.1:8080/app", "about:blank"],
    contextIds: () => ["CTX"],
    toExtension: (method, params) => {
      sent.push({ method, params });
      return Promise.resolve(replies.shift() ?? { ok: true, result: {} });
    },
  });
  const [c1, c2] = clients as [Client, Client];
  return { clients, c1, c2, sent, replies, emulation };
}

const OK: CdpOutcome = { ok: true, result: {} };

function rules(type: string, list: [string, string][]): { method: string; params: JsonObject } {
  return {
    method: "BrowserRelay.setContentSettings",
    params: { type, rules: list.map(([pattern, setting]) => ({ pattern, setting })) },
  };
}

Deno.test("PermissionEmulation.grant() allows the listed permissions for the given origin", async () => {
  const { c1, sent, emulation } = setup();
  assert.deepEqual(
    await emulation.grant(c1, {
      origin: "https://a.example",
      permissions: ["geolocation", "notifications"],
      browserContextId: "CTX",
    }),
    OK,
  );
  // Chrome denies every permission not listed: the other types the emulation sets are blocked.
  assert.deepEqual(sent, [
    rules("location", [[A, "allow"]]),
    rules("notifications", [[A, "allow"]]),
    rules("camera", [[A, "block"]]),
    rules("microphone", [[A, "block"]]),
    rules("clipboard", [[A, "block"]]),
  ]);
  assert.equal(emulation.size, 5);
});

Deno.test("PermissionEmulation.grant() without an origin allows for every shared tab's origin", async () => {
  const { c1, sent, emulation } = setup();
  assert.deepEqual(await emulation.grant(c1, { permissions: ["videoCapture"] }), OK);
  assert.deepEqual(sent, [
    rules("location", [[B, "block"], [A, "block"]]),
    rules("notifications", [[B, "block"], [A, "block"]]),
    rules("camera", [[B, "allow"], [A, "allow"]]),
    rules("microphone", [[B, "block"], [A, "block"]]),
    rules("clipboard", [[B, "block"], [A, "block"]]),
  ]);
});

Deno.test("PermissionEmulation.grant() refuses bad input with Chrome's error or a specific one", async (t) => {
  const cases: [string, JsonObject, CdpOutcome][] = [
    ["an unknown permission type", { permissions: ["bogus"] }, {
      ok: false,
      error: { code: -32602, message: "Unknown permission type: bogus" },
    }],
    ["a permission without a content setting", { permissions: ["geolocation", "midi"] }, {
      ok: false,
      error: {
        code: -32000,
        message:
          'Cannot grant permission "midi" as it has no content setting an extension can change: supported types are "geolocation", "notifications", "videoCapture", "audioCapture", "clipboardReadWrite", "clipboardSanitizedWrite"',
      },
    }],
    ["permissions that are not an array", { permissions: "geolocation" }, {
      ok: false,
      error: {
        code: -32602,
        message: "Invalid parameters",
        data: 'Failed to deserialize params.permissions: "permissions" must be an array',
      },
    }],
    ["an origin that is not a URL", { permissions: ["geolocation"], origin: "not a url" }, {
      ok: false,
      error: { code: -32602, message: "Permission can't be granted to opaque origins." },
    }],
    ["an opaque origin", { permissions: ["geolocation"], origin: "data:text/html,x" }, {
      ok: false,
      error: { code: -32602, message: "Permission can't be granted to opaque origins." },
    }],
    ["an origin of no shared tab", {
      permissions: ["geolocation"],
      origin: "https://b.example/x",
    }, {
      ok: false,
      error: {
        code: -32000,
        message:
          'Cannot grant permissions as "origin" is not the origin of a shared tab: current value is "https://b.example"',
      },
    }],
    ["an unknown browser context", { permissions: ["geolocation"], browserContextId: "NOPE" }, {
      ok: false,
      error: { code: -32602, message: "Failed to find browser context for id NOPE" },
    }],
  ];
  for (const [name, params, expected] of cases) {
    await t.step(name, async () => {
      const { c1, sent, emulation } = setup();
      assert.deepEqual(await emulation.grant(c1, params), expected);
      assert.deepEqual(sent, []);
      assert.equal(emulation.size, 0);
    });
  }
});

Deno.test("PermissionEmulation.grant() refuses when no shared tab has an http or https origin", async () => {
  const emulation = new PermissionEmulation<Client>({
    clients: () => [{ id: 1 }],
    sharedUrls: () => ["about:blank"],
    contextIds: () => [],
    toExtension: () => Promise.resolve(OK),
  });
  assert.deepEqual(await emulation.grant({ id: 1 }, { permissions: ["geolocation"] }), {
    ok: false,
    error: {
      code: -32000,
      message: "Cannot grant permissions as no shared tab has an http or https origin",
    },
  });
});

Deno.test("PermissionEmulation.setPermission() maps granted, denied and prompt to allow, block and ask", async () => {
  const { c1, sent, emulation } = setup();
  for (const setting of ["granted", "denied", "prompt"]) {
    assert.deepEqual(
      await emulation.setPermission(c1, {
        permission: { name: "microphone" },
        setting,
        origin: "http://127.0.0.1:8080",
      }),
      OK,
    );
  }
  assert.deepEqual(sent, [
    rules("microphone", [[B, "allow"]]),
    rules("microphone", [[B, "block"]]),
    rules("microphone", [[B, "ask"]]),
  ]);
});

Deno.test("PermissionEmulation.setPermission() refuses bad input with a specific error", async (t) => {
  const cases: [string, JsonObject, CdpOutcome][] = [
    ["an unknown setting", { permission: { name: "geolocation" }, setting: "maybe" }, {
      ok: false,
      error: { code: -32602, message: "Unknown permission setting: maybe" },
    }],
    ["a name without a content setting", { permission: { name: "midi" }, setting: "granted" }, {
      ok: false,
      error: {
        code: -32000,
        message:
          'Cannot set permission as "midi" has no content setting an extension can change: supported names are "geolocation", "notifications", "camera", "microphone", "clipboard-read", "clipboard-write"',
      },
    }],
    ["a descriptor without a name", { permission: {}, setting: "granted" }, {
      ok: false,
      error: {
        code: -32602,
        message: "Invalid parameters",
        data: 'Failed to deserialize params.permission: "name" must be a string',
      },
    }],
  ];
  for (const [name, params, expected] of cases) {
    await t.step(name, async () => {
      const { c1, sent, emulation } = setup();
      assert.deepEqual(await emulation.setPermission(c1, params), expected);
      assert.deepEqual(sent, []);
    });
  }
});

Deno.test("PermissionEmulation.reset() removes only the client's own rules; the latest grant is in force", async () => {
  const { c1, c2, sent, emulation } = setup();
  await emulation.grant(c1, { permissions: ["geolocation"], origin: "https://a.example" });
  await emulation.setPermission(c2, {
    permission: { name: "geolocation" },
    setting: "denied",
    origin: "https://a.example",
  });
  assert.deepEqual(emulation.rules("location"), [{ pattern: A, setting: "block" }]);
  await emulation.grant(c1, { permissions: ["geolocation"], origin: "http://127.0.0.1:8080" });
  sent.length = 0;
  assert.deepEqual(await emulation.reset(c2, {}), OK);
  assert.deepEqual(sent, [rules("location", [[B, "allow"], [A, "allow"]])]);
  sent.length = 0;
  assert.deepEqual(await emulation.reset(c1, { browserContextId: "CTX" }), OK);
  assert.deepEqual(
    sent,
    ["location", "notifications", "camera", "microphone", "clipboard"].map((type) =>
      rules(type, [])
    ),
  );
  assert.equal(emulation.size, 0);
  // Nothing granted: nothing to tell the extension.
  sent.length = 0;
  assert.deepEqual(await emulation.reset(c1, {}), OK);
  assert.deepEqual(sent, []);
  assert.deepEqual(await emulation.reset(c1, { browserContextId: 7 }), {
    ok: false,
    error: { code: -32602, message: "Failed to find browser context for id 7" },
  });
});

Deno.test("PermissionEmulation.clientGone() clears the client's rules", async () => {
  const { c1, sent, emulation } = setup();
  await emulation.grant(c1, { permissions: ["notifications"], origin: "https://a.example" });
  sent.length = 0;
  emulation.clientGone(c1);
  assert.deepEqual(
    sent.map((m) => m.params),
    ["location", "notifications", "camera", "microphone", "clipboard"].map((type) => ({
      type,
      rules: [],
    })),
  );
  assert.equal(emulation.size, 0);
});

Deno.test("PermissionEmulation.grant() answers the extension's error and refuses a client that left", async () => {
  const { clients, c1, replies, emulation } = setup();
  replies.push({ ok: false, error: { code: -32000, message: "Extension not connected" } });
  assert.deepEqual(
    await emulation.grant(c1, { permissions: ["geolocation"], origin: "https://a.example" }),
    { ok: false, error: { code: -32000, message: "Extension not connected" } },
  );
  clients.splice(0, 1);
  assert.deepEqual(
    await emulation.grant(c1, { permissions: ["geolocation"], origin: "https://a.example" }),
    { ok: false, error: { code: -32000, message: "Client disconnected" } },
  );
});

Deno.test("startRelay() answers Browser.grantPermissions through the extension and clears on disconnect", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", {
    targetId: "T1",
    url: "http://127.0.0.1:8080/app",
  });
  const client = await CdpTestClient.connect(relay);
  const denied = await client.call("BrowserRelay.setContentSettings", {
    type: "location",
    rules: [{ pattern: "<all_urls>", setting: "allow" }],
  });
  assert.deepEqual(denied.error, {
    code: -32000,
    message:
      'Cannot call "BrowserRelay.setContentSettings" as relay-private methods are not accepted from CDP clients',
  });
  const granted = await client.call("Browser.grantPermissions", { permissions: ["geolocation"] });
  assert.deepEqual(granted.result, {});
  const command = ext.commands.find((c) => c.method === "BrowserRelay.setContentSettings");
  assert.deepEqual(command?.params, {
    type: "location",
    rules: [{ pattern: B, setting: "allow" }],
  });
  const before = ext.commands.length;
  await client[Symbol.asyncDispose]();
  await until("five clears", () => ext.commands.length >= before + 5);
  const cleared = ext.commands.slice(before);
  assert.deepEqual(
    cleared.map((c) => [c.method, c.params]),
    ["location", "notifications", "camera", "microphone", "clipboard"].map((type) => [
      "BrowserRelay.setContentSettings",
      { type, rules: [] },
    ]),
  );
});

Deno.test("PermissionEmulation.resync() sends the rules in force for every type a client holds", async () => {
  const { c1, sent, emulation } = setup();
  emulation.resync();
  assert.deepEqual(sent, []);
  await emulation.setPermission(c1, {
    permission: { name: "notifications" },
    setting: "granted",
    origin: "https://a.example",
  });
  sent.length = 0;
  emulation.resync();
  assert.deepEqual(sent, [rules("notifications", [[A, "allow"]])]);
});

Deno.test("startRelay() sends the grants again to an extension that returns within the grace period", async () => {
  await using relay = await startTestRelay();
  const first = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, first, "cb-tab-1", {
    targetId: "T1",
    url: "http://127.0.0.1:8080/app",
  });
  await using client = await CdpTestClient.connect(relay);
  const granted = await client.call("Browser.setPermission", {
    permission: { name: "geolocation" },
    setting: "granted",
    origin: "http://127.0.0.1:8080",
  });
  assert.deepEqual(granted.result, {});
  await first.close();
  await using second = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  const again = await second.nextCommand("BrowserRelay.setContentSettings");
  assert.deepEqual(again.params, { type: "location", rules: [{ pattern: B, setting: "allow" }] });
});
