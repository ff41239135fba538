// Property/fuzz harness for the decoders, shared by tests/codec/decode_fuzz_test.ts and
// scripts/fuzz.ts. The oracle below is written from relay-protocol.md, not from codec/
// internals: it re-parses every input itself and checks each accepted frame against the wire
// schema, against the input it came from, and against a re-encode/re-decode.

import {
  type CdpFrame,
  type ConnectParams,
  decodeCdpFrame,
  decodeExtensionFrame,
  type DecodeResult,
  encodeCdpFrame,
  encodeExtensionFrame,
  type ExtensionFrame,
  type JsonObject,
  type JsonValue,
} from "../mod.ts";
import { CDP_FRAMES, EXTENSION_FRAMES } from "./frame_fixtures.ts";
import { createRng, type Rng } from "./rng.ts";

// ---------------------------------------------------------------------------------------------
// A tiny JSON syntax tree, so mutations can write `__proto__` keys, duplicate keys, raw number
// literals (`1e400`, `-0`) and raw lone surrogates that a JS object could not represent.

type Node =
  | { readonly t: "obj"; entries: [string, Node][] }
  | { readonly t: "arr"; items: Node[] }
  | { readonly t: "raw"; text: string };

function serialize(node: Node): string {
  switch (node.t) {
    case "obj":
      return "{" + node.entries.map(([k, v]) => JSON.stringify(k) + ":" + serialize(v)).join(",") +
        "}";
    case "arr":
      return "[" + node.items.map(serialize).join(",") + "]";
    case "raw":
      return node.text;
  }
}

function fromValue(value: unknown): Node {
  if (Array.isArray(value)) return { t: "arr", items: value.map(fromValue) };
  if (typeof value === "object" && value !== null) {
    return {
      t: "obj",
      entries: Object.keys(value).map((k) => [k, fromValue((value as Record<string, unknown>)[k])]),
    };
  }
  return { t: "raw", text: JSON.stringify(value) };
}

const KEYS = [
  "id",
  "method",
  "params",
  "sessionId",
  "result",
  "error",
  "type",
  "event",
  "payload",
  "ok",
  "nonce",
  "ts",
  "code",
  "message",
  "data",
  "details",
  "protocol",
  "client",
  "minProtocol",
  "maxProtocol",
  "auth",
  "token",
  "mode",
  "version",
  "platform",
  "scopes",
  "caps",
  "permissions",
  "device",
  "policy",
  "server",
  "features",
  "snapshot",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "",
];

const STRINGS = [
  "",
  "forwardCDPCommand",
  "forwardCDPEvent",
  "ping",
  "pong",
  "req",
  "res",
  "event",
  "connect",
  "connect.challenge",
  "hello-ok",
  "webchat-ui",
  "webchat",
  "test",
  "Runtime.evaluate",
  "cb-tab-1",
  "__proto__",
  "\ud800",
  "\udc00x",
  "a\ud83d\ude00b",
  "\u0000",
  "é",
];

const NUMBERS = [
  "0",
  "-0",
  "1",
  "-1",
  "7",
  "1.5",
  "3",
  "1e400",
  "-1e400",
  "1e-400",
  "9007199254740991",
  "9007199254740993",
  "1e21",
  "-9007199254740993",
  "4294967296",
  "65536",
  "0.1e1",
  "1E2",
];

const LONG = 70_000;

function randomString(rng: Rng): string {
  const r = rng.int(10);
  if (r < 5) return rng.pick(STRINGS);
  if (r < 9) {
    let s = "";
    const n = rng.int(12);
    for (let i = 0; i < n; i++) {
      s += String.fromCharCode(rng.chance(0.9) ? 32 + rng.int(95) : rng.int(0x10000));
    }
    return s;
  }
  return rng.pick(["x", "é", "\ud800", "ab"]).repeat(rng.int(rng.chance(0.01) ? LONG : 300));
}

function randomNumber(rng: Rng, finite: boolean): string {
  if (rng.chance(0.5)) return String(rng.int(20) - 2);
  const text = rng.pick(NUMBERS);
  return finite && /e[1-9]\d\d/i.test(text) ? "2" : text;
}

function randomNode(rng: Rng, depth: number, finite = false): Node {
  const r = rng.int(depth > 3 ? 6 : 9);
  switch (r) {
    case 0:
      return { t: "raw", text: "null" };
    case 1:
      return { t: "raw", text: rng.chance(0.5) ? "true" : "false" };
    case 2:
    case 3:
      return { t: "raw", text: randomNumber(rng, finite) };
    case 4:
    case 5:
      // Raw lone surrogates appear unescaped in the text; JSON.stringify would escape them.
      return rng.chance(0.1) && !finite
        ? { t: "raw", text: '"' + rng.pick(["\ud800", "\udfff", "a\udc00"]) + '"' }
        : { t: "raw", text: JSON.stringify(randomString(rng)) };
    case 6:
    case 7: {
      const entries: [string, Node][] = [];
      const n = rng.int(5);
      for (let i = 0; i < n; i++) {
        entries.push([rng.pick(KEYS), randomNode(rng, depth + 1, finite)]);
      }
      return { t: "obj", entries };
    }
    default: {
      const items: Node[] = [];
      const n = rng.int(4);
      for (let i = 0; i < n; i++) items.push(randomNode(rng, depth + 1, finite));
      return { t: "arr", items };
    }
  }
}

