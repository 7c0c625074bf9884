/**
 * Small file-system helpers for the shared-storage protocol.
 *
 * Every helper opens, uses and closes its file within one call. On NFS this
 * gives close-to-open consistency: a writer's data is flushed when it closes,
 * and a reader that opens afterwards revalidates and sees it. Nothing here
 * trusts a size learned earlier (from `stat` or a previous read): readers read
 * until end of file.
 *
 * @module
 */
import { foreignDirReason, ForeignFileError, foreignOwner, openOwnedSync } from "./owned_file.ts";

/** Options for {@linkcode writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /**
   * Permission bits of the new file (before the process umask).
   * @default {0o600}
   */
  mode?: number;
  /**
   * Flush the file (and, best effort, its directory) to stable storage before
   * and after the rename.
   * @default {false}
   */
  sync?: boolean;
}

/** Options for {@linkcode appendBytes}. */
export interface AppendBytesOptions {
  /**
   * Create the file when it does not exist.
   * @default {true}
   */
  create?: boolean;
  /**
   * Permission bits used when the file is created (before the umask).
   * @default {0o600}
   */
  mode?: number;
  /**
   * Flush the data (`fdatasync`) before closing, so that an error reported late (a full
   * quota on NFS) is raised here.
   * @default {false}
   */
  syncData?: boolean;
}

const encoder = new TextEncoder();
const READ_CHUNK = 64 * 1024;

function splitPath(path: string): { dir: string; base: string } {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return { dir: ".", base: path };
  return { dir: slash === 0 ? "/" : path.slice(0, slash), base: path.slice(slash + 1) };
}

function randomSuffix(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * Writes all of `bytes` at the file's position (a single `writeSync` may take only part).
 *
 * @example Usage
 * ```ts
 * import { readToEndSync, writeAllSync } from "./fs_util.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * try {
 *   using file = Deno.openSync(path, { read: true, write: true });
 *   writeAllSync(file, new Uint8Array(10_000).fill(7));
 *   file.seekSync(0, Deno.SeekMode.Start);
 *   // A small first buffer grows as needed.
 *   assert.equal(readToEndSync(file, 16).length, 10_000);
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}

/**
 * Reads from the file's position until the read call reports end of file
 * (never trusting a size from `stat`, which can lag on network filesystems),
 * starting with a buffer of `initial` bytes and doubling it as needed. `file` is
 * a Deno file or anything that reads the same way. See {@link writeAllSync} for
 * an example.
 */
export function readToEndSync(
  file: { readSync(into: Uint8Array): number | null },
  initial: number,
): Uint8Array {
  let buffer = new Uint8Array(initial);
  let length = 0;
  while (true) {
    if (length === buffer.length) {
      const bigger = new Uint8Array(buffer.length * 2);
      bigger.set(buffer);
      buffer = bigger;
    }
    const n = file.readSync(buffer.subarray(length));
    if (n === null || n === 0) break;
    length += n;
  }
  return buffer.subarray(0, length);
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    done += await file.write(bytes.subarray(done));
  }
}

async function syncDir(dir: string): Promise<void> {
  let handle: Deno.FsFile | undefined;
  try {
    handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // Best effort: some systems cannot open or fsync a directory.
  } finally {
    handle?.close();
  }
}

/**
 * Replaces the file at `path` atomically: writes `data` to a fresh temporary
 * file `.<name>.<random>.tmp` in the same directory, then renames it over
 * `path`. Readers see either the old or the new content, never a mix (on
 * network filesystems a reader that trusts a cached size may briefly see the
 * new content cut short, so frame what you write).
 *
 * @example Usage
 * ```ts
 * import { writeFileAtomic } from "./fs_util.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeFileAtomic(`${dir}/server.json`, '{"pid":1}');
 *   await writeFileAtomic(`${dir}/server.json`, '{"pid":2}');
 *   assert.equal(await Deno.readTextFile(`${dir}/server.json`), '{"pid":2}');
 *   // No temporary file is left behind.
 *   assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["server.json"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param path File to replace or create.
 * @param data Content; strings are written as UTF-8.
 * @param options Mode (default `0o600`) and optional fsync.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const { mode = 0o600, sync = false } = options;
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const { dir, base } = splitPath(path);
  const tmp = `${dir === "/" ? "" : dir}/.${base}.${randomSuffix()}.tmp`;
  let renamed = false;
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true, mode });
    try {
      await writeAll(file, bytes);
      if (sync) await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
    renamed = true;
    if (sync) await syncDir(dir);
  } finally {
    if (!renamed) {
      await Deno.remove(tmp).catch(() => {});
    }
  }
}

