/**
 * The two MCP servers agents use, run from npm at pinned versions over stdio JSON-RPC:
 * initialize, then navigate, snapshot, click and screenshot.
 *
 * @module
 */

import type { CaseEnv, ConformanceCase, Json } from "./_case.ts";

/** Pinned so the suite does not change under us; `npx` caches them after the first run. */
export const PLAYWRIGHT_MCP = "@playwright/mcp@0.0.83";
export const CHROME_DEVTOOLS_MCP = "chrome-devtools-mcp@1.11.0";

interface ToolResult {
  readonly content: readonly {
    readonly type: string;
    readonly text?: string;
    readonly mimeType?: string;
  }[];
  readonly isError?: boolean;
}

/** A stdio MCP client: one JSON-RPC message per line. */
class McpClient {
  readonly #process: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pending = new Map<number, (message: Record<string, unknown>) => void>();
  readonly #reading: Promise<void>;
  #nextId = 1;

  constructor(command: string, args: readonly string[], cwd: string) {
    this.#process = new Deno.Command(command, {
      args: [...args],
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#writer = this.#process.stdin.getWriter();
    this.#reading = this.#read();
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of this.#process.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line === "") continue;
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line);
        } catch {
          continue; // not JSON-RPC (a stray log line)
        }
        if (typeof message.id === "number") {
          this.#pending.get(message.id)?.(message);
          this.#pending.delete(message.id);
        }
      }
    }
  }

  async #write(message: Record<string, unknown>): Promise<void> {
    await this.#writer.write(
      new TextEncoder().encode(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`),
    );
  }

  async request(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    const reply = new Promise<Record<string, unknown>>((resolve) => this.#pending.set(id, resolve));
    await this.#write({ id, method, params });
    const message = await reply;
    if (message.error !== undefined) {
      throw new Error(`MCP ${method} failed: ${JSON.stringify(message.error)}`);
    }
    return message.result as Record<string, unknown>;
  }

  async initialize(): Promise<void> {
    await this.request("initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "browser-relay-conformance", version: "0" },
    });
    await this.#write({ method: "notifications/initialized" });
  }

  async tools(): Promise<string[]> {
    const { tools } = await this.request("tools/list", {});
    return (tools as { name: string }[]).map((t) => t.name);
  }

  async call(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    return await this.request("tools/call", { name, arguments: args }) as unknown as ToolResult;
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => undefined);
    try {
      this.#process.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#process.status;
    await this.#reading.catch(() => undefined);
  }
}

function debug(label: string, result: ToolResult | undefined): void {
  if (Deno.env.get("CONFORMANCE_DEBUG") !== undefined) {
    console.log(label, JSON.stringify(result)?.slice(0, 1500));
  }
}

function text(result: ToolResult): string {
  return result.content.map((c) => c.text ?? "").join("\n");
}

function hasImage(result: ToolResult): boolean {
  return result.content.some((c) => c.type === "image" && (c.mimeType ?? "").startsWith("image/"));
}

/** The ref/uid of the first snapshot line naming `label` (`[ref=e2]` or `uid=1_2`). */
function refOf(snapshot: string, label: string): string | undefined {
  const line = snapshot.split("\n").find((l) => l.includes(label));
  return line?.match(/\[ref=([^\]]+)\]/)?.[1] ?? line?.match(/uid=(\S+)/)?.[1];
}

function mcp(env: CaseEnv, line: readonly string[]): McpClient {
  // Its own working directory: Playwright MCP writes snapshots and screenshots under it.
  const [command = "npx", ...args] = line;
  const client = new McpClient(command, command === "npx" ? ["-y", ...args] : args, env.tmp);
  env.defer(() => client.close());
  return client;
}

/** The placeholders of the README's configurations. */
const README_PORT = "18792";
const README_TOKEN = "<relay token>";

/**
 * The MCP server command lines of the README's "Use with AI agents" section, so the suite runs
 * exactly what a person pastes: `[command, ...args]` for each server.
 */
function readmeServers(): string[][] {
  const readme = Deno.readTextFileSync(new URL("../../../README.md", import.meta.url));
  const start = readme.indexOf("## Use with AI agents");
  if (start < 0) throw new Error('README.md has no "Use with AI agents" section');
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const servers: string[][] = [];
  for (const block of section.matchAll(/```json\n([\s\S]*?)```/g)) {
    const config = JSON.parse(block[1] ?? "") as {
      mcpServers: Record<string, { command: string; args: string[] }>;
    };
    for (const server of Object.values(config.mcpServers)) {
      servers.push([server.command, ...server.args]);
    }
  }
  return servers;
}

/**
 * The README's command line for `pkg`, pinned to `pinned` and pointed at this run's endpoint:
 * through the relay only the port and the token change; direct, the endpoints are Chrome's own
 * and no token header is sent.
 */
async function readmeCommand(env: CaseEnv, pkg: string, pinned: string): Promise<string[]> {
  const line = readmeServers().find((l) => l[1]?.startsWith(`${pkg}@`));
  if (line === undefined) throw new Error(`README.md configures no ${pkg} server`);
  const [command = "", , ...args] = line;
  const token = env.headers["x-openclaw-relay-token"];
  const relayPort = new URL(env.endpoint).port;
  const filled: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (env.mode === "direct") {
      if (arg === "--wsHeaders") {
        i++; // Chrome's own endpoint takes no token
        continue;
      }
      if (arg.startsWith(`http://127.0.0.1:${README_PORT}/`)) filled.push(env.endpoint);
      else if (arg.startsWith(`ws://127.0.0.1:${README_PORT}/`)) {
        filled.push(await env.wsEndpoint());
      } else filled.push(arg);
    } else {
      filled.push(
        arg.replaceAll(`127.0.0.1:${README_PORT}`, `127.0.0.1:${relayPort}`)
          .replaceAll(README_TOKEN, token ?? README_TOKEN),
      );
    }
  }
  return [command, pinned, ...filled];
}

