// Codec benchmarks: `deno bench bench/codec_bench.ts`. Results and their meaning are recorded in
// docs/benchmarks.md. Each group has a baseline: JSON.parse alone for decoding, JSON.stringify
// alone for encoding, and the same validation written with zod (bench-only dependency).

import { z } from "zod";
import {
  type CdpFrame,
  decodeCdpFrame,
  decodeExtensionFrame,
  encodeCdpFrame,
  encodeExtensionFrame,
  type ExtensionFrame,
  validateExtensionFrame,
} from "../mod.ts";

// ---------------------------------------------------------------------------------------------
// Corpus: realistic frames as they cross /extension.

const SMALL_COMMAND =
  '{"id":7,"method":"forwardCDPCommand","params":{"method":"Runtime.evaluate","sessionId":"cb-tab-1","params":{"expression":"1+1","returnByValue":true}}}';

function responseReceived(i: number): object {
  const headers: Record<string, string> = {
    "accept-ranges": "bytes",
    "age": "5123",
    "cache-control": "public, max-age=31536000, immutable",
    "content-encoding": "br",
    "content-length": "48213",
    "content-type": "application/javascript; charset=utf-8",
    "date": "Sat, 21 Nov 2026 10:00:00 GMT",
    "etag": '"5f1c0a7e-bc55"',
    "last-modified": "Mon, 02 Nov 2026 08:00:00 GMT",
    "server": "envoy",
    "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
    "vary": "Accept-Encoding, Origin",
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "x-cache": "HIT, HIT",
    "x-served-by": "cache-fra-etou8220081-FRA, cache-fra-etou8220122-FRA",
    "x-timer": "S1771662593.647000,VS0,VE0",
    "content-security-policy":
      "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.example.com; object-src 'none'; base-uri 'self'",
  };
  return {
    method: "forwardCDPEvent",
    params: {
      sessionId: "cb-tab-1",
      method: "Network.responseReceived",
      params: {
        requestId: `31337.${i}`,
        loaderId: "5A1B2C3D4E5F60718293A4B5C6D7E8F9",
        timestamp: 8123.456789 + i,
        type: "Script",
        response: {
          url: `https://cdn.example.com/assets/app.${i}.a1b2c3d4.js`,
          status: 200,
          statusText: "",
          headers,
          mimeType: "application/javascript",
          charset: "utf-8",
          connectionReused: true,
          connectionId: 1234,
          remoteIPAddress: "151.101.1.69",
          remotePort: 443,
          fromDiskCache: false,
          fromServiceWorker: false,
          fromPrefetchCache: false,
          encodedDataLength: 48721,
          timing: {
            requestTime: 8123.1,
            proxyStart: -1,
            proxyEnd: -1,
            dnsStart: 0.5,
            dnsEnd: 12.3,
            connectStart: 12.3,
            connectEnd: 40.1,
            sslStart: 20.2,
            sslEnd: 40,
            workerStart: -1,
            workerReady: -1,
            workerFetchStart: -1,
            workerRespondWithSettled: -1,
            sendStart: 40.5,
            sendEnd: 40.7,
            pushStart: 0,
            pushEnd: 0,
            receiveHeadersStart: 80.2,
            receiveHeadersEnd: 81.9,
          },
          responseTime: 1771662593647.123,
          protocol: "h2",
          alternateProtocolUsage: "unspecifiedReason",
          securityState: "secure",
          securityDetails: {
            protocol: "TLS 1.3",
            keyExchange: "",
            keyExchangeGroup: "X25519",
            cipher: "AES_128_GCM",
            certificateId: 0,
            subjectName: "cdn.example.com",
            sanList: Array.from({ length: 40 }, (_, n) => `edge-${n}.cdn.example.com`),
            issuer: "Example TLS RSA SHA256 2020 CA1",
            validFrom: 1767225600,
            validTo: 1798761599,
            signedCertificateTimestampList: Array.from({ length: 3 }, (_, n) => ({
              status: "Verified",
              origin: "Embedded in certificate",
              logDescription: `Example CT log ${n}`,
              logId: "EEC095EE8D72640F92E3C3B91BC712A3696A097B4B6A1A1438E647B2CBEDC5F9",
              timestamp: 1767225600000 + n,
              hashAlgorithm: "SHA-256",
              signatureAlgorithm: "ECDSA",
              signatureData: "3045022100C0FFEE".padEnd(140, "A"),
            })),
            certificateTransparencyCompliance: "compliant",
            encryptedClientHello: false,
          },
        },
        hasExtraInfo: true,
        frameId: "9A3F00D1C2B3A4958677E6F5D4C3B2A1",
      },
    },
  };
}

const MEDIUM_EVENT = JSON.stringify(responseReceived(0));

