// deno-lint-ignore-file no-console
/**
 * Builds the command line's start-up cache (see `lib/cli/launch.ts`): each
 * role file, and each part a role loads lazily, bundled into one file under
 * `dist/cli/` (or the folder given as
 * the first argument, or `HQ_CLI_CACHE`), each with its manifest, which lists
 * what the bundle was built from. `deno task build` runs it; so does
 * `npm install` (with `--best-effort`: a failure there only warns).
 *
 * Inputs are stamped before bundling, so a file edited during the build
 * leaves its bundle stale rather than wrong. Bundles and manifests are
 * written under temporary names and renamed into place, the manifest last.
 *
 * @module
 */
import { eagerFunctions } from "./_eager.ts";
import { join, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import {
  encodeLaunchEntry,
  type FileStamp,
  LAUNCH_MANIFEST_VERSION,
  type LaunchEntry,
  launchName,
} from "../lib/cli/launch.ts";
import { fileStamp, launchCacheDir } from "../lib/cli/io/launch.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));
/** The role files the umbrella loads, then the parts that role files load lazily (`importPart`). */
const ROLE_FILES = ["submit.ts", "worker.ts", "server.ts", "alloc.ts", "output_log.ts"];
const PART_FILES = [
  "lib/cli/io/heavy/mod.ts",
  "lib/cli/io/worker_start/mod.ts",
  "lib/cli/io/query_jobs/mod.ts",
  "lib/cli/io/query_tasks/mod.ts",
  "lib/cli/io/query_workers/mod.ts",
];

async function deno(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdin: "null" }).output();
  if (!out.success) {
    throw new Error(`deno ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

interface GraphModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string } }[];
}

/**
 * Local files of `source`'s module graph that can change the bundle: reached through imports
 * that stay in the code (static and dynamic; `import type` is erased and not followed), npm
 * packages aside (they change only through `npm install`, which rebuilds the cache).
 */
async function graphFiles(source: string): Promise<string[]> {
  const info = JSON.parse(await deno(["info", "--json", source])) as { modules: GraphModule[] };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [new URL(`file://${source}`).href];
  for (let s = todo.pop(); s !== undefined; s = todo.pop()) {
    if (seen.has(s) || !s.startsWith("file://")) continue;
    seen.add(s);
    for (const dep of modules.get(s)?.dependencies ?? []) {
      if (dep.code?.specifier) todo.push(dep.code.specifier);
    }
  }
  return [...seen].map((s) => fromFileUrl(s)).filter((f) => !f.includes("/node_modules/")).sort();
}

function stampOf(path: string): FileStamp {
  const stamp = fileStamp(path);
  if (!stamp) throw new Error(`${path}: missing`);
  return stamp;
}

async function buildOne(source: string, cacheDir: string): Promise<LaunchEntry> {
  const files = await graphFiles(source);
  const inputs = files.map((f) => [f, stampOf(f)] as const);
  // In a bundle, import.meta.url is the bundle's own: only the role file may use it, and
  // there it is pinned to the role file's URL so relative lazy imports keep their target.
  for (const f of files) {
    if (f !== source && (await Deno.readTextFile(f)).includes("import.meta.url")) {
      throw new Error(`${f} uses import.meta.url, which a bundle cannot keep`);
    }
  }
  const bundle = join(cacheDir, `${launchName(source)}.js`);
  const tmp = `${bundle}.${Deno.pid}.tmp`;
  await deno(["bundle", "--quiet", "--output", tmp, source]);
  const text = await Deno.readTextFile(tmp);
  const url = JSON.stringify(new URL(`file://${source}`).href);
  await Deno.writeTextFile(tmp, eagerFunctions(text.replaceAll("import.meta.url", url)));
  await Deno.rename(tmp, bundle);
  const entry = {
    v: LAUNCH_MANIFEST_VERSION,
    source,
    bundle,
    bundleStamp: stampOf(bundle),
    inputs,
  };
  await writeAtomic(join(cacheDir, `${launchName(source)}.json`), encodeLaunchEntry(entry));
  return entry;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/** Builds every role's and part's bundle and manifest into `cacheDir`; returns the manifests. */
export async function buildLaunchCache(cacheDir: string): Promise<LaunchEntry[]> {
  await Deno.mkdir(cacheDir, { recursive: true });
  const files = [...ROLE_FILES, ...PART_FILES];
  const names = files.map((f) => launchName(join(ROOT, f)));
  const clash = names.find((n, i) => names.indexOf(n) !== i);
  if (clash !== undefined) throw new Error(`two bundles would be named ${clash}`);
  const entries: LaunchEntry[] = [];
  for (const file of files) entries.push(await buildOne(join(ROOT, file), cacheDir));
  return entries;
}

if (import.meta.main) {
  // --best-effort (npm install): a failed build leaves the commands on their sources, which
  // work the same, only slower to start; it must not fail the installation.
  const bestEffort = Deno.args.includes("--best-effort");
  const [arg] = Deno.args.filter((a) => a !== "--best-effort");
  const dir = arg ? resolve(arg) : launchCacheDir(ROOT);
  if (dir === null) {
    console.error(`build_cli: the start-up cache is off (HQ_CLI_CACHE=off); nothing built`);
  } else {
    try {
      const entries = await buildLaunchCache(dir);
      console.error(`build_cli: ${entries.length} bundles in ${dir}`);
    } catch (e) {
      if (!bestEffort) throw e;
      console.error(
        `build_cli: start-up cache not built (${(e as Error).message}); commands run from sources`,
      );
    }
  }
}
