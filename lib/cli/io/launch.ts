/**
 * The start-up cache of the command line, I/O part: picks the module the
 * umbrella loads for a role file (and a role file for a part it loads lazily),
 * its bundle when the cache holds a fresh one, else the sources (see
 * `../launch.ts`). Imports nothing else of the CLI,
 * so the umbrella stays small until it knows which role to load.
 *
 * @module
 */
import {
  decodeLaunchEntry,
  type FileStamp,
  fileUrlOf,
  folderOfFileUrl,
  launchName,
  staleReason,
} from "../launch.ts";

export { fileUrlOf, folderOfFileUrl };

/** Environment variable naming the cache folder; `off` turns the cache off. */
export const LAUNCH_CACHE_ENV = "HQ_CLI_CACHE";

/** Stamp of a file, or null when it is missing. */
export function fileStamp(path: string): FileStamp | null {
  try {
    const st = Deno.statSync(path);
    return { size: st.size, mtimeMs: st.mtime?.getTime() ?? 0 };
  } catch {
    return null;
  }
}

/**
 * The cache folder: `HQ_CLI_CACHE` when set (null when it is `off`), else
 * `dist/cli` under `root`, the repository.
 */
export function launchCacheDir(root: string): string | null {
  const env = Deno.env.get(LAUNCH_CACHE_ENV);
  if (env === "off") return null;
  return env || `${root.replace(/\/$/, "")}/dist/cli`;
}

/**
 * The file to load for the role file `source` (an absolute path): its bundle
 * from `cacheDir` when its manifest (`<name>.json`) is there and nothing it was built from
 * changed, else `source` itself. A missing or unreadable cache means the
 * sources.
 *
 * @example Usage
 * ```ts
 * import { moduleToLoad } from "./launch.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   assert.equal(moduleToLoad("/repo/submit.ts", dir), "/repo/submit.ts"); // no manifest
 *   assert.equal(moduleToLoad("/repo/submit.ts", null), "/repo/submit.ts"); // cache off
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function moduleToLoad(source: string, cacheDir: string | null): string {
  if (cacheDir === null) return source;
  let text: string;
  try {
    text = Deno.readTextFileSync(`${cacheDir}/${launchName(source)}.json`);
  } catch {
    return source;
  }
  const entry = decodeLaunchEntry(text);
  if (entry?.source !== source || staleReason(entry, fileStamp) !== null) return source;
  return entry.bundle;
}

/**
 * Imports a part that a role file loads only for the commands that need it (`part` relative
 * to the repository, e.g. `lib/cli/io/heavy/mod.ts`): its bundle when fresh, else its
 * sources. `roleUrl` is the role file's own module URL, which the start-up bundles keep.
 */
export function importPart<T>(roleUrl: string, part: string): Promise<T> {
  const root = folderOfFileUrl(roleUrl);
  const path = moduleToLoad(root + part, launchCacheDir(root));
  // Not a literal specifier: the bundler would inline the part into the role's bundle.
  return import(fileUrlOf(path));
}
