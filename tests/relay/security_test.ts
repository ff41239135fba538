// Security rules of the relay (protocol §8, issue 9 item 5) that other relay tests do not cover
// yet: the token on every protected route, the loopback peer check, web origins on both
// WebSocket endpoints and preflights, DNS rebinding on every route, and no token in logs or
// error texts across a whole session. Already covered elsewhere: the second extension (409,
// server_test.ts), the oversize pre-handshake frame (1009, extension_link_test.ts and
// fuzz_test.ts), the header-vs-query precedence (http_routes_test.ts).

import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { checkHostAndPeer, handleHttpRequest, type HttpContext } from "../../relay/http_routes.ts";
import { connectRequest, FakeExtension } from "../../harness/fake_extension.ts";
import {
  announceAndWait,
  CdpTestClient,
  http,
  type HttpReply,
  startTestRelay,
  TestClock,
  TOKEN,
  tokenHeader,
  until,
} from "./_helpers.ts";
import { TestSocket } from "../../harness/test_socket.ts";

const HTTP_ROUTES = [
  "/json",
  "/json/",
  "/json/version",
  "/json/version/",
  "/json/list",
  "/json/list/",
  "/json/activate/T1",
  "/json/close/T1",
];

Deno.test("startRelay() answers 401 on every protected route without the right token", async (t) => {
  await using relay = await startTestRelay();
  await using _ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  const base = `ws://127.0.0.1:${relay.port}`;
  const wrong = [
    "",
    "wrong",
    relay.relayToken.slice(0, -1),
    `${TOKEN}x`,
    relay.relayToken.toUpperCase(),
  ];
  await t.step("HTTP /json* routes, GET and PUT, no token or a wrong one", async () => {
    for (const path of HTTP_ROUTES) {
      for (const method of ["GET", "PUT"]) {
        const none = await http(relay, path, { method });
        assert.deepEqual([none.status, none.body], [401, "Unauthorized"], `${method} ${path}`);
        for (const token of wrong) {
          const header = await http(relay, path, { method, headers: tokenHeader(token) });
          assert.equal(header.status, 401, `${method} ${path} header ${token}`);
          const query = await http(relay, `${path}?token=${encodeURIComponent(token)}`, { method });
          assert.equal(query.status, 401, `${method} ${path} query ${token}`);
        }
      }
    }
  });
  await t.step("WebSocket /extension and /cdp, no token or a wrong one", async () => {
    for (const path of ["/extension", "/cdp"]) {
      assert.deepEqual(await TestSocket.rejection(`${base}${path}`), {
        status: 401,
        body: "Unauthorized",
      });
      for (const token of wrong) {
        const query = await TestSocket.rejection(
          `${base}${path}?token=${encodeURIComponent(token)}`,
        );
        assert.equal(query.status, 401, `${path} query ${token}`);
        const header = await TestSocket.rejection(`${base}${path}`, {
          headers: tokenHeader(token),
        });
        assert.equal(header.status, 401, `${path} header ${token}`);
      }
    }
  });
  await t.step("the open routes reveal liveness only", async () => {
    assert.deepEqual([(await http(relay, "/")).status, (await http(relay, "/")).body], [200, "OK"]);
    const status = await http(relay, "/extension/status");
    assert.deepEqual(JSON.parse(status.body), {
      connected: true,
      handshake: "connect.challenge",
      protocol: 3,
      auth: ["mutual-v1"],
    });
  });
});

interface FakeRes {
  status: number;
  body: string;
  readonly headers: Record<string, string>;
}

function fakeRequest(
  remoteAddress: string,
  init: { path?: string; host?: string; method?: string; headers?: Record<string, string> } = {},
): IncomingMessage {
  return {
    method: init.method ?? "GET",
    url: init.path ?? "/",
    headers: { host: init.host ?? "127.0.0.1:18792", ...init.headers },
    socket: { remoteAddress },
  } as unknown as IncomingMessage;
}

