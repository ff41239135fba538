/**
 * The options page's **Check connection**: probes a relay with the same two requests as the
 * connection preflight (protocol §2.3) and explains the outcome to a person.
 *
 * The worker runs the check, not the page: it has the host permissions, so there is no CORS
 * trouble, and it can set the `x-openclaw-relay-token` header.
 *
 * In scheme `mutual-v1` (unless `openclawRelayCompat`) the relay proves that it knows the token,
 * over a fresh nonce in the status request, and no credential is sent: an impostor on the port
 * gets nothing from a check either (docs/protocol-extensions.md).
 *
 * @module
 */

import { deriveRelayToken } from "../codec/derive_relay_token.ts";
import {
  encodeNonce,
  MUTUAL_AUTH_SCHEME,
  mutualAuthKey,
  parseMutualChallengeNonce,
  verifyMutualProof,
} from "../codec/mutual_auth.ts";
import { RELAY_TOKEN_HEADER } from "../codec/limits.ts";
import type { Clock, HttpGet } from "./ports.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import { getWithDeadline, type HttpOutcome } from "./get_with_deadline.ts";
import { relayBaseUrl } from "./settings.ts";

/** What to check: the values currently in the form, which need not be saved yet. */
export interface CheckTarget {
  /** Relay port, an integer between 1 and 65535. */
  readonly port: number;
  /** The raw gateway token; it is trimmed first. */
  readonly token: string;
  /**
   * Check as the OpenClaw flow does: the relay token goes out without a proof from the relay.
   *
   * @default {false}
   */
  readonly openclawRelayCompat?: boolean;
}

/** The ports the check needs. */
export interface CheckConnectionPorts {
  readonly http: HttpGet;
  readonly clock: Pick<Clock, "setTimeout" | "clearTimeout">;
}

/** Options of {@linkcode checkConnection}. */
export interface CheckConnectionOptions {
  /**
   * Deadline of each of the two requests, in milliseconds.
   *
   * @default {2000}
   */
  readonly timeoutMs?: number;
  /**
   * Scheme `mutual-v1`: the fresh client nonce of the status request.
   *
   * @default {32 bytes from crypto.getRandomValues}
   */
  readonly clientNonce?: () => string;
}

export type { HttpOutcome } from "./get_with_deadline.ts";

/** One request the check made, with its exact URL. */
export interface CheckedRequest {
  readonly url: string;
  readonly outcome: HttpOutcome;
}

/** Why an answering server is not taken for a relay. */
export type WrongPortReason =
  | "html"
  | "not_json"
  | "missing_cdp_keys"
  | "unexpected_status"
  /** Scheme `mutual-v1`: the status does not offer it (an OpenClaw relay, or not a relay). */
  | "no_mutual_auth";

/** Fields every check result carries. */
interface CheckResultBase {
  /** The exact URL of the request that decided the outcome. */
  readonly url: string;
  /** One sentence saying what happened. */
  readonly message: string;
  /** One sentence saying what to do next (empty when nothing is needed). */
  readonly hint: string;
}

/** The outcome of a connection check, as shown on the options page. */
export type CheckResult =
  | CheckResultBase & {
    /** Reachable and the token is accepted. */
    readonly kind: "ok";
    /** `Browser` from `/json/version`, e.g. `BrowserRelay/0.1.0`. */
    readonly relayVersion: string;
    /** `Protocol-Version` from `/json/version`, e.g. `1.3`. */
    readonly protocolVersion: string;
    /** True when `/extension/status` announced `"handshake":"connect.challenge"`. */
    readonly challengeHandshake: boolean;
    /** `connected` from `/extension/status`, when the relay reported it. */
    readonly extensionConnected?: boolean;
  }
  | CheckResultBase & {
    readonly kind: "token_rejected";
    /** 401 from `/json/version`; absent when the relay's `mutual-v1` proof did not verify. */
    readonly status?: 401;
  }
  | CheckResultBase & {
    readonly kind: "wrong_port";
    readonly status: number;
    readonly reason: WrongPortReason;
  }
  | CheckResultBase & { readonly kind: "unreachable"; readonly cause: string }
  | CheckResultBase & { readonly kind: "timeout"; readonly timeoutMs: number }
  | CheckResultBase & { readonly kind: "invalid_input"; readonly field: "port" | "token" };

