/**
 * Module boundaries of `lib/`: a package is a folder `lib/<name>` with its
 * I/O half `lib/<name>/io`; each of the two has a `mod.ts` that is its public
 * face. Inside a package modules import each other directly; code in another
 * package (and the role files) imports only through a `mod.ts`. Folder
 * dependencies point one way (no cycles) and the engine never imports the
 * command-line presentation in `lib/cli`.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { ROOT } from "./_harness.ts";

const ROLE_FILES = [
  "hq.ts",
  "server.ts",
  "worker.ts",
  "submit.ts",
  "alloc.ts",
  "output_log.ts",
  "mod.ts",
];

/**
 * The umbrella's imports: it must find the command word and the start-up cache before it loads
 * any role, so it takes these small modules directly rather than the CLI's `mod.ts`, which
 * loads all of the presentation. The launcher takes the idle-work queue directly too: it puts
 * a query's freshness check off until the query waits for the server.
 */
const LAUNCHER_IMPORTS = new Set([
  "hq.ts lib/cli/globals.ts",
  "hq.ts lib/cli/io/launch.ts",
  "lib/cli/io/launch.ts lib/common/io/idle_work.ts",
]);

/** Source files of lib/ (no tests, no test data) and the role files, by repo-relative path. */
async function sources(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(join(ROOT, dir))) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory && e.name !== "testdata") await walk(path);
      else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        files.set(path, await Deno.readTextFile(join(ROOT, path)));
      }
    }
  };
  await walk("lib");
  for (const f of ROLE_FILES) files.set(f, await Deno.readTextFile(join(ROOT, f)));
  return files;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/** Repo-relative targets of a module's relative import and export specifiers. */
export function importTargets(file: string, text: string): string[] {
  const targets: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\b[^;]*?from\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;
  for (const m of stripComments(text).matchAll(re)) {
    const spec = m[1] ?? m[2]!;
    targets.push(relative(ROOT, normalize(join(ROOT, dirname(file), spec))));
  }
  return targets;
}

function folderOf(path: string): string {
  return dirname(path);
}

/** The package of a path: `lib/<name>` for files in `lib/<name>` and `lib/<name>/io`. */
export function packageOf(path: string): string {
  const parts = dirname(path).split("/");
  return parts[0] === "lib" && parts.length >= 2 ? `lib/${parts[1]}` : dirname(path);
}

Deno.test("packageOf() joins a folder and its io/ half", () => {
  assert.equal(packageOf("lib/cli/args.ts"), "lib/cli");
  assert.equal(packageOf("lib/cli/io/output.ts"), "lib/cli");
  assert.equal(packageOf("lib/protocol/io/inbox.ts"), "lib/protocol");
  assert.equal(packageOf("hq.ts"), ".");
});

Deno.test("imports between packages of lib/ go through a mod.ts", async () => {
  const files = await sources();
  const breaches: string[] = [];
  for (const [file, text] of files) {
    for (const target of importTargets(file, text)) {
      if (!target.startsWith("lib/") || packageOf(target) === packageOf(file)) continue;
      if (LAUNCHER_IMPORTS.has(`${file} ${target}`)) continue;
      if (!target.endsWith("/mod.ts")) breaches.push(`${file} imports ${target}`);
    }
  }
  assert.deepEqual(breaches, []);
});

Deno.test("the umbrella's direct imports load nothing but themselves", async () => {
  const files = await sources();
  // Each launcher module imports only other launcher modules (or types): hq.ts stays small.
  const launcher = new Set([...LAUNCHER_IMPORTS].map((l) => l.split(" ")[1]!));
  const allowed = new Set([...launcher, "lib/cli/launch.ts"]);
  const extra: string[] = [];
  for (const file of ["hq.ts", ...allowed]) {
    const text = files.get(file);
    assert.ok(text !== undefined, `${file} is missing`);
    const runtime = text.split("\n").filter((l) => !/^\s*import type /.test(l)).join("\n");
    for (const t of importTargets(file, runtime)) {
      if (!allowed.has(t)) extra.push(`${file} -> ${t}`);
    }
  }
  assert.deepEqual(extra, []);
});

Deno.test("every folder of lib/ has a mod.ts that is used", async () => {
  const files = await sources();
  const folders = new Set([...files.keys()].filter((f) => f.startsWith("lib/")).map(folderOf));
  const used = new Set<string>();
  for (const [file, text] of files) {
    for (const t of importTargets(file, text)) if (t.endsWith("/mod.ts")) used.add(t);
  }
  // Parts loaded by their path (the umbrella's query parts, a role's `importPart`) are used.
  for (const text of files.values()) {
    for (const m of stripComments(text).matchAll(/["'](lib\/[\w/]+\/mod\.ts)["']/g)) {
      used.add(m[1]!);
    }
  }
  // The simulation's own test is its only user.
  const simTest = await Deno.readTextFile(join(ROOT, "lib/sim/sim_test.ts"));
  for (const t of importTargets("lib/sim/sim_test.ts", simTest)) used.add(t);
  const problems: string[] = [];
  for (const folder of [...folders].sort()) {
    if (!files.has(`${folder}/mod.ts`)) problems.push(`${folder} has no mod.ts`);
    else if (!used.has(`${folder}/mod.ts`)) problems.push(`${folder}/mod.ts is imported nowhere`);
  }
  assert.deepEqual(problems, []);
});

/** Folder dependency edges of lib/ (an io/ folder counts as its own folder). */
function folderGraph(files: Map<string, string>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [file, text] of files) {
    if (!file.startsWith("lib/")) continue;
    const from = folderOf(file);
    for (const target of importTargets(file, text)) {
      const to = folderOf(target);
      if (!target.startsWith("lib/") || to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** A cycle in the graph as `a -> b -> a`, or null. */
export function findCycle(graph: Map<string, Set<string>>): string | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string | null => {
    if (state.get(node) === "done") return null;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node].join(" -> ");
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    const found = visit(node);
    if (found) return found;
  }
  return null;
}

Deno.test("folder dependencies of lib/ point one way, and only the CLI imports lib/cli", async () => {
  const graph = folderGraph(await sources());
  assert.equal(findCycle(graph), null);
  const intoCli = [...graph].filter(([from, to]) =>
    !from.startsWith("lib/cli") && [...to].some((t) => t.startsWith("lib/cli"))
  ).map(([from]) => from);
  assert.deepEqual(intoCli, []);
});

Deno.test("findCycle() finds a cycle through folders", () => {
  const g = new Map([["a", new Set(["b"])], ["b", new Set(["c"])], ["c", new Set(["a"])]]);
  assert.equal(findCycle(g), "a -> b -> c -> a");
  assert.equal(findCycle(new Map([["a", new Set(["b"])]])), null);
});
