import assert from "node:assert/strict";
import {
  createTokenVerifier,
  hostnameOf,
  isAllowedHost,
  isAllowedOrigin,
  isLoopbackAddress,
  redactToken,
  timingSafeEqual,
} from "../../relay/auth.ts";

const RELAY_TOKEN_18792 = "29cafced061131831da3a26e53d52a9acdfe945a5595ead3c4223b96c3c3cf78";

Deno.test("createTokenVerifier() accepts the derived and, by default, the raw token", async () => {
  const verifier = await createTokenVerifier("test-gateway-token", 18792);
  assert.equal(verifier.relayToken, RELAY_TOKEN_18792);
  assert.equal(verifier.verify(RELAY_TOKEN_18792), true);
  assert.equal(verifier.verify(` ${RELAY_TOKEN_18792}\n`), true);
  assert.equal(verifier.verify("test-gateway-token"), true);
  assert.equal(verifier.verify("test-gateway-toke"), false);
  assert.equal(verifier.verify(""), false);
  assert.equal(verifier.verify(undefined), false);
  assert.equal(verifier.verify(null), false);
});

Deno.test("createTokenVerifier() refuses the raw token when told to", async () => {
  const verifier = await createTokenVerifier("test-gateway-token", 18792, {
    acceptRawGatewayToken: false,
  });
  assert.equal(verifier.verify("test-gateway-token"), false);
  assert.equal(verifier.isGatewayToken("test-gateway-token"), true);
  assert.equal(verifier.verify(RELAY_TOKEN_18792), true);
});

Deno.test("createTokenVerifier() throws on an empty token", async () => {
  await assert.rejects(() => createTokenVerifier("  ", 18792), {
    name: "TypeError",
    message: 'Cannot start relay as "token" is empty: a gateway token is required',
  });
});

Deno.test("timingSafeEqual() compares bytes of any length", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  assert.equal(timingSafeEqual(bytes("abc"), bytes("abc")), true);
  assert.equal(timingSafeEqual(bytes("abc"), bytes("abd")), false);
  assert.equal(timingSafeEqual(bytes("abc"), bytes("abcd")), false);
  assert.equal(timingSafeEqual(bytes(""), bytes("")), true);
});

Deno.test("hostnameOf() splits names, ports and IPv6 brackets", () => {
  assert.equal(hostnameOf("LocalHost:18792"), "localhost");
  assert.equal(hostnameOf("127.0.0.1"), "127.0.0.1");
  assert.equal(hostnameOf("[::1]:80"), "[::1]");
  assert.equal(hostnameOf("[::1]x"), undefined);
  assert.equal(hostnameOf("a:b:c"), undefined);
  assert.equal(hostnameOf(""), undefined);
});

Deno.test("isAllowedHost() accepts loopback names and a non-loopback bind address", () => {
  for (const host of ["127.0.0.1", "localhost:1", "[::1]", "[::1]:18792"]) {
    assert.equal(isAllowedHost(host, "127.0.0.1"), true, host);
  }
  for (const host of [undefined, "evil.example", "127.0.0.2", "192.168.1.5:18792"]) {
    assert.equal(isAllowedHost(host, "127.0.0.1"), false, String(host));
  }
  assert.equal(isAllowedHost("192.168.1.5:18792", "192.168.1.5"), true);
  assert.equal(isAllowedHost("evil.example", "192.168.1.5"), false);
});

Deno.test("isLoopbackAddress() recognises IPv4, IPv6 and mapped loopback peers", () => {
  for (const address of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "[::1]"]) {
    assert.equal(isLoopbackAddress(address), true, address);
  }
  for (const address of [undefined, "10.0.0.1", "::ffff:10.0.0.1", "0.0.0.0", "::"]) {
    assert.equal(isLoopbackAddress(address), false, String(address));
  }
});

Deno.test("isAllowedOrigin() allows no Origin and extension origins only", () => {
  assert.equal(isAllowedOrigin(undefined), true);
  assert.equal(isAllowedOrigin("chrome-extension://abcdef"), true);
  assert.equal(isAllowedOrigin("https://example.com"), false);
  assert.equal(isAllowedOrigin("null"), false);
});

Deno.test("redactToken() hides every token query value", () => {
  assert.equal(
    redactToken("/extension?token=secret&x=1&TOKEN=again"),
    "/extension?token=<redacted>&x=1&TOKEN=<redacted>",
  );
  assert.equal(redactToken("/cdp"), "/cdp");
});

Deno.test("redactToken() redacts every name that decodes to token, as the relay reads it", () => {
  assert.equal(
    redactToken("/cdp?%74oken=secret&a=%74oken&t%6Fk%65n=two#token=frag"),
    "/cdp?%74oken=<redacted>&a=%74oken&t%6Fk%65n=<redacted>#token=frag",
  );
  assert.equal(redactToken("/json?token"), "/json?token=<redacted>");
  assert.equal(redactToken("/json?tokens=x&%zz=y"), "/json?tokens=x&%zz=y");
});
