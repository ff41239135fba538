/**
 * The upload fallback of issue 13: when the extension may not read local files, Chrome refuses
 * `DOM.setFileInputFiles` with `Not allowed`. The relay shares the client's machine, so it reads
 * the files the client named and has the extension set them on the element through a
 * `DataTransfer` in the page (`Runtime.callFunctionOn` on the element), firing `input` and
 * `change` as Chrome does.
 *
 * What Chrome itself does with odd paths (measured on Chromium, `DOM.setFileInputFiles` with
 * file access): it never fails. A missing file becomes an empty `File` of that name, a directory
 * a `File` of the directory's size, and the page only fails later when it reads them. We follow
 * Chrome for a missing file (an empty `File`, so scripts see the same thing) but refuse what we
 * cannot carry: a directory, an unreadable file, or more than {@linkcode MAX_UPLOAD_BYTES}.
 *
 * Not wired in yet: see {@linkcode readUploadFiles} and {@linkcode fileInputFallbackCall}.
 *
 * @module
 */

/**
 * The most the fallback carries in one `DOM.setFileInputFiles` (all files together): 50 MiB.
 * The files travel base64-encoded (4/3 larger) in one frame from the relay to the extension, and
 * the extension's outbound and the relay's inbound limits are 100 MiB and up; the page then holds
 * them in memory.
 */
export const MAX_UPLOAD_BYTES: number = 52_428_800;

/** Chrome's reply to `DOM.setFileInputFiles` when the extension may not read local files. */
export const FILE_ACCESS_REFUSED = "Not allowed";

/** Chrome's reply when the node is not an `<input type=file>`. */
export const NOT_A_FILE_INPUT = "Node is not a file input element";

/** Why a file cannot be uploaded. */
export type UploadErrorCode = "directory" | "unreadable" | "too_large";

/** A file the fallback cannot carry. */
export class UploadError extends Error {
  override readonly name = "UploadError";
  readonly code: UploadErrorCode;
  /** The path as the client named it. */
  readonly path: string;

  constructor(code: UploadErrorCode, path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.path = path;
  }
}

/** The file operations the fallback needs. */
export interface UploadFs {
  /** `undefined` when nothing exists at `path`. */
  stat(path: string): Promise<
    { readonly isDirectory: boolean; readonly size: number; readonly mtimeMs: number } | undefined
  >;
  readFile(path: string): Promise<Uint8Array>;
}

/** {@linkcode UploadFs} on Deno's file system APIs. */
export const denoUploadFs: UploadFs = {
  async stat(path) {
    try {
      const info = await Deno.stat(path);
      return {
        isDirectory: info.isDirectory,
        size: info.size,
        mtimeMs: info.mtime?.getTime() ?? 0,
      };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  },
  readFile: (path) => Deno.readFile(path),
};

/** One file as the page function receives it. */
export interface UploadPayload {
  readonly name: string;
  readonly mimeType: string;
  readonly lastModified: number;
  readonly base64: string;
}

/** Options of {@linkcode readUploadFiles}. */
export interface ReadUploadFilesOptions {
  /** Cap on the total size. @default {MAX_UPLOAD_BYTES} */
  readonly maxBytes?: number;
  /** File operations. @default {denoUploadFs} */
  readonly fs?: UploadFs;
}

const MIME: Readonly<Record<string, string>> = {
  txt: "text/plain",
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  csv: "text/csv",
  js: "text/javascript",
  mjs: "text/javascript",
  json: "application/json",
  xml: "text/xml",
  pdf: "application/pdf",
  zip: "application/zip",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  mp4: "video/mp4",
  webm: "video/webm",
};

function baseName(path: string): string {
  const parts = path.split(/[/\\]/);
  return parts[parts.length - 1] ?? path;
}

function mimeOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : MIME[name.slice(dot + 1).toLowerCase()] ?? "";
}

function base64(bytes: Uint8Array): string {
  let text = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    text += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(text);
}

