/**
 * In-memory `RelayLink` for tab-side unit tests: records the events and responses that would go
 * on the wire while `ready`, and drops them (returning false) otherwise, like the connection.
 *
 * @module
 */

import type { CdpCall, Outcome } from "../../codec/extension_frame.ts";
import type { RelayLink } from "../../worker/relay_link.ts";

/** One response as it would be framed. */
export interface FakeResponse {
  readonly id: number;
  readonly outcome: Outcome;
}

/** In-memory {@linkcode RelayLink}. */
export class FakeRelayLink implements RelayLink {
  /** Whether the connection is in phase `ready`. */
  ready = false;
  /** Events sent while ready, in order. */
  readonly events: CdpCall[] = [];
  /** Responses sent while ready, in order. */
  readonly responses: FakeResponse[] = [];
  /** Reasons passed to `requestConnect`. */
  readonly connectRequests: string[] = [];
  /** Everything sent while ready, in wire order: `response <id>` or `event <method>`. */
  readonly wire: string[] = [];

  isReady(): boolean {
    return this.ready;
  }

  sendEvent(cdp: CdpCall): boolean {
    if (!this.ready) return false;
    this.events.push(cdp);
    this.wire.push(`event ${cdp.method}`);
    return true;
  }

  sendResponse(id: number, outcome: Outcome): boolean {
    if (!this.ready) return false;
    this.responses.push({ id, outcome });
    this.wire.push(`response ${id}`);
    return true;
  }

  requestConnect(reason: string): void {
    this.connectRequests.push(reason);
  }

  /** Every response sent for `id`. */
  responsesFor(id: number): Outcome[] {
    return this.responses.filter((r) => r.id === id).map((r) => r.outcome);
  }

  /** Events with the given method, in order. */
  eventsOf(method: string): CdpCall[] {
    return this.events.filter((e) => e.method === method);
  }

  /** Forgets recorded traffic. */
  clear(): void {
    this.events.length = 0;
    this.responses.length = 0;
    this.connectRequests.length = 0;
    this.wire.length = 0;
  }
}
