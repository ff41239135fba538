import assert from "node:assert/strict";
import {
  type ConnectionError,
  type ConnectionEvent,
  type ConnectionState,
  INITIAL_STATE,
  nextState,
} from "../../worker/connection_state.ts";

const ERR: ConnectionError = { code: "relay_unreachable", message: "Relay server not reachable" };
const RETRY = { failures: 2, slowFailures: 1, outageSince: 100 };
const POLICY = { maxPayload: 100, livenessMs: 15_000 };

const STATES: Record<string, ConnectionState> = {
  idle: INITIAL_STATE,
  preflight: { phase: "connecting", step: "preflight", retry: RETRY, lastError: ERR },
  opening: { phase: "connecting", step: "opening", retry: RETRY, lastError: ERR },
  challenge: { phase: "handshaking", step: "awaiting-challenge", retry: RETRY, lastError: ERR },
  hello: { phase: "handshaking", step: "awaiting-hello", retry: RETRY, lastError: ERR },
  ready: { phase: "ready", legacy: false, policy: POLICY, relayVersion: "0.1.0", since: 50 },
  backoff: { phase: "backoff", retryAt: 2_000, retry: RETRY, lastError: ERR },
  stopped: { phase: "stopped", lastError: { code: "missing_token", message: "Missing" } },
};

const EVENTS: Record<string, ConnectionEvent> = {
  start: { type: "start", now: 1_000 },
  restart: { type: "restart", now: 1_000 },
  "preflight_passed": { type: "preflight_passed" },
  "socket_opened": { type: "socket_opened" },
  "connect_sent": { type: "connect_sent" },
  "handshake_done": {
    type: "handshake_done",
    legacy: true,
    policy: POLICY,
    relayVersion: undefined,
    now: 1_000,
  },
  failed: { type: "failed", error: ERR, retryAt: 1_750, curve: "slow" },
  dropped: { type: "dropped", error: ERR, retryAt: 1_750, now: 1_000 },
  rested: { type: "rested", error: ERR, now: 1_000 },
  stopped: { type: "stopped", error: ERR },
  reset: { type: "reset" },
};

/** Legal (state, event) → expected next state; every other pair must throw. */
const LEGAL: Record<string, Record<string, ConnectionState>> = {
  idle: {
    start: {
      phase: "connecting",
      step: "preflight",
      retry: { failures: 0, slowFailures: 0, outageSince: 1_000 },
      lastError: undefined,
    },
    restart: {
      phase: "connecting",
      step: "preflight",
      retry: { failures: 0, slowFailures: 0, outageSince: 1_000 },
      lastError: undefined,
    },
    stopped: { phase: "stopped", lastError: ERR },
    reset: INITIAL_STATE,
  },
  preflight: {
    "preflight_passed": { phase: "connecting", step: "opening", retry: RETRY, lastError: ERR },
    failed: {
      phase: "backoff",
      retryAt: 1_750,
      retry: { failures: 3, slowFailures: 2, outageSince: 100 },
      lastError: ERR,
    },
    rested: {
      phase: "idle",
      retry: { failures: 3, slowFailures: 1, outageSince: 100 },
      lastError: ERR,
    },
  },
  opening: {
    "socket_opened": {
      phase: "handshaking",
      step: "awaiting-challenge",
      retry: RETRY,
      lastError: ERR,
    },
  },
  challenge: {
    "connect_sent": { phase: "handshaking", step: "awaiting-hello", retry: RETRY, lastError: ERR },
    "handshake_done": {
      phase: "ready",
      legacy: true,
      policy: POLICY,
      relayVersion: undefined,
      since: 1_000,
    },
  },
  hello: {
    "handshake_done": {
      phase: "ready",
      legacy: true,
      policy: POLICY,
      relayVersion: undefined,
      since: 1_000,
    },
  },
  ready: {
    dropped: {
      phase: "backoff",
      retryAt: 1_750,
      retry: { failures: 0, slowFailures: 0, outageSince: 1_000 },
      lastError: ERR,
    },
    rested: {
      phase: "idle",
      retry: { failures: 0, slowFailures: 0, outageSince: 1_000 },
      lastError: ERR,
    },
  },
  backoff: {
    start: { phase: "connecting", step: "preflight", retry: RETRY, lastError: ERR },
    rested: { phase: "idle", retry: RETRY, lastError: ERR },
  },
  stopped: {
    start: {
      phase: "connecting",
      step: "preflight",
      retry: { failures: 0, slowFailures: 0, outageSince: 1_000 },
      lastError: { code: "missing_token", message: "Missing" },
    },
  },
};

// restart, stopped and reset are legal everywhere; connecting/handshaking fail like preflight.
for (const name of Object.keys(STATES)) {
  const legal = (LEGAL[name] ??= {});
  legal.restart ??= {
    phase: "connecting",
    step: "preflight",
    retry: { failures: 0, slowFailures: 0, outageSince: 1_000 },
    lastError: undefined,
  };
  legal.stopped ??= { phase: "stopped", lastError: ERR };
  legal.reset ??= INITIAL_STATE;
}
for (const name of ["opening", "challenge", "hello"]) {
  const legal = LEGAL[name] ?? {};
  legal.failed = LEGAL.preflight?.failed as ConnectionState;
  legal.rested = LEGAL.preflight?.rested as ConnectionState;
}

Deno.test("nextState() follows the transition table and throws on every illegal pair", async (t) => {
  for (const [stateName, state] of Object.entries(STATES)) {
    for (const [eventName, event] of Object.entries(EVENTS)) {
      const expected = LEGAL[stateName]?.[eventName];
      await t.step(`${stateName} + ${eventName}`, () => {
        if (expected) {
          assert.deepEqual(nextState(state, event), expected);
        } else {
          assert.throws(() => nextState(state, event), { name: "TypeError" });
        }
      });
    }
  }
});

Deno.test("nextState() names the event and the state in the error", () => {
  assert.throws(() => nextState(INITIAL_STATE, { type: "socket_opened" }), {
    name: "TypeError",
    message: 'Cannot apply connection event "socket_opened" in this state: current state is "idle"',
  });
  assert.throws(() => nextState(STATES.hello as ConnectionState, { type: "connect_sent" }), {
    name: "TypeError",
    message:
      'Cannot apply connection event "connect_sent" in this state: current state is "handshaking/awaiting-hello"',
  });
});

Deno.test("nextState() never mutates its input", () => {
  const state = structuredClone(STATES.preflight) as ConnectionState;
  const copy = structuredClone(state);
  nextState(state, EVENTS.failed as ConnectionEvent);
  assert.deepEqual(state, copy);
});
