import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { deriveRelayToken } from "../../codec/derive_relay_token.ts";
import { mutualAuthKey, mutualChallengeNonce, mutualProof } from "../../codec/mutual_auth.ts";
import { seededNonce } from "../_fakes/fake_mutual_relay.ts";
import {
  checkConnection,
  type CheckConnectionPorts,
  classifyCheck,
} from "../../worker/check_connection.ts";
import type { Clock } from "../../worker/ports.ts";
import {
  connectionRefused,
  FakeHttp,
  type FakeHttpHandler,
  type FakeHttpReply,
} from "../_fakes/fake_http.ts";
import { systemClock } from "../../worker/system_clock.ts";

type Reply = FakeHttpReply;

/** A handler answering by exact URL; unknown URLs fail like a refused connection. */
function routes(table: Record<string, Reply>): FakeHttpHandler {
  return (request) => table[request.url] ?? connectionRefused();
}

/** A FakeHttp over a route table (builder style, to keep the cases short). */
class RoutedHttp extends FakeHttp {
  readonly #table: Record<string, Reply> = {};
  readonly #waiters: { url: string; resolve: () => void }[] = [];

  constructor() {
    super();
    const answer = routes(this.#table);
    this.handler = (request) => {
      for (const waiter of this.#waiters) if (waiter.url === request.url) waiter.resolve();
      return answer(request);
    };
  }

  route(url: string, reply: Reply): this {
    this.#table[url] = reply;
    return this;
  }

  /** Resolves once a request to `url` was sent (token derivation is real async work). */
  whenSent(url: string): Promise<void> {
    if (this.requests.some((request) => request.url === url)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ url, resolve }));
  }
}

/** Production-shaped clock: delegates to the globals at call time, so fake timers drive it. */
const lazyClock: Pick<Clock, "setTimeout" | "clearTimeout"> = systemClock();

const BASE = "http://127.0.0.1:18792";
const STATUS_URL = `${BASE}/extension/status`;
const VERSION_URL = `${BASE}/json/version`;
const RELAY_STATUS = {
  status: 200,
  contentType: "application/json",
  body: '{"connected":false,"handshake":"connect.challenge","protocol":3}',
};
const RELAY_VERSION = {
  status: 200,
  contentType: "application/json",
  body: '{"Browser":"BrowserRelay/0.1.0","Protocol-Version":"1.3"}',
};

async function runCheck(http: RoutedHttp, token = "test-token") {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const ports: CheckConnectionPorts = { http: http.get, clock: lazyClock };
    // The OpenClaw flow: scheme mutual-v1 has its own tests below.
    const result = await checkConnection(ports, { port: 18792, token, openclawRelayCompat: true });
    assert.equal(clock.countTimers(), 0);
    return result;
  } finally {
    clock.uninstall();
  }
}

Deno.test("checkConnection() reports a reachable relay with version and handshake", async () => {
  const http = new RoutedHttp().route(STATUS_URL, RELAY_STATUS).route(VERSION_URL, RELAY_VERSION);
  const result = await runCheck(http, "  test-token  ");
  assert.deepEqual(result, {
    kind: "ok",
    url: VERSION_URL,
    relayVersion: "BrowserRelay/0.1.0",
    protocolVersion: "1.3",
    challengeHandshake: true,
    extensionConnected: false,
    message:
      "Connected to BrowserRelay/0.1.0 at http://127.0.0.1:18792: token accepted, CDP 1.3, supports the connect.challenge handshake",
    hint: "",
  });
  // The status probe carries no credentials; /json/version carries the derived token (trimmed).
  assert.deepEqual(http.requests, [
    { url: STATUS_URL, headers: {} },
    {
      url: VERSION_URL,
      headers: { "x-openclaw-relay-token": await deriveRelayToken("test-token", 18792) },
    },
  ]);
  assert.equal(
    http.requests[1]?.headers["x-openclaw-relay-token"],
    "f0f0433d5dfc42ee9066dba0dc2cd4aec533f98215cbaa383fe6868cce0ae21b",
  );
});

