/**
 * Opening protocol files safely in a directory others might reach (a
 * misconfigured ACL, a shared project space): the file must be a regular
 * file owned by this process's user, and a symbolic link in its place is
 * refused, as `O_NOFOLLOW` would. Deno's own open has no `O_NOFOLLOW`, so for
 * writing the path is checked with `lstat` before the open and the open file
 * with `fstat` after it: a link swapped in between shows as another inode. A
 * file that does not exist yet is created exclusively (`O_EXCL` never follows
 * a link). Reads on a network filesystem open with Node's `O_NOFOLLOW` instead
 * (`readFreshFrom` in `fs_util.ts`).
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

/** Why a file or folder with this owner (`uid` from a `stat`) is not this process's to use. */
export function foreignOwner(info: { readonly uid: number | null }): string | null {
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