/** The MCP cases. */
export const mcpCases: readonly ConformanceCase[] = [
  {
    feature: `Playwright MCP (${PLAYWRIGHT_MCP}, the README configuration)`,
    client: "Playwright MCP",
    expectRelay: "pass",
    timeoutMs: 60_000,
    async run(env): Promise<Json> {
      await env.openTab(`${env.site.a}/?title=Agent`);
      const client = mcp(env, await readmeCommand(env, "@playwright/mcp", PLAYWRIGHT_MCP));
      await client.initialize();
      const tools = await client.tools();
      // Work in the tab the person opened for the agent: the first tab of the context may be
      // a background tab, where clicks and screenshots wait for frames that never come.
      const tabs = text(await client.call("browser_tabs", { action: "list" }));
      debug("tabs", { content: [{ type: "text", text: tabs }] });
      const index = Number(
        tabs.split("\n").find((l) => l.includes("title=Agent"))?.match(/- (\d+):/)?.[1],
      );
      const selected = await client.call("browser_tabs", { action: "select", index });
      const navigated = await client.call("browser_navigate", { url: `${env.site.a}/popup` });
      const snapshot = text(await client.call("browser_snapshot", {}));
      const ref = refOf(snapshot, "noopener");
      const clicked = ref === undefined
        ? undefined
        : await client.call("browser_click", { element: "noopener link", target: ref });
      const shot = await client.call("browser_take_screenshot", {});
      debug("navigate", navigated);
      debug("click", clicked);
      debug("shot", shot);
      return {
        selected: selected.isError !== true,
        tools: ["browser_navigate", "browser_snapshot", "browser_click", "browser_take_screenshot"]
          .every((t) => tools.includes(t)),
        navigated: navigated.isError !== true,
        snapshotHasLink: ref !== undefined,
        clicked: clicked !== undefined && clicked.isError !== true,
        screenshot: shot.isError !== true && hasImage(shot),
      };
    },
  },
  {
    feature: `chrome-devtools-mcp (${CHROME_DEVTOOLS_MCP}, the README configuration)`,
    client: "chrome-devtools-mcp",
    expectRelay: "pass",
    timeoutMs: 60_000,
    async run(env): Promise<Json> {
      await env.openTab(`${env.site.a}/?title=Agent`);
      const client = mcp(env, [
        ...await readmeCommand(env, "chrome-devtools-mcp", CHROME_DEVTOOLS_MCP),
        "--no-usage-statistics",
      ]);
      await client.initialize();
      const tools = await client.tools();
      const pages = text(await client.call("list_pages", {}));
      debug("pages", { content: [{ type: "text", text: pages }] });
      const pageLine = pages.split("\n").find((l) => l.includes("title=Agent"));
      const pageId = Number(pageLine?.match(/(\d+):/)?.[1]);
      const navigated = await client.call("navigate_page", {
        pageId,
        type: "url",
        url: `${env.site.a}/popup`,
      });
      const snapshot = text(await client.call("take_snapshot", { pageId }));
      const uid = refOf(snapshot, "noopener");
      const clicked = uid === undefined ? undefined : await client.call("click", { pageId, uid });
      const shot = await client.call("take_screenshot", { pageId });
      debug("navigate", navigated);
      debug("snapshot", { content: [{ type: "text", text: snapshot }] });
      debug("shot", shot);
      return {
        foundPage: Number.isInteger(pageId),
        tools: ["navigate_page", "take_snapshot", "click", "take_screenshot"]
          .every((t) => tools.includes(t)),
        navigated: navigated.isError !== true,
        snapshotHasLink: uid !== undefined,
        clicked: clicked !== undefined && clicked.isError !== true,
        screenshot: shot.isError !== true && hasImage(shot),
      };
    },
  },
];
