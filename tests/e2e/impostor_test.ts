// Issue 14: a relay impostor on the configured port learns nothing from the real extension in
// real Chromium, and the real relay on that port works afterwards.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { deriveRelayToken } from "../../codec/derive_relay_token.ts";
import { encodeNonce, mutualChallengeNonce } from "../../codec/mutual_auth.ts";
import { autoAttachedClient, TOKEN, waitUntil } from "../../harness/rig.ts";
import { rigTest } from "./_harness.ts";

/** Everything an impostor saw: HTTP requests (URL and headers), socket URLs and frames. */
interface Loot {
  readonly requests: { url: string; headers: IncomingMessage["headers"] }[];
  readonly sockets: string[];
  readonly frames: string[];
  /** How each socket ended, as the impostor saw it. */
  readonly closes: { code: number; reason: string }[];
}

function random32(): string {
  return encodeNonce(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * An impostor on `port`: it claims to be a relay offering mutual-v1, accepts every upgrade,
 * sends a challenge with a forged proof, and records everything.
 */
async function startImpostor(port: number): Promise<{ loot: Loot; close(): Promise<void> }> {
  const loot: Loot = { requests: [], sockets: [], frames: [], closes: [] };
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    loot.requests.push({ url: req.url ?? "", headers: req.headers });
    const body = req.url?.startsWith("/extension/status")
      ? { connected: false, handshake: "connect.challenge", protocol: 3, auth: ["mutual-v1"] }
      : { Browser: "BrowserRelay/0.1.0", "Protocol-Version": "1.3" };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    loot.requests.push({ url: req.url ?? "", headers: req.headers });
    wss.handleUpgrade(req, socket, head, (ws) => {
      loot.sockets.push(req.url ?? "");
      ws.on("message", (data: Buffer) => loot.frames.push(data.toString()));
      ws.on("error", () => {});
      ws.on("close", (code: number, reason: Buffer) => {
        loot.closes.push({ code, reason: reason.toString() });
      });
      ws.send(JSON.stringify({
        type: "event",
        event: "connect.challenge",
        payload: { nonce: mutualChallengeNonce(random32(), random32()), ts: Date.now() },
      }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    loot,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

rigTest(
  "extension() gives a relay impostor on its port no token, no proof and no tab event",
  async (rig) => {
    const port = rig.relay.port;
    const relayToken = await deriveRelayToken(TOKEN, port);
    // The real relay is gone; another program takes its port before the user attaches a tab.
    await rig.relay.close();
    const impostor = await startImpostor(port);
    let tabId: number;
    try {
      const url = `${rig.pages.a}/?title=Impostor`;
      ({ tabId } = await rig.openTab(url));
      await rig.toggle(tabId);
      const status = await waitUntil("the extension to refuse the impostor", async () => {
        const current = await rig.status() as unknown as {
          connection: { phase: string; lastError?: { code: string } };
        };
        return current.connection.lastError?.code === "relay_unproven" ? current : undefined;
      });
      assert.equal(status.connection.phase, "stopped");
      // The extension closes the refused socket itself (browsers send 1008 as 1000).
      await waitUntil(
        "the extension to close the impostor's socket",
        () => impostor.loot.closes.length >= 1,
      );
      assert.deepEqual(impostor.loot.closes[0], { code: 1000, reason: "relay proof invalid" });
      assert.ok(impostor.loot.sockets.length >= 1, "the extension dialled the impostor");
      const loot = JSON.stringify(impostor.loot);
      assert.equal(loot.includes(TOKEN), false, "no gateway token");
      assert.equal(loot.includes(relayToken), false, "no relay token");
      assert.equal(loot.includes("x-openclaw-relay-token"), false, "no token header");
      // Not one frame: no connect (so no proof), no forwardCDPEvent, no tab.
      assert.deepEqual(impostor.loot.frames, []);
      for (const socket of impostor.loot.sockets) {
        assert.match(socket, /^\/extension\?auth=mutual-v1&nonce=[A-Za-z0-9_-]{43}$/);
      }
    } finally {
      await impostor.close();
    }
    // The real relay returns on the same port; the user clicks the toolbar button to retry.
    await rig.restartRelay();
    await rig.toggle(tabId);
    const { sessionId } = await rig.waitAttached(tabId);
    const client = await autoAttachedClient(rig.relay);
    try {
      const result = await client.call("Runtime.evaluate", {
        expression: "document.title",
        returnByValue: true,
      }, sessionId);
      assert.equal((result.result as { value: string }).value, "Impostor");
    } finally {
      await client.close();
    }
  },
);
