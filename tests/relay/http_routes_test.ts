import assert from "node:assert/strict";
import { FakeExtension } from "../../harness/fake_extension.ts";
import {
  announceAndWait,
  http,
  startTestRelay,
  TestClock,
  TOKEN,
  tokenHeader,
  until,
} from "./_helpers.ts";
import { TestSocket } from "../../harness/test_socket.ts";

Deno.test("handleHttpRequest() serves / and /extension/status without a token", async () => {
  await using relay = await startTestRelay();
  const root = await http(relay, "/");
  assert.equal(root.status, 200);
  assert.equal(root.body, "OK");
  assert.equal(root.headers["content-type"], "text/plain; charset=utf-8");
  const head = await http(relay, "/", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
  const status = await http(relay, "/extension/status");
  assert.deepEqual(JSON.parse(status.body), {
    connected: false,
    handshake: "connect.challenge",
    protocol: 3,
    auth: ["mutual-v1"],
  });
});

Deno.test("handleHttpRequest() requires the token on /json*", async (t) => {
  await using relay = await startTestRelay();
  await t.step("no token is 401 Unauthorized", async () => {
    for (const path of ["/json/version", "/json", "/json/list", "/json/activate/T1"]) {
      const reply = await http(relay, path);
      assert.equal(reply.status, 401, path);
      assert.equal(reply.body, "Unauthorized");
    }
  });
  await t.step("a wrong token is 401", async () => {
    assert.equal(
      (await http(relay, "/json/version", { headers: tokenHeader("nope") })).status,
      401,
    );
  });
  await t.step("the raw gateway token, the relay token and a padded token pass", async () => {
    for (const token of [TOKEN, relay.relayToken, `  ${relay.relayToken} `]) {
      assert.equal(
        (await http(relay, "/json/version", { headers: tokenHeader(token) })).status,
        200,
      );
    }
  });
  await t.step("?token= passes and the header wins over it", async () => {
    assert.equal((await http(relay, `/json/version?token=${relay.relayToken}`)).status, 200);
    const both = await http(relay, `/json/version?token=${relay.relayToken}`, {
      headers: tokenHeader("wrong"),
    });
    assert.equal(both.status, 401);
  });
});

Deno.test("handleHttpRequest() refuses the raw token when acceptRawGatewayToken is false", async () => {
  await using relay = await startTestRelay({ acceptRawGatewayToken: false });
  assert.equal((await http(relay, "/json/version", { headers: tokenHeader(TOKEN) })).status, 401);
  assert.equal(
    (await http(relay, "/json/version", { headers: tokenHeader(relay.relayToken) })).status,
    200,
  );
});

Deno.test("handleHttpRequest() serves /json/version with webSocketDebuggerUrl only while useful", async () => {
  await using relay = await startTestRelay();
  const host = `127.0.0.1:${relay.port}`;
  const before = await http(relay, "/json/version", { headers: tokenHeader() });
  assert.deepEqual(JSON.parse(before.body), {
    "Browser": "BrowserRelay/0.1.0",
    "Protocol-Version": "1.3",
  });
  await using _ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  for (const path of ["/json/version", "/json/version/"]) {
    for (const method of ["GET", "PUT"]) {
      const reply = await http(relay, path, { method, headers: tokenHeader() });
      assert.equal(reply.status, 200);
      assert.deepEqual(JSON.parse(reply.body), {
        "Browser": "BrowserRelay/0.1.0",
        "Protocol-Version": "1.3",
        "webSocketDebuggerUrl": `ws://${host}/cdp`,
      });
    }
  }
  const query = await http(relay, `/json/version/?token=${relay.relayToken}`);
  assert.equal(
    JSON.parse(query.body).webSocketDebuggerUrl,
    `ws://${host}/cdp?token=${relay.relayToken}`,
  );
  const localhost = await http(relay, "/json/version", {
    headers: { ...tokenHeader(), host: `localhost:${relay.port}` },
  });
  assert.equal(JSON.parse(localhost.body).webSocketDebuggerUrl, `ws://localhost:${relay.port}/cdp`);
  assert.equal(
    (await http(relay, "/json/version", { method: "POST", headers: tokenHeader() })).status,
    404,
  );
});

Deno.test("handleHttpRequest() lists cached targets on /json and /json/list", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", {
    targetId: "T1",
    title: "Example",
    url: "https://example.com/",
  });
  const host = `127.0.0.1:${relay.port}`;
  const expected = [{
    id: "T1",
    type: "page",
    title: "Example",
    description: "Example",
    url: "https://example.com/",
    webSocketDebuggerUrl: `ws://${host}/cdp`,
    devtoolsFrontendUrl: `/devtools/inspector.html?ws=${host}/cdp`,
  }];
  for (const path of ["/json", "/json/", "/json/list", "/json/list/"]) {
    const reply = await http(relay, path, { headers: tokenHeader() });
    assert.equal(reply.status, 200, path);
    assert.deepEqual(JSON.parse(reply.body), expected, path);
  }
});

