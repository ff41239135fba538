/**
 * Reads the worker's answer to `{type: "state"}` for the popup. Pure: the answer crosses
 * `chrome.runtime` messaging, so it is checked here rather than trusted.
 *
 * @module
 */

import type {
  ConnectionSummary,
  SummaryAction,
  SummaryTone,
} from "../worker/connection_summary.ts";
import type {
  CurrentTabView,
  PlacementView,
  PopupState,
  SharedTabView,
} from "../worker/messages.ts";
import { isJsonObject } from "../codec/is_json_object.ts";

const TONES: readonly SummaryTone[] = ["ok", "busy", "error", "idle"];
const ACTIONS: readonly SummaryAction[] = ["none", "setup", "settings", "retry"];

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function readSummary(value: unknown): ConnectionSummary | undefined {
  if (!isJsonObject(value)) return undefined;
  const tone = TONES.find((t) => t === value["tone"]);
  const action = ACTIONS.find((a) => a === value["action"]);
  if (tone === undefined || action === undefined || typeof value["text"] !== "string") {
    return undefined;
  }
  return { tone, action, text: value["text"], actionLabel: text(value["actionLabel"]) };
}

function readPlacement(value: unknown): PlacementView {
  if (!isJsonObject(value)) return { kind: "none" };
  if (value["kind"] === "group") return { kind: "group" };
  if (value["kind"] === "own_group") return { kind: "own_group", title: text(value["title"]) };
  return { kind: "none" };
}

function readTabs(value: unknown): SharedTabView[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry): SharedTabView[] => {
    if (!isJsonObject(entry) || typeof entry["tabId"] !== "number") return [];
    return [{
      tabId: entry["tabId"],
      title: text(entry["title"]),
      url: text(entry["url"]),
      origin: text(entry["origin"]),
      favIconUrl: text(entry["favIconUrl"]),
      state: text(entry["state"]),
      placement: readPlacement(entry["placement"]),
    }];
  });
}

function readCurrent(value: unknown): CurrentTabView | undefined {
  if (!isJsonObject(value) || typeof value["tabId"] !== "number") return undefined;
  return {
    tabId: value["tabId"],
    title: text(value["title"]),
    origin: text(value["origin"]),
    shared: value["shared"] === true,
    shareable: value["shareable"] !== false,
  };
}

/**
 * Checks the worker's popup state.
 *
 * @param response The reply to `{type: "state"}`, unchecked.
 * @returns The state, or a state whose summary says the worker did not answer.
 *
 * @example Usage
 * ```ts
 * import { readPopupState } from "./_popup_view.ts";
 *
 * readPopupState(undefined).summary.text; // "The extension did not answer: reload it on chrome://extensions"
 * ```
 */
export function readPopupState(response: unknown): PopupState {
  const summary = isJsonObject(response) ? readSummary(response["summary"]) : undefined;
  if (!isJsonObject(response) || summary === undefined) {
    return {
      summary: {
        tone: "error",
        text: "The extension did not answer: reload it on chrome://extensions",
        action: "none",
        actionLabel: "",
      },
      configured: false,
      groupsEnabled: false,
      shortcut: "",
      tabs: [],
    };
  }
  const current = readCurrent(response["current"]);
  return {
    summary,
    configured: response["configured"] === true,
    groupsEnabled: response["groupsEnabled"] === true,
    shortcut: text(response["shortcut"]),
    ...(current === undefined ? {} : { current }),
    tabs: readTabs(response["tabs"]),
  };
}

/**
 * The short note under a shared tab that says where it sits.
 *
 * @param placement Where the tab sits.
 * @param groupsEnabled The tab-group setting.
 * @returns The note, empty when the tab sits in our group as expected.
 *
 * @example Usage
 * ```ts
 * import { placementNote } from "./_popup_view.ts";
 *
 * placementNote({ kind: "own_group", title: "Work" }, true); // 'In your group "Work", not moved'
 * ```
 */
export function placementNote(placement: PlacementView, groupsEnabled: boolean): string {
  switch (placement.kind) {
    case "group":
      return "";
    case "own_group":
      return placement.title === ""
        ? "In one of your groups, not moved"
        : `In your group "${placement.title}", not moved`;
    case "none":
      return groupsEnabled ? "Not in the Browser Relay group" : "";
    default: {
      const _exhaustive: never = placement;
      return _exhaustive;
    }
  }
}
