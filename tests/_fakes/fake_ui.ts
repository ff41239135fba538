/**
 * In-memory `chrome.commands` and extension-page opener for unit tests.
 *
 * @module
 */

import type { CommandsPort, PagesPort, TabInfo } from "../../worker/ports.ts";
import { FakeEvent } from "./fake_tabs.ts";

/** In-memory {@linkcode CommandsPort}: shortcuts by command name, `emit` presses one. */
export class FakeCommands implements CommandsPort {
  readonly shortcuts = new Map<string, string>([["toggle-sharing", "Alt+Shift+R"]]);
  readonly onCommand: FakeEvent<(command: string, tab: TabInfo | undefined) => void> =
    new FakeEvent();

  shortcut(command: string): Promise<string> {
    return Promise.resolve(this.shortcuts.get(command) ?? "");
  }
}

/** In-memory {@linkcode PagesPort}: records every setup page opened, with its reason. */
export class FakePages implements PagesPort {
  readonly opened: (string | undefined)[] = [];

  openSetup(reason?: string): Promise<void> {
    this.opened.push(reason);
    return Promise.resolve();
  }
}