Deno.test("handleHttpRequest() handles /json/activate and /json/close", async (t) => {
  const clock = new TestClock();
  await using relay = await startTestRelay({
    clock,
    reconnectGraceMs: 5000,
    commandReconnectWaitMs: 20,
  });
  const ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  const get = (path: string) => http(relay, path, { headers: tokenHeader() });

  await t.step("bad percent-encoding is 400", async () => {
    const reply = await get("/json/activate/%E0%A4%A");
    assert.equal(reply.status, 400);
    assert.equal(reply.body, "invalid targetId encoding");
    assert.equal((await get("/json/close/%ZZ")).status, 400);
  });
  await t.step("an empty id is 400", async () => {
    const reply = await get("/json/activate/");
    assert.deepEqual([reply.status, reply.body], [400, "targetId required"]);
  });
  await t.step("an unknown id is 404", async () => {
    const reply = await get("/json/close/T%20X");
    assert.deepEqual([reply.status, reply.body], [404, "No such target id: T X"]);
  });
  await t.step("activate forwards Target.activateTarget", async () => {
    const reply = await get("/json/activate/T1");
    assert.deepEqual([reply.status, reply.body], [200, "Target activated"]);
    const command = ext.commands.find((c) => c.method === "Target.activateTarget");
    assert.deepEqual(command?.params, { targetId: "T1" });
  });
  await t.step("close forwards Target.closeTarget", async () => {
    const reply = await get("/json/close/T1");
    assert.deepEqual([reply.status, reply.body], [200, "Target is closing"]);
  });
  await t.step("an extension error is 500 with its message", async () => {
    ext.handler = () => "Cannot close the last tab";
    const reply = await get("/json/close/T1");
    assert.deepEqual([reply.status, reply.body], [500, "Cannot close the last tab"]);
  });
  await t.step("the extension away is 503", async () => {
    await ext.close();
    await until("grace period", () => relay.stats().inGracePeriod);
    const pending = get("/json/activate/T1");
    await until("held command", () => relay.stats().heldCommands === 1);
    clock.tick(20);
    const reply = await pending;
    assert.deepEqual([reply.status, reply.body], [503, "Extension not connected"]);
  });
});

Deno.test("handleHttpRequest() answers 404 for unknown paths", async () => {
  await using relay = await startTestRelay();
  for (const path of ["/nope", "/json/new", "/json/protocol", "/extension"]) {
    const reply = await http(relay, path, { headers: tokenHeader() });
    assert.deepEqual([reply.status, reply.body], [404, "not found"], path);
  }
});

Deno.test("handleHttpRequest() checks Host against DNS rebinding", async () => {
  await using relay = await startTestRelay();
  for (
    const host of ["evil.example", "evil.example:18792", "127.0.0.2", "127.0.0.1.evil.example"]
  ) {
    const reply = await http(relay, "/", { headers: { host } });
    assert.deepEqual([reply.status, reply.body], [403, "Forbidden: invalid host"], host);
  }
  for (const host of ["127.0.0.1", "localhost", `localhost:${relay.port}`, "[::1]", "[::1]:1"]) {
    assert.equal((await http(relay, "/", { headers: { host } })).status, 200, host);
  }
});

Deno.test("handleHttpRequest() answers CORS preflights for extension origins only", async () => {
  await using relay = await startTestRelay();
  const denied = await http(relay, "/json/version", {
    method: "OPTIONS",
    headers: { origin: "https://evil.example" },
  });
  assert.deepEqual([denied.status, denied.body], [403, "Forbidden: invalid origin"]);
  const origin = "chrome-extension://abcdefghijklmnop";
  const allowed = await http(relay, "/json/version", {
    method: "OPTIONS",
    headers: { origin, "access-control-request-headers": "X-Custom, Content-Type" },
  });
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers["access-control-allow-origin"], origin);
  assert.equal(allowed.headers["access-control-allow-methods"], "GET, PUT, POST, OPTIONS");
  assert.equal(
    allowed.headers["access-control-allow-headers"],
    "content-type, x-openclaw-relay-token, x-custom",
  );
  assert.equal(allowed.headers["access-control-max-age"], "86400");
  assert.equal(allowed.headers["vary"], "Origin, Access-Control-Request-Headers");
  const noOrigin = await http(relay, "/", { method: "OPTIONS" });
  assert.equal(noOrigin.status, 204);
  assert.equal(noOrigin.headers["access-control-allow-origin"], "*");
  const get = await http(relay, "/extension/status", { headers: { origin } });
  assert.equal(get.headers["access-control-allow-origin"], origin);
  assert.equal(get.headers["vary"], "Origin");
  const other = await http(relay, "/extension/status", {
    headers: { origin: "https://x.example" },
  });
  assert.equal(other.headers["access-control-allow-origin"], undefined);
});

Deno.test("startRelay() rejects upgrades with real HTTP statuses", async (t) => {
  await using relay = await startTestRelay();
  const base = `ws://127.0.0.1:${relay.port}`;
  await t.step("no token is 401 on /cdp and /extension", async () => {
    assert.deepEqual(await TestSocket.rejection(`${base}/cdp`), {
      status: 401,
      body: "Unauthorized",
    });
    assert.deepEqual(await TestSocket.rejection(`${base}/extension`), {
      status: 401,
      body: "Unauthorized",
    });
    assert.equal((await TestSocket.rejection(`${base}/extension?token=wrong`)).status, 401);
  });
  await t.step("a web Origin is 403", async () => {
    const rejection = await TestSocket.rejection(`${base}/cdp`, {
      headers: { ...tokenHeader(), origin: "https://evil.example" },
    });
    assert.deepEqual(rejection, { status: 403, body: "Forbidden: invalid origin" });
  });
  await t.step("a foreign Host is 403", async () => {
    const rejection = await TestSocket.rejection(`${base}/cdp`, {
      headers: { ...tokenHeader(), host: "evil.example" },
    });
    assert.deepEqual(rejection, { status: 403, body: "Forbidden: invalid host" });
  });
  await t.step("an unknown path is 404", async () => {
    assert.deepEqual(
      await TestSocket.rejection(`${base}/devtools/page/T1`, { headers: tokenHeader() }),
      {
        status: 404,
        body: "Not Found",
      },
    );
  });
  await t.step("the token in the query and an extension Origin pass on /cdp", async () => {
    const socket = await TestSocket.open(`${base}/cdp?token=${relay.relayToken}`, {
      headers: { origin: "chrome-extension://abc" },
    });
    await socket.close();
  });
});