function fakeResponse(): { res: ServerResponse; out: FakeRes } {
  const out: FakeRes = { status: 0, body: "", headers: {} };
  const res = {
    headersSent: false,
    setHeader(name: string, value: string) {
      out.headers[name.toLowerCase()] = value;
    },
    writeHead(status: number, headers?: Record<string, string>) {
      out.status = status;
      for (const [name, value] of Object.entries(headers ?? {})) {
        out.headers[name.toLowerCase()] = value;
      }
    },
    end(body?: string) {
      out.body = body ?? "";
    },
  };
  return { res: res as unknown as ServerResponse, out };
}

const CONTEXT: HttpContext = {
  bindHost: "127.0.0.1",
  version: "0.1.0",
  legacy: false,
  verifyToken: (token) => token === TOKEN,
  extensionConnected: () => true,
  targets: () => [],
  forward: () => Promise.resolve(),
};

Deno.test("checkHostAndPeer() refuses non-loopback peers while bound to loopback", () => {
  for (const peer of ["192.0.2.2", "10.0.0.1", "::ffff:192.168.1.5", "2001:db8::1", "0.0.0.0"]) {
    for (const bind of ["127.0.0.1", "::1"]) {
      assert.deepEqual(
        checkHostAndPeer(fakeRequest(peer), bind),
        { status: 403, body: "Forbidden" },
        `${peer} → ${bind}`,
      );
    }
  }
  for (const peer of ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"]) {
    assert.equal(checkHostAndPeer(fakeRequest(peer), "127.0.0.1"), undefined, peer);
  }
  // A missing peer address (a destroyed socket) is not loopback either.
  assert.deepEqual(
    checkHostAndPeer(
      { headers: { host: "127.0.0.1" }, socket: {} } as IncomingMessage,
      "127.0.0.1",
    ),
    { status: 403, body: "Forbidden" },
  );
  // The Host check comes first, whatever the peer.
  assert.deepEqual(
    checkHostAndPeer(fakeRequest("10.0.0.1", { host: "evil.example" }), "127.0.0.1"),
    { status: 403, body: "Forbidden: invalid host" },
  );
  // Bound to a non-loopback address on purpose, other peers may come in (still with the token).
  assert.equal(
    checkHostAndPeer(fakeRequest("192.0.2.7", { host: "192.0.2.2:18792" }), "192.0.2.2"),
    undefined,
  );
});

Deno.test("handleHttpRequest() answers 403 to a non-loopback peer on every route, token or not", async () => {
  for (const path of ["/", "/extension/status", ...HTTP_ROUTES]) {
    for (const headers of [{}, tokenHeader(TOKEN)]) {
      for (const method of ["GET", "OPTIONS"]) {
        const { res, out } = fakeResponse();
        await handleHttpRequest(fakeRequest("192.0.2.2", { path, method, headers }), res, CONTEXT);
        assert.deepEqual([out.status, out.body], [403, "Forbidden"], `${method} ${path}`);
      }
    }
  }
});

Deno.test("startRelay() refuses web page origins on both endpoints and in preflights", async () => {
  await using relay = await startTestRelay();
  const base = `ws://127.0.0.1:${relay.port}`;
  const origins = [
    "https://evil.example",
    "http://127.0.0.1:8080",
    "http://localhost",
    "null",
    "file://",
    "chrome-extension:/x",
  ];
  for (const origin of origins) {
    for (const path of ["/extension", "/cdp"]) {
      // With a valid token: the Origin check alone refuses it.
      const rejection = await TestSocket.rejection(`${base}${path}?token=${relay.relayToken}`, {
        headers: { origin },
      });
      assert.deepEqual(rejection, { status: 403, body: "Forbidden: invalid origin" }, origin);
    }
    for (const path of ["/extension", "/cdp", "/json/version", "/json/list", "/"]) {
      const preflight = await http(relay, path, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "GET",
          "access-control-request-headers": "x-openclaw-relay-token",
        },
      });
      assert.deepEqual(
        [preflight.status, preflight.body],
        [403, "Forbidden: invalid origin"],
        `${origin} ${path}`,
      );
      assert.equal(preflight.headers["access-control-allow-origin"], undefined);
    }
    // A plain request from a page gets no CORS grant, so the page cannot read the answer.
    const simple = await http(relay, "/json/version", {
      headers: { origin, ...tokenHeader(relay.relayToken) },
    });
    assert.equal(simple.headers["access-control-allow-origin"], undefined, origin);
  }
  assert.equal(relay.stats().extensionConnected, false);
  assert.equal(relay.stats().clients, 0);
});

