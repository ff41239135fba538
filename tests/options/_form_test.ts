import assert from "node:assert/strict";
import { readForm } from "../../options/_form.ts";

Deno.test("readForm() trims the token and parses the port", () => {
  assert.deepEqual(readForm({ relayPort: " 9999 ", gatewayToken: "  secret-token \n" }), {
    ok: true,
    settings: { relayPort: 9999, gatewayToken: "secret-token" },
  });
});

Deno.test("readForm() uses the default port for an empty port field", () => {
  assert.deepEqual(readForm({ relayPort: "  ", gatewayToken: "t" }), {
    ok: true,
    settings: { relayPort: 18792, gatewayToken: "t" },
  });
});

Deno.test("readForm() reports each field's first issue next to it", async (t) => {
  await t.step("a port with trailing letters is not silently repaired", () => {
    const result = readForm({ relayPort: "18792abc", gatewayToken: "t" });
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    // The page shows the person's words; the issue keeps the exact diagnostic.
    assert.deepEqual(result.errors, { relayPort: "Enter a port number between 1 and 65535" });
    assert.equal(
      result.issues[0].message,
      'Cannot use "relayPort" as it must be an integer between 1 and 65535: current value is "18792abc"',
    );
    assert.deepEqual(result.issues.map((issue) => [issue.code, issue.path]), [
      ["wrong_type", ["relayPort"]],
    ]);
  });
  await t.step("an out-of-range port and a blank token", () => {
    const result = readForm({ relayPort: "70000", gatewayToken: "   " });
    assert.ok(!result.ok);
    assert.deepEqual(result.errors, {
      relayPort: "Enter a port number between 1 and 65535",
      gatewayToken: "Paste the token the relay printed when it started",
    });
    assert.deepEqual(result.issues.map((issue) => issue.message), [
      'Cannot use "relayPort" as it must be between 1 and 65535: current value is 70000',
      'Cannot connect as "gatewayToken" is empty: enter the gateway token of your relay',
    ]);
    assert.deepEqual(result.issues.map((issue) => issue.code), ["out_of_range", "missing_field"]);
  });
  await t.step("port 0", () => {
    const result = readForm({ relayPort: "0", gatewayToken: "t" });
    assert.ok(!result.ok);
    assert.equal(result.issues[0].code, "out_of_range");
  });
  await t.step("a token broken by whitespace", () => {
    const result = readForm({ relayPort: "18792", gatewayToken: "abc def" });
    assert.ok(!result.ok);
    assert.deepEqual(result.issues, [{
      code: "out_of_range",
      path: ["gatewayToken"],
      expected: "string without whitespace",
      received: "string with whitespace",
      message:
        'Cannot use "gatewayToken" as it contains whitespace: paste the token again in one piece',
    }]);
    assert.deepEqual(result.errors, {
      gatewayToken: "The token has spaces in it: paste it again in one piece",
    });
  });
});
