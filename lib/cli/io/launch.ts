/**
 * The start-up cache of the command line, I/O part: picks the module the
 * umbrella loads for a role file (and a role file for a part it loads lazily),
 * its bundle when the cache holds a fresh one, else the sources (see
 * `../launch.ts`). Imports nothing else of the CLI,
 * so the umbrella stays small until it knows which role to load.
 *
 * @module
 */
import { deferToIdle } from "../../common/io/idle_work.ts";
import {
  bundleStaleReason,
  decodeLaunchEntry,
  type FileStamp,
  fileUrlOf,
  folderOfFileUrl,
  inputsStaleReason,
  type LaunchEntry,
  launchName,
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
  const entry = bundleEntry(source, cacheDir);
  return entry === null || inputsStaleReason(entry, fileStamp) !== null ? source : entry.bundle;
}

/**
 * The manifest of the bundle of `source` (an absolute path) when `cacheDir` holds one and the
 * bundle is as it was written; else null. Its inputs are not checked yet.
 */
function bundleEntry(source: string, cacheDir: string | null): LaunchEntry | null {
  if (cacheDir === null) return null;
  let text: string;
  try {
    text = Deno.readTextFileSync(`${cacheDir}/${launchName(source)}.json`);
  } catch {
    return null;
  }
  const entry = decodeLaunchEntry(text);
  if (entry?.source !== source) return null;
  return bundleStaleReason(entry, fileStamp) === null ? entry : null;
}

/** A bundle was loaded before its inputs were checked, and one of them has changed since. */
class StaleBundleError extends Error {
  constructor(bundle: string, why: string) {
    super(`The start-up bundle ${bundle} is stale (${why})`);
    this.name = "StaleBundleError";
  }
}

/**
 * Runs `run` on the module of `source` (an absolute path) for a command that only reads:
 * its bundle is loaded before the files it was built from are checked, and that check is
 * put off until the command first waits for the server or prints (see `runIdleWork`), so
 * that it costs no time of its own. When an input has changed, whatever the bundle did is
 * dropped, which is harmless for a command that changes nothing, and `run` runs again on
 * the sources; nothing the stale bundle would have printed is printed. Without a cache
 * entry, on the sources at once.
 *
 * @example Usage
 * ```ts
 * import { runReadOnly } from "./launch.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const source = `${dir}/part.ts`;
 *   await Deno.writeTextFile(source, "export const answer = 42;\n");
 *   const answer = await runReadOnly(source, dir, (m: { answer: number }) => m.answer);
 *   assert.equal(answer, 42); // no manifest in `dir`: the sources
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function runReadOnly<M, R>(
  source: string,
  cacheDir: string | null,
  run: (mod: M) => R | Promise<R>,
): Promise<R> {
  const entry = bundleEntry(source, cacheDir);
  if (entry === null) return await run(await import(fileUrlOf(source)));
  // The inputs are checked once, by whichever comes first: the deferred work or the end.
  let checked: { why: string | null } | undefined;
  const staleWhy = () => (checked ??= { why: inputsStaleReason(entry, fileStamp) }).why;
  const withdraw = deferToIdle(() => {
    const why = staleWhy();
    if (why !== null) throw new StaleBundleError(entry.bundle, why);
  });
  let outcome: { value: R } | { error: unknown };
  try {
    outcome = { value: await run(await import(fileUrlOf(entry.bundle))) };
  } catch (error) {
    outcome = { error };
  } finally {
    withdraw();
  }
  if (staleWhy() !== null) return await run(await import(fileUrlOf(source)));
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
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
