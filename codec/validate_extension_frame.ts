/**
 * Validator for frames on the `/extension` socket.
 *
 * @module
 */

import {
  addIssue,
  asIssues,
  describe,
  expectFiniteTree,
  expectInteger,
  expectNumber,
  expectObject,
  expectString,
  expectStringArray,
  hasNonFinite,
  isEchoableId,
  type IssueList,
  optionalObject,
  optionalString,
  own,
  rejectUnknownKeys,
} from "./_check.ts";
import { classifyExtensionFrame, type ExtensionShape } from "./_classify.ts";
import { isJsonObject } from "./is_json_object.ts";
import type { DecodeResult } from "./issue.ts";
import type { JsonObject, JsonValue } from "./json.ts";
import type {
  CdpCall,
  ConnectParams,
  ExtensionFrame,
  GatewayError,
  HelloOk,
} from "./extension_frame.ts";
import { GATEWAY_CLIENT_IDS, GATEWAY_CLIENT_MODES } from "./limits.ts";

const KNOWN_SHAPES =
  "gateway frame {type}, response {id, result|error}, or {method: forwardCDPCommand|forwardCDPEvent|ping|pong}";

/**
 * Validates an already-parsed JSON value as one `/extension` frame. Never throws. Use it
 * when the transport already parsed the JSON; otherwise use {@linkcode decodeExtensionFrame}, which
 * also enforces the size limit and reports `invalid_json`.
 *
 * @param value The value `JSON.parse` returned.
 * @returns The typed frame, or a non-empty list of issues (with the frame `id` when readable).
 *
 * @example
 * ```ts
 * import { validateExtensionFrame } from "@browser-relay/codec";
 *
 * const result = validateExtensionFrame({ method: "ping" });
 * console.log(result.ok); // true
 * ```
 */
export function validateExtensionFrame(value: unknown): DecodeResult<ExtensionFrame> {
  if (!isJsonObject(value)) {
    const issues: IssueList = [];
    addIssue(issues, "not_object", [], "object", describe(value));
    return { ok: false, issues: asIssues(issues) };
  }
  const shape = classifyExtensionFrame(value);
  const fast = readFrame(value, shape);
  if (fast !== undefined) return { ok: true, frame: fast };
  const issues: IssueList = [];
  const frame = checkFrame(value, shape, issues);
  if (frame !== undefined && issues.length === 0) return { ok: true, frame };
  return failure(issues, value);
}

/**
 * Fast path for a classified frame: plain type checks with no path arrays or issue lists, for the
 * shapes that carry nearly all traffic (commands, events, responses, keepalives). Returns
 * `undefined` on any doubt, and {@linkcode checkFrame} then validates the same shape and reports
 * the issues. Direct property reads are safe here: the keys read are not on `Object.prototype`,
 * and JSON.parse creates a `__proto__` key as an own property rather than a prototype.
 */
function readFrame(value: JsonObject, shape: ExtensionShape): ExtensionFrame | undefined {
  const frame = value as Record<string, unknown>;
  switch (shape) {
    case "response": {
      const id = frame.id as number;
      if (!Number.isSafeInteger(id) || id < 1) return undefined;
      const error = frame.error;
      if (error !== undefined) {
        return typeof error === "string" && error.length > 0
          ? { kind: "response", id, outcome: { ok: false, error } }
          : undefined;
      }
      const result = frame.result;
      return isJsonObject(result) && !hasNonFinite(result)
        ? { kind: "response", id, outcome: { ok: true, result } }
        : undefined;
    }
    case "command": {
      const id = frame.id;
      if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) return undefined;
      const cdp = readCdpCall(frame.params);
      return cdp === undefined ? undefined : { kind: "command", id, cdp };
    }
    case "event": {
      const cdp = readCdpCall(frame.params);
      return cdp === undefined ? undefined : { kind: "event", cdp };
    }
    case "ping":
      return { kind: "ping" };
    case "pong":
      return { kind: "pong" };
    default:
      // Gateway frames (a handful per connection) and unknown shapes take the full path.
      return undefined;
  }
}

function readCdpCall(params: unknown): CdpCall | undefined {
  if (!isJsonObject(params)) return undefined;
  const call = params as Record<string, unknown>;
  const method = call.method;
  const sessionId = call.sessionId;
  const inner = call.params;
  if (typeof method !== "string" || method.length === 0) return undefined;
  if (inner !== undefined && (!isJsonObject(inner) || hasNonFinite(inner))) return undefined;
  if (sessionId === undefined) return inner === undefined ? { method } : { method, params: inner };
  if (typeof sessionId !== "string") return undefined;
  return inner === undefined ? { method, sessionId } : { method, sessionId, params: inner };
}

