/**
 * Opening protocol files safely in a directory others might reach (a
 * misconfigured ACL, a shared project space): the file must be a regular
 * file owned by this process's user, and a symbolic link in its place is
 * refused, as `O_NOFOLLOW` would. Deno's own open has no `O_NOFOLLOW`, so for
 * writing the path is checked with `lstat` before the open and the open file
 * with `fstat` after it: a link swapped in between shows as another inode. A
 * file that does not exist yet is created exclusively (`O_EXCL` never follows
 * a link). Reads on a network filesystem open with Node's `O_NOFOLLOW` instead
 * ({@link readFreshFrom}).
 *
 * @module
 */

/** A file the protocol refuses to use: a symbolic link, not a regular file, or another user's. */
export class ForeignFileError extends Error {
  /** The refused path. */
  readonly path: string;

  /** `reason` says what is wrong, e.g. `owned by uid 65534, not 1000`. */
  constructor(path: string, reason: string) {
    super(`Refusing "${path}": ${reason}`);
    this.name = "ForeignFileError";
    this.path = path;
  }
}

let ownUid: number | null | undefined;

function myUid(): number | null {
  if (ownUid === undefined) ownUid = Deno.uid();
  return ownUid;
}

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Why `info` (from `lstat`) is not a file this process may use, or null when it is. */
export function foreignReason(info: Deno.FileInfo): string | null {
  if (info.isSymlink) return "a symbolic link";
  if (!info.isFile) return "not a regular file";
  return foreignOwner(info);
}

/** Why `info` (from `lstat`) is not a directory this process may use, or null when it is. */
export function foreignDirReason(info: Deno.FileInfo): string | null {
  if (info.isSymlink) return "a symbolic link";
  if (!info.isDirectory) return "not a directory";
  return foreignOwner(info);
}

function foreignOwner(info: Deno.FileInfo): string | null {
  const uid = myUid();
  if (uid !== null && info.uid !== null && info.uid !== uid) {
    return `owned by uid ${info.uid}, not ${uid}`;
  }
  return null;
}

/**
 * Opens `path` like `Deno.openSync`, refusing symbolic links, other file types and files
 * of other users. With `create`, a missing file is created exclusively with `mode`.
 *
 * @example Usage
 * ```ts
 * import { ForeignFileError, openOwnedSync } from "./owned_file.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   openOwnedSync(`${dir}/log`, { append: true, create: true }).close();
 *   await Deno.symlink(`${dir}/log`, `${dir}/link`);
 *   assert.throws(() => openOwnedSync(`${dir}/link`, { read: true }), ForeignFileError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @throws {ForeignFileError} When the file is refused.
 * @throws {Deno.errors.NotFound} When it is missing and `create` is not set.
 */
export function openOwnedSync(path: string, options: Deno.OpenOptions): Deno.FsFile {
  for (let attempt = 0;; attempt++) {
    const before = lstatOrNull(path);
    let file: Deno.FsFile;
    if (before === null) {
      if (!options.create) throw new Deno.errors.NotFound(`No such file: "${path}"`);
      try {
        file = Deno.openSync(path, { ...options, create: false, createNew: true });
      } catch (error) {
        // Something appeared meanwhile: look at it again.
        if (error instanceof Deno.errors.AlreadyExists && attempt < 3) continue;
        throw error;
      }
    } else {
      const reason = foreignReason(before);
      if (reason !== null) throw new ForeignFileError(path, reason);
      file = Deno.openSync(path, options);
    }
    try {
      const after = file.statSync();
      const reason = foreignReason(after) ??
        (before !== null && (after.ino !== before.ino || after.dev !== before.dev)
          ? "replaced while it was opened"
          : null);
      if (reason !== null) throw new ForeignFileError(path, reason);
    } catch (error) {
      file.close();
      throw error;
    }
    return file;
  }
}

const PAGE_BYTES = 4096;

let nodeFs: Promise<typeof import("node:fs")> | undefined;

/**
 * Reads `path` from byte `offset` to the end as the read call reports it, on a network
 * filesystem; undefined when the file is missing. It refuses a symbolic link, anything but a
 * regular file, and another user's file, as {@link openOwnedSync} does.
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
 * import { ForeignFileError, readFreshFrom } from "./owned_file.ts";
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
    const uid = myUid();
    if (uid !== null && st.uid !== uid) {
      throw new ForeignFileError(path, `owned by uid ${st.uid}, not ${uid}`);
    }
    const start = offset - (offset % PAGE_BYTES);
    let buffer = new Uint8Array(Math.max(PAGE_BYTES, st.size - start + 1));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const bigger = new Uint8Array(buffer.length * 2);
        bigger.set(buffer);
        buffer = bigger;
      }
      const n = fs.readSync(fd, buffer, length, buffer.length - length, start + length);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(Math.min(offset - start, length), length);
  } finally {
    fs.closeSync(fd);
  }
}
