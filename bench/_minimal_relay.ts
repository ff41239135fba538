/**
 * The minimal relay path (issue 12): the simplest hand-written equivalent of an extension plus
 * relay, as a baseline that includes the CDP client's own hop to a relay. A pass-through relay
 * in this process forwards text messages between one client (`/client`) and the service worker
 * (`/worker`) verbatim, and a minimal handler in the worker turns each message into one
 * `chrome.debugger.sendCommand` and sends back `{id, result}` or `{id, error}`.
 *
 * @module
 */

import { createServer, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket as WsSocket, WebSocketServer } from "ws";
import type { Rig } from "../harness/rig.ts";
import { CdpSocket } from "./_cdp_socket.ts";

/** Messages the pass-through forwarded, and anything else it saw. */
export interface PassThroughCounts {
  /** Text messages from the client forwarded to the worker. */
  clientToWorker: number;
  /** Text messages from the worker forwarded to the client. */
  workerToClient: number;
  /**
   * Everything else: upgrades on other paths or for a route already taken, binary messages, and
   * messages that arrived while the other side was not connected (dropped).
   */
  other: number;
}

/** A running pass-through relay. */
export interface PassThrough {
  /** Where the service worker connects. */
  readonly workerUrl: string;
  /** Where the CDP client connects. */
  readonly clientUrl: string;
  /** Resolves once the worker's socket is open on the relay's side. */
  readonly workerConnected: Promise<void>;
  /** Live message counts. */
  readonly counts: Readonly<PassThroughCounts>;
  /** Closes both sockets and shuts the server down; safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Starts the pass-through relay on 127.0.0.1 on a free port: `/worker` and `/client`, one
 * socket each. Every text message from one is sent to the other unchanged: no parsing, no
 * validation, no id mapping. It runs on the same WebSocket stack as our relay (`node:http` and
 * the `ws` package, which OpenClaw's relay also used), so the comparison isolates what our
 * relay and extension do, not which socket library carries the bytes. (Deno's own WebSocket
 * server is not an option for a relay: it drops any message of 64 MiB or more.)
 *
 * @returns The running relay.
 */
export async function startPassThrough(): Promise<PassThrough> {
  let worker: WsSocket | undefined;
  let client: WsSocket | undefined;
  const counts: PassThroughCounts = { clientToWorker: 0, workerToClient: 0, other: 0 };
  const workerOpen = Promise.withResolvers<void>();
  const http = createServer((_request, response) => {
    counts.other++;
    response.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });
  const forward =
    (to: () => WsSocket | undefined, counted: "clientToWorker" | "workerToClient") =>
    (data: Buffer, isBinary: boolean) => {
      const target = to();
      if (!isBinary && target !== undefined && target.readyState === target.OPEN) {
        counts[counted]++;
        target.send(data, { binary: false });
      } else counts.other++;
    };
  http.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    const free = path === "/worker"
      ? worker === undefined
      : path === "/client"
      ? client === undefined
      : false;
    if (!free) {
      counts.other++;
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws: WsSocket) => {
      if (path === "/worker") {
        worker = ws;
        ws.on("message", forward(() => client, "workerToClient"));
        ws.on("close", () => {
          if (worker === ws) worker = undefined;
        });
        workerOpen.resolve();
      } else {
        client = ws;
        ws.on("message", forward(() => worker, "clientToWorker"));
        ws.on("close", () => {
          if (client === ws) client = undefined;
        });
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
  const address = http.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const base = `ws://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    workerUrl: `${base}/worker`,
    clientUrl: `${base}/client`,
    workerConnected: workerOpen.promise,
    counts,
    close() {
      closing ??= (async () => {
        for (const socket of [client, worker]) socket?.terminate();
        wss.close();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })();
      return closing;
    },
  };
}

type Worker = Rig["browser"]["worker"];

/** The global the worker handler lives on while installed. */
interface MinimalHandlerBox {
  benchMinimalRelay?: WebSocket;
}

/**
 * Installs the minimal handler in the service worker: a WebSocket to `url` that, for every
 * message, does `JSON.parse` → `chrome.debugger.sendCommand({tabId}, method, params)` →
 * `ws.send(JSON.stringify({id, result}))` (`{id, error: {message}}` on failure). The socket is
 * kept on a global until {@linkcode removeMinimalHandler}.
 *
 * @param worker The extension's service worker.
 * @param url The pass-through's `/worker` address.
 * @param tabId The tab every command goes to.
 */
export async function installMinimalHandler(
  worker: Worker,
  url: string,
  tabId: number,
): Promise<void> {
  await worker.evaluate(async ([address, id]) => {
    const box = globalThis as unknown as MinimalHandlerBox;
    box.benchMinimalRelay?.close();
    const ws = new WebSocket(address);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("Cannot open the minimal relay socket"));
    });
    ws.onmessage = async (event) => {
      const msg = JSON.parse(String(event.data)) as {
        id: number;
        method: string;
        params?: Record<string, unknown>;
      };
      try {
        const result = await chrome.debugger.sendCommand({ tabId: id }, msg.method, msg.params);
        ws.send(JSON.stringify({ id: msg.id, result }));
      } catch (error) {
        ws.send(JSON.stringify({ id: msg.id, error: { message: String(error) } }));
      }
    };
    box.benchMinimalRelay = ws;
  }, [url, tabId] as const);
}

/**
 * Closes the minimal handler's socket in the service worker and removes its global.
 *
 * @param worker The extension's service worker.
 */
export async function removeMinimalHandler(worker: Worker): Promise<void> {
  await worker.evaluate(() => {
    const box = globalThis as unknown as MinimalHandlerBox;
    box.benchMinimalRelay?.close();
    delete box.benchMinimalRelay;
  });
}

/** The whole minimal path, ready for commands. */
export interface MinimalPath {
  /** The CDP client on the pass-through's `/client` route (commands without a session). */
  readonly client: CdpSocket;
  /** What the pass-through forwarded so far. */
  readonly counts: Readonly<PassThroughCounts>;
  /** Closes the client, removes the worker handler and shuts the relay down; idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the pass-through relay, installs the minimal handler in the worker and opens a client.
 *
 * @param worker The extension's service worker.
 * @param tabId The tab every command goes to.
 * @returns The open path.
 */
export async function openMinimalPath(worker: Worker, tabId: number): Promise<MinimalPath> {
  const relay = await startPassThrough();
  let client: CdpSocket | undefined;
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await client?.close().catch(() => {});
      await removeMinimalHandler(worker).catch(() => {});
      await relay.close();
    })();
  try {
    await installMinimalHandler(worker, relay.workerUrl, tabId);
    await relay.workerConnected;
    client = await CdpSocket.open(relay.clientUrl);
    return { client, counts: relay.counts, close };
  } catch (error) {
    await close();
    throw error;
  }
}
