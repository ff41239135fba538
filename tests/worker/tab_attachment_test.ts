import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import type { CdpCall, Outcome } from "../../codec/extension_frame.ts";
import {
  type AttachmentHost,
  type AttachmentPhase,
  type Command,
  TabAttachment,
} from "../../worker/tab_attachment.ts";
import { type TabRecord, TabSessions } from "../../worker/tab_sessions.ts";
import { TimeoutError, withDeadline } from "../../worker/with_deadline.ts";
import { globalClock } from "../_fakes/fake_chrome.ts";
import { FakeDebugger } from "../_fakes/fake_debugger.ts";
import { FakeStorage } from "../_fakes/fake_storage.ts";
import { FakeTabs } from "../_fakes/fake_tabs.ts";

type Clock = ReturnType<typeof FakeTimers.install>;

/**
 * The owner an attachment talks to, over in-memory ports: it writes down what reaches the
 * relay (announces, detaches, events, replies) and which commands come back for routing.
 */
class Host implements AttachmentHost {
  readonly tabs = new FakeTabs();
  readonly debugger = new FakeDebugger(this.tabs);
  readonly clock = globalClock();
  readonly storage = new FakeStorage();
  readonly sessions = new TabSessions(this.storage.session);
  readonly timings = { reattachDelaysMs: [200, 500], bufferLimit: 2, bufferTimeoutMs: 5000 };
  /** What reached the relay, in order. */
  readonly wire: string[] = [];
  readonly events: CdpCall[] = [];
  readonly replies: { readonly id: number; readonly outcome: Outcome }[] = [];
  /** Commands handed back for routing (a flushed buffer). */
  readonly dispatched: number[] = [];
  readonly registeredIds: string[] = [];
  readonly forgotten: TabAttachment[] = [];

  deadline<T>(promise: Promise<T>, what: string): Promise<T> {
    return withDeadline(this.clock, promise, {
      milliseconds: 1000,
      error: new TimeoutError(`Cannot complete ${what} as Chrome did not answer: waited 1000 ms`),
    });
  }
  announce(record: TabRecord): void {
    this.wire.push(`attached ${record.sessionId} ${record.targetId}`);
  }
  sendDetach(sessionId: string, targetId: string, reason: string): void {
    this.wire.push(`detached ${sessionId} ${targetId} ${reason}`);
  }
  sendEvent(cdp: CdpCall): void {
    this.events.push(cdp);
  }
  dispatch(command: Command): void {
    this.dispatched.push(command.id);
  }
  reply(command: Command, outcome: Outcome): void {
    this.replies.push({ id: command.id, outcome });
  }
  registered(attachment: TabAttachment): void {
    this.registeredIds.push(attachment.sessionId ?? "");
  }
  forget(attachment: TabAttachment): void {
    this.forgotten.push(attachment);
  }
  changed(): void {}
}

function command(id: number, method = "Runtime.evaluate"): Command {
  return { id, cdp: { method, sessionId: "cb-tab-1" } };
}

async function withHost(fn: (host: Host, clock: Clock) => Promise<void>): Promise<void> {
  const clock = FakeTimers.install({ now: 0 });
  try {
    const host = new Host();
    await fn(host, clock);
    await host.sessions.flush();
    await clock.tickAsync(0);
    assert.equal(clock.countTimers(), 0, "timers left at the end");
  } finally {
    clock.uninstall();
  }
}

/** Attaches tab 1 at https://a.test/ and returns its attachment in phase `attached`. */
async function attached(host: Host): Promise<TabAttachment> {
  const tab = host.tabs.add({ url: "https://a.test/" });
  const attachment = TabAttachment.attach(host, tab.id);
  await attachment.attached;
  return attachment;
}

function kinds(phases: readonly AttachmentPhase[]): string[] {
  return phases.map((phase) =>
    phase.kind === "reattaching"
      ? `reattaching(${phase.loop ? "loop" : "check"})`
      : phase.kind === "resetting"
      ? `resetting(${phase.step})`
      : phase.kind === "detached"
      ? `detached(${phase.reason})`
      : phase.kind
  );
}