Deno.test("startRelay() refuses a DNS-rebinding Host on every route, with a valid token", async () => {
  await using relay = await startTestRelay();
  const base = `ws://127.0.0.1:${relay.port}`;
  const hosts = [
    "evil.example",
    `evil.example:${relay.port}`,
    "127.0.0.1.evil.example",
    "localhost.evil.example",
    "127.0.0.2",
    "[::2]",
  ];
  for (const host of hosts) {
    for (const path of ["/", "/extension/status", ...HTTP_ROUTES]) {
      const reply: HttpReply = await http(relay, path, {
        headers: { host, ...tokenHeader(relay.relayToken) },
      });
      assert.deepEqual([reply.status, reply.body], [403, "Forbidden: invalid host"], host + path);
    }
    for (const path of ["/extension", "/cdp"]) {
      const rejection = await TestSocket.rejection(`${base}${path}?token=${relay.relayToken}`, {
        headers: { host },
      });
      assert.deepEqual(rejection, { status: 403, body: "Forbidden: invalid host" }, host + path);
    }
  }
});

Deno.test("startRelay() never puts the token in logs, close reasons or error replies", async () => {
  const lines: string[] = [];
  const clock = new TestClock();
  const relay = await startTestRelay({
    clock,
    log: (line) => lines.push(line),
    reconnectGraceMs: 200,
  });
  const derived = relay.relayToken;
  const seen: string[] = [];
  const base = `ws://127.0.0.1:${relay.port}`;
  try {
    // Failures first: every rejection, with the tokens in the places a client would put them.
    for (const path of ["/extension", "/cdp", "/nowhere"]) {
      for (const query of [`?token=${TOKEN}x`, `?token=${derived}`, `?token=${TOKEN}`]) {
        for (const headers of [{ origin: "https://evil.example" }, { host: "evil.example" }, {}]) {
          try {
            const socket = await TestSocket.open(`${base}${path}${query}`, { headers });
            await socket.close();
          } catch (error) {
            seen.push(JSON.stringify(error));
          }
        }
      }
    }
    for (const path of HTTP_ROUTES) {
      for (const token of [`${TOKEN}x`, `${derived}0`]) {
        const reply = await http(relay, `${path}?token=${token}`, {
          headers: tokenHeader(token),
        });
        seen.push(reply.body, JSON.stringify(reply.headers));
      }
    }
    // A connect with a wrong token, and one with the right token in the wrong field.
    for (const params of [connectRequest("c1", `${TOKEN}-wrong`).params, { auth: TOKEN }]) {
      const socket = await TestSocket.open(`${base}/extension?token=${derived}`);
      await socket.next((f) => f.event === "connect.challenge");
      socket.send({ type: "req", id: "c", method: "connect", params: params as never });
      const closed = await socket.waitClosed();
      seen.push(JSON.stringify(socket.received), closed.reason);
    }
    // Then a whole session: extension, target, clients, a failing command, drops, grace, stop.
    const ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
    ext.handler = (command) => command.method === "Page.crash" ? "Target crashed" : {};
    await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
    const client = await CdpTestClient.connect(relay, derived);
    seen.push(JSON.stringify(await client.call("Page.crash", {}, "cb-tab-1")));
    seen.push(JSON.stringify(await client.call("Browser.crashGpuProcess")));
    seen.push((await http(relay, "/json/activate/T1", { headers: tokenHeader(TOKEN) })).body);
    const replaced = await TestSocket.rejection(`${base}/extension?token=${derived}`);
    seen.push(replaced.body);
    await ext.close();
    await until("grace period", () => relay.stats().inGracePeriod);
    const held = client.post("Runtime.evaluate", {}, "cb-tab-1");
    await until("held command", () => relay.stats().heldCommands === 1);
    clock.tick(200);
    seen.push(JSON.stringify(await client.response(held)));
    const gone = await client.socket.waitClosed();
    seen.push(gone.reason);
    seen.push(...client.socket.received.map((f) => JSON.stringify(f)));
    seen.push(...ext.socket.received.map((f) => JSON.stringify(f)));
  } finally {
    await relay.close();
  }
  assert.ok(lines.length > 10, `the session was logged: ${lines.length} lines`);
  assert.ok(lines.some((line) => line.includes("<redacted>")), "a token query was redacted");
  for (const text of [...lines, ...seen]) {
    assert.ok(!text.includes(TOKEN), `raw gateway token in: ${text}`);
    assert.ok(!text.includes(derived), `derived relay token in: ${text}`);
  }
});

