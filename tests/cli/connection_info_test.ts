import assert from "node:assert/strict";
import {
  endpointsOf,
  formatConnectionInfo,
  formatConnectionJson,
} from "../../cli/connection_info.ts";

const INFO = { url: "http://127.0.0.1:18792", relayToken: "r3lay" };

Deno.test("endpointsOf() derives every client's endpoint", () => {
  assert.deepEqual(endpointsOf(INFO), {
    endpoint: "http://127.0.0.1:18792/?token=r3lay",
    browserURL: "http://127.0.0.1:18792",
    wsEndpoint: "ws://127.0.0.1:18792/cdp",
    tokenHeader: "x-openclaw-relay-token",
    relayToken: "r3lay",
  });
});

Deno.test("formatConnectionInfo() prints complete scripts that end, and both MCP command lines", () => {
  const lines = formatConnectionInfo(INFO, { tabShared: true });
  assert.equal(lines[0], "CDP endpoint: http://127.0.0.1:18792/?token=r3lay");
  const text = lines.join("\n");
  assert.ok(text.includes('chromium.connectOverCDP("http://127.0.0.1:18792/?token=r3lay")'));
  assert.ok(text.includes("await browser.close();"));
  assert.ok(text.includes('browserURL: "http://127.0.0.1:18792"'));
  assert.ok(text.includes('headers: {"x-openclaw-relay-token":"r3lay"}'));
  assert.ok(text.includes("await browser.disconnect();"));
  assert.ok(lines.includes(
    "  Playwright MCP:      npx @playwright/mcp@latest --cdp-endpoint http://127.0.0.1:18792/?token=r3lay",
  ));
  assert.ok(lines.includes(
    `  Chrome DevTools MCP: npx chrome-devtools-mcp@latest --wsEndpoint ws://127.0.0.1:18792/cdp --wsHeaders '{"x-openclaw-relay-token":"r3lay"}'`,
  ));
  assert.ok(!text.includes("waits for the first shared tab"));
  assert.ok(formatConnectionInfo(INFO).join("\n").includes("(waits for the first shared tab)"));
});

Deno.test("formatConnectionJson() is one JSON line of the endpoints", () => {
  const text = formatConnectionJson(INFO);
  assert.ok(!text.includes("\n"));
  assert.deepEqual(JSON.parse(text), endpointsOf(INFO));
});