Deno.test("TabAttachment.attach() goes attaching → attached, registers cb-tab-1 and announces it", async () => {
  await withHost(async (host) => {
    const tab = host.tabs.add({ url: "https://a.test/" });
    const attachment = TabAttachment.attach(host, tab.id);
    assert.deepEqual(attachment.phase, { kind: "attaching" });
    assert.equal(attachment.sessionId, undefined);
    const record = await attachment.attached;
    assert.deepEqual(attachment.phase, { kind: "attached" });
    assert.equal(record.sessionId, "cb-tab-1");
    assert.equal(record.state, "attached");
    assert.deepEqual(host.registeredIds, ["cb-tab-1"]);
    assert.deepEqual(host.wire, ["attached cb-tab-1 TARGET-1"]);
    assert.equal(host.debugger.isAttached(tab.id), true);
    assert.equal(attachment.timerCount, 0);
  });
});

Deno.test("TabAttachment.attach() goes attaching → detached on a restricted page and is forgotten", async () => {
  await withHost(async (host) => {
    const tab = host.tabs.add({ url: "chrome://settings/" });
    const attachment = TabAttachment.attach(host, tab.id);
    await assert.rejects(attachment.attached, {
      name: "Error",
      message:
        'Cannot attach to tab 1 as Chrome does not allow debugging this page: URL is "chrome://settings/"',
    });
    assert.deepEqual(attachment.phase, { kind: "detached", reason: "attach_failed" });
    assert.deepEqual(host.forgotten, [attachment]);
    assert.equal(host.sessions.size, 0);
    assert.deepEqual(host.wire, []);
  });
});

Deno.test("TabAttachment.close() during attaching detaches the debugger again and rejects the attach", async () => {
  await withHost(async (host) => {
    const tab = host.tabs.add({ url: "https://a.test/" });
    const attachment = TabAttachment.attach(host, tab.id);
    attachment.close();
    assert.deepEqual(attachment.phase, { kind: "detached", reason: "worker_closed" });
    await assert.rejects(attachment.attached, {
      name: "Error",
      message: "Cannot attach to tab 1 as the worker is shutting down",
    });
    assert.equal(host.debugger.isAttached(tab.id), false);
    assert.equal(host.sessions.size, 0);
  });
});

Deno.test("TabAttachment.debuggerDetached() goes attached → reattaching → attached and flushes the buffer", async () => {
  await withHost(async (host, clock) => {
    const attachment = await attached(host);
    const seen: AttachmentPhase[] = [];
    host.debugger.lose(attachment.tabId);
    const detached = attachment.debuggerDetached("target_closed");
    seen.push(attachment.phase);
    assert.equal(attachment.buffering, true);
    assert.equal(host.sessions.bySession("cb-tab-1")?.state, "reattaching");
    attachment.buffer(command(1));
    attachment.buffer(command(2));
    await detached;
    seen.push(attachment.phase);
    // Two buffer deadlines and the loop's first wait.
    assert.equal(attachment.timerCount, 3);
    assert.equal(clock.countTimers(), 3);
    await clock.tickAsync(200);
    seen.push(attachment.phase);
    assert.deepEqual(kinds(seen), ["reattaching(check)", "reattaching(loop)", "attached"]);
    assert.deepEqual(host.dispatched, [1, 2]);
    assert.deepEqual(host.replies, []);
    assert.equal(host.sessions.bySession("cb-tab-1")?.state, "attached");
    assert.equal(attachment.timerCount, 0);
    assert.equal(clock.countTimers(), 0);
    // Same target, empty replay log: the session resumed without a new announce.
    assert.deepEqual(host.wire, ["attached cb-tab-1 TARGET-1", "attached cb-tab-1 TARGET-1"]);
  });
});