/**
 * Creates the directory `path` and any missing parents with `mode` (before
 * the umask). Tolerates a concurrent creator: a directory that already exists
 * is fine. Refuses (`ForeignFileError`) a `path` that is not a directory, is a
 * symbolic link or belongs to another user. The mode of an existing directory
 * is left unchanged.
 *
 * @example Usage
 * ```ts
 * import { ensureDirMode } from "./fs_util.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await ensureDirMode(`${dir}/clients/c1`);
 *   await ensureDirMode(`${dir}/clients/c1`); // already there: fine
 *   assert.ok(Deno.statSync(`${dir}/clients/c1`).isDirectory);
 *   await Deno.writeTextFile(`${dir}/file`, "");
 *   await assert.rejects(ensureDirMode(`${dir}/file`), { name: "ForeignFileError" });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param path Directory to create.
 * @param mode Permission bits for the directories it creates.
 */
export function ensureDirMode(path: string, mode = 0o700): Promise<void> {
  // Synchronous calls: a directory is made once, and the async calls' thread-pool
  // hop costs a client's start-up more than the call itself.
  try {
    Deno.mkdirSync(path, { recursive: true, mode });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) return Promise.reject(error);
  }
  try {
    // Made here or found: it must be a real directory of this user, not a planted link.
    const reason = foreignDirReason(Deno.lstatSync(path));
    if (reason !== null) return Promise.reject(new ForeignFileError(path, reason));
  } catch (error) {
    return Promise.reject(error);
  }
  return Promise.resolve();
}

/**
 * Reads a whole file, or returns `undefined` when it does not exist.
 *
 * @example Usage
 * ```ts
 * import { readFileIfExists } from "./fs_util.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   assert.equal(await readFileIfExists(`${dir}/lease`), undefined);
 *   await Deno.writeTextFile(`${dir}/lease`, "1");
 *   assert.deepEqual(await readFileIfExists(`${dir}/lease`), new Uint8Array([49]));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param path File to read.
 * @returns The file's bytes, or `undefined` when `path` is missing.
 */