/**
 * Reads the files a client named in `DOM.setFileInputFiles`.
 *
 * @param paths The `files` param, as sent.
 * @param options Cap and file operations.
 * @returns One payload per path, in order; a missing file is an empty payload, as Chrome sets one.
 * @throws {UploadError} For a directory, an unreadable file, or files over the cap (checked
 *   before anything is read).
 */
export async function readUploadFiles(
  paths: readonly string[],
  options: ReadUploadFilesOptions = {},
): Promise<UploadPayload[]> {
  const fs = options.fs ?? denoUploadFs;
  const maxBytes = options.maxBytes ?? MAX_UPLOAD_BYTES;
  const stats = [];
  let total = 0;
  for (const path of paths) {
    let info;
    try {
      info = await fs.stat(path);
    } catch (cause) {
      throw unreadable(path, cause);
    }
    if (info?.isDirectory === true) {
      throw new UploadError("directory", path, `Cannot upload "${path}" as it is a directory`);
    }
    total += info?.size ?? 0;
    stats.push(info);
  }
  if (total > maxBytes) {
    throw new UploadError(
      "too_large",
      paths[0] ?? "",
      `Cannot upload the files as they exceed the ${maxBytes}-byte upload cap of the relay: current size is ${total} bytes`,
    );
  }
  const payloads: UploadPayload[] = [];
  for (const [i, path] of paths.entries()) {
    const info = stats[i];
    const name = baseName(path);
    if (info === undefined) {
      payloads.push({ name, mimeType: mimeOf(name), lastModified: 0, base64: "" });
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(path);
    } catch (cause) {
      throw unreadable(path, cause);
    }
    payloads.push({
      name,
      mimeType: mimeOf(name),
      lastModified: info.mtimeMs,
      base64: base64(bytes),
    });
  }
  return payloads;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The one error for a path that cannot be stat'ed or read. */
function unreadable(path: string, cause: unknown): UploadError {
  return new UploadError(
    "unreadable",
    path,
    `Cannot upload "${path}" as it cannot be read: ${errorText(cause)}`,
    { cause },
  );
}

/**
 * Runs in the page with `this` = the element: sets the files through a `DataTransfer`, then fires
 * `input` (bubbling, composed) and `change` (bubbling, not composed), the events Chrome fires
 * after `DOM.setFileInputFiles` (measured on Chromium 156). A `lastModified` of 0 (a missing
 * file) lets the `File` take the current time, as Chrome's does. Returns the number of files set, or -1 when the element is not a file
 * input (the relay then answers with {@linkcode NOT_A_FILE_INPUT}).
 */
const SET_FILES = `function (files) {
  if (!(this instanceof HTMLInputElement) || this.type !== "file") return -1;
  if (files.length === 0) return 0; // Chrome leaves the files (and fires nothing) for an empty list
  const transfer = new DataTransfer();
  for (const f of files) {
    const binary = atob(f.base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    const options = { type: f.mimeType };
    if (f.lastModified > 0) options.lastModified = f.lastModified;
    transfer.items.add(new File([bytes], f.name, options));
  }
  this.files = transfer.files;
  this.dispatchEvent(new Event("input", { bubbles: true, composed: true }));
  this.dispatchEvent(new Event("change", { bubbles: true }));
  return this.files.length;
}`;

/**
 * The `Runtime.callFunctionOn` params that set `files` on the element `objectId` (get it with
 * `DOM.resolveNode` from the command's `nodeId` or `backendNodeId`, or use its `objectId`).
 *
 * @param objectId The element's remote object id.
 * @param files What {@linkcode readUploadFiles} returned.
 * @returns Params for `Runtime.callFunctionOn`; its `result.value` is the file count or -1.
 */
export function fileInputFallbackCall(
  objectId: string,
  files: readonly UploadPayload[],
): {
  readonly objectId: string;
  readonly functionDeclaration: string;
  readonly arguments: readonly [{ readonly value: readonly UploadPayload[] }];
  readonly returnByValue: true;
  readonly awaitPromise: false;
} {
  return {
    objectId,
    functionDeclaration: SET_FILES,
    arguments: [{ value: files }],
    returnByValue: true,
    awaitPromise: false,
  };
}