/** Full validation of a classified frame, reporting every issue with its path. */
function checkFrame(
  value: JsonObject,
  shape: ExtensionShape,
  issues: IssueList,
): ExtensionFrame | undefined {
  switch (shape) {
    case "gateway":
      return decodeGateway(value, own(value, "type"), issues);
    case "response":
      return decodeResponse(value, own(value, "id") as number, issues);
    case "command": {
      const id = expectInteger(own(value, "id"), ["id"], issues, 1);
      const cdp = decodeCdpCall(own(value, "params"), issues);
      return id !== undefined && cdp !== undefined ? { kind: "command", id, cdp } : undefined;
    }
    case "event": {
      const cdp = decodeCdpCall(own(value, "params"), issues);
      return cdp !== undefined ? { kind: "event", cdp } : undefined;
    }
    case "ping":
      return { kind: "ping" };
    case "pong":
      return { kind: "pong" };
    case "unknown": {
      const method = own(value, "method");
      addIssue(
        issues,
        "unknown_frame",
        method === undefined ? [] : ["method"],
        KNOWN_SHAPES,
        method === undefined ? "object without type, id or method" : describeMethod(method),
      );
      return undefined;
    }
    default: {
      const _exhaustive: never = shape;
      return _exhaustive;
    }
  }
}

function describeMethod(method: unknown): string {
  return typeof method === "string" ? JSON.stringify(method.slice(0, 60)) : describe(method);
}

function failure(issues: IssueList, value: JsonObject): DecodeResult<ExtensionFrame> {
  const id = own(value, "id");
  if (isEchoableId(id)) return { ok: false, issues: asIssues(issues), id };
  return { ok: false, issues: asIssues(issues) };
}

function decodeCdpCall(value: unknown, issues: IssueList): CdpCall | undefined {
  const params = expectObject(value, ["params"], issues);
  if (params === undefined) return undefined;
  const method = expectString(own(params, "method"), ["params", "method"], issues, true);
  const sessionId = optionalString(own(params, "sessionId"), ["params", "sessionId"], issues);
  const inner = optionalObject(own(params, "params"), ["params", "params"], issues);
  if (inner !== undefined) expectFiniteTree(inner, ["params", "params"], issues);
  if (method === undefined || issues.length > 0) return undefined;
  if (sessionId !== undefined) {
    return inner !== undefined ? { method, sessionId, params: inner } : { method, sessionId };
  }
  return inner !== undefined ? { method, params: inner } : { method };
}

function decodeResponse(
  value: JsonObject,
  id: number,
  issues: IssueList,
): ExtensionFrame | undefined {
  const checkedId = expectInteger(id, ["id"], issues, 1);
  const error = own(value, "error");
  if (error !== undefined) {
    const message = expectString(error, ["error"], issues, true);
    if (checkedId === undefined || message === undefined) return undefined;
    return { kind: "response", id: checkedId, outcome: { ok: false, error: message } };
  }
  const result = expectObject(own(value, "result"), ["result"], issues);
  if (result !== undefined && !expectFiniteTree(result, ["result"], issues)) return undefined;
  if (checkedId === undefined || result === undefined) return undefined;
  return { kind: "response", id: checkedId, outcome: { ok: true, result } };
}

function decodeGateway(
  value: JsonObject,
  type: unknown,
  issues: IssueList,
): ExtensionFrame | undefined {
  switch (type) {
    case "event":
      return decodeGatewayEvent(value, issues);
    case "req":
      return decodeGatewayRequest(value, issues);
    case "res":
      return decodeGatewayResponse(value, issues);
    default:
      addIssue(
        issues,
        typeof type === "string" ? "unknown_frame" : "wrong_type",
        ["type"],
        '"req", "res" or "event"',
        typeof type === "string" ? JSON.stringify(type.slice(0, 60)) : describe(type),
      );
      return undefined;
  }
}

function decodeGatewayEvent(value: JsonObject, issues: IssueList): ExtensionFrame | undefined {
  const event = expectString(own(value, "event"), ["event"], issues, true);
  if (event === undefined) return undefined;
  const payload = own(value, "payload");
  if (event === "connect.challenge") {
    const body = expectObject(payload, ["payload"], issues);
    if (body === undefined) return undefined;
    const nonce = expectString(own(body, "nonce"), ["payload", "nonce"], issues, true);
    const ts = expectNumber(own(body, "ts"), ["payload", "ts"], issues);
    if (nonce === undefined || ts === undefined) return undefined;
    return { kind: "connect_challenge", nonce, ts };
  }
  if (!expectFiniteTree(payload, ["payload"], issues)) return undefined;
  return payload === undefined
    ? { kind: "gateway_event", event }
    : { kind: "gateway_event", event, payload: payload as JsonValue };
}

