import assert from "node:assert/strict";
import {
  DEFAULT_SETTINGS,
  parseRelayPort,
  parseSettings,
  parseSharePopups,
  validateSettings,
} from "../../worker/settings.ts";

Deno.test("parseRelayPort() follows the legacy parseInt rule of §10", () => {
  const table: [unknown, number][] = [
    [18792, 18792],
    ["9999", 9999],
    ["18792abc", 18792],
    ["  4000  ", 4000],
    [0, 18792],
    ["", 18792],
    [null, 18792],
    [undefined, 18792],
    [-5, 18792],
    [65535, 65535],
    [65536, 18792],
    ["abc", 18792],
    [12.7, 12],
    [false, 18792],
  ];
  for (const [raw, port] of table) assert.equal(parseRelayPort(raw), port, String(raw));
});

Deno.test("parseSettings() trims the token and applies defaults", () => {
  assert.deepEqual(parseSettings({}), DEFAULT_SETTINGS);
  assert.deepEqual(parseSettings({ relayPort: "18792abc", gatewayToken: "  t  " }), {
    relayPort: 18792,
    gatewayToken: "t",
  });
  assert.deepEqual(parseSettings({ relayPort: 9999, gatewayToken: 42 }), {
    relayPort: 9999,
    gatewayToken: "",
  });
});

Deno.test("validateSettings() accepts usable settings", () => {
  assert.deepEqual(validateSettings({ relayPort: 18792, gatewayToken: "t" }), []);
  assert.deepEqual(validateSettings({ relayPort: " 9999 ", gatewayToken: " t " }), []);
  assert.deepEqual(validateSettings({ relayPort: "", gatewayToken: "t" }), []);
  assert.deepEqual(validateSettings({ gatewayToken: "t" }), []);
});

Deno.test("validateSettings() reports each problem next to its field", () => {
  assert.deepEqual(validateSettings({ relayPort: "70000", gatewayToken: "" }), [
    {
      code: "out_of_range",
      path: ["relayPort"],
      expected: "integer between 1 and 65535",
      received: "70000",
      message: 'Cannot use "relayPort" as it must be between 1 and 65535: current value is 70000',
    },
    {
      code: "missing_field",
      path: ["gatewayToken"],
      expected: "non-empty string",
      received: '""',
      message: 'Cannot connect as "gatewayToken" is empty: enter the gateway token of your relay',
    },
  ]);
  assert.deepEqual(validateSettings({ relayPort: "18792abc", gatewayToken: "t" }), [
    {
      code: "wrong_type",
      path: ["relayPort"],
      expected: "integer between 1 and 65535",
      received: '"18792abc"',
      message:
        'Cannot use "relayPort" as it must be an integer between 1 and 65535: current value is "18792abc"',
    },
  ]);
  assert.deepEqual(
    validateSettings({ relayPort: true, gatewayToken: 5 }).map((i) => [i.code, i.path[0]]),
    [["wrong_type", "relayPort"], ["wrong_type", "gatewayToken"]],
  );
  assert.deepEqual(
    validateSettings({ relayPort: 0, gatewayToken: "  " }).map((i) => [i.code, i.path[0]]),
    [["out_of_range", "relayPort"], ["missing_field", "gatewayToken"]],
  );
  assert.deepEqual(validateSettings({}).map((i) => i.code), ["missing_field"]);
});

Deno.test("parseSettings() opts into OpenClaw relay compatibility only for an explicit true", () => {
  assert.equal(DEFAULT_SETTINGS.openclawRelayCompat, undefined);
  assert.deepEqual(parseSettings({ gatewayToken: "t", openclawRelayCompat: true }), {
    relayPort: 18792,
    gatewayToken: "t",
    openclawRelayCompat: true,
  });
  for (const value of [false, "true", 1, null, undefined, {}]) {
    assert.deepEqual(
      parseSettings({ gatewayToken: "t", openclawRelayCompat: value }),
      { relayPort: 18792, gatewayToken: "t" },
      String(value),
    );
  }
});

Deno.test("validateSettings() reports a non-boolean openclawRelayCompat", () => {
  assert.deepEqual(validateSettings({ gatewayToken: "t", openclawRelayCompat: true }), []);
  assert.deepEqual(validateSettings({ gatewayToken: "t", openclawRelayCompat: "yes" }), [{
    code: "wrong_type",
    path: ["openclawRelayCompat"],
    expected: "boolean",
    received: "string",
    message:
      'Cannot use "openclawRelayCompat" as it must be a boolean: current value is of type string',
  }]);
});

Deno.test("parseSharePopups() is on unless the stored value is false", () => {
  const table: [unknown, boolean][] = [
    [undefined, true],
    [true, true],
    [false, false],
    [null, true],
    ["false", true],
  ];
  for (const [raw, on] of table) assert.equal(parseSharePopups(raw), on, String(raw));
});

Deno.test("validateSettings() reports a sharePopups that is not a boolean", () => {
  assert.deepEqual(validateSettings({ gatewayToken: "t", sharePopups: false }), []);
  assert.deepEqual(validateSettings({ gatewayToken: "t", sharePopups: "no" }), [{
    code: "wrong_type",
    path: ["sharePopups"],
    expected: "boolean",
    received: "string",
    message: 'Cannot use "sharePopups" as it must be a boolean: current value is of type string',
  }]);
});