function deepNesting(rng: Rng): string {
  const depth = 100 + rng.int(rng.chance(0.05) ? 20_000 : 1_000);
  const open = rng.chance(0.5) ? "[" : '{"a":';
  const close = open === "[" ? "]" : "}";
  const nested = open.repeat(depth) + "1" + close.repeat(depth);
  return rng.chance(0.5) ? nested : serialize({
    t: "obj",
    entries: [["method", { t: "raw", text: '"forwardCDPEvent"' }], ["params", {
      t: "obj",
      entries: [["method", { t: "raw", text: '"X"' }], ["params", {
        t: "raw",
        text: '{"deep":' + nested + "}",
      }]],
    }]],
  });
}

/** Collects every container node with a way to replace its children. */
function containers(root: Node): Node[] {
  const out: Node[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.t === "obj") {
      out.push(node);
      for (const [, v] of node.entries) stack.push(v);
    } else if (node.t === "arr") {
      out.push(node);
      stack.push(...node.items);
    }
  }
  return out;
}

function mutateTree(rng: Rng, root: Node): void {
  const all = containers(root);
  if (all.length === 0) return;
  const node = rng.pick(all);
  if (node.t === "obj") {
    const i = node.entries.length === 0 ? -1 : rng.int(node.entries.length);
    const op = rng.int(7);
    if (i < 0 || op === 0) node.entries.push([rng.pick(KEYS), randomNode(rng, 2)]);
    else if (op === 1) node.entries.splice(i, 1);
    else if (op === 2) node.entries[i]![0] = rng.pick(KEYS);
    else if (op === 3) node.entries.push([node.entries[i]![0], randomNode(rng, 2)]); // duplicate key
    else if (op === 4) node.entries[i]![1] = { t: "raw", text: randomNumber(rng, false) };
    else if (op === 5) node.entries[i]![1] = { t: "raw", text: JSON.stringify(randomString(rng)) };
    else node.entries[i]![1] = randomNode(rng, 1);
  } else if (node.t === "arr") {
    const i = node.items.length === 0 ? -1 : rng.int(node.items.length);
    if (i < 0 || rng.chance(0.3)) node.items.push(randomNode(rng, 2));
    else if (rng.chance(0.5)) node.items.splice(i, 1);
    else node.items[i] = randomNode(rng, 1);
  }
}

function mutateText(rng: Rng, text: string): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(6)) {
    case 0:
      return text.slice(0, at); // truncated
    case 1:
      return text.slice(0, at) + text.slice(at + 1 + rng.int(8));
    case 2:
      return text.slice(0, at) +
        rng.pick(['"', "{", "}", "[", "]", ",", ":", "\\", "\ud800", "0", "e9"]) +
        text.slice(at);
    case 3:
      return text.slice(0, at) + String.fromCharCode(rng.int(0x10000)) + text.slice(at + 1);
    case 4:
      return text.slice(0, at) + text.slice(rng.int(text.length));
    default:
      return " \n\t".charAt(rng.int(3)) + text + " \r\n".charAt(rng.int(3));
  }
}

const GOLDEN: readonly string[] = [
  ...EXTENSION_FRAMES.map((fixture) => fixture.wire),
  ...CDP_FRAMES.map((fixture) => fixture.wire),
];

/** One generated decoder input. */
export interface FuzzInput {
  /** Which generator produced it. */
  readonly label: string;
  readonly input: string | Uint8Array;
  readonly maxBytes?: number;
}

/** Generates one decoder input; every generator of the brief is represented. */
export function generateInput(rng: Rng): FuzzInput {
  const r = rng.int(100);
  let label: string;
  let input: string | Uint8Array;
  if (r < 5) {
    label = "golden";
    input = rng.pick(GOLDEN);
  } else if (r < 50) {
    label = "tree-mutated golden";
    const tree = fromValue(JSON.parse(rng.pick(GOLDEN)));
    const n = 1 + rng.int(3);
    for (let i = 0; i < n; i++) mutateTree(rng, tree);
    input = serialize(tree);
  } else if (r < 70) {
    label = "text-mutated golden";
    input = mutateText(rng, rng.pick(GOLDEN));
    if (rng.chance(0.3)) input = mutateText(rng, input);
  } else if (r < 85) {
    label = "random tree";
    const tree = rng.chance(0.9)
      ? { t: "obj" as const, entries: [] as [string, Node][] }
      : randomNode(rng, 0);
    if (tree.t === "obj") {
      const n = rng.int(6);
      for (let i = 0; i < n; i++) tree.entries.push([rng.pick(KEYS), randomNode(rng, 1)]);
    }
    input = serialize(tree);
  } else if (r < 90) {
    label = "random bytes";
    const bytes = new Uint8Array(rng.int(64));
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
    input = bytes;
  } else if (r < 95) {
    label = "flipped golden bytes";
    const bytes = new TextEncoder().encode(rng.pick(GOLDEN));
    const n = 1 + rng.int(3);
    for (let i = 0; i < n; i++) bytes[rng.int(bytes.length)] = rng.int(256);
    input = bytes;
  } else if (r < 97) {
    label = "deep nesting";
    input = deepNesting(rng);
  } else {
    label = "long string";
    const fixture = rng.pick(EXTENSION_FRAMES);
    input = fixture.wire.replace(
      /"(?:[^"\\]|\\.)*"(?=[,}\]])/,
      () =>
        JSON.stringify(
          rng.pick(["x", "é", "\ud800", "😀"]).repeat(
            1000 + rng.int(rng.chance(0.2) ? LONG : 5000),
          ),
        ),
    );
  }
  if (rng.chance(0.1)) {
    const size = typeof input === "string" ? input.length : input.byteLength;
    return { label: label + " (small maxBytes)", input, maxBytes: rng.int(size * 3 + 2) };
  }
  return { label, input };
}