function decodeGatewayRequest(value: JsonObject, issues: IssueList): ExtensionFrame | undefined {
  const id = expectString(own(value, "id"), ["id"], issues, true);
  const method = expectString(own(value, "method"), ["method"], issues, true);
  if (id === undefined || method === undefined) return undefined;
  const params = own(value, "params");
  if (method === "connect") {
    const connect = decodeConnectParams(params, issues);
    return connect === undefined ? undefined : { kind: "connect_request", id, params: connect };
  }
  if (!expectFiniteTree(params, ["params"], issues)) return undefined;
  return params === undefined
    ? { kind: "gateway_request", id, method }
    : { kind: "gateway_request", id, method, params: params as JsonValue };
}

const CONNECT_KEYS: ReadonlySet<string> = new Set([
  "minProtocol",
  "maxProtocol",
  "client",
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
]);
const CLIENT_KEYS: ReadonlySet<string> = new Set([
  "id",
  "displayName",
  "version",
  "platform",
  "deviceFamily",
  "modelIdentifier",
  "mode",
  "instanceId",
]);
const DEVICE_KEYS: ReadonlySet<string> = new Set([
  "id",
  "publicKey",
  "signature",
  "signedAt",
  "nonce",
]);
const AUTH_KEYS: ReadonlySet<string> = new Set([
  "token",
  "bootstrapToken",
  "deviceToken",
  "password",
]);
const CLIENT_IDS: ReadonlySet<string> = new Set(GATEWAY_CLIENT_IDS);
const CLIENT_MODES: ReadonlySet<string> = new Set(GATEWAY_CLIENT_MODES);

function decodeConnectParams(value: unknown, issues: IssueList): ConnectParams | undefined {
  const params = expectObject(value, ["params"], issues);
  if (params === undefined) return undefined;
  const before = issues.length;
  rejectUnknownKeys(params, CONNECT_KEYS, ["params"], issues);
  expectInteger(own(params, "minProtocol"), ["params", "minProtocol"], issues, 1);
  expectInteger(own(params, "maxProtocol"), ["params", "maxProtocol"], issues, 1);
  const client = expectObject(own(params, "client"), ["params", "client"], issues);
  if (client !== undefined) {
    const path = ["params", "client"];
    rejectUnknownKeys(client, CLIENT_KEYS, path, issues);
    const id = expectString(own(client, "id"), [...path, "id"], issues, true);
    if (id !== undefined && !CLIENT_IDS.has(id)) {
      addIssue(issues, "out_of_range", [...path, "id"], "an allowed client id", JSON.stringify(id));
    }
    const mode = expectString(own(client, "mode"), [...path, "mode"], issues, true);
    if (mode !== undefined && !CLIENT_MODES.has(mode)) {
      addIssue(
        issues,
        "out_of_range",
        [...path, "mode"],
        "an allowed client mode",
        JSON.stringify(mode),
      );
    }
    expectString(own(client, "version"), [...path, "version"], issues, true);
    expectString(own(client, "platform"), [...path, "platform"], issues, true);
    for (const key of ["displayName", "deviceFamily", "modelIdentifier", "instanceId"]) {
      optionalString(own(client, key), [...path, key], issues, true);
    }
  }
  for (const key of ["caps", "commands", "scopes"]) {
    const item = own(params, key);
    if (item !== undefined) expectStringArray(item, ["params", key], issues, true);
  }
  const permissions = own(params, "permissions");
  if (permissions !== undefined) {
    const record = expectObject(permissions, ["params", "permissions"], issues);
    if (record !== undefined) {
      for (const key of Object.keys(record)) {
        const flag = record[key];
        if (typeof flag !== "boolean") {
          addIssue(issues, "wrong_type", ["params", "permissions", key], "boolean", describe(flag));
        }
      }
    }
  }
  for (const key of ["pathEnv", "locale", "userAgent"]) {
    optionalString(own(params, key), ["params", key], issues);
  }
  optionalString(own(params, "role"), ["params", "role"], issues, true);
  const device = own(params, "device");
  if (device !== undefined) {
    const record = expectObject(device, ["params", "device"], issues);
    if (record !== undefined) {
      const path = ["params", "device"];
      rejectUnknownKeys(record, DEVICE_KEYS, path, issues);
      for (const key of ["id", "publicKey", "signature", "nonce"]) {
        expectString(own(record, key), [...path, key], issues, true);
      }
      expectInteger(own(record, "signedAt"), [...path, "signedAt"], issues, 0);
    }
  }
  const auth = own(params, "auth");
  if (auth !== undefined) {
    const record = expectObject(auth, ["params", "auth"], issues);
    if (record !== undefined) {
      rejectUnknownKeys(record, AUTH_KEYS, ["params", "auth"], issues);
      for (const key of AUTH_KEYS) {
        optionalString(own(record, key), ["params", "auth", key], issues);
      }
    }
  }
  return issues.length === before ? (params as unknown as ConnectParams) : undefined;
}