Deno.test("TabAttachment.debuggerDetached() goes reattaching → detached(reattach_failed) and fails the buffer", async () => {
  await withHost(async (host, clock) => {
    const attachment = await attached(host);
    host.debugger.lose(attachment.tabId);
    host.debugger.scriptAttach(attachment.tabId, "fail", "fail");
    await attachment.debuggerDetached("target_closed");
    attachment.buffer(command(1, "Page.reload"));
    await clock.tickAsync(699);
    assert.deepEqual(kinds([attachment.phase]), ["reattaching(loop)"]);
    await clock.tickAsync(1);
    assert.deepEqual(attachment.phase, { kind: "detached", reason: "reattach_failed" });
    assert.deepEqual(host.replies, [{
      id: 1,
      outcome: {
        ok: false,
        error: 'Cannot run "Page.reload" as tab 1 was detached: reason is "reattach_failed"',
      },
    }]);
    assert.deepEqual(host.wire.slice(1), ["detached cb-tab-1 TARGET-1 reattach_failed"]);
    assert.deepEqual(host.forgotten, [attachment]);
    assert.equal(host.sessions.size, 0);
    assert.equal(attachment.timerCount, 0);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("TabAttachment.detach() during the loop's wait clears its timers at once", async () => {
  await withHost(async (host, clock) => {
    const attachment = await attached(host);
    host.debugger.lose(attachment.tabId);
    await attachment.debuggerDetached("target_closed");
    attachment.buffer(command(1));
    assert.equal(clock.countTimers(), 2);
    attachment.detach("tab_closed");
    assert.deepEqual(attachment.phase, { kind: "detached", reason: "tab_closed" });
    assert.equal(attachment.timerCount, 0);
    assert.equal(clock.countTimers(), 0);
    assert.deepEqual(host.replies.map((r) => r.outcome), [{
      ok: false,
      error: 'Cannot run "Runtime.evaluate" as tab 1 was detached: reason is "tab_closed"',
    }]);
    // The woken loop sees that its phase is gone and attaches nothing.
    await clock.tickAsync(1000);
    assert.equal(host.debugger.isAttached(attachment.tabId), false);
    assert.deepEqual(host.wire.slice(1), ["detached cb-tab-1 TARGET-1 tab_closed"]);
  });
});

Deno.test("TabAttachment.buffer() fails a command after bufferTimeoutMs and refuses beyond bufferLimit", async () => {
  await withHost(async (host, clock) => {
    const attachment = await attached(host);
    host.debugger.lose(attachment.tabId);
    host.timings.reattachDelaysMs = [10_000];
    await attachment.debuggerDetached("target_closed");
    attachment.buffer(command(1));
    attachment.buffer(command(2));
    attachment.buffer(command(3));
    assert.deepEqual(host.replies, [{
      id: 3,
      outcome: {
        ok: false,
        error:
          'Cannot run "Runtime.evaluate" as tab 1 is re-attaching its debugger: 2 commands already wait',
      },
    }]);
    await clock.tickAsync(4999);
    assert.equal(host.replies.length, 1);
    await clock.tickAsync(1);
    assert.deepEqual(
      host.replies.slice(1),
      [1, 2].map((id) => ({
        id,
        outcome: {
          ok: false,
          error:
            'Cannot run "Runtime.evaluate" as tab 1 is re-attaching its debugger: waited 5000 ms',
        },
      })),
    );
    assert.equal(attachment.buffered, 0);
    attachment.close();
    assert.equal(attachment.timerCount, 0);
  });
});

Deno.test("TabAttachment.debuggerDetached() goes attached → detached for a closed tab or another reason", async (t) => {
  await t.step("tab gone", async () => {
    await withHost(async (host) => {
      const attachment = await attached(host);
      host.tabs.drop(attachment.tabId);
      await attachment.debuggerDetached("target_closed");
      assert.deepEqual(attachment.phase, { kind: "detached", reason: "target_closed" });
      assert.deepEqual(host.wire.slice(1), ["detached cb-tab-1 TARGET-1 target_closed"]);
    });
  });
  await t.step("other reason", async () => {
    await withHost(async (host) => {
      const attachment = await attached(host);
      await attachment.debuggerDetached("replaced_with_devtools");
      assert.deepEqual(attachment.phase, { kind: "detached", reason: "replaced_with_devtools" });
      assert.deepEqual(host.wire.slice(1), [
        "detached cb-tab-1 TARGET-1 replaced_with_devtools",
      ]);
    });
  });
});

Deno.test("TabAttachment.reset() goes attached → resetting(cycling) → resetting(reading) → attached", async () => {
  await withHost(async (host, clock) => {
    const attachment = await attached(host);
    const seen: AttachmentPhase[] = [];
    host.debugger.reply("Target.getTargetInfo", () => {
      seen.push(attachment.phase);
      return {
        targetInfo: { targetId: "TARGET-1", type: "page", url: "https://a.test/", title: "" },
      };
    });
    const reset = attachment.reset();
    seen.push(attachment.phase);
    // The reset's own detach is ignored while cycling.
    await attachment.debuggerDetached("target_closed");
    attachment.buffer(command(1));
    await reset;
    seen.push(attachment.phase);
    assert.deepEqual(kinds(seen), ["resetting(cycling)", "resetting(reading)", "attached"]);
    assert.deepEqual(host.dispatched, [1]);
    assert.deepEqual(host.wire, ["attached cb-tab-1 TARGET-1", "attached cb-tab-1 TARGET-1"]);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("TabAttachment.reset() goes resetting → reattaching when the attach fails", async () => {
  await withHost(async (host, clock) => {
    const attachment = await attached(host);
    host.debugger.scriptAttach(attachment.tabId, "fail");
    await attachment.reset();
    assert.deepEqual(kinds([attachment.phase]), ["reattaching(loop)"]);
    await clock.tickAsync(0);
    assert.deepEqual(attachment.phase, { kind: "attached" });
    assert.equal(host.debugger.isAttached(attachment.tabId), true);
  });
});

Deno.test("TabAttachment.replaced() ends the running loop and re-attaches the new tab at once", async () => {
  await withHost(async (host, clock) => {
    const attachment = await attached(host);
    host.debugger.lose(attachment.tabId);
    await attachment.debuggerDetached("target_closed");
    const before = attachment.phase;
    const added = host.tabs.replace(attachment.tabId);
    attachment.replaced(added);
    assert.notEqual(attachment.phase, before);
    assert.equal(attachment.tabId, added);
    assert.deepEqual(attachment.debuggee, { tabId: added });
    await clock.tickAsync(0);
    assert.deepEqual(attachment.phase, { kind: "attached" });
    assert.equal(host.debugger.isAttached(added), true);
    assert.equal(host.sessions.bySession("cb-tab-1")?.tabId, added);
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("TabAttachment.recover() re-attaches a restored tab whose debugger was lost", async () => {
  await withHost(async (host, clock) => {
    const first = await attached(host);
    const record = first.record();
    assert.ok(record);
    host.debugger.lose(record.tabId);
    const restored = TabAttachment.restore(host, record);
    assert.deepEqual(restored.phase, { kind: "attached" });
    restored.recover("lost");
    assert.deepEqual(kinds([restored.phase]), ["reattaching(loop)"]);
    await clock.tickAsync(0);
    assert.deepEqual(restored.phase, { kind: "attached" });
    assert.equal(host.debugger.isAttached(record.tabId), true);
  });
});

Deno.test("TabAttachment.close() from reattaching fails the buffer and releases every timer", async () => {
  await withHost(async (host, clock) => {
    const attachment = await attached(host);
    host.debugger.lose(attachment.tabId);
    await attachment.debuggerDetached("target_closed");
    attachment.buffer(command(1));
    attachment.close();
    assert.deepEqual(attachment.phase, { kind: "detached", reason: "worker_closed" });
    assert.equal(clock.countTimers(), 0);
    assert.deepEqual(host.replies.map((r) => r.outcome), [{
      ok: false,
      error: 'Cannot run "Runtime.evaluate" as the worker is shutting down',
    }]);
    // The record stays: the attachment belongs to the extension, not to this worker.
    assert.equal(host.sessions.bySession("cb-tab-1")?.state, "reattaching");
    assert.deepEqual(host.forgotten, []);
  });
});