function screenshotResponse(): string {
  // ~1 MB of base64, as Page.captureScreenshot returns it.
  const bytes = new Uint8Array(786_432);
  let x = 12345;
  for (let i = 0; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  let binary = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return JSON.stringify({ id: 42, result: { data: btoa(binary) } });
}

const SCREENSHOT = screenshotResponse();

function mix(): string[] {
  const frames: string[] = [];
  for (let i = 0; i < 100; i++) {
    switch (i % 10) {
      case 0:
      case 1:
        frames.push(
          `{"id":${
            100 + i
          },"method":"forwardCDPCommand","params":{"method":"Runtime.callFunctionOn","sessionId":"cb-tab-1","params":{"functionDeclaration":"(e) => e.click()","objectId":"-${i}.1.2","arguments":[{"objectId":"-${i}.1.3"}],"awaitPromise":true,"returnByValue":true}}}`,
        );
        break;
      case 2:
      case 3:
        frames.push(
          `{"id":${
            100 + i
          },"result":{"result":{"type":"object","subtype":"node","className":"HTMLButtonElement","description":"button#submit","objectId":"-${i}.1.4"}}}`,
        );
        break;
      case 4:
        frames.push(JSON.stringify(responseReceived(i)));
        break;
      case 5:
        frames.push('{"method":"ping"}');
        break;
      default:
        frames.push(
          `{"method":"forwardCDPEvent","params":{"sessionId":"cb-tab-1","method":"Page.lifecycleEvent","params":{"frameId":"9A3F00D1C2B3A4958677E6F5D4C3B2A1","loaderId":"5A1B2C3D4E5F60718293A4B5C6D7E8F9","name":"networkAlmostIdle","timestamp":${
            8123.5 + i
          }}}}`,
        );
    }
  }
  return frames;
}

const MIX = mix();
const MIX_BYTES = MIX.reduce((sum, frame) => sum + frame.length, 0);

const CDP_COMMAND =
  '{"id":12,"method":"Runtime.evaluate","params":{"expression":"document.title","returnByValue":true},"sessionId":"cb-tab-1"}';

function decoded(wire: string): ExtensionFrame {
  const result = decodeExtensionFrame(wire);
  if (!result.ok) throw new TypeError(`Cannot build bench corpus: ${result.issues[0].message}`);
  return result.frame;
}

const SMALL_FRAME = decoded(SMALL_COMMAND);
const MEDIUM_FRAME = decoded(MEDIUM_EVENT);
const SCREENSHOT_FRAME = decoded(SCREENSHOT);
const MIX_FRAMES = MIX.map(decoded);
const CDP_FRAME: CdpFrame = (() => {
  const result = decodeCdpFrame(CDP_COMMAND);
  if (!result.ok) throw new TypeError("Cannot build bench corpus: bad CDP command");
  return result.frame;
})();

// Baselines for encode: JSON.stringify of the equivalent wire objects, already built.
const SMALL_WIRE_OBJECT = JSON.parse(SMALL_COMMAND);
const MEDIUM_WIRE_OBJECT = JSON.parse(MEDIUM_EVENT);
const SCREENSHOT_WIRE_OBJECT = JSON.parse(SCREENSHOT);
const MIX_WIRE_OBJECTS = MIX.map((frame) => JSON.parse(frame));
const CDP_WIRE_OBJECT = JSON.parse(CDP_COMMAND);

// ---------------------------------------------------------------------------------------------
// The same validation in zod: classify like the codec, then validate the branch (with z.json()
// for opaque payloads, which like the codec rejects non-finite numbers).

const payload = z.record(z.string(), z.json());
const cdpCall = z.object({
  method: z.string().min(1),
  sessionId: z.string().optional(),
  params: payload.optional(),
});
const zodCommand = z.object({ id: z.number().int().min(1), params: cdpCall });
const zodEvent = z.object({ params: cdpCall });
const zodError = z.object({ id: z.number().int().min(1), error: z.string().min(1) });
const zodResult = z.object({ id: z.number().int().min(1), result: payload });

function zodDecode(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return zodValidate(value);
}

function zodValidate(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const object = value as Record<string, unknown>;
  if (
    typeof object.id === "number" && (object.error !== undefined || object.result !== undefined)
  ) {
    const parsed = object.error !== undefined
      ? zodError.safeParse(object)
      : zodResult.safeParse(object);
    return parsed.success ? parsed.data : undefined;
  }
  switch (object.method) {
    case "forwardCDPCommand": {
      const parsed = zodCommand.safeParse(object);
      return parsed.success ? parsed.data : undefined;
    }
    case "forwardCDPEvent": {
      const parsed = zodEvent.safeParse(object);
      return parsed.success ? parsed.data : undefined;
    }
    case "ping":
    case "pong":
      return { kind: object.method };
    default:
      return undefined;
  }
}

// Check once that the three decoders agree on the corpus, so the bench compares equal work.
for (const wire of [SMALL_COMMAND, MEDIUM_EVENT, SCREENSHOT, ...MIX]) {
  if (!decodeExtensionFrame(wire).ok || zodDecode(wire) === undefined) {
    throw new TypeError("Cannot run bench as a corpus frame does not validate");
  }
}

let sink: unknown;

function decodeGroup(group: string, wire: string): void {
  Deno.bench({
    name: "JSON.parse",
    group,
    baseline: true,
    fn: () => {
      sink = JSON.parse(wire);
    },
  });
  Deno.bench({
    name: "decodeExtensionFrame",
    group,
    fn: () => {
      sink = decodeExtensionFrame(wire);
    },
  });
  Deno.bench({
    name: "zod (JSON.parse + safeParse)",
    group,
    fn: () => {
      sink = zodDecode(wire);
    },
  });
}

function encodeGroup(group: string, frame: ExtensionFrame, wireObject: unknown): void {
  Deno.bench({
    name: "JSON.stringify",
    group,
    baseline: true,
    fn: () => {
      sink = JSON.stringify(wireObject);
    },
  });
  Deno.bench({
    name: "encodeExtensionFrame",
    group,
    fn: () => {
      sink = encodeExtensionFrame(frame);
    },
  });
}

decodeGroup(`decode small command (${SMALL_COMMAND.length} B)`, SMALL_COMMAND);
decodeGroup(`decode medium event (${MEDIUM_EVENT.length} B)`, MEDIUM_EVENT);
decodeGroup(`decode screenshot response (${SCREENSHOT.length} B)`, SCREENSHOT);

const MIX_GROUP = `decode 100-frame mix (${MIX_BYTES} B)`;
Deno.bench({
  name: "JSON.parse",
  group: MIX_GROUP,
  baseline: true,
  fn: () => {
    for (const wire of MIX) sink = JSON.parse(wire);
  },
});
Deno.bench({
  name: "decodeExtensionFrame",
  group: MIX_GROUP,
  fn: () => {
    for (const wire of MIX) sink = decodeExtensionFrame(wire);
  },
});
Deno.bench({
  name: "zod (JSON.parse + safeParse)",
  group: MIX_GROUP,
  fn: () => {
    for (const wire of MIX) sink = zodDecode(wire);
  },
});

const CDP_GROUP = `decode CDP client command (${CDP_COMMAND.length} B)`;
Deno.bench({
  name: "JSON.parse",
  group: CDP_GROUP,
  baseline: true,
  fn: () => {
    sink = JSON.parse(CDP_COMMAND);
  },
});
Deno.bench({
  name: "decodeCdpFrame",
  group: CDP_GROUP,
  fn: () => {
    sink = decodeCdpFrame(CDP_COMMAND);
  },
});

encodeGroup("encode small command", SMALL_FRAME, SMALL_WIRE_OBJECT);
encodeGroup("encode medium event", MEDIUM_FRAME, MEDIUM_WIRE_OBJECT);
encodeGroup("encode screenshot response", SCREENSHOT_FRAME, SCREENSHOT_WIRE_OBJECT);

Deno.bench({
  name: "JSON.stringify",
  group: "encode 100-frame mix",
  baseline: true,
  fn: () => {
    for (const object of MIX_WIRE_OBJECTS) sink = JSON.stringify(object);
  },
});
Deno.bench({
  name: "encodeExtensionFrame",
  group: "encode 100-frame mix",
  fn: () => {
    for (const frame of MIX_FRAMES) sink = encodeExtensionFrame(frame);
  },
});

Deno.bench({
  name: "JSON.stringify",
  group: "encode CDP client command",
  baseline: true,
  fn: () => {
    sink = JSON.stringify(CDP_WIRE_OBJECT);
  },
});
Deno.bench({
  name: "encodeCdpFrame",
  group: "encode CDP client command",
  fn: () => {
    sink = encodeCdpFrame(CDP_FRAME);
  },
});

// Keeps `sink` observable so no benchmark body is dead code.
globalThis.addEventListener("unload", () => {
  if (sink === Symbol.for("never")) console.log(sink);
});

// Validation alone, on already-parsed values: the part of the work that differs between the
// codec and zod (both decoders pay the same JSON.parse, which dominates end to end).
function validateGroup(group: string, values: readonly unknown[]): void {
  Deno.bench({
    name: "zod (safeParse)",
    group,
    baseline: true,
    fn: () => {
      for (const value of values) sink = zodValidate(value);
    },
  });
  Deno.bench({
    name: "validateExtensionFrame",
    group,
    fn: () => {
      for (const value of values) sink = validateExtensionFrame(value);
    },
  });
}

validateGroup("validate small command", [JSON.parse(SMALL_COMMAND)]);
validateGroup("validate medium event", [JSON.parse(MEDIUM_EVENT)]);
validateGroup("validate screenshot response", [JSON.parse(SCREENSHOT)]);
validateGroup("validate 100-frame mix", MIX.map((wire) => JSON.parse(wire)));
