/**
 * Which process listens on a TCP port, from `/proc` (Linux), so that "port in use" can name it.
 *
 * @module
 */

/** The slice of the file system {@linkcode findPortOwner} reads; tests pass a fake one. */
export interface ProcFs {
  /** Reads a whole file. */
  readTextFile(path: string): Promise<string>;
  /** Lists the names in a directory. */
  readDir(path: string): Promise<string[]>;
  /** Reads a symbolic link. */
  readLink(path: string): Promise<string>;
}

/** The process holding a port. */
export interface PortOwner {
  /** Its process id. */
  readonly pid: number;
  /** Its command line, shortened to 80 characters. */
  readonly command: string;
}

/** Options of {@linkcode findPortOwner}. */
export interface FindPortOwnerOptions {
  /**
   * Where `/proc` is read from.
   *
   * @default {the real file system}
   */
  readonly fs?: ProcFs;
}

const denoFs: ProcFs = {
  readTextFile: (path) => Deno.readTextFile(path),
  async readDir(path) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
    return names;
  },
  readLink: (path) => Deno.readLink(path),
};

const LISTEN = "0A";

/**
 * The inodes of sockets listening on `port`, from the text of `/proc/net/tcp` or `tcp6`.
 *
 * @param table The file's text.
 * @param port The TCP port.
 * @returns The socket inodes.
 */
export function listeningInodes(table: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined || fields[3] !== LISTEN) continue;
    const hexPort = local.slice(local.lastIndexOf(":") + 1);
    const inode = fields[9];
    if (Number.parseInt(hexPort, 16) === port && inode !== undefined && inode !== "0") {
      inodes.push(inode);
    }
  }
  return inodes;
}

/**
 * Finds the process listening on a TCP port. Best effort: `undefined` when `/proc` is missing
 * (not Linux), unreadable (another user's process), or nothing listens.
 *
 * @param port The TCP port.
 * @param options Where `/proc` is read from.
 * @returns The process, or `undefined`.
 */
export async function findPortOwner(
  port: number,
  options: FindPortOwnerOptions = {},
): Promise<PortOwner | undefined> {
  const fs = options.fs ?? denoFs;
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await fs.readTextFile(table).catch(() => "");
    for (const inode of listeningInodes(text, port)) inodes.add(`socket:[${inode}]`);
  }
  if (inodes.size === 0) return undefined;
  const pids = (await fs.readDir("/proc").catch(() => [])).filter((name) => /^\d+$/.test(name));
  for (const pid of pids) {
    const fds = await fs.readDir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await fs.readLink(`/proc/${pid}/fd/${fd}`).catch(() => "");
      if (!inodes.has(target)) continue;
      const raw = await fs.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
      const parts = raw.split("\0").filter((part) => part !== "");
      // The program's file name is enough to recognise it; its directory is noise.
      if (parts[0] !== undefined) parts[0] = parts[0].slice(parts[0].lastIndexOf("/") + 1);
      let command = parts.join(" ");
      if (command.length > 80) command = `${command.slice(0, 79)}…`;
      return { pid: Number(pid), command };
    }
  }
  return undefined;
}
