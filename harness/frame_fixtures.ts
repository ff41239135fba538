// Codec test tables: frame fixtures with their golden wire text, and invalid inputs with the
// issue they must produce. Shared by the decode/encode tests, the fuzzer and the benchmark.

import type { CdpFrame, ExtensionFrame, IssueCode } from "../mod.ts";

/** A frame and the exact wire text it encodes to (and decodes from). */
export interface FrameFixture<F> {
  readonly name: string;
  readonly frame: F;
  readonly wire: string;
}

/** An input that must be rejected, with the first issue it must produce. */
export interface InvalidFixture {
  readonly name: string;
  readonly input: string | Uint8Array;
  readonly maxBytes?: number;
  readonly code: IssueCode;
  readonly path: readonly (string | number)[];
  readonly expected: string;
  readonly received: string;
  /** The frame id the failure must carry, when the id was readable. */
  readonly id?: number | string;
}

/** The connect request of protocol §3.3, as the extension sends it. */
export const CONNECT_WIRE: string =
  '{"type":"req","id":"ext-connect-1771662593650-3f9a1c","method":"connect","params":{' +
  '"minProtocol":3,"maxProtocol":3,' +
  '"client":{"id":"webchat-ui","version":"0.1.0","platform":"chrome-extension","mode":"webchat"},' +
  '"role":"operator","scopes":["operator.read","operator.write"],"caps":[],"commands":[],' +
  '"auth":{"token":"test-gateway-token"},' +
  '"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"}}';

/** The hello-ok of protocol §3.4, as the project's relay sends it. */
export const HELLO_WIRE: string =
  '{"type":"res","id":"ext-connect-1771662593650-3f9a1c","ok":true,"payload":{"type":"hello-ok","protocol":3,' +
  '"server":{"version":"0.1.0","connId":"5b0c6a52-1f8e-4c1a-9d2e-7f00c0ffee00"},' +
  '"features":{"methods":["connect"],"events":["connect.challenge"]},' +
  '"snapshot":{"presence":[],"health":{},"stateVersion":{"presence":0,"health":0},"uptimeMs":5123,"authMode":"token"},' +
  '"policy":{"maxPayload":268435456,"maxBufferedBytes":536870912,"tickIntervalMs":5000}}}';

const TARGET_INFO = {
  targetId: "9A3F00D1",
  type: "page",
  title: "Example",
  url: "https://example.com/",
  attached: true,
  canAccessOpener: false,
  browserContextId: "C1D2E3F4",
} as const;