// ---------------------------------------------------------------------------------------------
// Independent oracle.

const ISSUE_CODES: ReadonlySet<string> = new Set([
  "invalid_json",
  "not_object",
  "unknown_frame",
  "missing_field",
  "wrong_type",
  "out_of_range",
  "too_large",
  "unknown_field",
]);

// relay-protocol.md §3.3.
const CLIENT_IDS: ReadonlySet<string> = new Set([
  "webchat-ui",
  "openclaw-control-ui",
  "webchat",
  "cli",
  "gateway-client",
  "openclaw-macos",
  "openclaw-ios",
  "openclaw-android",
  "node-host",
  "test",
  "fingerprint",
  "openclaw-probe",
]);
const CLIENT_MODES: ReadonlySet<string> = new Set([
  "webchat",
  "cli",
  "ui",
  "backend",
  "node",
  "probe",
  "test",
]);

type Obj = Record<string, unknown>;

class Violation extends Error {
  override name = "Violation";
}

function fail(message: string): never {
  throw new Violation(message);
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) fail(message);
}

function isPlainObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype;
}

function get(object: unknown, key: string): unknown {
  return isPlainObject(object) && Object.hasOwn(object, key) ? object[key] : undefined;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

function isInt(value: unknown, min: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min;
}

/** Every value is JSON-representable: finite numbers, plain objects, arrays, no undefined. */
function isJson(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value === "string" || typeof value === "boolean") continue;
    if (typeof value === "number") {
      if (!Number.isFinite(value)) return false;
    } else if (Array.isArray(value)) {
      stack.push(...value);
    } else if (isPlainObject(value)) {
      for (const key of Object.keys(value)) stack.push(value[key]);
    } else {
      return false;
    }
  }
  return true;
}

/** JSON equality: same key sets (any order), numbers compared with `===` (so -0 equals 0). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const stack: [unknown, unknown][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) stack.push([x[i], y[i]]);
    } else if (isPlainObject(x) && isPlainObject(y)) {
      const keys = Object.keys(x);
      if (keys.length !== Object.keys(y).length) return false;
      for (const key of keys) {
        if (!Object.hasOwn(y, key)) return false;
        stack.push([x[key], y[key]]);
      }
    } else {
      return false;
    }
  }
  return true;
}

/** Own keys are exactly `required` plus a subset of `optional`, and none is `undefined`. */
function keys(
  object: unknown,
  required: readonly string[],
  optional: readonly string[],
  at: string,
): Obj {
  check(isPlainObject(object), `${at} is not a plain object`);
  for (const key of required) check(Object.hasOwn(object, key), `${at}.${key} is missing`);
  for (const key of Object.keys(object)) {
    check(required.includes(key) || optional.includes(key), `${at} has unexpected key ${key}`);
    check(object[key] !== undefined, `${at}.${key} is present but undefined`);
  }
  return object;
}

function jsonObject(value: unknown, at: string): void {
  check(isPlainObject(value) && isJson(value), `${at} is not a JSON object`);
}

function same(a: unknown, b: unknown, at: string): void {
  check(jsonEqual(a, b), `${at} differs from the wire`);
}

function isResponseShaped(wire: Obj): boolean {
  return typeof get(wire, "id") === "number" &&
    (get(wire, "result") !== undefined || get(wire, "error") !== undefined);
}

function checkCdpCall(cdp: unknown, wireParams: unknown): void {
  const call = keys(cdp, ["method"], ["params", "sessionId"], "cdp");
  check(isNonEmptyString(call.method), "cdp.method is not a non-empty string");
  if (call.sessionId !== undefined) check(typeof call.sessionId === "string", "cdp.sessionId");
  if (call.params !== undefined) jsonObject(call.params, "cdp.params");
  check(isPlainObject(wireParams), "wire params is not an object");
  check(get(wireParams, "method") === call.method, "cdp.method differs from the wire");
  check(get(wireParams, "sessionId") === call.sessionId, "cdp.sessionId differs from the wire");
  same(call.params, get(wireParams, "params"), "cdp.params");
}

