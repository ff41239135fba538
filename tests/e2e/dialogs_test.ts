// JavaScript dialogs side by side: each case runs against Chromium's own CDP endpoint and
// through the relay in the same run, and both must show the same outcome.
import assert from "node:assert/strict";
import { chromium, type Dialog, type Page } from "playwright-core";
import puppeteer from "puppeteer-core";
import { waitUntil } from "../../harness/rig.ts";
import { type Mode, MODES, sideBySideTest, within } from "./_side_by_side.ts";

/** What one dialog looked like to the page's `dialog` listener and how the answer went. */
interface DialogSeen {
  readonly type: string;
  readonly message: string;
  readonly defaultValue: string;
  readonly answer: string;
}

/** One case: what the page runs, how the listener answers, and what the page gets back. */
interface DialogCase {
  readonly name: string;
  readonly run: (page: Page) => Promise<unknown>;
  readonly answer: (dialog: Dialog) => Promise<void>;
  readonly result: unknown;
  readonly seen: Omit<DialogSeen, "answer">;
  /** `Page.javascriptDialogClosed` as a second session that enabled Page gets it. */
  readonly closed: { readonly result: boolean; readonly userInput: string };
}

function cases(next: string): DialogCase[] {
  return [
    {
      name: "alert, accepted",
      run: (page) => page.evaluate(() => (alert("hi"), "after")),
      answer: (d) => d.accept(),
      result: "after",
      seen: { type: "alert", message: "hi", defaultValue: "" },
      closed: { result: true, userInput: "" },
    },
    {
      name: "confirm, accepted",
      run: (page) => page.evaluate(() => confirm("sure?")),
      answer: (d) => d.accept(),
      result: true,
      seen: { type: "confirm", message: "sure?", defaultValue: "" },
      closed: { result: true, userInput: "" },
    },
    {
      name: "confirm, dismissed",
      run: (page) => page.evaluate(() => confirm("really?")),
      answer: (d) => d.dismiss(),
      result: false,
      seen: { type: "confirm", message: "really?", defaultValue: "" },
      closed: { result: false, userInput: "" },
    },
    {
      name: "prompt, accepted with text",
      run: (page) => page.evaluate(() => prompt("name?", "def")),
      answer: (d) => d.accept("typed"),
      result: "typed",
      seen: { type: "prompt", message: "name?", defaultValue: "def" },
      closed: { result: true, userInput: "typed" },
    },
    {
      name: "beforeunload, accepted: the navigation goes on",
      run: async (page) => {
        await page.evaluate(() =>
          addEventListener("beforeunload", (event) => {
            event.preventDefault();
            event.returnValue = "";
          })
        );
        // Chrome shows beforeunload dialogs only after a user gesture on the page.
        await page.click("body");
        await page.goto(next);
        return page.url();
      },
      answer: (d) => d.accept(),
      result: next,
      seen: { type: "beforeunload", message: "", defaultValue: "" },
      closed: { result: true, userInput: "" },
    },
  ];
}

interface ModeOutcome {
  readonly results: unknown[];
  readonly seen: DialogSeen[];
  readonly openings: string[];
  readonly closed: { result: boolean; userInput: string }[];
}

async function dialogsThrough(
  endpoint: string,
  url: string,
  next: string,
): Promise<ModeOutcome> {
  const browser = await chromium.connectOverCDP(endpoint);
  try {
    const context = browser.contexts()[0];
    const page = context?.pages().find((p) => p.url() === url);
    assert.ok(context && page, `page ${url} not found`);
    // A second session of the same client that enabled Page: it gets each dialog once too,
    // and never answers it.
    const session = await context.newCDPSession(page);
    await session.send("Page.enable");
    const openings: string[] = [];
    const closed: { result: boolean; userInput: string }[] = [];
    session.on("Page.javascriptDialogOpening", (e) => openings.push(`${e.type}:${e.message}`));
    session.on(
      "Page.javascriptDialogClosed",
      (e) => closed.push({ result: e.result, userInput: e.userInput }),
    );
    const results: unknown[] = [];
    const seen: DialogSeen[] = [];
    let answer: (dialog: Dialog) => Promise<void> = (d) => d.dismiss();
    page.on("dialog", async (dialog) => {
      const entry = { type: dialog.type(), message: dialog.message() };
      let outcome = "ok";
      try {
        await answer(dialog);
      } catch (error) {
        outcome = error instanceof Error ? error.message : String(error);
      }
      seen.push({ ...entry, defaultValue: dialog.defaultValue(), answer: outcome });
    });
    const all = cases(next);
    for (const [index, item] of all.entries()) {
      answer = item.answer;
      results.push(await within(15_000, item.name, item.run(page)));
      await waitUntil(
        `${item.name}: dialog answered and closed`,
        () => seen.length === index + 1 && closed.length === index + 1,
      );
    }
    await session.detach();
    return { results, seen, openings, closed };
  } finally {
    await browser.close();
  }
}

