/**
 * The options, environment variables and help text of `deno task start`.
 *
 * @module
 */

import { DEFAULT_RELAY_PORT } from "../codec/limits.ts";
import type { CommandSpec } from "./command_spec.ts";
import { OUTPUT_OPTIONS } from "./output_mode.ts";

/** The options and help of `deno task start`. */
export const START_COMMAND: CommandSpec = {
  command: "deno task start",
  summary: [
    "Starts the relay, builds the extension, launches Chromium with the extension loaded and a",
    "first tab shared, and prints the CDP endpoint with ready-to-run Playwright, Puppeteer and",
    "MCP set-ups. Stops the relay and Chromium and removes the temporary profile on Ctrl-C,",
    "SIGTERM or SIGHUP, when the browser closes, or when the process that launched it exits.",
  ].join("\n"),
  options: [
    {
      name: "port",
      type: "string",
      value: "N",
      example: String(DEFAULT_RELAY_PORT),
      description: "Relay port; 0 picks a free one",
      default: String(DEFAULT_RELAY_PORT),
    },
    {
      name: "token",
      type: "string",
      value: "TOKEN",
      description: "Gateway token; deno task echoes it, BROWSER_RELAY_TOKEN does not",
      default: "BROWSER_RELAY_TOKEN, else the stored token",
    },
    {
      name: "browser",
      type: "string",
      value: "PATH",
      description: "Chromium or Chrome for Testing executable",
      default: "CHROME_PATH, else the first of /usr/bin/chromium and other usual places",
    },
    {
      name: "profile",
      type: "string",
      value: "DIR",
      description: "Browser profile directory to keep",
      default: "a temporary /tmp/browser-relay-* profile, removed on exit",
    },
    { name: "headless", type: "boolean", description: "Run Chromium without a window" },
    {
      name: "url",
      type: "string",
      value: "URL",
      example: "https://example.com",
      description: "Page of the first shared tab",
      default: "a welcome page",
    },
    {
      name: "legacy",
      type: "boolean",
      description: "Relay speaks OpenClaw's legacy protocol (no connect.challenge handshake)",
    },
    ...OUTPUT_OPTIONS,
  ],
  environment: [
    ["BROWSER_RELAY_TOKEN", "gateway token when --token is not given"],
    ["CHROME_PATH", "browser executable when --browser is not given (empty counts as unset)"],
    ["XDG_CONFIG_HOME", "the stored token is $XDG_CONFIG_HOME/browser-relay/token when set"],
    ["HOME", "else the stored token is ~/.config/browser-relay/token"],
    ["DISPLAY, WAYLAND_DISPLAY", "the screen for a windowed Chromium (Linux; else use --headless)"],
    ["TMPDIR", "where the temporary profile is created"],
  ],
};