/** Every ExtensionFrame kind, both outcome variants, and sessionId present/absent. */
export const EXTENSION_FRAMES: readonly FrameFixture<ExtensionFrame>[] = [
  {
    name: "command with sessionId and params",
    frame: {
      kind: "command",
      id: 7,
      cdp: { method: "Runtime.evaluate", sessionId: "cb-tab-1", params: { expression: "1+1" } },
    },
    wire:
      '{"id":7,"method":"forwardCDPCommand","params":{"method":"Runtime.evaluate","sessionId":"cb-tab-1","params":{"expression":"1+1"}}}',
  },
  {
    name: "command without sessionId or params",
    frame: { kind: "command", id: 1, cdp: { method: "Browser.getVersion" } },
    wire: '{"id":1,"method":"forwardCDPCommand","params":{"method":"Browser.getVersion"}}',
  },
  {
    name: "response with result",
    frame: {
      kind: "response",
      id: 7,
      outcome: { ok: true, result: { result: { type: "number", value: 2, description: "2" } } },
    },
    wire: '{"id":7,"result":{"result":{"type":"number","value":2,"description":"2"}}}',
  },
  {
    name: "response with empty result",
    frame: { kind: "response", id: 8, outcome: { ok: true, result: {} } },
    wire: '{"id":8,"result":{}}',
  },
  {
    name: "response with error",
    frame: {
      kind: "response",
      id: 7,
      outcome: { ok: false, error: "No session with given id: 4F2A9C0E" },
    },
    wire: '{"id":7,"error":"No session with given id: 4F2A9C0E"}',
  },
  {
    name: "event with sessionId",
    frame: {
      kind: "event",
      cdp: {
        sessionId: "cb-tab-1",
        method: "Page.frameNavigated",
        params: { frame: { id: "F1", url: "https://example.com/" } },
      },
    },
    wire:
      '{"method":"forwardCDPEvent","params":{"sessionId":"cb-tab-1","method":"Page.frameNavigated","params":{"frame":{"id":"F1","url":"https://example.com/"}}}}',
  },
  {
    name: "synthetic attachedToTarget event",
    frame: {
      kind: "event",
      cdp: {
        method: "Target.attachedToTarget",
        params: { sessionId: "cb-tab-1", targetInfo: TARGET_INFO, waitingForDebugger: false },
      },
    },
    wire: '{"method":"forwardCDPEvent","params":{"method":"Target.attachedToTarget","params":' +
      JSON.stringify({
        sessionId: "cb-tab-1",
        targetInfo: TARGET_INFO,
        waitingForDebugger: false,
      }) +
      "}}",
  },
  {
    name: "event without params",
    frame: { kind: "event", cdp: { method: "Page.loadEventFired" } },
    wire: '{"method":"forwardCDPEvent","params":{"method":"Page.loadEventFired"}}',
  },
  { name: "ping", frame: { kind: "ping" }, wire: '{"method":"ping"}' },
  { name: "pong", frame: { kind: "pong" }, wire: '{"method":"pong"}' },
  {
    name: "connect.challenge",
    frame: {
      kind: "connect_challenge",
      nonce: "b08424c6-99f6-4a1a-afef-0dc44ac8cb84",
      ts: 1771662593647,
    },
    wire:
      '{"type":"event","event":"connect.challenge","payload":{"nonce":"b08424c6-99f6-4a1a-afef-0dc44ac8cb84","ts":1771662593647}}',
  },
  {
    name: "gateway event with payload",
    frame: { kind: "gateway_event", event: "tick", payload: { ts: 1 } },
    wire: '{"type":"event","event":"tick","payload":{"ts":1}}',
  },
  {
    name: "gateway event without payload",
    frame: { kind: "gateway_event", event: "presence" },
    wire: '{"type":"event","event":"presence"}',
  },
  {
    name: "connect request",
    frame: {
      kind: "connect_request",
      id: "ext-connect-1771662593650-3f9a1c",
      params: {
        minProtocol: 3,
        maxProtocol: 3,
        client: {
          id: "webchat-ui",
          version: "0.1.0",
          platform: "chrome-extension",
          mode: "webchat",
        },
        role: "operator",
        scopes: ["operator.read", "operator.write"],
        caps: [],
        commands: [],
        auth: { token: "test-gateway-token" },
        userAgent:
          "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
      },
    },
    wire: CONNECT_WIRE,
  },
  {
    name: "connect request with every optional field",
    frame: {
      kind: "connect_request",
      id: "c2",
      params: {
        minProtocol: 1,
        maxProtocol: 3,
        client: {
          id: "test",
          displayName: "Test",
          version: "1",
          platform: "deno",
          deviceFamily: "pc",
          modelIdentifier: "m1",
          mode: "test",
          instanceId: "i1",
        },
        caps: ["c"],
        commands: ["x"],
        permissions: { read: true, write: false },
        pathEnv: "",
        role: "operator",
        scopes: ["operator.read"],
        device: { id: "d", publicKey: "pk", signature: "sig", signedAt: 0, nonce: "n" },
        auth: { token: "t", bootstrapToken: "b", deviceToken: "d", password: "p" },
        locale: "en",
        userAgent: "",
      },
    },
    wire: '{"type":"req","id":"c2","method":"connect","params":{"minProtocol":1,"maxProtocol":3,' +
      '"client":{"id":"test","displayName":"Test","version":"1","platform":"deno","deviceFamily":"pc",' +
      '"modelIdentifier":"m1","mode":"test","instanceId":"i1"},"caps":["c"],"commands":["x"],' +
      '"permissions":{"read":true,"write":false},"pathEnv":"","role":"operator","scopes":["operator.read"],' +
      '"device":{"id":"d","publicKey":"pk","signature":"sig","signedAt":0,"nonce":"n"},' +
      '"auth":{"token":"t","bootstrapToken":"b","deviceToken":"d","password":"p"},"locale":"en","userAgent":""}}',
  },
  {
    name: "gateway request with params",
    frame: { kind: "gateway_request", id: "r1", method: "status", params: { verbose: true } },
    wire: '{"type":"req","id":"r1","method":"status","params":{"verbose":true}}',
  },
  {
    name: "gateway request without params",
    frame: { kind: "gateway_request", id: "r2", method: "health" },
    wire: '{"type":"req","id":"r2","method":"health"}',
  },
  {
    name: "hello-ok",
    frame: {
      kind: "hello_ok",
      id: "ext-connect-1771662593650-3f9a1c",
      hello: {
        type: "hello-ok",
        protocol: 3,
        server: { version: "0.1.0", connId: "5b0c6a52-1f8e-4c1a-9d2e-7f00c0ffee00" },
        features: { methods: ["connect"], events: ["connect.challenge"] },
        snapshot: {
          presence: [],
          health: {},
          stateVersion: { presence: 0, health: 0 },
          uptimeMs: 5123,
          authMode: "token",
        },
        policy: { maxPayload: 268435456, maxBufferedBytes: 536870912, tickIntervalMs: 5000 },
      },
    },
    wire: HELLO_WIRE,
  },
  {
    name: "minimal hello-ok",
    frame: { kind: "hello_ok", id: "h", hello: { type: "hello-ok", protocol: 3 } },
    wire: '{"type":"res","id":"h","ok":true,"payload":{"type":"hello-ok","protocol":3}}',
  },
  {
    name: "gateway response with payload",
    frame: { kind: "gateway_response", id: "r1", payload: { status: "ok" } },
    wire: '{"type":"res","id":"r1","ok":true,"payload":{"status":"ok"}}',
  },
  {
    name: "gateway response without payload",
    frame: { kind: "gateway_response", id: "r2" },
    wire: '{"type":"res","id":"r2","ok":true}',
  },
  {
    name: "gateway error with details",
    frame: {
      kind: "gateway_error",
      id: "ext-connect-1",
      error: {
        code: "INVALID_REQUEST",
        message: "unauthorized: gateway token mismatch",
        details: { code: "AUTH_TOKEN_MISMATCH", authReason: "token_mismatch" },
      },
    },
    wire: '{"type":"res","id":"ext-connect-1","ok":false,"error":{"code":"INVALID_REQUEST",' +
      '"message":"unauthorized: gateway token mismatch","details":{"code":"AUTH_TOKEN_MISMATCH","authReason":"token_mismatch"}}}',
  },
  {
    name: "gateway error with retry hints",
    frame: {
      kind: "gateway_error",
      id: "c3",
      error: {
        code: "INVALID_REQUEST",
        message: "rate limited",
        retryable: true,
        retryAfterMs: 1500,
      },
    },
    wire:
      '{"type":"res","id":"c3","ok":false,"error":{"code":"INVALID_REQUEST","message":"rate limited","retryable":true,"retryAfterMs":1500}}',
  },
];

