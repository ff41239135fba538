import assert from "node:assert/strict";
import { parsePort, parseStartUrl, parseTokenFlag } from "../../cli/option_values.ts";

Deno.test("parsePort() accepts 0 to 65535 and the default when absent", () => {
  assert.equal(parsePort(undefined, 18792), 18792);
  assert.equal(parsePort("0", 18792), 0);
  assert.equal(parsePort("65535", 18792), 65535);
});

Deno.test("parsePort() refuses anything else with exit code 2", async (t) => {
  for (const value of ["abc", "-1", "65536", "1.5", "", "1e3"]) {
    await t.step(JSON.stringify(value), () => {
      assert.throws(() => parsePort(value, 18792), {
        name: "CliError",
        exitCode: 2,
        message:
          `Option "--port" must be an integer from 0 to 65535 (0 picks a free port): current value is "${value}"`,
      });
    });
  }
});

Deno.test("parseTokenFlag() trims a token and refuses an empty or blank one", () => {
  assert.equal(parseTokenFlag(undefined), undefined);
  assert.equal(parseTokenFlag(" abc "), "abc");
  for (const value of ["", "   "]) {
    assert.throws(() => parseTokenFlag(value), {
      name: "CliError",
      exitCode: 2,
      message:
        'Option "--token" is empty: pass the gateway token, or leave the option out to use BROWSER_RELAY_TOKEN or the stored token',
    });
  }
});

Deno.test("parseStartUrl() accepts absolute page URLs and refuses the rest", () => {
  for (const url of ["https://example.com/a", "http://127.0.0.1:8000", "data:text/html,x"]) {
    assert.equal(parseStartUrl(url), url);
  }
  assert.throws(() => parseStartUrl("not-a-url"), {
    name: "CliError",
    exitCode: 2,
    message:
      'Option "--url" must be an absolute URL such as "https://example.com": current value is "not-a-url"',
  });
  assert.throws(() => parseStartUrl("javascript:alert(1)"), {
    name: "CliError",
    exitCode: 2,
    message:
      'Option "--url" must be an http, https, file, data or about URL: current value is "javascript:alert(1)"',
  });
});