function checkConnectParams(value: unknown): void {
  const p = keys(value, ["minProtocol", "maxProtocol", "client"], [
    "caps",
    "commands",
    "permissions",
    "pathEnv",
    "role",
    "scopes",
    "device",
    "auth",
    "locale",
    "userAgent",
  ], "params");
  check(isInt(p.minProtocol, 1) && isInt(p.maxProtocol, 1), "protocol range must be integers >= 1");
  const client = keys(p.client, ["id", "version", "platform", "mode"], [
    "displayName",
    "deviceFamily",
    "modelIdentifier",
    "instanceId",
  ], "client");
  for (const key of Object.keys(client)) check(isNonEmptyString(client[key]), `client.${key}`);
  check(CLIENT_IDS.has(client.id as string), "client.id is not allowed");
  check(CLIENT_MODES.has(client.mode as string), "client.mode is not allowed");
  for (const key of ["caps", "commands", "scopes"]) {
    const list = p[key];
    if (list !== undefined) {
      check(Array.isArray(list) && list.every(isNonEmptyString), `${key} is not non-empty strings`);
    }
  }
  if (p.permissions !== undefined) {
    const record = keys(p.permissions, [], Object.keys(p.permissions as Obj), "permissions");
    check(Object.values(record).every((v) => typeof v === "boolean"), "permissions not booleans");
  }
  for (const key of ["pathEnv", "locale", "userAgent"]) {
    if (p[key] !== undefined) check(typeof p[key] === "string", `${key} is not a string`);
  }
  if (p.role !== undefined) check(isNonEmptyString(p.role), "role is not a non-empty string");
  if (p.device !== undefined) {
    const device = keys(
      p.device,
      ["id", "publicKey", "signature", "signedAt", "nonce"],
      [],
      "device",
    );
    for (const key of ["id", "publicKey", "signature", "nonce"]) {
      check(typeof device[key] === "string", `device.${key}`);
    }
    check(isInt(device.signedAt, 0), "device.signedAt");
  }
  if (p.auth !== undefined) {
    const auth = keys(p.auth, [], ["token", "bootstrapToken", "deviceToken", "password"], "auth");
    check(Object.values(auth).every((v) => typeof v === "string"), "auth values not strings");
  }
}

function checkHello(hello: unknown, wirePayload: unknown): void {
  const h = keys(
    hello,
    ["type", "protocol"],
    ["server", "features", "snapshot", "policy"],
    "hello",
  );
  check(h.type === "hello-ok" && get(wirePayload, "type") === "hello-ok", "hello.type");
  check(isInt(h.protocol, 1) && h.protocol === get(wirePayload, "protocol"), "hello.protocol");
  for (const key of ["server", "features", "snapshot", "policy"]) {
    check(
      (h[key] !== undefined) === (get(wirePayload, key) !== undefined),
      `hello.${key} presence`,
    );
  }
  if (h.server !== undefined) {
    const server = keys(h.server, ["version", "connId"], [], "hello.server");
    check(typeof server.version === "string" && typeof server.connId === "string", "server");
    check(server.version === get(get(wirePayload, "server"), "version"), "server.version");
    check(server.connId === get(get(wirePayload, "server"), "connId"), "server.connId");
  }
  if (h.features !== undefined) {
    const features = keys(h.features, ["methods", "events"], [], "hello.features");
    for (const key of ["methods", "events"]) {
      const list = features[key];
      check(Array.isArray(list) && list.every((s) => typeof s === "string"), `features.${key}`);
      same(list, get(get(wirePayload, "features"), key), `features.${key}`);
    }
  }
  if (h.snapshot !== undefined) {
    jsonObject(h.snapshot, "hello.snapshot");
    same(h.snapshot, get(wirePayload, "snapshot"), "hello.snapshot");
  }
  if (h.policy !== undefined) {
    const policy = keys(
      h.policy,
      [],
      ["maxPayload", "maxBufferedBytes", "tickIntervalMs"],
      "policy",
    );
    for (const key of Object.keys(policy)) {
      check(typeof policy[key] === "number" && Number.isFinite(policy[key]), `policy.${key}`);
      check(policy[key] === get(get(wirePayload, "policy"), key), `policy.${key} differs`);
    }
  }
}

