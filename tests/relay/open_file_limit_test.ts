import assert from "node:assert/strict";
import { parseOpenFileLimit, readOpenFileLimit } from "../../relay/open_file_limit.ts";

Deno.test("parseOpenFileLimit() reads the soft limit of Max open files", () => {
  const text = [
    "Limit                     Soft Limit           Hard Limit           Units     ",
    "Max processes             63413                63413                processes ",
    "Max open files            1024                 524288               files     ",
  ].join("\n");
  assert.equal(parseOpenFileLimit(text), 1024);
  assert.equal(
    parseOpenFileLimit("Max open files            unlimited            unlimited            files"),
    Infinity,
  );
  assert.equal(parseOpenFileLimit("Max processes 1 1 processes"), undefined);
  assert.equal(
    parseOpenFileLimit("Max open files            -5        10        files"),
    undefined,
  );
});

Deno.test("readOpenFileLimit() falls back where /proc/self/limits cannot be read", () => {
  // Deno reads /proc/self only under --allow-all; unit tests run without it.
  const all = Deno.permissions.querySync({ name: "run" }).state === "granted";
  const limit = readOpenFileLimit(256);
  if (all || Deno.build.os !== "linux") assert.ok(limit >= 1);
  else assert.equal(limit, 256);
});
