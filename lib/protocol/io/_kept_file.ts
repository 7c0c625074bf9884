/**
 * One file kept open between calls, for channels on a local filesystem.
 *
 * On a network filesystem the protocol reopens a channel file for every read
 * and append (close-to-open consistency). Locally that costs most of a round
 * in open and close calls, so a channel may keep its current segment open:
 * appends go to an `O_APPEND` descriptor, reads seek and read from one.
 *
 * @module
 */
import { readToEndSync, writeAllSync } from "./fs_util.ts";
import { openOwnedSync } from "./owned_file.ts";

/** A lazily opened file that is reopened when the path changes. */
export class KeptFile {
  #path: string | null = null;
  #file: Deno.FsFile | null = null;

  /** Appends all of `bytes` to `path` (created with mode 0600 when missing). */
  append(path: string, bytes: Uint8Array): void {
    const file = this.#open(
      path,
      () => openOwnedSync(path, { append: true, create: true, mode: 0o600 }),
    );
    try {
      writeAllSync(file, bytes);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Bytes of `path` from `offset` to its end, or undefined when it does not exist. */
  readFrom(path: string, offset: number): Uint8Array | undefined {
    let file: Deno.FsFile;
    try {
      file = this.#open(path, () => openOwnedSync(path, { read: true }));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
    try {
      file.seekSync(offset, Deno.SeekMode.Start);
      return readToEndSync(file, 4096);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Closes the file, if open. */
  close(): void {
    try {
      this.#file?.close();
    } catch {
      // Already closed.
    }
    this.#file = null;
    this.#path = null;
  }

  #open(path: string, open: () => Deno.FsFile): Deno.FsFile {
    if (this.#file && this.#path === path) return this.#file;
    this.close();
    this.#file = open();
    this.#path = path;
    return this.#file;
  }
}
