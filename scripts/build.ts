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
if (await exists(`${root}options/options.ts`)) entryPoints.options = `${root}options/options.ts`;

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
for (const file of ["options.html", "options.css"]) {
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
console.log(`Built ${dist}`);
