/**
 * Builds the unpacked extension into `dist/`: bundles the worker and the options page with
 * npm esbuild (pinned in deno.lock, works offline once cached) and copies the static files.
 *
 * Usage: deno task build
 *
 * @module
 */

import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import { ICON_SIZES, iconPng } from "./_icon.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = `${root}dist`;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

await Deno.remove(dist, { recursive: true }).catch(() => {});
await Deno.mkdir(dist, { recursive: true });

const entryPoints: Record<string, string> = { worker: `${root}worker/main.ts` };
for (const page of ["options", "popup", "setup"]) {
  if (await exists(`${root}options/${page}.ts`)) entryPoints[page] = `${root}options/${page}.ts`;
}

try {
  await esbuild.build({
    entryPoints,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "chrome125",
    outdir: dist,
    sourcemap: "linked",
    logLevel: "warning",
    absWorkingDir: root,
  });
} finally {
  await esbuild.stop();
}

await Deno.copyFile(`${root}manifest.json`, `${dist}/manifest.json`);
for (
  const file of [
    "options.html",
    "options.css",
    "popup.html",
    "popup.css",
    "setup.html",
    "setup.css",
  ]
) {
  if (await exists(`${root}options/${file}`)) {
    await Deno.copyFile(`${root}options/${file}`, `${dist}/${file}`);
  }
}
if (await exists(`${root}icons`)) {
  await Deno.mkdir(`${dist}/icons`, { recursive: true });
  for await (const entry of Deno.readDir(`${root}icons`)) {
    if (entry.isFile) {
      await Deno.copyFile(`${root}icons/${entry.name}`, `${dist}/icons/${entry.name}`);
    }
  }
}
// Icons are drawn from one description (scripts/_icon.ts); no binary icon is committed.
await Deno.mkdir(`${dist}/icons`, { recursive: true });
for (const size of ICON_SIZES) {
  await Deno.writeFile(`${dist}/icons/icon-${size}.png`, iconPng(size));
}
console.log(`Built ${dist}`);