/** Checks an accepted ExtensionFrame against the protocol and the wire object it came from. */
export function checkExtensionFrame(frame: unknown, wire: Obj): void {
  const kind = get(frame, "kind");
  const legacy = ["command", "response", "event", "ping", "pong"].includes(kind as string);
  if (legacy) {
    check(!Object.hasOwn(wire, "type"), `${kind} accepted from a wire object with a type field`);
  } else {
    check(Object.hasOwn(wire, "type"), `${kind} accepted without a type field`);
  }
  switch (kind) {
    case "command": {
      const f = keys(frame, ["kind", "id", "cdp"], [], "command");
      check(isInt(f.id, 1), "command id is not a positive integer");
      check(!isResponseShaped(wire), "a response-shaped object was accepted as a command");
      check(wire.method === "forwardCDPCommand" && wire.id === f.id, "command does not match wire");
      checkCdpCall(f.cdp, wire.params);
      return;
    }
    case "response": {
      const f = keys(frame, ["kind", "id", "outcome"], [], "response");
      check(isInt(f.id, 1), "response id is not a positive integer");
      check(wire.id === f.id, "response id differs from the wire");
      const outcome = get(f.outcome, "ok") === true
        ? keys(f.outcome, ["ok", "result"], [], "outcome")
        : keys(f.outcome, ["ok", "error"], [], "outcome");
      if (outcome.ok === true) {
        jsonObject(outcome.result, "result");
        check(get(wire, "error") === undefined, "a response with error was accepted as a result");
        same(outcome.result, wire.result, "result");
      } else {
        check(outcome.ok === false && isNonEmptyString(outcome.error), "error is not non-empty");
        check(outcome.error === wire.error, "error differs from the wire");
      }
      return;
    }
    case "event": {
      const f = keys(frame, ["kind", "cdp"], [], "event");
      check(!isResponseShaped(wire) && wire.method === "forwardCDPEvent", "event shape");
      checkCdpCall(f.cdp, wire.params);
      return;
    }
    case "ping":
    case "pong":
      keys(frame, ["kind"], [], kind);
      check(!isResponseShaped(wire) && wire.method === kind, `${kind} shape`);
      return;
    case "connect_challenge": {
      const f = keys(frame, ["kind", "nonce", "ts"], [], kind);
      check(isNonEmptyString(f.nonce), "nonce is not a non-empty string");
      check(typeof f.ts === "number" && Number.isFinite(f.ts), "ts is not a finite number");
      check(wire.type === "event" && wire.event === "connect.challenge", "challenge shape");
      check(get(wire.payload, "nonce") === f.nonce && get(wire.payload, "ts") === f.ts, "payload");
      return;
    }
    case "gateway_event": {
      const f = keys(frame, ["kind", "event"], ["payload"], kind);
      check(isNonEmptyString(f.event) && f.event !== "connect.challenge", "gateway event name");
      check(f.payload === undefined || isJson(f.payload), "payload is not JSON");
      check(wire.type === "event" && wire.event === f.event, "gateway event shape");
      same(f.payload, get(wire, "payload"), "payload");
      return;
    }
    case "connect_request": {
      const f = keys(frame, ["kind", "id", "params"], [], kind);
      check(isNonEmptyString(f.id), "request id is not a non-empty string");
      checkConnectParams(f.params);
      check(wire.type === "req" && wire.method === "connect" && wire.id === f.id, "connect shape");
      same(f.params, wire.params, "connect params");
      return;
    }
    case "gateway_request": {
      const f = keys(frame, ["kind", "id", "method"], ["params"], kind);
      check(isNonEmptyString(f.id), "request id is not a non-empty string");
      check(isNonEmptyString(f.method) && f.method !== "connect", "request method");
      check(f.params === undefined || isJson(f.params), "params is not JSON");
      check(wire.type === "req" && wire.id === f.id && wire.method === f.method, "request shape");
      same(f.params, get(wire, "params"), "params");
      return;
    }
    case "hello_ok": {
      const f = keys(frame, ["kind", "id", "hello"], [], kind);
      check(isNonEmptyString(f.id), "response id is not a non-empty string");
      check(wire.type === "res" && wire.ok === true && wire.id === f.id, "hello shape");
      checkHello(f.hello, wire.payload);
      return;
    }
    case "gateway_response": {
      const f = keys(frame, ["kind", "id"], ["payload"], kind);
      check(isNonEmptyString(f.id), "response id is not a non-empty string");
      check(f.payload === undefined || isJson(f.payload), "payload is not JSON");
      check(get(f.payload, "type") !== "hello-ok", "a hello-ok was accepted as gateway_response");
      check(wire.type === "res" && wire.ok === true && wire.id === f.id, "response shape");
      same(f.payload, get(wire, "payload"), "payload");
      return;
    }
    case "gateway_error": {
      const f = keys(frame, ["kind", "id", "error"], [], kind);
      check(isNonEmptyString(f.id), "response id is not a non-empty string");
      const e = keys(
        f.error,
        ["code", "message"],
        ["details", "retryable", "retryAfterMs"],
        "error",
      );
      check(typeof e.code === "string" && typeof e.message === "string", "error code/message");
      check(e.details === undefined || isJson(e.details), "details is not JSON");
      check(e.retryable === undefined || typeof e.retryable === "boolean", "retryable");
      check(e.retryAfterMs === undefined || isInt(e.retryAfterMs, 0), "retryAfterMs");
      check(wire.type === "res" && wire.ok === false && wire.id === f.id, "error shape");
      const we = wire.error;
      for (const key of ["code", "message", "retryable", "retryAfterMs"]) {
        check(e[key] === get(we, key), `error.${key} differs from the wire`);
      }
      same(e.details, get(we, "details"), "error.details");
      return;
    }
    default:
      fail(`unknown kind ${String(kind)}`);
  }
}

