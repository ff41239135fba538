import assert from "node:assert/strict";
import {
  defaultTokenPath,
  loadOrCreateToken,
  resolveGatewayToken,
} from "../../relay/token_store.ts";

const canWrite = (await Deno.permissions.query({ name: "write" })).state === "granted";

Deno.test("defaultTokenPath() prefers XDG_CONFIG_HOME", () => {
  const xdg = Deno.env.get("XDG_CONFIG_HOME");
  try {
    Deno.env.set("XDG_CONFIG_HOME", "/tmp/xdg-test");
    assert.equal(defaultTokenPath(), "/tmp/xdg-test/browser-relay/token");
  } finally {
    if (xdg === undefined) Deno.env.delete("XDG_CONFIG_HOME");
    else Deno.env.set("XDG_CONFIG_HOME", xdg);
  }
});

Deno.test({
  name: "loadOrCreateToken() creates a 0600 token once and reads it back",
  ignore: !canWrite,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/browser-relay/token`;
      const first = await loadOrCreateToken({ path });
      assert.equal(first.created, true);
      assert.match(first.token, /^[0-9a-f]{40}$/);
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      const second = await loadOrCreateToken({ path });
      assert.deepEqual(second, { token: first.token, path, created: false });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("resolveGatewayToken() prefers a non-empty --token, then BROWSER_RELAY_TOKEN", async () => {
  const env = Deno.env.get("BROWSER_RELAY_TOKEN");
  try {
    Deno.env.set("BROWSER_RELAY_TOKEN", "  from-env  ");
    assert.deepEqual(await resolveGatewayToken(" from-flag "), {
      token: "from-flag",
      source: "--token",
    });
    assert.deepEqual(await resolveGatewayToken("  "), {
      token: "from-env",
      source: "BROWSER_RELAY_TOKEN",
    });
  } finally {
    if (env === undefined) Deno.env.delete("BROWSER_RELAY_TOKEN");
    else Deno.env.set("BROWSER_RELAY_TOKEN", env);
  }
});

Deno.test({
  name: "resolveGatewayToken() falls back to the stored token",
  ignore: !canWrite,
  fn: async () => {
    const env = Deno.env.get("BROWSER_RELAY_TOKEN");
    const dir = await Deno.makeTempDir();
    try {
      Deno.env.delete("BROWSER_RELAY_TOKEN");
      const path = `${dir}/token`;
      const created = await resolveGatewayToken(undefined, { path });
      assert.equal(created.source, `a new token saved to ${path}`);
      assert.deepEqual(await resolveGatewayToken(undefined, { path }), {
        token: created.token,
        source: path,
      });
    } finally {
      if (env !== undefined) Deno.env.set("BROWSER_RELAY_TOKEN", env);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