/** Every CdpFrame kind, both outcome variants, and sessionId present/absent. */
export const CDP_FRAMES: readonly FrameFixture<CdpFrame>[] = [
  {
    name: "command without params",
    frame: { kind: "command", id: 1, method: "Browser.getVersion" },
    wire: '{"id":1,"method":"Browser.getVersion"}',
  },
  {
    name: "command with params",
    frame: {
      kind: "command",
      id: 2,
      method: "Target.setAutoAttach",
      params: { autoAttach: true, waitForDebuggerOnStart: true, flatten: true },
    },
    wire:
      '{"id":2,"method":"Target.setAutoAttach","params":{"autoAttach":true,"waitForDebuggerOnStart":true,"flatten":true}}',
  },
  {
    name: "command with params and sessionId",
    frame: {
      kind: "command",
      id: 0,
      method: "Runtime.evaluate",
      params: { expression: "1+1" },
      sessionId: "cb-tab-1",
    },
    wire:
      '{"id":0,"method":"Runtime.evaluate","params":{"expression":"1+1"},"sessionId":"cb-tab-1"}',
  },
  {
    name: "command with sessionId only",
    frame: { kind: "command", id: 3, method: "Page.enable", sessionId: "cb-tab-1" },
    wire: '{"id":3,"method":"Page.enable","sessionId":"cb-tab-1"}',
  },
  {
    name: "response with result",
    frame: { kind: "response", id: 4, outcome: { ok: true, result: { browserContextIds: [] } } },
    wire: '{"id":4,"result":{"browserContextIds":[]}}',
  },
  {
    name: "response with result and sessionId",
    frame: { kind: "response", id: 5, sessionId: "cb-tab-1", outcome: { ok: true, result: {} } },
    wire: '{"id":5,"sessionId":"cb-tab-1","result":{}}',
  },
  {
    name: "response with error",
    frame: {
      kind: "response",
      id: 6,
      outcome: { ok: false, error: { code: -32000, message: "Extension not connected" } },
    },
    wire: '{"id":6,"error":{"code":-32000,"message":"Extension not connected"}}',
  },
  {
    name: "response with error, data and sessionId",
    frame: {
      kind: "response",
      id: 7,
      sessionId: "s",
      outcome: { ok: false, error: { code: -32602, message: "Invalid params", data: "x" } },
    },
    wire: '{"id":7,"sessionId":"s","error":{"code":-32602,"message":"Invalid params","data":"x"}}',
  },
  {
    name: "response with error without code",
    frame: { kind: "response", id: 8, outcome: { ok: false, error: { message: "boom" } } },
    wire: '{"id":8,"error":{"message":"boom"}}',
  },
  {
    name: "event with params",
    frame: { kind: "event", method: "Target.targetCreated", params: { targetInfo: TARGET_INFO } },
    wire: '{"method":"Target.targetCreated","params":' +
      JSON.stringify({ targetInfo: TARGET_INFO }) +
      "}",
  },
  {
    name: "event with params and sessionId",
    frame: {
      kind: "event",
      method: "Page.lifecycleEvent",
      params: { name: "load" },
      sessionId: "cb-tab-1",
    },
    wire: '{"method":"Page.lifecycleEvent","params":{"name":"load"},"sessionId":"cb-tab-1"}',
  },
  {
    name: "event without params",
    frame: { kind: "event", method: "Page.loadEventFired" },
    wire: '{"method":"Page.loadEventFired"}',
  },
];

