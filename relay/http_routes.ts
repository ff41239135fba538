/**
 * The relay's HTTP endpoints (protocol §6.7), in the documented order: Host and peer checks,
 * CORS, `OPTIONS`, the token on `/json*`, then routing.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { JsonValue } from "../codec/json.ts";
import { RELAY_TOKEN_HEADER } from "../codec/limits.ts";
import { MUTUAL_AUTH_SCHEME } from "../codec/mutual_auth.ts";
import { ErrorText } from "./error_text.ts";
import { isAllowedHost, isAllowedOrigin, isLoopbackAddress } from "./auth.ts";
import type { TargetEntry } from "./targets.ts";

/** What the HTTP routes need from the relay. */
export interface HttpContext {
  /** The address the relay is bound to. */
  readonly bindHost: string;
  /** Relay version, for `/json/version`. */
  readonly version: string;
  /** Legacy mode: `/extension/status` reports only `connected`. */
  readonly legacy: boolean;
  /** Tells whether a presented token is accepted. */
  readonly verifyToken: (token: string | undefined) => boolean;
  /** Whether an extension completed the handshake and is connected. */
  readonly extensionConnected: () => boolean;
  /**
   * Scheme `mutual-v1`: the relay's challenge nonce (`mutual-v1.<Nr>.<proof>`) for a client
   * nonce, or `undefined` when the nonce is malformed. Lets the options page's check see the
   * relay prove the token before the extension sends any credential; it reveals nothing the
   * `/extension` challenge does not.
   *
   * @default {undefined (not offered)}
   */
  readonly mutualChallenge?: (clientNonce: string) => Promise<string | undefined>;
  /** The cached top-level targets. */
  readonly targets: () => TargetEntry[];
  /**
   * Forwards a browser-level command to the extension; rejects with the client-visible
   * message, e.g. `Extension not connected`.
   */
  readonly forward: (method: string, targetId: string) => Promise<unknown>;
}

/** The checks shared by HTTP requests and upgrades: Host, then peer (§8.2, §8.3). */
export function checkHostAndPeer(
  req: IncomingMessage,
  bindHost: string,
): { status: number; body: string } | undefined {
  if (!isAllowedHost(req.headers.host, bindHost)) {
    return { status: 403, body: "Forbidden: invalid host" };
  }
  if (isLoopbackAddress(bindHost) && !isLoopbackAddress(req.socket.remoteAddress)) {
    return { status: 403, body: "Forbidden" };
  }
  return undefined;
}

/**
 * The presented token: the header wins over `?token=` (§2.2).
 *
 * @returns The token and whether it came from the query string.
 */
export function presentedToken(
  req: IncomingMessage,
  url: URL,
): { token: string | undefined; fromQuery: boolean } {
  const header = req.headers[RELAY_TOKEN_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined) return { token: value, fromQuery: false };
  const query = url.searchParams.get("token");
  return { token: query ?? undefined, fromQuery: query !== null };
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(body);
}