sideBySideTest(
  "relay() delivers alert, confirm, prompt and beforeunload once each as direct CDP does",
  async (s, t) => {
    const { rig } = s;
    const outcomes = new Map<Mode, ModeOutcome>();
    for (const mode of MODES) {
      await t.step(
        `${mode}: alert, confirm, prompt and beforeunload answered once each`,
        async () => {
          const url = `${rig.pages.a}/?title=Dialogs-${mode}`;
          const next = `${rig.pages.a}/?title=After-${mode}`;
          await s.open(mode, url);
          const outcome = await dialogsThrough(s.playwright(mode), url, next);
          const expected = cases(next);
          assert.deepEqual(outcome.results, expected.map((c) => c.result));
          assert.deepEqual(outcome.seen, expected.map((c) => ({ ...c.seen, answer: "ok" })));
          assert.deepEqual(
            outcome.openings,
            expected.map((c) => `${c.seen.type}:${c.seen.message}`),
          );
          assert.deepEqual(outcome.closed, expected.map((c) => c.closed));
          outcomes.set(mode, outcome);
        },
      );
    }
    await t.step("the relay shows the same outcome as direct CDP", () => {
      const direct = outcomes.get("direct");
      const relay = outcomes.get("relay");
      assert.ok(direct && relay);
      assert.deepEqual(
        { ...relay, results: relay.results.slice(0, -1) },
        { ...direct, results: direct.results.slice(0, -1) },
      );
    });
  },
);

sideBySideTest(
  "relay() lets Puppeteer answer alert and prompt as direct CDP does",
  async (s, t) => {
    const { rig } = s;
    for (const mode of MODES) {
      await t.step(`${mode}: dialog event, accept with text`, async () => {
        const url = `${rig.pages.a}/?title=PptrDialogs-${mode}`;
        await s.open(mode, url);
        const browser = await puppeteer.connect({ ...s.puppeteer(mode), defaultViewport: null });
        try {
          const page = (await browser.pages()).find((p) => p.url() === url);
          assert.ok(page, `${mode}: page not found`);
          const seen: string[] = [];
          page.on("dialog", (dialog) => {
            seen.push(`${dialog.type()}:${dialog.message()}:${dialog.defaultValue()}`);
            void dialog.accept("pp");
          });
          const result = await within(
            15_000,
            `${mode}: dialogs`,
            page.evaluate(() => {
              alert("one");
              return prompt("two?", "d");
            }),
          );
          assert.equal(result, "pp");
          assert.deepEqual(seen, ["alert:one:", "prompt:two?:d"]);
        } finally {
          await browser.disconnect();
        }
      });
    }
  },
);

sideBySideTest("relay() hangs nothing when a page closes under its dialog", async (s, t) => {
  const { rig } = s;
  for (const mode of MODES) {
    await t.step(`${mode}: the pending evaluate fails, the page is gone`, async () => {
      const url = `${rig.pages.a}/?title=Stuck-${mode}`;
      await s.open(mode, url);
      const sharedBefore = (await rig.status()).tabs.length;
      const browser = await chromium.connectOverCDP(s.playwright(mode));
      try {
        const page = browser.contexts()[0]?.pages().find((p) => p.url() === url);
        assert.ok(page, `${mode}: page not found`);
        const shown = new Promise<Dialog>((resolve) => page.on("dialog", resolve));
        const pending = page.evaluate(() => alert("left open")).then(
          () => "returned",
          () => "failed",
        );
        const dialog = await within(15_000, `${mode}: dialog shown`, shown);
        assert.equal(dialog.message(), "left open");
        await within(15_000, `${mode}: page.close()`, page.close());
        assert.equal(await within(15_000, `${mode}: pending evaluate`, pending), "failed");
        assert.equal(page.isClosed(), true);
      } finally {
        await browser.close();
      }
      if (mode === "relay") {
        await waitUntil("the closed tab left the tables", async () => {
          const status = await rig.status();
          const stats = rig.relay.stats();
          return status.tabs.length === sharedBefore - 1 && stats.targets === sharedBefore - 1 &&
            stats.pendingCommands === 0;
        });
      }
    });
  }
});
