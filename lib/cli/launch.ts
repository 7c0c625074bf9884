/**
 * The start-up cache of the command line, pure part: its manifest format and
 * the rule that decides whether a cached bundle may stand in for its sources.
 *
 * Deno loads a module graph file by file; a client command's graph is about
 * seventy files, and loading them costs more than the command itself. The
 * cache holds each role file (`submit.ts`, `worker.ts`, ...) bundled into one
 * file, built by `deno task build` (run by `npm install`). The umbrella loads a
 * bundle only while every file it was built from is unchanged (same size and
 * modification time, the test Python uses for its `.pyc` files); otherwise it
 * loads the sources, so an edit is never hidden by a stale bundle. A reading
 * query may start before its inputs are checked, but the check runs before it
 * prints, and a stale bundle's answer is dropped for the sources'.
 *
 * @module
 */

/** Version of the manifest format. */
export const LAUNCH_MANIFEST_VERSION = 1;

/** What identifies one version of a file: its size and modification time. */
export interface FileStamp {
  /** Size in bytes. */
  readonly size: number;
  /** Modification time, ms since the epoch. */
  readonly mtimeMs: number;
}

/** The manifest of one bundle: what it replaces and what it was built from. */
export interface LaunchEntry {
  /** Format version, {@link LAUNCH_MANIFEST_VERSION}. */
  readonly v: number;
  /** Absolute path of the role file the bundle replaces. */
  readonly source: string;
  /** Absolute path of the bundle. */
  readonly bundle: string;
  /** Stamp of the bundle as written. */
  readonly bundleStamp: FileStamp;
  /** Every local file the bundle was built from (absolute paths) with its stamp then. */
  readonly inputs: readonly (readonly [path: string, stamp: FileStamp])[];
}

/**
 * The `file:` URL of the absolute path `path`, for `import()`. Built with string operations:
 * the first `URL` a process makes costs a client command about 0.4 ms. Only the characters
 * a URL parser would take for something else are escaped (`%`, `#`, `?` and `\\`); it
 * encodes the rest itself.
 *
 * @example Usage
 * ```ts
 * import { fileUrlOf } from "./launch.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fileUrlOf("/repo/dist/cli/submit.js"), "file:///repo/dist/cli/submit.js");
 * assert.equal(fileUrlOf("/a #1/b?.js"), "file:///a %231/b%3F.js");
 * ```
 */
export function fileUrlOf(path: string): string {
  return `file://${path.replace(/[%#?\\]/g, (c) => encodeURIComponent(c))}`;
}

/**
 * The folder of the `file:` URL `url` as a path ending in `/` (the repository, from a role
 * file's own module URL), without building a `URL` (see {@link fileUrlOf}).
 *
 * @example Usage
 * ```ts
 * import { folderOfFileUrl } from "./launch.ts";
 * import assert from "node:assert/strict";
 * assert.equal(folderOfFileUrl("file:///repo/submit.ts"), "/repo/");
 * assert.equal(folderOfFileUrl("file:///my%20repo/hq.ts"), "/my repo/");
 * ```
 */
export function folderOfFileUrl(url: string): string {
  if (!url.startsWith("file:///")) {
    throw new TypeError(`Cannot find the folder of "${url}": not a local file URL`);
  }
  return decodeURIComponent(url.slice("file://".length, url.lastIndexOf("/") + 1));
}

/**
 * Base name of a bundle and its manifest in the cache: `submit` for the role file
 * `/repo/submit.ts` (`submit.js`, `submit.json`), the folder's name for a part that a role
 * loads lazily (`heavy` for `/repo/lib/cli/io/heavy/mod.ts`).
 *
 * @example Usage
 * ```ts
 * import { launchName } from "./launch.ts";
 * import assert from "node:assert/strict";
 * assert.equal(launchName("/repo/submit.ts"), "submit");
 * assert.equal(launchName("/repo/lib/cli/io/heavy/mod.ts"), "heavy");
 * ```
 */
export function launchName(source: string): string {
  const parts = source.split("/");
  const file = parts.at(-1)!;
  return (file === "mod.ts" && parts.length > 1 ? parts.at(-2)! : file).replace(/\.ts$/, "");
}