function json(res: ServerResponse, body: JsonValue): void {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

/**
 * Handles one HTTP request.
 *
 * @param req The request.
 * @param res The response.
 * @param ctx Relay state and callbacks.
 */
export async function handleHttpRequest(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: HttpContext,
): Promise<void> {
  const rejected = checkHostAndPeer(req, ctx.bindHost);
  if (rejected !== undefined) return text(res, rejected.status, rejected.body);

  // A web page can send a simple GET (`mode: "no-cors"`) with the token in the query and no
  // preflight: the Origin is refused on every route and method, not only on preflights.
  const origin = req.headers.origin;
  if (!isAllowedOrigin(origin)) return text(res, 403, "Forbidden: invalid origin");
  if (origin !== undefined && origin.startsWith("chrome-extension://")) {
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Vary", "Origin");
  }

  const method = req.method ?? "GET";
  if (method === "OPTIONS") {
    const allowed = ["content-type", RELAY_TOKEN_HEADER];
    const requested = req.headers["access-control-request-headers"] ?? "";
    for (const name of requested.split(",")) {
      const lower = name.trim().toLowerCase();
      if (lower !== "" && !allowed.includes(lower)) allowed.push(lower);
    }
    res.writeHead(204, {
      "Access-Control-Allow-Origin": origin ?? "*",
      "Access-Control-Allow-Methods": "GET, PUT, POST, OPTIONS",
      "Access-Control-Allow-Headers": allowed.join(", "),
      "Access-Control-Max-Age": "86400",
      "Vary": "Origin, Access-Control-Request-Headers",
    });
    res.end();
    return;
  }

  const url = new URL(req.url ?? "/", "http://relay.invalid");
  const path = url.pathname;
  const host = req.headers.host ?? "";

  if (path === "/json" || path.startsWith("/json/")) {
    const { token, fromQuery } = presentedToken(req, url);
    if (!ctx.verifyToken(token)) return text(res, 401, "Unauthorized");
    if (method !== "GET" && method !== "PUT") return text(res, 404, "not found");
    const query = fromQuery && token !== undefined ? `?token=${encodeURIComponent(token)}` : "";
    const wsUrl = `ws://${host}/cdp${query}`;
    if (path === "/json/version" || path === "/json/version/") {
      const body: { [key: string]: string } = {
        "Browser": `BrowserRelay/${ctx.version}`,
        "Protocol-Version": "1.3",
      };
      if (ctx.extensionConnected() || ctx.targets().length > 0) body.webSocketDebuggerUrl = wsUrl;
      return json(res, body);
    }
    if (path === "/json" || path === "/json/" || path === "/json/list" || path === "/json/list/") {
      return json(
        res,
        ctx.targets().map((entry) => ({
          id: entry.targetId,
          type: entry.targetInfo.type,
          title: entry.targetInfo.title,
          description: entry.targetInfo.title,
          url: entry.targetInfo.url,
          webSocketDebuggerUrl: wsUrl,
          devtoolsFrontendUrl: `/devtools/inspector.html?ws=${host}/cdp${query}`,
        })),
      );
    }
    const action = /^\/json\/(activate|close)\/(.*)$/.exec(path);
    if (action !== null) {
      let targetId: string;
      try {
        targetId = decodeURIComponent(action[2] ?? "");
      } catch {
        return text(res, 400, "invalid targetId encoding");
      }
      if (targetId === "") return text(res, 400, ErrorText.TargetIdRequired);
      if (!ctx.targets().some((entry) => entry.targetId === targetId)) {
        return text(res, 404, `No such target id: ${targetId}`);
      }
      const activate = action[1] === "activate";
      try {
        await ctx.forward(activate ? "Target.activateTarget" : "Target.closeTarget", targetId);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return text(res, message === ErrorText.ExtensionNotConnected ? 503 : 500, message);
      }
      return text(res, 200, activate ? "Target activated" : "Target is closing");
    }
    return text(res, 404, "not found");
  }

  if (path === "/") {
    if (method === "HEAD") {
      res.writeHead(200);
      res.end();
      return;
    }
    return text(res, 200, "OK");
  }
  if (path === "/extension/status") {
    const connected = ctx.extensionConnected();
    if (ctx.legacy) return json(res, { connected });
    const nonce = url.searchParams.get("nonce");
    const proof = url.searchParams.get("auth") === MUTUAL_AUTH_SCHEME && nonce !== null
      ? await ctx.mutualChallenge?.(nonce)
      : undefined;
    return json(res, {
      connected,
      handshake: "connect.challenge",
      protocol: 3,
      // The tokenless `/extension?auth=mutual-v1&nonce=…` upgrade is accepted (issue 14).
      auth: [MUTUAL_AUTH_SCHEME],
      // With a proof, what `/json/version` would say, so a check needs no token at all.
      ...(proof === undefined
        ? {}
        : { proof, browser: `BrowserRelay/${ctx.version}`, protocolVersion: "1.3" }),
    });
  }
  return text(res, 404, "not found");
}