Deno.test("checkConnection() reports a legacy relay that announces no handshake", async () => {
  const http = new RoutedHttp()
    .route(STATUS_URL, { status: 200, contentType: "application/json", body: '{"connected":true}' })
    .route(VERSION_URL, RELAY_VERSION);
  const result = await runCheck(http);
  assert.equal(result.kind, "ok");
  assert.ok(result.kind === "ok");
  assert.equal(result.challengeHandshake, false);
  assert.equal(result.extensionConnected, true);
  assert.match(result.message, /announces no handshake \(legacy relay\)$/);
});

Deno.test("checkConnection() reports a rejected token on 401", async () => {
  const http = new RoutedHttp()
    .route(STATUS_URL, RELAY_STATUS)
    .route(VERSION_URL, {
      status: 401,
      contentType: "text/plain; charset=utf-8",
      body: "Unauthorized",
    });
  assert.deepEqual(await runCheck(http), {
    kind: "token_rejected",
    url: VERSION_URL,
    status: 401,
    message:
      "The relay at http://127.0.0.1:18792 rejected the token (HTTP 401 from http://127.0.0.1:18792/json/version)",
    hint: "Copy the gateway token the relay printed at start into the token field and save.",
  });
});

Deno.test("checkConnection() reports a wrong port for an HTML page with status 200", async () => {
  const page = { status: 200, contentType: "text/html", body: "<!doctype html><title>App</title>" };
  const http = new RoutedHttp().route(STATUS_URL, page).route(VERSION_URL, page);
  assert.deepEqual(await runCheck(http), {
    kind: "wrong_port",
    url: VERSION_URL,
    status: 200,
    reason: "html",
    message:
      "Something answers at http://127.0.0.1:18792/json/version, but it is not a Browser Relay: it returned an HTML page (HTTP 200)",
    hint: "Check the port: the relay prints it at start (default 18792).",
  });
});

Deno.test("checkConnection() reports a wrong port for JSON without the CDP keys", async () => {
  const json = { status: 200, contentType: "application/json", body: '{"name":"some-api"}' };
  const http = new RoutedHttp().route(STATUS_URL, json).route(VERSION_URL, json);
  const result = await runCheck(http);
  assert.equal(result.kind, "wrong_port");
  assert.ok(result.kind === "wrong_port");
  assert.equal(result.reason, "missing_cdp_keys");
  assert.equal(result.url, VERSION_URL);
  assert.equal(
    result.message,
    'Something answers at http://127.0.0.1:18792/json/version, but it is not a Browser Relay: its JSON has no CDP keys "Browser" and "Protocol-Version"',
  );
});

Deno.test("checkConnection() reports not reachable on a network error", async () => {
  const http = new RoutedHttp(); // no routes: every request fails like fetch does
  assert.deepEqual(await runCheck(http), {
    kind: "unreachable",
    url: STATUS_URL,
    cause: "Failed to fetch",
    message: "Relay server not reachable at http://127.0.0.1:18792 (Failed to fetch)",
    hint:
      'Start the relay with "deno task relay" (it prints its port and token), or check the port.',
  });
  // Nothing is sent with the token when the relay does not answer.
  assert.deepEqual(http.requests, [{ url: STATUS_URL, headers: {} }]);
});