Deno.test("startRelay() refuses a web Origin on every route and method, not only preflights", async () => {
  await using relay = await startTestRelay();
  await using ext = await FakeExtension.connect({ url: relay.url, token: TOKEN });
  await announceAndWait(relay, ext, "cb-tab-1", { targetId: "T1" });
  // What `fetch(url, { mode: "no-cors" })` from a web page sends: a simple request, no preflight.
  for (const path of [...HTTP_ROUTES, "/", "/extension/status", "/nowhere"]) {
    for (const method of ["GET", "PUT", "POST", "HEAD"]) {
      const reply = await http(relay, `${path}?token=${relay.relayToken}`, {
        method,
        headers: { origin: "https://evil.example" },
      });
      assert.equal(reply.status, 403, `${method} ${path}`);
      if (method !== "HEAD") assert.equal(reply.body, "Forbidden: invalid origin");
    }
  }
  assert.deepEqual(ext.commands.map((command) => command.method), []);
  assert.equal(relay.stats().targets, 1);
  // No Origin (a CLI client) and an extension Origin still work.
  const cli = await http(relay, `/json/activate/T1?token=${relay.relayToken}`);
  const extension = await http(relay, `/json/version?token=${relay.relayToken}`, {
    headers: { origin: "chrome-extension://abcdefghijklmnopabcdefghijklmnop" },
  });
  assert.deepEqual([cli.status, extension.status], [200, 200]);
  assert.deepEqual(ext.commands.map((command) => command.method), ["Target.activateTarget"]);
});

Deno.test("startRelay() redacts the token in logs however the query spells its name", async () => {
  const lines: string[] = [];
  await using relay = await startTestRelay({ log: (line) => lines.push(line) });
  const base = `ws://127.0.0.1:${relay.port}`;
  for (const name of ["%74oken", "t%6Fk%65n", "%74%6F%6B%65%6E"]) {
    // The relay accepts each spelling as the token...
    const accepted = await http(relay, `/json/version?${name}=${relay.relayToken}`);
    assert.equal(accepted.status, 200, name);
    // ...so a rejected upgrade or request must not log it.
    const rejected = await TestSocket.rejection(`${base}/cdp?${name}=${relay.relayToken}`, {
      headers: { origin: "https://evil.example" },
    });
    assert.equal(rejected.status, 403);
    const refused = await http(relay, `/json/list?${name}=${relay.relayToken}`, {
      headers: { origin: "https://evil.example" },
    });
    assert.equal(refused.status, 403);
  }
  const rejections = lines.filter((line) => line.startsWith("Rejected"));
  assert.equal(rejections.length, 6);
  for (const line of rejections) {
    assert.ok(!line.includes(relay.relayToken), `derived relay token in: ${line}`);
    assert.ok(line.includes("=<redacted>"), line);
  }
});