function decodeGatewayResponse(value: JsonObject, issues: IssueList): ExtensionFrame | undefined {
  const id = expectString(own(value, "id"), ["id"], issues, true);
  const ok = own(value, "ok");
  if (typeof ok !== "boolean") {
    addIssue(
      issues,
      ok === undefined ? "missing_field" : "wrong_type",
      ["ok"],
      "boolean",
      describe(ok),
    );
    return undefined;
  }
  if (id === undefined) return undefined;
  if (!ok) {
    const error = decodeGatewayError(own(value, "error"), issues);
    return error === undefined ? undefined : { kind: "gateway_error", id, error };
  }
  const payload = own(value, "payload");
  if (isJsonObject(payload) && own(payload, "type") === "hello-ok") {
    const hello = decodeHelloOk(payload, issues);
    return hello === undefined ? undefined : { kind: "hello_ok", id, hello };
  }
  if (!expectFiniteTree(payload, ["payload"], issues)) return undefined;
  return payload === undefined
    ? { kind: "gateway_response", id }
    : { kind: "gateway_response", id, payload: payload as JsonValue };
}

function decodeGatewayError(value: unknown, issues: IssueList): GatewayError | undefined {
  const error = expectObject(value, ["error"], issues);
  if (error === undefined) return undefined;
  const before = issues.length;
  const code = expectString(own(error, "code"), ["error", "code"], issues);
  const message = expectString(own(error, "message"), ["error", "message"], issues);
  const retryable = own(error, "retryable");
  if (retryable !== undefined && typeof retryable !== "boolean") {
    addIssue(issues, "wrong_type", ["error", "retryable"], "boolean", describe(retryable));
  }
  const retryAfterMs = own(error, "retryAfterMs");
  if (retryAfterMs !== undefined) expectInteger(retryAfterMs, ["error", "retryAfterMs"], issues, 0);
  const details = own(error, "details");
  expectFiniteTree(details, ["error", "details"], issues);
  if (code === undefined || message === undefined || issues.length > before) return undefined;
  const out: { -readonly [K in keyof GatewayError]: GatewayError[K] } = { code, message };
  if (details !== undefined) out.details = details as JsonValue;
  if (typeof retryable === "boolean") out.retryable = retryable;
  if (typeof retryAfterMs === "number") out.retryAfterMs = retryAfterMs;
  return out;
}

function decodeHelloOk(payload: JsonObject, issues: IssueList): HelloOk | undefined {
  const before = issues.length;
  const protocol = expectInteger(own(payload, "protocol"), ["payload", "protocol"], issues, 1);
  const out: { -readonly [K in keyof HelloOk]: HelloOk[K] } = { type: "hello-ok", protocol: 0 };
  const server = own(payload, "server");
  if (server !== undefined) {
    const record = expectObject(server, ["payload", "server"], issues);
    if (record !== undefined) {
      const version = expectString(
        own(record, "version"),
        ["payload", "server", "version"],
        issues,
      );
      const connId = expectString(own(record, "connId"), ["payload", "server", "connId"], issues);
      if (version !== undefined && connId !== undefined) out.server = { version, connId };
    }
  }
  const features = own(payload, "features");
  if (features !== undefined) {
    const record = expectObject(features, ["payload", "features"], issues);
    if (record !== undefined) {
      const methods = expectStringArray(
        own(record, "methods"),
        ["payload", "features", "methods"],
        issues,
        false,
      );
      const events = expectStringArray(
        own(record, "events"),
        ["payload", "features", "events"],
        issues,
        false,
      );
      if (methods !== undefined && events !== undefined) out.features = { methods, events };
    }
  }
  const snapshot = own(payload, "snapshot");
  if (snapshot !== undefined) {
    const record = expectObject(snapshot, ["payload", "snapshot"], issues);
    if (record !== undefined && expectFiniteTree(record, ["payload", "snapshot"], issues)) {
      out.snapshot = record;
    }
  }
  const policy = own(payload, "policy");
  if (policy !== undefined) {
    const record = expectObject(policy, ["payload", "policy"], issues);
    if (record !== undefined) {
      const p: {
        maxPayload?: number;
        maxBufferedBytes?: number;
        tickIntervalMs?: number;
        maxBatchFrames?: number;
      } = {};
      for (
        const key of ["maxPayload", "maxBufferedBytes", "tickIntervalMs", "maxBatchFrames"] as const
      ) {
        const item = own(record, key);
        if (item === undefined) continue;
        const n = expectNumber(item, ["payload", "policy", key], issues);
        if (n !== undefined) p[key] = n;
      }
      out.policy = p;
    }
  }
  if (protocol === undefined || issues.length > before) return undefined;
  out.protocol = protocol;
  return out;
}