/** The inputs of {@linkcode classifyCheck}: the requests made so far, in order. */
export interface CheckRequests {
  /** The relay base URL, `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** `GET /extension/status`, without credentials. */
  readonly status: CheckedRequest;
  /** `GET /json/version` with the token header; absent when the first request failed. */
  readonly version?: CheckedRequest;
}

const DEFAULT_TIMEOUT_MS = 2_000;

const START_HINT =
  'Start the relay with "deno task relay" (it prints its port and token), or check the port.';

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function looksLikeHtml(contentType: string, body: string): boolean {
  return /\bhtml\b/i.test(contentType) || /^\s*</.test(body);
}

/** A short, single-line excerpt of a response body for messages. */
function excerpt(body: string): string {
  const line = body.replace(/\s+/g, " ").trim();
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/** Classifies a request that did not produce a response; undefined when it did. */
function classifyFailure(
  baseUrl: string,
  request: CheckedRequest,
): CheckResult | undefined {
  const { url, outcome } = request;
  switch (outcome.kind) {
    case "response":
      return undefined;
    case "network_error":
      return {
        kind: "unreachable",
        url,
        cause: outcome.cause,
        message: `Relay server not reachable at ${baseUrl} (${outcome.cause})`,
        hint: START_HINT,
      };
    case "timeout":
      return {
        kind: "timeout",
        url,
        timeoutMs: outcome.timeoutMs,
        message: `No answer from ${url} within ${outcome.timeoutMs} ms`,
        hint:
          "Something holds the port but does not answer; check that the port belongs to the relay.",
      };
    default: {
      const _exhaustive: never = outcome;
      return _exhaustive;
    }
  }
}

function wrongPort(
  url: string,
  status: number,
  reason: WrongPortReason,
  what: string,
): CheckResult {
  return {
    kind: "wrong_port",
    url,
    status,
    reason,
    message: `Something answers at ${url}, but it is not a Browser Relay: ${what}`,
    hint: "Check the port: the relay prints it at start (default 18792).",
  };
}

/**
 * Turns the requests of a connection check into one result. Pure: no I/O, no time.
 *
 * Order: a request without a response decides first (not reachable, timeout); then a 401 on
 * `/json/version` means the token was rejected; then the body of `/json/version` must be JSON
 * with the CDP keys `Browser` and `Protocol-Version`, otherwise the port belongs to something
 * else. `/extension/status` only contributes the handshake announcement.
 *
 * @param requests The requests made, with their exact URLs and outcomes.
 * @returns The classified result, with a message and a hint for the options page.
 *
 * @example Usage
 * ```ts
 * import { classifyCheck } from "./check_connection.ts";
 *
 * const result = classifyCheck({
 *   baseUrl: "http://127.0.0.1:18792",
 *   status: {
 *     url: "http://127.0.0.1:18792/extension/status",
 *     outcome: { kind: "network_error", cause: "Failed to fetch" },
 *   },
 * });
 * // result.kind === "unreachable"
 * ```
 */
export function classifyCheck(requests: CheckRequests): CheckResult {
  const { baseUrl, status, version } = requests;
  const statusFailure = classifyFailure(baseUrl, status);
  if (statusFailure) return statusFailure;
  if (!version) {
    throw new TypeError(
      'Cannot classify check as "version" is missing: current value is undefined',
    );
  }
  const versionFailure = classifyFailure(baseUrl, version);
  if (versionFailure) return versionFailure;
  if (version.outcome.kind !== "response") {
    throw new TypeError("Cannot classify check as the version request has no response");
  }
  const { url } = version;
  const { status: code, contentType, body } = version.outcome;
  if (code === 401) {
    return {
      kind: "token_rejected",
      url,
      status: 401,
      message: `The relay at ${baseUrl} rejected the token (HTTP 401 from ${url})`,
      hint: "Copy the gateway token the relay printed at start into the token field and save.",
    };
  }
  if (looksLikeHtml(contentType, body)) {
    return wrongPort(url, code, "html", `it returned an HTML page (HTTP ${code})`);
  }
  if (code !== 200) {
    const text = excerpt(body);
    return wrongPort(
      url,
      code,
      "unexpected_status",
      text === "" ? `it answered HTTP ${code}` : `it answered HTTP ${code} "${text}"`,
    );
  }
  const json = parseJson(body);
  if (!isJsonObject(json)) {
    return wrongPort(url, code, "not_json", "its answer is not a JSON object");
  }
  const browser = json["Browser"];
  const protocol = json["Protocol-Version"];
  if (typeof browser !== "string" || typeof protocol !== "string") {
    return wrongPort(
      url,
      code,
      "missing_cdp_keys",
      'its JSON has no CDP keys "Browser" and "Protocol-Version"',
    );
  }
  const statusJson = status.outcome.kind === "response" && status.outcome.status === 200
    ? parseJson(status.outcome.body)
    : undefined;
  const challengeHandshake = isJsonObject(statusJson) &&
    statusJson["handshake"] === "connect.challenge";
  const connected = isJsonObject(statusJson) && typeof statusJson["connected"] === "boolean"
    ? statusJson["connected"]
    : undefined;
  const handshakeText = challengeHandshake
    ? "supports the connect.challenge handshake"
    : "announces no handshake (legacy relay)";
  const base = {
    kind: "ok" as const,
    url,
    relayVersion: browser,
    protocolVersion: protocol,
    challengeHandshake,
    message:
      `Connected to ${browser} at ${baseUrl}: token accepted, CDP ${protocol}, ${handshakeText}`,
    hint: "",
  };
  return connected === undefined ? base : { ...base, extensionConnected: connected };
}

/**
 * Scheme `mutual-v1`: the status answer must offer the scheme and carry the relay's proof over
 * `clientNonce` for this port and token. Either way the result comes from this one answer: no
 * credential is sent, not even after the proof (a second request could reach another program
 * that took the port in between).
 */
async function checkRelayProof(
  baseUrl: string,
  port: number,
  token: string,
  clientNonce: string,
  status: CheckedRequest,
): Promise<CheckResult> {
  if (status.outcome.kind !== "response") return classifyCheck({ baseUrl, status });
  const { url } = status;
  const { status: code, contentType, body } = status.outcome;
  if (looksLikeHtml(contentType, body)) {
    return wrongPort(url, code, "html", `it returned an HTML page (HTTP ${code})`);
  }
  if (code !== 200) {
    return wrongPort(url, code, "unexpected_status", `it answered HTTP ${code}`);
  }
  const json = parseJson(body);
  const auth = isJsonObject(json) ? json["auth"] : undefined;
  if (!Array.isArray(auth) || !auth.includes(MUTUAL_AUTH_SCHEME)) {
    return {
      ...wrongPort(
        url,
        code,
        "no_mutual_auth",
        "it does not offer mutual authentication (mutual-v1)",
      ),
      hint:
        "Update the relay, or, for an OpenClaw relay, turn on OpenClaw relay compatibility and save.",
    };
  }
  const proof = isJsonObject(json) && typeof json["proof"] === "string"
    ? parseMutualChallengeNonce(json["proof"])
    : undefined;
  const key = await mutualAuthKey(token, port);
  const proven = proof !== undefined && await verifyMutualProof(key, "relay", {
    port,
    clientNonce,
    relayNonce: proof.relayNonce,
  }, proof.proof);
  if (proven && isJsonObject(json)) {
    const browser = typeof json["browser"] === "string" ? json["browser"] : "a Browser Relay";
    const protocol = typeof json["protocolVersion"] === "string" ? json["protocolVersion"] : "1.3";
    const connected = typeof json["connected"] === "boolean" ? json["connected"] : undefined;
    const ok: CheckResult = {
      kind: "ok",
      url,
      relayVersion: browser,
      protocolVersion: protocol,
      challengeHandshake: true,
      message:
        `Connected to ${browser} at ${baseUrl}: token accepted (the relay proved it knows it), CDP ${protocol}, supports the connect.challenge handshake`,
      hint: "",
    };
    return connected === undefined ? ok : { ...ok, extensionConnected: connected };
  }
  return {
    kind: "token_rejected",
    url,
    message:
      `The relay at ${baseUrl} could not prove that it knows this token: the token differs, or another program is listening on port ${port}`,
    hint:
      "Copy the gateway token the relay printed at start into the token field and save; if it matches, stop the program that holds the port.",
  };
}

/**
 * Checks whether a relay answers on `port` and accepts `token`, and explains the outcome.
 *
 * Sends `GET http://127.0.0.1:<port>/extension/status` (no credentials), then
 * `GET /json/version` with the `x-openclaw-relay-token` header set to the derived relay token.
 * In scheme `mutual-v1` (the default) only the status request is made, with a fresh nonce: its
 * answer must prove that the relay knows the token, and no credential is sent at all.
 * Each request has its own deadline; neither uses `AbortSignal.timeout()`. Never throws: bad
 * input yields an `invalid_input` result and network failures yield results too.
 *
 * @param ports The HTTP and clock ports.
 * @param target The port and token to check.
 * @param options Deadline per request.
 * @returns The classified result.
 *
 * @example Usage
 * ```ts ignore
 * import { checkConnection } from "./check_connection.ts";
 *
 * const result = await checkConnection({ http, clock }, { port: 18792, token: "secret" });
 * console.log(result.kind, result.message);
 * ```
 */
export async function checkConnection(
  ports: CheckConnectionPorts,
  target: CheckTarget,
  options: CheckConnectionOptions = {},
): Promise<CheckResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { port } = target;
  const baseUrl = relayBaseUrl(port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    return {
      kind: "invalid_input",
      field: "port",
      url: baseUrl,
      message: `The port must be a whole number between 1 and 65535: current value is ${port}`,
      hint: "Enter the port the relay listens on (default 18792).",
    };
  }
  const token = target.token.trim();
  if (token === "") {
    return {
      kind: "invalid_input",
      field: "token",
      url: baseUrl,
      message: "The gateway token is empty",
      hint: "Paste the gateway token the relay printed at start.",
    };
  }
  const mutual = target.openclawRelayCompat !== true;
  const clientNonce = mutual
    ? (options.clientNonce ?? (() => encodeNonce(crypto.getRandomValues(new Uint8Array(32)))))()
    : "";
  const statusUrl = mutual
    ? `${baseUrl}/extension/status?auth=${MUTUAL_AUTH_SCHEME}&nonce=${clientNonce}`
    : `${baseUrl}/extension/status`;
  const status: CheckedRequest = {
    url: statusUrl,
    outcome: await getWithDeadline(ports, statusUrl, { timeoutMs }),
  };
  if (status.outcome.kind !== "response") return classifyCheck({ baseUrl, status });
  if (mutual) return await checkRelayProof(baseUrl, port, token, clientNonce, status);
  const relayToken = await deriveRelayToken(token, port);
  const versionUrl = `${baseUrl}/json/version`;
  const version: CheckedRequest = {
    url: versionUrl,
    outcome: await getWithDeadline(ports, versionUrl, {
      headers: { [RELAY_TOKEN_HEADER]: relayToken },
      timeoutMs,
    }),
  };
  return classifyCheck({ baseUrl, status, version });
}
