/**
 * Takes the README's tab-group screenshot (`docs/tab-group.png`): a headed Chromium with the
 * built extension on an X display, two tabs shared into the "Browser Relay" group and one tab
 * outside it, captured with `xwd` (page screenshots cannot show the tab strip) and encoded with
 * the build's own PNG encoder.
 *
 * Usage (Debian: `apt-get install xvfb x11-apps`):
 *   deno task build && xvfb-run -s "-screen 0 1000x260x24" deno run -A scripts/screenshot_tab_group.ts
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { startRelay } from "../relay/server.ts";
import { findBrowser, launchWithExtension } from "../harness/browser.ts";
import { encodePng } from "./_png.ts";

/**
 * Converts an X window dump (32 bits per pixel, TrueColor) to a PNG of its top-left corner.
 *
 * @param xwd The `xwd` output.
 * @param width Width of the kept corner.
 * @param height Height of the kept corner.
 * @returns The PNG file.
 */
function xwdToPng(xwd: Uint8Array, width: number, height: number): Uint8Array {
  const view = new DataView(xwd.buffer, xwd.byteOffset, xwd.byteLength);
  const field = (index: number) => view.getUint32(index * 4);
  const [headerSize, byteOrder, bitsPerPixel, bytesPerLine, colors] = [
    field(0),
    field(7),
    field(11),
    field(12),
    field(19),
  ];
  if (bitsPerPixel !== 32) {
    throw new Error(`Cannot read xwd as it has ${bitsPerPixel} bits per pixel`);
  }
  const start = headerSize + colors * 12;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = start + y * bytesPerLine + x * 4;
      const pixel = byteOrder === 0 ? view.getUint32(at, true) : view.getUint32(at);
      const i = (y * width + x) * 4;
      rgba[i] = (pixel >> 16) & 0xff;
      rgba[i + 1] = (pixel >> 8) & 0xff;
      rgba[i + 2] = pixel & 0xff;
      rgba[i + 3] = 255;
    }
  }
  return encodePng(width, height, rgba);
}

const root = fileURLToPath(new URL("..", import.meta.url));
const token = "screenshot-token";
const executablePath = await findBrowser();
if (executablePath === undefined) {
  throw new Error("Cannot take the screenshot as no Chromium is installed");
}
const relay = await startRelay({ token, port: 0 });
const site = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
  const title = new URL(request.url).searchParams.get("title") ?? "Page";
  return new Response(`<!doctype html><title>${title}</title><h1>${title}</h1>`, {
    headers: { "content-type": "text/html; charset=utf-8" },
  });
});
const browser = await launchWithExtension({
  dist: `${root}dist`,
  executablePath,
  headless: false,
  args: ["--window-position=0,0", "--window-size=1000,260", "--disable-gpu"],
});
try {
  await browser.worker.evaluate(
    ([relayPort, gatewayToken]) => chrome.storage.local.set({ relayPort, gatewayToken }),
    [relay.port, token] as const,
  );
  const before = browser.context.pages();
  const titles = ["Checkout – shop", "Orders dashboard", "My mail (not shared)"];
  const pages = [];
  for (const title of titles) {
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${site.addr.port}/?title=${encodeURIComponent(title)}`);
    pages.push(page);
  }
  // The blank first tab and the setup page would only crowd the tab strip.
  for (const page of before) await page.close().catch(() => {});
  const tabIds = await browser.worker.evaluate(async () =>
    (await chrome.tabs.query({})).flatMap((t) => t.id === undefined ? [] : [t.id])
  );
  for (const tabId of tabIds.slice(-3, -1)) {
    await browser.worker.evaluate(
      (id) =>
        (self as unknown as { browserRelay: { toggleTab(id: number): Promise<unknown> } })
          .browserRelay.toggleTab(id),
      tabId,
    );
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const grouped = await browser.worker.evaluate(async () =>
      (await chrome.tabs.query({})).filter((t) => t.groupId !== -1).length
    );
    if (grouped === 2) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await pages[1]?.bringToFront();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const xwd = await new Deno.Command("xwd", { args: ["-root", "-silent"], stdout: "piped" })
    .output();
  await Deno.writeFile(`${root}docs/tab-group.png`, xwdToPng(xwd.stdout, 1000, 140));
  console.log(`Wrote ${root}docs/tab-group.png`);
} finally {
  await browser.close();
  await relay.close();
  await site.shutdown();
}