const CONNECT_PREFIX = '{"type":"req","id":"c","method":"connect","params":';
const CLIENT =
  '"client":{"id":"webchat-ui","version":"0.1.0","platform":"chrome-extension","mode":"webchat"}';

/** One case per IssueCode (and more) for decodeExtensionFrame(). */
export const INVALID_EXTENSION_INPUTS: readonly InvalidFixture[] = [
  {
    name: "invalid_json for truncated text",
    input: '{"method":"pi',
    code: "invalid_json",
    path: [],
    expected: "JSON text",
    received: '"{\\"method\\":\\"pi"',
  },
  {
    name: "invalid_json for bytes that are not UTF-8",
    input: new Uint8Array([0x7b, 0xff, 0x7d]),
    code: "invalid_json",
    path: [],
    expected: "UTF-8 text",
    received: "invalid UTF-8",
  },
  {
    name: "not_object for an array",
    input: "[]",
    code: "not_object",
    path: [],
    expected: "object",
    received: "array",
  },
  {
    name: "not_object for null",
    input: "null",
    code: "not_object",
    path: [],
    expected: "object",
    received: "null",
  },
  {
    name: "unknown_frame for an object with neither type, id nor method",
    input: "{}",
    code: "unknown_frame",
    path: [],
    expected:
      "gateway frame {type}, response {id, result|error}, or {method: forwardCDPCommand|forwardCDPEvent|ping|pong}",
    received: "object without type, id or method",
  },
  {
    name: "unknown_frame for an unknown method",
    input: '{"method":"Runtime.evaluate"}',
    code: "unknown_frame",
    path: ["method"],
    expected:
      "gateway frame {type}, response {id, result|error}, or {method: forwardCDPCommand|forwardCDPEvent|ping|pong}",
    received: '"Runtime.evaluate"',
  },
  {
    name: "unknown_frame for an unknown gateway type",
    input: '{"type":"hello"}',
    code: "unknown_frame",
    path: ["type"],
    expected: '"req", "res" or "event"',
    received: '"hello"',
  },
  {
    name: "missing_field for a command without params",
    input: '{"id":3,"method":"forwardCDPCommand"}',
    code: "missing_field",
    path: ["params"],
    expected: "object",
    received: "undefined",
    id: 3,
  },
  {
    name: "missing_field for an event without params.method",
    input: '{"method":"forwardCDPEvent","params":{}}',
    code: "missing_field",
    path: ["params", "method"],
    expected: "non-empty string",
    received: "undefined",
  },
  {
    name: "wrong_type for a string command id",
    input: '{"id":"7","method":"forwardCDPCommand","params":{"method":"X"}}',
    code: "wrong_type",
    path: ["id"],
    expected: "integer >= 1",
    received: "string",
    id: "7",
  },
  {
    name: "wrong_type for a non-string response error",
    input: '{"id":9,"error":{"message":"x"}}',
    code: "wrong_type",
    path: ["error"],
    expected: "string",
    received: "object",
    id: 9,
  },
  {
    name: "wrong_type for an array result",
    input: '{"id":9,"result":[]}',
    code: "wrong_type",
    path: ["result"],
    expected: "object",
    received: "array",
    id: 9,
  },
  {
    name: "out_of_range for command id 0",
    input: '{"id":0,"method":"forwardCDPCommand","params":{"method":"X"}}',
    code: "out_of_range",
    path: ["id"],
    expected: "integer >= 1",
    received: "0",
    id: 0,
  },
  {
    name: "out_of_range for a fractional response id",
    input: '{"id":1.5,"result":{}}',
    code: "out_of_range",
    path: ["id"],
    expected: "integer >= 1",
    received: "1.5",
    id: 1.5,
  },
  {
    name: "out_of_range for an empty error string",
    input: '{"id":4,"error":""}',
    code: "out_of_range",
    path: ["error"],
    expected: "non-empty string",
    received: '""',
    id: 4,
  },
  {
    name: "out_of_range for a disallowed client id",
    input: CONNECT_PREFIX +
      '{"minProtocol":3,"maxProtocol":3,"client":{"id":"chrome-relay-extension","version":"0.1.0","platform":"chrome-extension","mode":"webchat"}}}',
    code: "out_of_range",
    path: ["params", "client", "id"],
    expected: "an allowed client id",
    received: '"chrome-relay-extension"',
    id: "c",
  },
  {
    name: "out_of_range for an overflowing number in params",
    input: '{"id":5,"method":"forwardCDPCommand","params":{"method":"X","params":{"a":[1e400]}}}',
    code: "out_of_range",
    path: ["params", "params", "a", 0],
    expected: "finite number",
    received: "Infinity",
    id: 5,
  },
  {
    name: "too_large for a string over maxBytes",
    input: '{"method":"ping"}',
    maxBytes: 16,
    code: "too_large",
    path: [],
    expected: "at most 16 bytes",
    received: "at least 17 bytes",
  },
  {
    name: "too_large counts UTF-8 bytes, not UTF-16 units",
    input: '{"method":"ping","x":"ééé"}',
    maxBytes: 27,
    code: "too_large",
    path: [],
    expected: "at most 27 bytes",
    received: "30 bytes",
  },
  {
    name: "too_large for bytes over maxBytes",
    input: new TextEncoder().encode('{"method":"ping"}'),
    maxBytes: 10,
    code: "too_large",
    path: [],
    expected: "at most 10 bytes",
    received: "17 bytes",
  },
  {
    name: "unknown_field for a top-level nonce in connect params (OpenClaw #35405)",
    input: CONNECT_PREFIX + '{"minProtocol":3,"maxProtocol":3,' + CLIENT + ',"nonce":"n"}}',
    code: "unknown_field",
    path: ["params", "nonce"],
    expected: "no such field",
    received: "nonce",
    id: "c",
  },
  {
    name: "unknown_field for __proto__ in connect client",
    input: CONNECT_PREFIX +
      '{"minProtocol":3,"maxProtocol":3,"client":{"id":"webchat-ui","version":"0.1.0","platform":"p","mode":"webchat","__proto__":{}}}}',
    code: "unknown_field",
    path: ["params", "client", "__proto__"],
    expected: "no such field",
    received: "__proto__",
    id: "c",
  },
];

