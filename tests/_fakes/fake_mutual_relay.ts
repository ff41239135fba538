/**
 * A relay's side of the `mutual-v1` exchange, at the protocol level, for unit tests: the real
 * relay (knows the gateway token) and impostors (do not). Each records everything the extension
 * gave it, so a test can show what an impostor learned.
 *
 * @module
 */

import type { ConnectRequestFrame } from "../../worker/handshake.ts";
import {
  encodeNonce,
  MUTUAL_AUTH_SCHEME,
  mutualAuthKey,
  mutualChallengeNonce,
  mutualProof,
  verifyMutualProof,
} from "../../codec/mutual_auth.ts";
import type { FakeHttpHandler } from "./fake_http.ts";

/** Deterministic 32-byte nonces: byte `i` is `seed + i`. */
export function seededNonce(seed: number): string {
  return encodeNonce(Uint8Array.from({ length: 32 }, (_, i) => (seed + i) & 0xff));
}

/** `/extension/status` of a relay that offers `mutual-v1` (or not). */
export function mutualStatusHandler(offers = true): FakeHttpHandler {
  return (request) =>
    new URL(request.url).pathname === "/extension/status"
      ? {
        status: 200,
        contentType: "application/json",
        body: JSON.stringify({
          connected: false,
          handshake: "connect.challenge",
          protocol: 3,
          ...(offers ? { auth: [MUTUAL_AUTH_SCHEME] } : {}),
        }),
      }
      : { status: 404, body: "not found" };
}

/** A relay listening on `port`; `gatewayToken` undefined makes it an impostor. */
export class FakeMutualRelay {
  readonly port: number;
  readonly #gatewayToken: string | undefined;
  #seed: number;
  /** Every string the extension sent this relay (socket URL, frames), in order. */
  readonly received: string[] = [];
  /** The transcript of the last challenge: the nonces a proof must be bound to. */
  last: { clientNonce: string; relayNonce: string } | undefined;

  constructor(port: number, gatewayToken: string | undefined, seed = 100) {
    this.port = port;
    this.#gatewayToken = gatewayToken;
    this.#seed = seed;
  }

  /**
   * The challenge nonce for a socket opened at `url`. A real relay proves itself; an impostor
   * can only put something of the right shape there.
   */
  async challenge(url: string): Promise<string> {
    this.received.push(url);
    const clientNonce = new URL(url).searchParams.get("nonce") ?? "";
    const relayNonce = seededNonce(this.#seed++);
    this.last = { clientNonce, relayNonce };
    if (this.#gatewayToken === undefined) {
      return mutualChallengeNonce(relayNonce, seededNonce(7));
    }
    const key = await mutualAuthKey(this.#gatewayToken, this.port);
    const proof = await mutualProof(key, "relay", { port: this.port, clientNonce, relayNonce });
    return mutualChallengeNonce(relayNonce, proof);
  }

  /** Accepts a `connect` whose `auth.token` proves the extension for the last challenge. */
  async accept(request: ConnectRequestFrame, encoded: string): Promise<boolean> {
    this.received.push(encoded);
    const token = request.params.auth?.token ?? "";
    const prefix = `${MUTUAL_AUTH_SCHEME}.`;
    if (this.#gatewayToken === undefined || this.last === undefined) return false;
    if (!token.startsWith(prefix)) return false;
    const key = await mutualAuthKey(this.#gatewayToken, this.port);
    return await verifyMutualProof(
      key,
      "extension",
      { port: this.port, ...this.last },
      token.slice(prefix.length),
    );
  }
}