Deno.test("checkConnection() reports a timeout after 2000 ms and aborts the request", async () => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const http = new RoutedHttp().route(STATUS_URL, "hang");
    let settled = false;
    const pending = checkConnection({ http: http.get, clock: lazyClock }, {
      port: 18792,
      token: "test-token",
      openclawRelayCompat: true,
    }).finally(() => settled = true);
    await clock.tickAsync(1_999);
    assert.equal(settled, false);
    await clock.tickAsync(1);
    assert.deepEqual(await pending, {
      kind: "timeout",
      url: STATUS_URL,
      timeoutMs: 2_000,
      message: "No answer from http://127.0.0.1:18792/extension/status within 2000 ms",
      hint:
        "Something holds the port but does not answer; check that the port belongs to the relay.",
    });
    assert.equal(http.pending, 0); // the hung request was aborted, not left running
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("checkConnection() applies the deadline to /json/version separately", async () => {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const http = new RoutedHttp().route(STATUS_URL, RELAY_STATUS).route(VERSION_URL, "hang");
    const pending = checkConnection(
      { http: http.get, clock: lazyClock },
      { port: 18792, token: "test-token", openclawRelayCompat: true },
      { timeoutMs: 500 },
    );
    await http.whenSent(VERSION_URL);
    await clock.tickAsync(499);
    assert.equal(http.requests.length, 2);
    await clock.tickAsync(1);
    const result = await pending;
    assert.equal(result.kind, "timeout");
    assert.equal(result.url, VERSION_URL);
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("checkConnection() rejects bad input without network I/O", async (t) => {
  await t.step("an out-of-range port", async () => {
    const http = new RoutedHttp();
    const result = await checkConnection({ http: http.get, clock: lazyClock }, {
      port: 70_000,
      token: "t",
    });
    assert.equal(result.kind, "invalid_input");
    assert.ok(result.kind === "invalid_input");
    assert.equal(result.field, "port");
    assert.equal(
      result.message,
      "The port must be a whole number between 1 and 65535: current value is 70000",
    );
    assert.deepEqual(http.requests, []);
  });
  await t.step("a blank token", async () => {
    const http = new RoutedHttp();
    const result = await checkConnection({ http: http.get, clock: lazyClock }, {
      port: 18792,
      token: "   ",
    });
    assert.equal(result.kind, "invalid_input");
    assert.ok(result.kind === "invalid_input");
    assert.equal(result.field, "token");
    assert.deepEqual(http.requests, []);
  });
});

Deno.test("classifyCheck() classifies response shapes", async (t) => {
  const status = { url: STATUS_URL, outcome: { kind: "response" as const, ...RELAY_STATUS } };
  const version = (status: number, contentType: string, body: string) => ({
    baseUrl: BASE,
    status: { url: STATUS_URL, outcome: { kind: "response" as const, ...RELAY_STATUS } },
    version: {
      url: VERSION_URL,
      outcome: { kind: "response" as const, status, contentType, body },
    },
  });
  await t.step("HTML without an html content type is still HTML", () => {
    const result = classifyCheck(version(200, "text/plain", "  <html><body>hi</body></html>"));
    assert.ok(result.kind === "wrong_port");
    assert.equal(result.reason, "html");
  });
  await t.step("non-JSON text", () => {
    const result = classifyCheck(version(200, "text/plain", "OK"));
    assert.ok(result.kind === "wrong_port");
    assert.equal(result.reason, "not_json");
  });
  await t.step("a JSON array is not a version object", () => {
    const result = classifyCheck(version(200, "application/json", "[1,2]"));
    assert.ok(result.kind === "wrong_port");
    assert.equal(result.reason, "not_json");
  });
  await t.step("CDP keys with the wrong types", () => {
    const result = classifyCheck(
      version(200, "application/json", '{"Browser":1,"Protocol-Version":"1.3"}'),
    );
    assert.ok(result.kind === "wrong_port");
    assert.equal(result.reason, "missing_cdp_keys");
  });
  await t.step("another status quotes the body", () => {
    assert.deepEqual(classifyCheck(version(404, "text/plain", "not found")), {
      kind: "wrong_port",
      url: VERSION_URL,
      status: 404,
      reason: "unexpected_status",
      message:
        'Something answers at http://127.0.0.1:18792/json/version, but it is not a Browser Relay: it answered HTTP 404 "not found"',
      hint: "Check the port: the relay prints it at start (default 18792).",
    });
  });
  await t.step("a chrome --remote-debugging-port endpoint counts as CDP", () => {
    const result = classifyCheck(
      version(200, "application/json", '{"Browser":"Chrome/156.0","Protocol-Version":"1.3"}'),
    );
    assert.ok(result.kind === "ok");
    assert.equal(result.relayVersion, "Chrome/156.0");
  });
  await t.step("the version request is required once status answered", () => {
    assert.throws(() => classifyCheck({ baseUrl: BASE, status }), {
      name: "TypeError",
      message: 'Cannot classify check as "version" is missing: current value is undefined',
    });
  });
});

const NONCE = seededNonce(1);
const MUTUAL_STATUS_URL = `${STATUS_URL}?auth=mutual-v1&nonce=${NONCE}`;

/** A status answer carrying the proof of a relay that knows `token` (on `port`) for NONCE. */
async function provenStatus(token: string, port = 18792): Promise<Reply> {
  const relayNonce = seededNonce(9);
  const key = await mutualAuthKey(token, port);
  const proof = await mutualProof(key, "relay", { port, clientNonce: NONCE, relayNonce });
  return {
    status: 200,
    contentType: "application/json",
    body: JSON.stringify({
      connected: false,
      handshake: "connect.challenge",
      protocol: 3,
      auth: ["mutual-v1"],
      proof: mutualChallengeNonce(relayNonce, proof),
      browser: "BrowserRelay/0.1.0",
      protocolVersion: "1.3",
    }),
  };
}

async function runMutualCheck(http: RoutedHttp, token = "test-token") {
  const ports: CheckConnectionPorts = { http: http.get, clock: lazyClock };
  return await checkConnection(ports, { port: 18792, token }, { clientNonce: () => NONCE });
}

Deno.test("checkConnection() in scheme mutual-v1 accepts the relay's proof and sends no credential", async () => {
  const http = new RoutedHttp()
    .route(MUTUAL_STATUS_URL, await provenStatus("test-token"))
    .route(VERSION_URL, RELAY_VERSION);
  assert.deepEqual(await runMutualCheck(http), {
    kind: "ok",
    url: MUTUAL_STATUS_URL,
    relayVersion: "BrowserRelay/0.1.0",
    protocolVersion: "1.3",
    challengeHandshake: true,
    extensionConnected: false,
    message:
      "Connected to BrowserRelay/0.1.0 at http://127.0.0.1:18792: token accepted (the relay proved it knows it), CDP 1.3, supports the connect.challenge handshake",
    hint: "",
  });
  // One request, without headers: not even a proven relay gets the relay token.
  assert.deepEqual(http.requests, [{ url: MUTUAL_STATUS_URL, headers: {} }]);
});

Deno.test("checkConnection() in scheme mutual-v1 gives a relay that cannot prove the token nothing", async (t) => {
  const relayToken = await deriveRelayToken("test-token", 18792);
  const cases: [string, Reply][] = [
    ["a proof made with another token", await provenStatus("other-token")],
    ["a proof made for another port", await provenStatus("test-token", 18793)],
    ["no proof", RELAY_STATUS_MUTUAL],
  ];
  for (const [name, reply] of cases) {
    await t.step(name, async () => {
      const http = new RoutedHttp().route(MUTUAL_STATUS_URL, reply).route(
        VERSION_URL,
        RELAY_VERSION,
      );
      assert.deepEqual(await runMutualCheck(http), {
        kind: "token_rejected",
        url: MUTUAL_STATUS_URL,
        message:
          "The relay at http://127.0.0.1:18792 could not prove that it knows this token: the token differs, or another program is listening on port 18792",
        hint:
          "Copy the gateway token the relay printed at start into the token field and save; if it matches, stop the program that holds the port.",
      });
      assert.deepEqual(http.requests.map((request) => request.url), [MUTUAL_STATUS_URL]);
      assert.equal(JSON.stringify(http.requests).includes(relayToken), false);
    });
  }
  await t.step("a status without mutual-v1 (an OpenClaw relay)", async () => {
    const http = new RoutedHttp().route(MUTUAL_STATUS_URL, RELAY_STATUS);
    const result = await runMutualCheck(http);
    assert.equal(result.kind, "wrong_port");
    assert.ok(result.kind === "wrong_port");
    assert.equal(result.reason, "no_mutual_auth");
    assert.deepEqual(http.requests.map((request) => request.url), [MUTUAL_STATUS_URL]);
  });
});

const RELAY_STATUS_MUTUAL = {
  status: 200,
  contentType: "application/json",
  body: '{"connected":false,"handshake":"connect.challenge","protocol":3,"auth":["mutual-v1"]}',
};