/** One case per IssueCode (except unknown_field, which CDP frames cannot produce). */
export const INVALID_CDP_INPUTS: readonly InvalidFixture[] = [
  {
    name: "invalid_json for empty text",
    input: "",
    code: "invalid_json",
    path: [],
    expected: "JSON text",
    received: '""',
  },
  {
    name: "not_object for a number",
    input: "42",
    code: "not_object",
    path: [],
    expected: "object",
    received: "number",
  },
  {
    name: "unknown_frame for an object without id or method",
    input: '{"params":{}}',
    code: "unknown_frame",
    path: [],
    expected: "command {id, method}, response {id, result|error} or event {method}",
    received: "object without id or method",
  },
  {
    name: "unknown_frame for an id without method, result or error",
    input: '{"id":1}',
    code: "unknown_frame",
    path: [],
    expected: "command {id, method}, response {id, result|error} or event {method}",
    received: "id without method, result or error",
    id: 1,
  },
  {
    name: "missing_field for an error without message",
    input: '{"id":2,"error":{"code":-32000}}',
    code: "missing_field",
    path: ["error", "message"],
    expected: "string",
    received: "undefined",
    id: 2,
  },
  {
    name: "wrong_type for a numeric method",
    input: '{"id":3,"method":5}',
    code: "wrong_type",
    path: ["method"],
    expected: "string",
    received: "number",
    id: 3,
  },
  {
    name: "wrong_type for array params",
    input: '{"id":3,"method":"X","params":[]}',
    code: "wrong_type",
    path: ["params"],
    expected: "object",
    received: "array",
    id: 3,
  },
  {
    name: "wrong_type for a null sessionId",
    input: '{"method":"X","sessionId":null}',
    code: "wrong_type",
    path: ["sessionId"],
    expected: "string",
    received: "null",
  },
  {
    name: "out_of_range for a negative id",
    input: '{"id":-1,"method":"X"}',
    code: "out_of_range",
    path: ["id"],
    expected: "integer >= 0",
    received: "-1",
    id: -1,
  },
  {
    name: "out_of_range for an empty method",
    input: '{"method":""}',
    code: "out_of_range",
    path: ["method"],
    expected: "non-empty string",
    received: '""',
  },
  {
    name: "out_of_range for an overflowing number in result",
    input: '{"id":1,"result":{"v":-1e999}}',
    code: "out_of_range",
    path: ["result", "v"],
    expected: "finite number",
    received: "-Infinity",
    id: 1,
  },
  {
    name: "too_large for input over maxBytes",
    input: '{"id":1,"method":"Browser.getVersion"}',
    maxBytes: 20,
    code: "too_large",
    path: [],
    expected: "at most 20 bytes",
    received: "at least 38 bytes",
  },
];
