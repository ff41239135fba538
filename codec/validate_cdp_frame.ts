/**
 * Validator for frames on the `/cdp` socket.
 *
 * @module
 */

import {
  addIssue,
  asIssues,
  describe,
  expectFiniteTree,
  expectInteger,
  expectObject,
  expectString,
  hasNonFinite,
  isEchoableId,
  type IssueList,
  optionalObject,
  optionalString,
  own,
} from "./_check.ts";
import { type CdpShape, classifyCdpFrame } from "./_classify.ts";
import { isJsonObject } from "./is_json_object.ts";
import type { CdpError, CdpFrame } from "./cdp_frame.ts";
import type { DecodeResult } from "./issue.ts";
import type { JsonObject } from "./json.ts";

/**
 * Validates an already-parsed JSON value as one `/cdp` frame. Never throws. Use it
 * when the transport already parsed the JSON; otherwise use {@linkcode decodeCdpFrame}, which
 * also enforces the size limit and reports `invalid_json`.
 *
 * @param value The value `JSON.parse` returned.
 * @returns The typed frame, or a non-empty list of issues (with the frame `id` when readable).
 *
 * @example
 * ```ts
 * import { validateCdpFrame } from "@browser-relay/codec";
 *
 * const result = validateCdpFrame({ id: 1, method: "Browser.getVersion" });
 * console.log(result.ok); // true
 * ```
 */
export function validateCdpFrame(value: unknown): DecodeResult<CdpFrame> {
  if (!isJsonObject(value)) {
    const issues: IssueList = [];
    addIssue(issues, "not_object", [], "object", describe(value));
    return { ok: false, issues: asIssues(issues) };
  }
  const shape = classifyCdpFrame(value);
  const fast = readFrame(value, shape);
  if (fast !== undefined) return { ok: true, frame: fast };
  const issues: IssueList = [];
  const frame = checkFrame(value, shape, issues);
  if (frame !== undefined && issues.length === 0) return { ok: true, frame };
  const id = own(value, "id");
  return isEchoableId(id) && typeof id === "number"
    ? { ok: false, issues: asIssues(issues), id }
    : { ok: false, issues: asIssues(issues) };
}

/**
 * Fast path for a classified frame: plain type checks, no path arrays or issue lists. Returns
 * `undefined` on any doubt; {@linkcode checkFrame} then validates the same shape and reports.
 * The keys read are not on `Object.prototype`.
 */
function readFrame(value: JsonObject, shape: CdpShape): CdpFrame | undefined {
  const frame = value as Record<string, unknown>;
  const sessionId = frame.sessionId;
  if (sessionId !== undefined && typeof sessionId !== "string") return undefined;
  const id = frame.id;
  if (
    id !== undefined &&
    (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0 || Object.is(id, -0))
  ) {
    return undefined;
  }
  switch (shape) {
    case "response": {
      if (frame.error !== undefined) return undefined; // rare: checkFrame validates the error
      const result = frame.result;
      if (!isJsonObject(result) || hasNonFinite(result)) return undefined;
      const outcome = { ok: true, result } as const;
      return sessionId === undefined
        ? { kind: "response", id: id as number, outcome }
        : { kind: "response", id: id as number, sessionId, outcome };
    }
    case "command":
    case "event": {
      const method = frame.method;
      if (typeof method !== "string" || method.length === 0) return undefined;
      const params = frame.params;
      if (params !== undefined && (!isJsonObject(params) || hasNonFinite(params))) {
        return undefined;
      }
      if (id === undefined) {
        const base = { kind: "event", method } as const;
        if (params === undefined) return sessionId === undefined ? base : { ...base, sessionId };
        return sessionId === undefined ? { ...base, params } : { ...base, params, sessionId };
      }
      const base = { kind: "command", id, method } as const;
      if (params === undefined) return sessionId === undefined ? base : { ...base, sessionId };
      return sessionId === undefined ? { ...base, params } : { ...base, params, sessionId };
    }
    default:
      return undefined;
  }
}

/** Full validation of a classified frame, reporting every issue with its path. */
function checkFrame(value: JsonObject, shape: CdpShape, issues: IssueList): CdpFrame | undefined {
  const id = own(value, "id");
  const sessionId = optionalString(own(value, "sessionId"), ["sessionId"], issues);
  switch (shape) {
    case "response": {
      const checkedId = expectInteger(id, ["id"], issues, 0);
      const error = own(value, "error");
      if (error !== undefined) {
        const cdpError = decodeError(error, issues);
        if (checkedId === undefined || cdpError === undefined || issues.length > 0) {
          return undefined;
        }
        const outcome = { ok: false, error: cdpError } as const;
        return sessionId === undefined
          ? { kind: "response", id: checkedId, outcome }
          : { kind: "response", id: checkedId, sessionId, outcome };
      }
      const result = expectObject(own(value, "result"), ["result"], issues);
      if (result !== undefined) expectFiniteTree(result, ["result"], issues);
      if (checkedId === undefined || result === undefined || issues.length > 0) return undefined;
      const outcome = { ok: true, result } as const;
      return sessionId === undefined
        ? { kind: "response", id: checkedId, outcome }
        : { kind: "response", id: checkedId, sessionId, outcome };
    }
    case "unknown":
      addIssue(
        issues,
        "unknown_frame",
        [],
        "command {id, method}, response {id, result|error} or event {method}",
        id === undefined ? "object without id or method" : "id without method, result or error",
      );
      return undefined;
    case "command":
    case "event": {
      const name = expectString(own(value, "method"), ["method"], issues, true);
      const params = optionalObject(own(value, "params"), ["params"], issues);
      if (params !== undefined) expectFiniteTree(params, ["params"], issues);
      const checkedId = shape === "event" ? undefined : expectInteger(id, ["id"], issues, 0);
      if (name === undefined || issues.length > 0) return undefined;
      if (checkedId !== undefined) {
        const base = { kind: "command", id: checkedId, method: name } as const;
        if (params !== undefined) {
          return sessionId === undefined ? { ...base, params } : { ...base, params, sessionId };
        }
        return sessionId === undefined ? base : { ...base, sessionId };
      }
      const base = { kind: "event", method: name } as const;
      if (params !== undefined) {
        return sessionId === undefined ? { ...base, params } : { ...base, params, sessionId };
      }
      return sessionId === undefined ? base : { ...base, sessionId };
    }
    default: {
      const _exhaustive: never = shape;
      return _exhaustive;
    }
  }
}

function decodeError(value: unknown, issues: IssueList): CdpError | undefined {
  const error = expectObject(value, ["error"], issues);
  if (error === undefined) return undefined;
  const message = expectString(own(error, "message"), ["error", "message"], issues);
  const code = own(error, "code");
  if (code !== undefined) expectInteger(code, ["error", "code"], issues, Number.MIN_SAFE_INTEGER);
  const data = optionalString(own(error, "data"), ["error", "data"], issues);
  if (message === undefined) return undefined;
  const out: { code?: number; message: string; data?: string } = { message };
  if (typeof code === "number") {
    return data === undefined ? { code, message } : { code, message, data };
  }
  if (data !== undefined) out.data = data;
  return out;
}
