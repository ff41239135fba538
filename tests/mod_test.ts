import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

// The reviewed public surface of mod.ts (runtime values; types are erased). Adding an export
// means adding it here in the same change.
const EXPORTS = [
  "CloseCode",
  "CloseReason",
  "DEFAULT_MAX_BATCH_FRAMES",
  "DEFAULT_MAX_PAYLOAD",
  "DEFAULT_RELAY_PORT",
  "FRAME_BATCH_CAP",
  "FrameBatcher",
  "GATEWAY_CLIENT_IDS",
  "GATEWAY_CLIENT_MODES",
  "GATEWAY_PROTOCOL",
  "MAX_BATCHED_FRAME_CHARS",
  "MAX_FRAME_BYTES",
  "MIN_MAX_FRAME_BYTES",
  "MUTUAL_AUTH_CONTEXT",
  "MUTUAL_AUTH_SCHEME",
  "PREAUTH_MAX_FRAME_BYTES",
  "PendingRequests",
  "RELAY_TOKEN_CONTEXT",
  "RELAY_TOKEN_HEADER",
  "TARGET_GONE_FRAGMENTS",
  "decodeCdpFrame",
  "decodeExtensionFrame",
  "decodeFrameBatch",
  "deriveRelayToken",
  "encodeCdpFrame",
  "encodeExtensionFrame",
  "encodeFrameBatch",
  "encodeNonce",
  "formatIssues",
  "isCloseCode",
  "isFrameBatch",
  "isJsonObject",
  "isMutualToken",
  "isTargetGoneError",
  "mutualAuthKey",
  "mutualChallengeNonce",
  "mutualConnectToken",
  "mutualProof",
  "mutualSocketUrl",
  "noSessionError",
  "parseMutualChallengeNonce",
  "parseMutualConnectToken",
  "truncateCloseReason",
  "utf8ByteLength",
  "validateCdpFrame",
  "validateExtensionFrame",
  "verifyMutualProof",
];

async function codecSources(): Promise<{ name: string; text: string }[]> {
  const out: { name: string; text: string }[] = [];
  for await (const entry of Deno.readDir(new URL("codec/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".ts")) {
      out.push({
        name: entry.name,
        text: await Deno.readTextFile(new URL(`codec/${entry.name}`, ROOT)),
      });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Blanks out comments and string/template literals so only code is searched. */
function codeOnly(source: string, keepStrings: boolean): string {
  let out = "";
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? source.length : end + 2;
      out += " ";
    } else if (c === '"' || c === "'" || c === "`") {
      const start = i++;
      while (i < source.length && source[i] !== c) i += source[i] === "\\" ? 2 : 1;
      i++;
      out += keepStrings ? source.slice(start, i) : c + c;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

Deno.test("mod.ts() exports exactly the reviewed list", async () => {
  const mod = await import("../mod.ts");
  assert.deepEqual(Object.keys(mod).sort(), [...EXPORTS].sort());
});

Deno.test("mod.ts() re-exports named symbols from public codec modules only", async () => {
  const source = codeOnly(await Deno.readTextFile(new URL("mod.ts", ROOT)), true);
  assert.equal(/export\s*\*/.test(source), false, "mod.ts uses export *");
  const specifiers = [...source.matchAll(/from\s*"([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(specifiers.length > 0);
  for (const specifier of specifiers) {
    assert.match(specifier, /^\.\/codec\/[a-z][a-z0-9_]*\.ts$/, `mod.ts re-exports ${specifier}`);
  }
});

Deno.test("codec() has no runtime access outside the language", async () => {
  const forbidden = /Deno\.|chrome\.|document|window|setTimeout|"npm:|"jsr:/;
  const offenders: string[] = [];
  for (const { name, text } of await codecSources()) {
    const code = codeOnly(text, false);
    code.split("\n").forEach((line, index) => {
      if (forbidden.test(line)) offenders.push(`codec/${name}:${index + 1}: ${line.trim()}`);
    });
    const raw = codeOnly(text, true);
    if (/"npm:|"jsr:|'npm:|'jsr:/.test(raw)) offenders.push(`codec/${name}: npm:/jsr: specifier`);
  }
  assert.deepEqual(offenders, []);
});

Deno.test("codec() names no extension or relay policy, even in strings", async () => {
  // Application texts such as a settings hint naming chrome.storage belong to worker/ or relay/.
  const offenders: string[] = [];
  for (const { name, text } of await codecSources()) {
    const code = codeOnly(text, true);
    if (/chrome\.|Deno\./.test(code)) offenders.push(`codec/${name}`);
  }
  assert.deepEqual(offenders, []);
});

Deno.test("codec() uses relative imports only", async () => {
  const offenders: string[] = [];
  for (const { name, text } of await codecSources()) {
    const code = codeOnly(text, true);
    const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;
    for (const match of code.matchAll(pattern)) {
      if (!match[1]!.startsWith("./") && !match[1]!.startsWith("../")) {
        offenders.push(`codec/${name}: ${match[1]}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

Deno.test("codec() decoders and validators contain no throw", async () => {
  for (const { name, text } of await codecSources()) {
    if (!name.startsWith("decode_") && !name.startsWith("validate_")) continue;
    assert.equal(/\bthrow\b/.test(codeOnly(text, false)), false, `codec/${name} throws`);
  }
});

Deno.test("codec() access check sees code but not comments or strings", () => {
  const sample = '// setTimeout in a comment\nconst s = "chrome.storage";\nDeno.exit(1);\n';
  const lines = codeOnly(sample, false).split("\n");
  assert.deepEqual(lines.map((line) => /Deno\.|chrome\.|setTimeout/.test(line)), [
    false,
    false,
    true,
    false,
  ]);
});
