/**
 * The options, environment variables and help text of `deno task relay`.
 *
 * @module
 */

import { DEFAULT_RELAY_PORT } from "../codec/limits.ts";
import type { CommandSpec } from "./command_spec.ts";
import { OUTPUT_OPTIONS } from "./output_mode.ts";

/** The options and help of `deno task relay`. */
export const RELAY_COMMAND: CommandSpec = {
  command: "deno task relay",
  summary: [
    "Starts the relay for the extension in your own Chrome and prints the CDP endpoint with",
    "ready-to-run Playwright, Puppeteer and MCP set-ups. Paste the gateway token into the",
    "extension's options page. Stops on Ctrl-C, SIGTERM or SIGHUP, or when the process that",
    "launched it exits.",
  ].join("\n"),
  options: [
    {
      name: "port",
      type: "string",
      value: "N",
      example: String(DEFAULT_RELAY_PORT),
      description: "Port to listen on; 0 picks a free one",
      default: String(DEFAULT_RELAY_PORT),
    },
    {
      name: "host",
      type: "string",
      value: "HOST",
      example: "127.0.0.1",
      description: "Address to listen on; anything but loopback still needs the token",
      default: "127.0.0.1",
    },
    {
      name: "token",
      type: "string",
      value: "TOKEN",
      description: "Gateway token; deno task echoes it, BROWSER_RELAY_TOKEN does not",
      default: "BROWSER_RELAY_TOKEN, else the stored token",
    },
    {
      name: "legacy",
      type: "boolean",
      description: "Speak OpenClaw's legacy relay protocol (no connect.challenge handshake)",
    },
    ...OUTPUT_OPTIONS,
  ],
  environment: [
    ["BROWSER_RELAY_TOKEN", "gateway token when --token is not given"],
    ["XDG_CONFIG_HOME", "the stored token is $XDG_CONFIG_HOME/browser-relay/token when set"],
    ["HOME", "else the stored token is ~/.config/browser-relay/token"],
  ],
};