/** Checks an accepted CdpFrame against protocol §6.1 and the wire object it came from. */
export function checkCdpFrame(frame: unknown, wire: Obj): void {
  const kind = get(frame, "kind");
  switch (kind) {
    case "command": {
      const f = keys(frame, ["kind", "id", "method"], ["params", "sessionId"], "command");
      check(isInt(f.id, 0), "command id is not an integer >= 0");
      check(isNonEmptyString(f.method), "method is not a non-empty string");
      if (f.params !== undefined) jsonObject(f.params, "params");
      if (f.sessionId !== undefined) check(typeof f.sessionId === "string", "sessionId");
      check(!isResponseShaped(wire), "a response-shaped object was accepted as a command");
      check(wire.id === f.id && wire.method === f.method, "command does not match wire");
      check(get(wire, "sessionId") === f.sessionId, "sessionId differs from the wire");
      same(f.params, get(wire, "params"), "params");
      return;
    }
    case "response": {
      const f = keys(frame, ["kind", "id", "outcome"], ["sessionId"], "response");
      check(isInt(f.id, 0), "response id is not an integer >= 0");
      check(wire.id === f.id, "response id differs from the wire");
      if (f.sessionId !== undefined) check(typeof f.sessionId === "string", "sessionId");
      check(get(wire, "sessionId") === f.sessionId, "sessionId differs from the wire");
      if (get(f.outcome, "ok") === true) {
        const o = keys(f.outcome, ["ok", "result"], [], "outcome");
        jsonObject(o.result, "result");
        check(get(wire, "error") === undefined, "a response with error was accepted as a result");
        same(o.result, wire.result, "result");
      } else {
        const o = keys(f.outcome, ["ok", "error"], [], "outcome");
        check(o.ok === false, "outcome.ok");
        const e = keys(o.error, ["message"], ["code", "data"], "error");
        check(typeof e.message === "string", "error.message");
        check(e.code === undefined || isInt(e.code, Number.MIN_SAFE_INTEGER), "error.code");
        check(e.data === undefined || typeof e.data === "string", "error.data");
        for (const key of ["message", "code", "data"]) {
          check(e[key] === get(wire.error, key), `error.${key} differs from the wire`);
        }
      }
      return;
    }
    case "event": {
      const f = keys(frame, ["kind", "method"], ["params", "sessionId"], "event");
      check(isNonEmptyString(f.method), "method is not a non-empty string");
      if (f.params !== undefined) jsonObject(f.params, "params");
      if (f.sessionId !== undefined) check(typeof f.sessionId === "string", "sessionId");
      check(get(wire, "id") === undefined, "an object with an id was accepted as an event");
      check(wire.method === f.method && get(wire, "sessionId") === f.sessionId, "event shape");
      same(f.params, get(wire, "params"), "params");
      return;
    }
    default:
      fail(`unknown kind ${String(kind)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Running one input through a decoder and the oracle.

type Decoder<F> = (input: string | Uint8Array, options?: { maxBytes?: number }) => DecodeResult<F>;

interface Side<F> {
  readonly name: string;
  readonly decode: Decoder<F>;
  readonly encode: (frame: F) => string;
  readonly checkFrame: (frame: unknown, wire: Obj) => void;
  readonly failureIdTypes: readonly string[];
}

const EXTENSION: Side<ExtensionFrame> = {
  name: "decodeExtensionFrame",
  decode: decodeExtensionFrame,
  encode: encodeExtensionFrame,
  checkFrame: checkExtensionFrame,
  failureIdTypes: ["number", "string"],
};

const CDP: Side<CdpFrame> = {
  name: "decodeCdpFrame",
  decode: decodeCdpFrame,
  encode: encodeCdpFrame,
  checkFrame: checkCdpFrame,
  failureIdTypes: ["number"],
};

const DEFAULT_MAX = 268_435_456;
const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

type Parsed =
  | { readonly stage: "too_large" | "invalid_json" }
  | { readonly stage: "parsed"; readonly value: unknown };

function parseIndependently(input: string | Uint8Array, maxBytes: number): Parsed {
  const size = typeof input !== "string"
    ? input.byteLength
    : input.length * 3 <= maxBytes
    ? input.length
    : encoder.encode(input).length;
  if (size > maxBytes) return { stage: "too_large" };
  let text: string;
  try {
    text = typeof input === "string" ? input : strictDecoder.decode(input);
    return { stage: "parsed", value: JSON.parse(text) };
  } catch {
    return { stage: "invalid_json" };
  }
}

function checkResultShape(result: unknown): void {
  check(isPlainObject(result) && typeof result.ok === "boolean", "result is not {ok: boolean}");
  if (result.ok === true) return;
  const issues = result.issues;
  check(Array.isArray(issues) && issues.length > 0, "a failure without issues");
  for (const issue of issues) {
    const i = keys(issue, ["code", "path", "expected", "received", "message"], [], "issue");
    check(ISSUE_CODES.has(i.code as string), `unknown issue code ${String(i.code)}`);
    check(
      Array.isArray(i.path) && i.path.every((p) => typeof p === "string" || typeof p === "number"),
      "issue path",
    );
    check(typeof i.expected === "string" && typeof i.received === "string", "expected/received");
    check(isNonEmptyString(i.message), "issue message");
  }
}

function checkDecode<F>(side: Side<F>, fuzz: FuzzInput): void {
  const maxBytes = fuzz.maxBytes ?? DEFAULT_MAX;
  let result: DecodeResult<F>;
  try {
    result = fuzz.maxBytes === undefined
      ? side.decode(fuzz.input)
      : side.decode(fuzz.input, { maxBytes: fuzz.maxBytes });
  } catch (error) {
    fail(`${side.name} threw: ${error instanceof Error ? error.stack : String(error)}`);
  }
  checkResultShape(result);
  const parsed = parseIndependently(fuzz.input, maxBytes);
  if (!result.ok) {
    const first = result.issues[0].code;
    if (parsed.stage !== "parsed") {
      check(first === parsed.stage, `${side.name}: expected ${parsed.stage}, got ${first}`);
      check(result.issues.length === 1, `${side.name}: extra issues after ${first}`);
      return;
    }
    if (!isPlainObject(parsed.value)) {
      check(first === "not_object", `${side.name}: expected not_object, got ${first}`);
      return;
    }
    check(
      !["too_large", "invalid_json", "not_object"].includes(first),
      `${side.name}: ${first} for a parsed object within the size limit`,
    );
    const id = get(parsed.value, "id");
    // Only ids that can be echoed are carried: a string or a finite number (not 1e400).
    if (
      side.failureIdTypes.includes(typeof id) && (typeof id !== "number" || Number.isFinite(id))
    ) {
      check(result.id === id, `${side.name}: failure does not carry the readable id`);
    } else {
      check(!("id" in result), `${side.name}: failure carries an id the wire does not have`);
    }
    return;
  }
  check(parsed.stage === "parsed", `${side.name} accepted input that is ${parsed.stage}`);
  check(isPlainObject(parsed.value), `${side.name} accepted a non-object`);
  side.checkFrame(result.frame, parsed.value);
  checkRoundTrip(side, result.frame);
}

function checkRoundTrip<F>(side: Side<F>, frame: F): void {
  let wire: string;
  try {
    wire = side.encode(frame);
  } catch (error) {
    fail(`encode threw for an accepted frame: ${String(error)}`);
  }
  check(typeof wire === "string", "encode did not return a string");
  const again = side.decode(wire);
  check(again.ok, `decode(encode(frame)) failed: ${again.ok ? "" : again.issues[0].message}`);
  check(jsonEqual(again.frame, frame), "decode(encode(frame)) differs from frame");
  check(side.encode(again.frame) === wire, "encode(decode(encode(frame))) is not stable");
}

// ---------------------------------------------------------------------------------------------
// Valid frames, to check that encode is total and that valid frames are never rejected.

function randomJsonObject(rng: Rng): JsonObject {
  const tree: Node = { t: "obj", entries: [] };
  const n = rng.int(4);
  for (let i = 0; i < n; i++) tree.entries.push([rng.pick(KEYS), randomNode(rng, 2, true)]);
  return JSON.parse(serialize(tree));
}

function randomJsonValue(rng: Rng): JsonValue {
  return JSON.parse(serialize(randomNode(rng, 1, true)));
}

function nonEmpty(rng: Rng): string {
  const s = randomString(rng);
  return s.length === 0 ? "x" : s.slice(0, 200);
}

function maybe<T>(rng: Rng, make: () => T): T | undefined {
  return rng.chance(0.5) ? make() : undefined;
}

type Compact<T> =
  & { [K in keyof T as undefined extends T[K] ? never : K]: T[K] }
  & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> };

/** Drops keys whose value is undefined (exactOptionalPropertyTypes). */
function compact<const T extends object>(object: T): Compact<T> {
  for (const key of Object.keys(object) as (keyof T)[]) {
    if (object[key] === undefined) delete object[key];
  }
  return object as unknown as Compact<T>;
}

function randomCall(rng: Rng) {
  return compact({
    method: nonEmpty(rng),
    sessionId: maybe(rng, () => randomString(rng)),
    params: maybe(rng, () => randomJsonObject(rng)),
  });
}

function randomConnectParams(rng: Rng): ConnectParams {
  const strings = () => Array.from({ length: rng.int(3) }, () => nonEmpty(rng));
  return compact({
    minProtocol: 1 + rng.int(3),
    maxProtocol: 1 + rng.int(5),
    client: compact({
      id: rng.pick([...CLIENT_IDS]),
      displayName: maybe(rng, () => nonEmpty(rng)),
      version: nonEmpty(rng),
      platform: nonEmpty(rng),
      mode: rng.pick([...CLIENT_MODES]),
      instanceId: maybe(rng, () => nonEmpty(rng)),
    }),
    caps: maybe(rng, strings),
    commands: maybe(rng, strings),
    scopes: maybe(rng, strings),
    permissions: maybe(rng, () => ({ read: rng.chance(0.5) })),
    pathEnv: maybe(rng, () => randomString(rng)),
    role: maybe(rng, () => nonEmpty(rng)),
    device: maybe(rng, () => ({
      id: nonEmpty(rng),
      publicKey: nonEmpty(rng),
      signature: nonEmpty(rng),
      signedAt: rng.int(1e9),
      nonce: nonEmpty(rng),
    })),
    auth: maybe(rng, () => compact({ token: maybe(rng, () => randomString(rng)) })),
    locale: maybe(rng, () => randomString(rng)),
    userAgent: maybe(rng, () => randomString(rng)),
  });
}

function notHello(value: JsonValue | undefined): JsonValue | undefined {
  return get(value, "type") === "hello-ok" ? { type: "other" } : value;
}

/** Generates a valid ExtensionFrame of a random kind. */
export function generateExtensionFrame(rng: Rng): ExtensionFrame {
  const id = 1 + rng.int(rng.chance(0.1) ? Number.MAX_SAFE_INTEGER : 1000);
  const gid = nonEmpty(rng);
  switch (rng.int(12)) {
    case 0:
      return { kind: "command", id, cdp: randomCall(rng) };
    case 1:
      return rng.chance(0.5)
        ? { kind: "response", id, outcome: { ok: true, result: randomJsonObject(rng) } }
        : { kind: "response", id, outcome: { ok: false, error: nonEmpty(rng) } };
    case 2:
      return { kind: "event", cdp: randomCall(rng) };
    case 3:
      return { kind: "ping" };
    case 4:
      return { kind: "pong" };
    case 5:
      return {
        kind: "connect_challenge",
        nonce: nonEmpty(rng),
        ts: rng.int(2e12) / (rng.chance(0.5) ? 1 : 7),
      };
    case 6: {
      const event = nonEmpty(rng);
      return compact({
        kind: "gateway_event",
        event: event === "connect.challenge" ? "tick" : event,
        payload: maybe(rng, () => randomJsonValue(rng)),
      });
    }
    case 7:
      return { kind: "connect_request", id: gid, params: randomConnectParams(rng) };
    case 8: {
      const method = nonEmpty(rng);
      return compact({
        kind: "gateway_request",
        id: gid,
        method: method === "connect" ? "status" : method,
        params: maybe(rng, () => randomJsonValue(rng)),
      });
    }
    case 9:
      return {
        kind: "hello_ok",
        id: gid,
        hello: compact({
          type: "hello-ok",
          protocol: 1 + rng.int(5),
          server: maybe(rng, () => ({ version: randomString(rng), connId: randomString(rng) })),
          features: maybe(rng, () => ({ methods: [randomString(rng)], events: [] })),
          snapshot: maybe(rng, () => randomJsonObject(rng)),
          policy: maybe(
            rng,
            () => compact({ maxPayload: rng.int(1e9), tickIntervalMs: maybe(rng, () => 5000) }),
          ),
        }),
      };
    case 10:
      return compact({
        kind: "gateway_response",
        id: gid,
        payload: maybe(rng, () => notHello(randomJsonValue(rng))),
      });
    default:
      return {
        kind: "gateway_error",
        id: gid,
        error: compact({
          code: randomString(rng),
          message: randomString(rng),
          details: maybe(rng, () => randomJsonValue(rng)),
          retryable: maybe(rng, () => rng.chance(0.5)),
          retryAfterMs: maybe(rng, () => rng.int(100_000)),
        }),
      };
  }
}

/** Generates a valid CdpFrame of a random kind. */
export function generateCdpFrame(rng: Rng): CdpFrame {
  const id = rng.int(rng.chance(0.1) ? Number.MAX_SAFE_INTEGER : 1000);
  const sessionId = maybe(rng, () => randomString(rng));
  switch (rng.int(3)) {
    case 0:
      return compact({
        kind: "command",
        id,
        method: nonEmpty(rng),
        params: maybe(rng, () => randomJsonObject(rng)),
        sessionId,
      });
    case 1:
      return compact({
        kind: "response",
        id,
        sessionId,
        outcome: rng.chance(0.5) ? { ok: true as const, result: randomJsonObject(rng) } : {
          ok: false as const,
          error: compact({
            code: maybe(rng, () => -32000 - rng.int(1000)),
            message: randomString(rng),
            data: maybe(rng, () => randomString(rng)),
          }),
        },
      });
    default:
      return compact({
        kind: "event",
        method: nonEmpty(rng),
        params: maybe(rng, () => randomJsonObject(rng)),
        sessionId,
      });
  }
}

function checkValidFrame<F>(side: Side<F>, frame: F): void {
  let wire: string;
  try {
    wire = side.encode(frame);
  } catch (error) {
    fail(`encode threw for a valid frame: ${String(error)}`);
  }
  const result = side.decode(wire);
  check(result.ok, `a valid frame was rejected: ${result.ok ? "" : result.issues[0].message}`);
  check(jsonEqual(result.frame, frame), "decode(encode(frame)) differs from frame");
  side.checkFrame(result.frame, JSON.parse(wire));
}

// ---------------------------------------------------------------------------------------------
// The loop.

/** A reproducible failure. */
export interface FuzzFailure {
  readonly seed: number;
  readonly index: number;
  readonly label: string;
  readonly input: string;
  readonly message: string;
}

/** Options of {@linkcode runFuzz}. */
export interface RunFuzzOptions {
  readonly seed: number;
  readonly count: number;
  /** Called every `progressEvery` inputs. */
  readonly onProgress?: (done: number) => void;
  readonly progressEvery?: number;
}

function preview(input: string | Uint8Array): string {
  if (typeof input !== "string") {
    return `Uint8Array[${input.byteLength}] ${
      Array.from(input.slice(0, 200), (b) => b.toString(16).padStart(2, "0")).join("")
    }`;
  }
  return input.length > 400
    ? JSON.stringify(input.slice(0, 400)) + `… (${input.length} chars)`
    : JSON.stringify(input);
}

/**
 * Feeds `count` inputs to both decoders (and, for every 8th index, a generated valid frame of
 * each side through encode → decode). Returns the first violation, or undefined.
 */
export function runFuzz(options: RunFuzzOptions): FuzzFailure | undefined {
  const rng = createRng(options.seed);
  const every = options.progressEvery ?? 100_000;
  for (let index = 0; index < options.count; index++) {
    let fuzz: FuzzInput = { label: "valid frames", input: "" };
    try {
      if (index % 8 === 7) {
        const ext = generateExtensionFrame(rng);
        fuzz = { label: "valid frames", input: JSON.stringify(ext) };
        checkValidFrame(EXTENSION, ext);
        const cdp = generateCdpFrame(rng);
        fuzz = { label: "valid frames", input: JSON.stringify(cdp) };
        checkValidFrame(CDP, cdp);
      } else {
        fuzz = generateInput(rng);
        checkDecode(EXTENSION, fuzz);
        checkDecode(CDP, fuzz);
      }
    } catch (error) {
      return {
        seed: options.seed,
        index,
        label: fuzz.label + (fuzz.maxBytes === undefined ? "" : ` maxBytes=${fuzz.maxBytes}`),
        input: preview(fuzz.input),
        message: error instanceof Violation ? error.message : `oracle crashed: ${String(error)}`,
      };
    }
    if (options.onProgress !== undefined && (index + 1) % every === 0) {
      options.onProgress(index + 1);
    }
  }
  return undefined;
}

/** Formats a failure with the command that replays it. */
export function formatFailure(failure: FuzzFailure): string {
  return [
    `fuzz violation at input #${failure.index} (seed ${failure.seed}, generator "${failure.label}")`,
    `  ${failure.message}`,
    `  input: ${failure.input}`,
    `  replay: deno run scripts/fuzz.ts --seed=${failure.seed} --count=${failure.index + 1}` +
    ` (or FUZZ_SEED=${failure.seed} deno test … tests/codec/decode_fuzz_test.ts)`,
  ].join("\n");
}
