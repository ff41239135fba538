import assert from "node:assert/strict";
import { endpoints } from "../../worker/endpoints.ts";

Deno.test("endpoints() builds ready-to-paste CDP URL, scripts and MCP configurations", () => {
  const e = endpoints(18792, "tok+en");
  assert.equal(e.cdpUrl, "http://127.0.0.1:18792/?token=tok%2Ben");
  assert.equal(
    e.playwright,
    'const browser = await chromium.connectOverCDP("http://127.0.0.1:18792/?token=tok%2Ben");',
  );
  assert.equal(
    e.puppeteer,
    'const browser = await puppeteer.connect({ browserURL: "http://127.0.0.1:18792", headers: { "x-openclaw-relay-token": "tok+en" } });',
  );
  assert.deepEqual(JSON.parse(e.playwrightMcp), {
    mcpServers: {
      "browser-relay": {
        command: "npx",
        args: [
          "@playwright/mcp@latest",
          "--cdp-endpoint",
          "http://127.0.0.1:18792/?token=tok%2Ben",
        ],
      },
    },
  });
  const devtools = JSON.parse(e.devtoolsMcp) as {
    mcpServers: { "chrome-devtools": { args: string[] } };
  };
  const args = devtools.mcpServers["chrome-devtools"].args;
  assert.deepEqual(args.slice(0, 3), [
    "chrome-devtools-mcp@latest",
    "--wsEndpoint",
    "ws://127.0.0.1:18792/cdp",
  ]);
  assert.deepEqual(JSON.parse(args[4] ?? ""), { "x-openclaw-relay-token": "tok+en" });
});
