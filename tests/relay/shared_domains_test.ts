import assert from "node:assert/strict";
import { SharedDomains } from "../../relay/shared_domains.ts";

Deno.test("SharedDomains forwards a disable only when no other client has the domain on", () => {
  const domains = new SharedDomains<string>();
  assert.equal(domains.shouldForward("a", "S1", "Network.enable"), true);
  assert.equal(domains.shouldForward("b", "S1", "Network.enable"), true);
  assert.equal(domains.shouldForward("b", "S1", "Network.disable"), false);
  assert.equal(domains.shouldForward("b", "S2", "Network.disable"), true, "another session");
  assert.equal(domains.shouldForward("a", "S1", "Network.disable"), true);
  assert.equal(domains.size, 0);
});

Deno.test("SharedDomains passes other methods and uncounted domains through", () => {
  const domains = new SharedDomains<string>();
  domains.shouldForward("a", "S1", "Fetch.enable");
  assert.equal(domains.shouldForward("b", "S1", "Fetch.disable"), true);
  domains.shouldForward("a", "S1", "Runtime.enable");
  assert.equal(domains.shouldForward("b", "S1", "Runtime.evaluate"), true);
  assert.equal(domains.shouldForward("b", "S1", "Runtime.disable"), false);
});

Deno.test("SharedDomains forgets clients that went and sessions that ended", () => {
  const domains = new SharedDomains<string>();
  domains.shouldForward("a", "S1", "Page.enable");
  domains.shouldForward("b", "S1", "Page.enable");
  domains.release("a");
  assert.equal(domains.shouldForward("b", "S1", "Page.disable"), true);
  domains.shouldForward("a", "S2", "Page.enable");
  domains.shouldForward("b", "S2", "Page.enable");
  domains.forgetSessions(["S2"]);
  assert.equal(domains.size, 0);
});

Deno.test("SharedDomains.enabledByOthers() looks past the asking client", () => {
  const domains = new SharedDomains<string>();
  assert.equal(domains.enabledByOthers("a", "S1", "Runtime"), false);
  domains.shouldForward("a", "S1", "Runtime.enable");
  assert.equal(domains.enabledByOthers("a", "S1", "Runtime"), false);
  assert.equal(domains.enabledByOthers("b", "S1", "Runtime"), true);
  domains.shouldForward("b", "S1", "Runtime.enable");
  assert.equal(domains.enabledByOthers("a", "S1", "Runtime"), true);
  assert.equal(domains.enabledByOthers("a", "S2", "Runtime"), false);
});