export async function readFileIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Opens `path` for appending, writes all of `bytes`, and closes the file
 * (closing flushes the data for readers on other NFS clients). The file has a
 * single writer by protocol: appends from two hosts at once are not atomic on
 * network filesystems.
 *
 * @example Usage
 * ```ts
 * import { appendBytes, readFrom } from "./fs_util.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const path = `${dir}/to-server.0.log`;
 *   await appendBytes(path, new TextEncoder().encode("abc"));
 *   await appendBytes(path, new TextEncoder().encode("def"));
 *   assert.equal(new TextDecoder().decode(await readFrom(path, 2)), "cdef");
 *   await assert.rejects(appendBytes(`${dir}/missing`, new Uint8Array(), { create: false }));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param path File to append to.
 * @param bytes Bytes to append; an empty array still opens (and creates) the file.
 * @param options Whether to create a missing file (default yes) and its mode (default `0o600`).
 */
export function appendBytes(
  path: string,
  bytes: Uint8Array,
  options: AppendBytesOptions = {},
): Promise<void> {
  // Synchronous calls: a few microseconds each on a local disk, where the
  // thread hand-off of an async call costs more than the call; callers still
  // await the result.
  const { create = true, mode = 0o600, syncData = false } = options;
  try {
    const file = openOwnedSync(path, { append: true, create, mode });
    try {
      writeAllSync(file, bytes);
      if (syncData && bytes.length > 0) file.syncDataSync();
    } finally {
      file.close();
    }
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Opens `path` afresh, reads from byte `offset` to end of file, and closes it.
 * Reads until the read call reports end of file instead of trusting a size
 * from `stat`, which can lag on network filesystems.
 *
 * @example Usage
 * ```ts
 * import { readFrom } from "./fs_util.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/log`, "0123");
 *   assert.deepEqual(await readFrom(`${dir}/log`, 4), new Uint8Array());
 *   assert.equal(await readFrom(`${dir}/none`, 0), undefined);
 *   await assert.rejects(readFrom(`${dir}/log`, -1), RangeError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param path File to read.
 * @param offset Byte offset to start at; past the end gives an empty array.
 * @returns The bytes from `offset` on, or `undefined` when `path` is missing.
 */
export function readFrom(path: string, offset: number): Promise<Uint8Array | undefined> {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    return Promise.reject(
      new RangeError(`Cannot read "${path}" from offset ${offset}: not a non-negative integer`),
    );
  }
  // Synchronous for the same reason as appendBytes().
  let file: Deno.FsFile;
  try {
    file = openOwnedSync(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return Promise.resolve(undefined);
    return Promise.reject(error);
  }
  try {
    if (offset > 0) file.seekSync(offset, Deno.SeekMode.Start);
    return Promise.resolve(readToEndSync(file, READ_CHUNK));
  } catch (error) {
    return Promise.reject(error);
  } finally {
    file.close();
  }
}

const PAGE_BYTES = 4096;

let nodeFs: Promise<typeof import("node:fs")> | undefined;

/**
 * Reads `path` from byte `offset` to the end as the read call reports it, on a network
 * filesystem; undefined when the file is missing. It refuses a symbolic link, anything but a
 * regular file, and another user's file, as `openOwnedSync` does.
 *
 * It opens with `O_NOFOLLOW | O_NONBLOCK` (a planted FIFO cannot block the open), from Node's
 * `fs` (Deno's own open has no such flags; it is loaded on the first call, as it costs a
 * client command's start a good part of its time), checks the open file with `fstat` without
 * looking the path up first, and reads from the start of the page that holds `offset`. On a
 * network filesystem (sshfs here) the kernel keeps a file's size for up to a second, and a
 * lookup just before the open keeps it: a read that starts at or past that size ends at
 * once, while a read from an earlier page goes to the filesystem and brings appends made on
 * other hosts with it. Measured across two sshfs views polled every 250 ms: up to a second
 * late from `offset` or after a lookup, at most the poll interval this way.
 *
 * @example Usage
 * ```ts
 * import { readFreshFrom } from "./fs_util.ts";
 * import { ForeignFileError } from "./owned_file.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/log`, "0123");
 *   assert.deepEqual(await readFreshFrom(`${dir}/log`, 2), new TextEncoder().encode("23"));
 *   assert.equal(await readFreshFrom(`${dir}/none`, 0), undefined);
 *   await Deno.symlink(`${dir}/log`, `${dir}/link`);
 *   await assert.rejects(readFreshFrom(`${dir}/link`, 0), ForeignFileError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @throws {ForeignFileError} When the file is not one this process may use.
 */
export async function readFreshFrom(path: string, offset: number): Promise<Uint8Array | undefined> {
  const fs = await (nodeFs ??= import("node:fs"));
  const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new ForeignFileError(path, "a symbolic link");
    throw error;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new ForeignFileError(path, "not a regular file");
    const owner = foreignOwner(st);
    if (owner !== null) throw new ForeignFileError(path, owner);
    const start = offset - (offset % PAGE_BYTES);
    let at = start;
    const bytes = readToEndSync({
      readSync: (into) => {
        const n = fs.readSync(fd, into, 0, into.length, at);
        at += n;
        return n;
      },
    }, Math.max(PAGE_BYTES, st.size - start + 1));
    return bytes.subarray(Math.min(offset - start, bytes.length));
  } finally {
    fs.closeSync(fd);
  }
}