/**
 * Encodes a manifest as JSON.
 *
 * @example Usage
 * ```ts
 * import { decodeLaunchEntry, encodeLaunchEntry } from "./launch.ts";
 * import assert from "node:assert/strict";
 * const stamp = { size: 1, mtimeMs: 2 };
 * const m = { v: 1, source: "/r/a.ts", bundle: "/c/a.js", bundleStamp: stamp, inputs: [] };
 * assert.deepEqual(decodeLaunchEntry(encodeLaunchEntry(m)), m);
 * ```
 */
export function encodeLaunchEntry(entry: LaunchEntry): string {
  return JSON.stringify(entry) + "\n";
}

function isStamp(v: unknown): v is FileStamp {
  const s = v as FileStamp;
  return typeof v === "object" && v !== null && Number.isFinite(s.size) &&
    Number.isFinite(s.mtimeMs);
}

/**
 * Decodes a manifest; null when the text is not one of this version (a cache
 * written by another version, or damaged, is ignored rather than trusted).
 *
 * @example Usage
 * ```ts
 * import { decodeLaunchEntry } from "./launch.ts";
 * import assert from "node:assert/strict";
 * assert.equal(decodeLaunchEntry('{"v": 99}'), null);
 * assert.equal(decodeLaunchEntry("not json"), null);
 * ```
 */
export function decodeLaunchEntry(text: string): LaunchEntry | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const e = v as LaunchEntry;
  const ok = typeof v === "object" && v !== null && e.v === LAUNCH_MANIFEST_VERSION &&
    typeof e.source === "string" && typeof e.bundle === "string" && isStamp(e.bundleStamp) &&
    Array.isArray(e.inputs) &&
    e.inputs.every((i) => Array.isArray(i) && typeof i[0] === "string" && isStamp(i[1]));
  return ok ? e : null;
}

function sameStamp(a: FileStamp | null, b: FileStamp): boolean {
  return a !== null && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/**
 * Why the bundle of `entry` is not the file the build wrote, or null when it is: it is gone
 * or has another size or modification time. `stat` returns null for a missing file.
 *
 * @example Usage
 * ```ts
 * import { bundleStaleReason } from "./launch.ts";
 * import assert from "node:assert/strict";
 * const stamp = { size: 10, mtimeMs: 1000 };
 * const entry = { v: 1, source: "/a.ts", bundle: "/b.js", bundleStamp: stamp, inputs: [] };
 * assert.equal(bundleStaleReason(entry, () => stamp), null);
 * assert.equal(bundleStaleReason(entry, () => null), "/b.js changed");
 * ```
 */
export function bundleStaleReason(
  entry: LaunchEntry,
  stat: (path: string) => FileStamp | null,
): string | null {
  return sameStamp(stat(entry.bundle), entry.bundleStamp) ? null : `${entry.bundle} changed`;
}

/**
 * Why the bundle of `entry` may not stand in for its sources although the bundle itself is
 * as built (see {@link bundleStaleReason}), or null when it may: an input is gone or has
 * another size or modification time than when the bundle was built. `stat` returns null for
 * a missing file.
 *
 * @example Usage
 * ```ts
 * import { inputsStaleReason } from "./launch.ts";
 * import assert from "node:assert/strict";
 * const stamp = { size: 10, mtimeMs: 1000 };
 * const entry = {
 *   v: 1,
 *   source: "/a.ts",
 *   bundle: "/b.js",
 *   bundleStamp: stamp,
 *   inputs: [["/a.ts", stamp]] as const,
 * };
 * const files = new Map([["/a.ts", stamp]]);
 * assert.equal(inputsStaleReason(entry, (p) => files.get(p) ?? null), null);
 * files.set("/a.ts", { size: 10, mtimeMs: 2000 });
 * assert.equal(inputsStaleReason(entry, (p) => files.get(p) ?? null), "/a.ts changed");
 * ```
 */
export function inputsStaleReason(
  entry: LaunchEntry,
  stat: (path: string) => FileStamp | null,
): string | null {
  for (const [path, stamp] of entry.inputs) {
    if (!sameStamp(stat(path), stamp)) return `${path} changed`;
  }
  return null;
}
