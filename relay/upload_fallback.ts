/**
 * Wires the upload fallback of `uploads.ts` into the relay's path to the extension: a
 * `DOM.setFileInputFiles` that Chrome refuses with `Not allowed` (the extension may not read
 * local files) is done again by the relay, which reads the files itself and has the page set them
 * through `DOM.resolveNode` and `Runtime.callFunctionOn` on the same debugger session.
 *
 * @module
 */

import type { CdpCall, Outcome } from "../codec/extension_frame.ts";
import { isJsonObject } from "../codec/is_json_object.ts";
import type { JsonObject, JsonValue } from "../codec/json.ts";
import { cdpError } from "./error_text.ts";
import type { ChannelCommand } from "./extension_channel.ts";
import {
  FILE_ACCESS_REFUSED,
  fileInputFallbackCall,
  NOT_A_FILE_INPUT,
  readUploadFiles,
  UploadError,
  type UploadFs,
} from "./uploads.ts";

/** Chrome's errors of `DOM.setFileInputFiles` for a node it cannot find, by how it was named. */
const NODE_ERRORS = {
  none: "Either nodeId, backendNodeId or objectId must be specified",
  nodeId: "Could not find node with given id",
  backendNodeId: "No node found for given backend id",
} as const;

/** Options of {@linkcode withUploadFallback}. */
export interface UploadFallbackOptions {
  /**
   * Cap on the total size of one fallback upload.
   *
   * @default {MAX_UPLOAD_BYTES}
   */
  readonly maxBytes?: number;
  /**
   * File operations.
   *
   * @default {denoUploadFs}
   */
  readonly fs?: UploadFs;
  /**
   * Log sink.
   *
   * @default {no logging}
   */
  readonly log?: (line: string) => void;
}

/** A forwarding function of the relay: sends one command to the extension. */
export type Forward = (command: ChannelCommand) => void;

function send(forward: Forward, call: CdpCall): Promise<Outcome> {
  return new Promise((resolve) => forward({ ...call, settle: resolve }));
}

function num(value: JsonValue | undefined): number | undefined {
  return typeof value === "number" ? value : undefined;
}

function failure(error: string): Outcome {
  return { ok: false, error };
}

/**
 * Sets the files of a refused `DOM.setFileInputFiles` through the page.
 *
 * @returns The outcome the client gets for its command.
 */
async function fallback(
  forward: Forward,
  command: CdpCall,
  options: UploadFallbackOptions,
): Promise<Outcome> {
  const params = command.params ?? {};
  const files = params.files;
  if (!Array.isArray(files) || !files.every((f): f is string => typeof f === "string")) {
    return failure('Cannot set input files as "files" must be an array of strings');
  }
  const on = (method: string, callParams: JsonObject): Promise<Outcome> =>
    send(forward, {
      method,
      params: callParams,
      ...(command.sessionId === undefined ? {} : { sessionId: command.sessionId }),
    });
  let objectId = typeof params.objectId === "string" ? params.objectId : undefined;
  let release = false;
  if (objectId === undefined) {
    const nodeId = num(params.nodeId);
    const backendNodeId = num(params.backendNodeId);
    if (nodeId === undefined && backendNodeId === undefined) return failure(NODE_ERRORS.none);
    const resolved = await on(
      "DOM.resolveNode",
      nodeId !== undefined ? { nodeId } : { backendNodeId: backendNodeId ?? 0 },
    );
    if (!resolved.ok) {
      return failure(nodeId !== undefined ? NODE_ERRORS.nodeId : NODE_ERRORS.backendNodeId);
    }
    const object = resolved.result.object;
    const id = isJsonObject(object) ? object.objectId : undefined;
    if (typeof id !== "string") return failure(NODE_ERRORS.nodeId);
    objectId = id;
    release = true;
  }
  try {
    let payloads;
    try {
      payloads = await readUploadFiles(files, {
        ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
        ...(options.fs === undefined ? {} : { fs: options.fs }),
      });
    } catch (error) {
      if (error instanceof UploadError) return failure(error.message);
      throw error;
    }
    const called = await on(
      "Runtime.callFunctionOn",
      fileInputFallbackCall(objectId, payloads) as unknown as JsonObject,
    );
    if (!called.ok) return { ok: false, error: called.error };
    const { result, exceptionDetails } = called.result;
    if (exceptionDetails !== undefined) {
      return failure(
        `Cannot set input files as the page threw: ${JSON.stringify(exceptionDetails)}`,
      );
    }
    const count = isJsonObject(result) ? result.value : undefined;
    if (count === -1) return failure(NOT_A_FILE_INPUT);
    options.log?.(`Set ${files.length} file(s) through the page: file access is off`);
    return { ok: true, result: {} };
  } finally {
    if (release) {
      // Best effort: the object belongs to the page's default group and dies with it anyway.
      forward({
        method: "Runtime.releaseObject",
        params: { objectId },
        ...(command.sessionId === undefined ? {} : { sessionId: command.sessionId }),
        settle: () => {},
      });
    }
  }
}

/**
 * Wraps the relay's forwarding so that `DOM.setFileInputFiles` works without file access: when
 * Chrome answers `Not allowed`, the relay reads the files (it runs on the client's machine) and
 * the page sets them through a `DataTransfer`, firing `input` and `change`. Every other command,
 * and every other outcome, passes through untouched.
 *
 * @param forward The relay's forwarding to the extension.
 * @param options Size cap, file operations and logging.
 * @returns A forwarding function with the fallback.
 *
 * @example
 * ```ts
 * import { withUploadFallback } from "./upload_fallback.ts";
 *
 * const forward = withUploadFallback((command) =>
 *   command.settle({ ok: false, error: "Extension not connected" })
 * );
 * forward({ method: "Page.reload", settle: console.log });
 * ```
 */
export function withUploadFallback(forward: Forward, options: UploadFallbackOptions = {}): Forward {
  return (command) => {
    if (command.method !== "DOM.setFileInputFiles") {
      forward(command);
      return;
    }
    const settle = (outcome: Outcome) => command.settle(outcome);
    const call: CdpCall = {
      method: command.method,
      ...(command.params === undefined ? {} : { params: command.params }),
      ...(command.sessionId === undefined ? {} : { sessionId: command.sessionId }),
    };
    forward({
      ...call,
      settle: (outcome) => {
        if (outcome.ok || cdpError(outcome.error).message !== FILE_ACCESS_REFUSED) {
          settle(outcome);
          return;
        }
        fallback(forward, call, options).then(
          (result) => settle(result),
          (error: unknown) =>
            settle({
              ok: false,
              error: `Cannot set input files: ${
                error instanceof Error ? error.message : String(error)
              }`,
            }),
        );
      },
    });
  };
}
