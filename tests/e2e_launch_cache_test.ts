/**
 * The start-up cache end to end: `tools/build_cli.ts` bundles the role files,
 * `hq` loads a bundle only while nothing it was built from changed, and a
 * command answers the same through a bundle as from the sources.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, HQ_TS, ROOT } from "./_harness.ts";
import { decodeLaunchEntry, encodeLaunchEntry, type LaunchEntry } from "../lib/cli/mod.ts";

const DENO = Deno.execPath();
const MARK = "launch-cache-test: loaded from the bundle";

async function deno(args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  const out = await new Deno.Command(DENO, { args, cwd, env, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function readEntry(cache: string, name: string): Promise<LaunchEntry> {
  const entry = decodeLaunchEntry(await Deno.readTextFile(join(cache, `${name}.json`)));
  assert.ok(entry, `${name}.json decodes`);
  return entry;
}

/** Rewrites a bundle to print MARK and its name when loaded, and its manifest to match. */
async function markBundle(cache: string, name: string): Promise<void> {
  const entry = await readEntry(cache, name);
  const text = await Deno.readTextFile(entry.bundle);
  const mark = JSON.stringify(`${MARK}: ${name}`);
  await Deno.writeTextFile(entry.bundle, `console.error(${mark});\n${text}`);
  const st = await Deno.stat(entry.bundle);
  await writeEntry(cache, name, {
    ...entry,
    bundleStamp: { size: st.size, mtimeMs: st.mtime!.getTime() },
  });
}

async function writeEntry(cache: string, name: string, entry: LaunchEntry): Promise<void> {
  await Deno.writeTextFile(join(cache, `${name}.json`), encodeLaunchEntry(entry));
}

Deno.test("hq loads a fresh bundle, and the sources once an input or the bundle changed", async () => {
  await using c = await Cluster.create();
  const cache = join(c.root, "cache");
  const built = await deno(["run", "-A", "tools/build_cli.ts", cache]);
  assert.equal(built.code, 0, built.stderr);
  const entry = await readEntry(cache, "submit");
  assert.equal(entry.source, join(ROOT, "submit.ts"));
  assert.ok(entry.inputs.some(([p]) => p === join(ROOT, "lib/cli/args.ts")), "inputs name args.ts");
  assert.ok(!entry.inputs.some(([p]) => p.includes("/node_modules/")), "no npm files");

  await markBundle(cache, "submit");
  const viaBundle = await deno(["run", "-A", HQ_TS, "--version"], { HQ_CLI_CACHE: cache });
  assert.equal(viaBundle.code, 0, viaBundle.stderr);
  assert.match(viaBundle.stderr, new RegExp(MARK));
  assert.equal(viaBundle.stdout.trim(), "hyperqueue 0.1.0");

  // Off: the sources, whatever the cache holds.
  const off = await deno(["run", "-A", HQ_TS, "--version"], { HQ_CLI_CACHE: "off" });
  assert.doesNotMatch(off.stderr, new RegExp(MARK));
  assert.equal(off.stdout, viaBundle.stdout);

  // An input whose stamp differs from the manifest's: the bundle is stale, the sources load.
  const marked = await readEntry(cache, "submit");
  const [first, ...rest] = marked.inputs;
  const touched: LaunchEntry = {
    ...marked,
    inputs: [[first![0], { ...first![1], mtimeMs: first![1].mtimeMs - 1000 }], ...rest],
  };
  await writeEntry(cache, "submit", touched);
  const stale = await deno(["run", "-A", HQ_TS, "--version"], { HQ_CLI_CACHE: cache });
  assert.equal(stale.code, 0, stale.stderr);
  assert.doesNotMatch(stale.stderr, new RegExp(MARK));

  // A bundle changed after its manifest was written is not trusted either.
  await writeEntry(cache, "submit", marked);
  await Deno.writeTextFile(marked.bundle, "\n", { append: true });
  const edited = await deno(["run", "-A", HQ_TS, "--version"], { HQ_CLI_CACHE: cache });
  assert.doesNotMatch(edited.stderr, new RegExp(MARK));

  // A manifest of another format version is ignored.
  await writeEntry(cache, "submit", { ...marked, v: 999 });
  const foreign = await deno(["run", "-A", HQ_TS, "--version"], { HQ_CLI_CACHE: cache });
  assert.equal(foreign.code, 0, foreign.stderr);
  assert.doesNotMatch(foreign.stderr, new RegExp(MARK));
});

Deno.test("every role answers the same through its bundle as from its sources", async () => {
  await using c = await Cluster.create();
  const cache = join(c.root, "cache");
  assert.equal((await deno(["run", "-A", "tools/build_cli.ts", cache])).code, 0);
  const names = [
    "submit",
    "worker",
    "server",
    "alloc",
    "query_jobs",
    "query_tasks",
    "query_workers",
  ];
  for (const name of names) await markBundle(cache, name);
  c.startServer();
  await c.waitServerReady();
  c.startWorker(["--cpus", "1"]);
  const submitted = await c.hq(["submit", "--wait", "--", "true"]);
  assert.equal(submitted.code, 0, submitted.stderr);
  // Each command, and the bundle that answers it.
  const commands: [string[], string][] = [
    [["--output-mode", "json", "job", "list"], "query_jobs"],
    [["--output-mode", "json", "job", "info", "1"], "query_jobs"],
    [["job", "list", "--all", "--filter", "finished"], "query_jobs"],
    [["job", "summary"], "query_jobs"],
    [["job", "task-ids", "1"], "query_jobs"],
    [["job", "list", "--bogus"], "query_jobs"],
    [["--output-mode", "json", "task", "list", "1"], "query_tasks"],
    [["task", "info", "1", "0"], "query_tasks"],
    [["task", "explain", "1", "0"], "query_tasks"],
    [["task", "notify", "hi"], "query_tasks"],
    [["job", "list", "--help"], "submit"],
    [["job", "cancel", "9"], "submit"],
    [["worker", "list", "--output-mode", "quiet"], "query_workers"],
    [["worker", "info", "1", "--output-mode", "json"], "query_workers"],
    [["worker", "address", "1"], "worker"],
    [["server", "info", "--output-mode", "json"], "server"],
    [["alloc", "list"], "alloc"],
    [["job", "info", "7"], "query_jobs"],
    [["bogus"], "submit"],
  ];
  for (const [args, bundle] of commands) {
    const viaBundle = await c.hq(args, { env: { HQ_CLI_CACHE: cache } });
    const viaSources = await c.hq(args, { env: { HQ_CLI_CACHE: "off" } });
    const label = args.join(" ");
    assert.match(viaBundle.stderr, new RegExp(`${MARK}: ${bundle}\n`), `${label}: ${bundle}.js`);
    assert.doesNotMatch(viaSources.stderr, new RegExp(MARK), `${label}: sources loaded`);
    assert.equal(viaBundle.code, viaSources.code, `${label}: exit code`);
    const same = (s: string) => s.replace(new RegExp(`${MARK}.*\\n`), "").replace(/^\S+Z /gm, "");
    assert.equal(same(viaBundle.stdout), same(viaSources.stdout), `${label}: stdout`);
    assert.equal(same(viaBundle.stderr), same(viaSources.stderr), `${label}: stderr`);
  }
  const stopped = await c.hq(["server", "stop"], { env: { HQ_CLI_CACHE: cache } });
  assert.equal(stopped.code, 0, stopped.stderr);
});

Deno.test("parts a role loads lazily come from their own bundles, not the role's", async () => {
  await using c = await Cluster.create();
  const cache = join(c.root, "cache");
  assert.equal((await deno(["run", "-A", "tools/build_cli.ts", cache])).code, 0);
  // `worker list` must not carry the worker process: its bundle is built without it.
  const worker = await readEntry(cache, "worker");
  const runtime = join(ROOT, "lib/worker/io/run.ts");
  assert.ok(!worker.inputs.some(([p]) => p === runtime), "worker.js leaves the runtime out");
  const start = await readEntry(cache, "worker_start");
  assert.ok(start.inputs.some(([p]) => p === runtime), "worker_start.js holds the runtime");
  await readEntry(cache, "heavy");
  // Loading Node's compatibility layer (a static `node:` import) costs a command some 15 ms:
  // the bundles of client commands load such modules only where a command uses them.
  const clientBundles = ["submit", "worker", "server", "alloc", "output_log"];
  for (const name of [...clientBundles, "query_jobs", "query_tasks", "query_workers"]) {
    const text = await Deno.readTextFile(join(cache, `${name}.js`));
    const statics = text.match(/^import\b[^;]*?["'](node|npm):[^"']+["']/gm) ?? [];
    assert.deepEqual(statics, [], `${name}.js imports at load: ${statics.join(", ")}`);
    // Top-level functions are compiled with the module (and so kept in Deno's code cache).
    assert.doesNotMatch(
      text,
      /^(async )?function\*? /m,
      `${name}.js has a lazy top-level function`,
    );
  }
  // A role's bundle leaves out the commands of the others (their specs are built at the top
  // level: an unmarked call there would keep them all).
  for (const name of ["worker", "server", "alloc", "output_log"]) {
    const text = await Deno.readTextFile(join(cache, `${name}.js`));
    for (const other of ["createJobCatCommand", "taskCommand", "jobCommand"]) {
      assert.doesNotMatch(text, new RegExp(`\\b${other}\\b`), `${name}.js holds ${other}`);
    }
  }

  // The query parts carry none of the client role's submitting machinery.
  for (const name of ["query_jobs", "query_tasks", "query_workers"]) {
    const text = await Deno.readTextFile(join(cache, `${name}.js`));
    for (const other of ["createJobCatCommand", "notificationRunner", "SUBMIT_OPTIONS"]) {
      assert.doesNotMatch(text, new RegExp(`\\b${other}\\b`), `${name}.js holds ${other}`);
    }
  }

  await markBundle(cache, "worker_start");
  await markBundle(cache, "heavy");
  const args = ["worker", "hwdetect", "--output-mode", "json"];
  const viaBundle = await c.hq(args, { env: { HQ_CLI_CACHE: cache } });
  const viaSources = await c.hq(args, { env: { HQ_CLI_CACHE: "off" } });
  assert.equal(viaBundle.code, 0, viaBundle.stderr);
  assert.match(viaBundle.stderr, new RegExp(MARK), "hwdetect loads worker_start.js");
  assert.doesNotMatch(viaSources.stderr, new RegExp(MARK));
  assert.deepEqual(JSON.parse(viaBundle.stdout), JSON.parse(viaSources.stdout));

  c.startServer();
  await c.waitServerReady();
  const job = join(c.root, "job.toml");
  await Deno.writeTextFile(job, '[[task]]\ncommand = ["true"]\n');
  const submitted = await c.hq(["job", "submit-file", job], { env: { HQ_CLI_CACHE: cache } });
  assert.equal(submitted.code, 0, submitted.stderr);
  assert.match(submitted.stderr, new RegExp(MARK), "submit-file loads heavy.js");
  assert.match(submitted.stdout, /Job submitted successfully, job ID: 1/);
});

Deno.test("a query starts from its bundle before the check, and a stale one's answer is dropped", async () => {
  await using c = await Cluster.create();
  const cache = join(c.root, "cache");
  assert.equal((await deno(["run", "-A", "tools/build_cli.ts", cache])).code, 0);
  // The bundle words the hidden-jobs line its own way, so its answer can be told apart.
  const entry = await readEntry(cache, "query_jobs");
  const text = await Deno.readTextFile(entry.bundle);
  assert.match(text, /in total\. Use/);
  await Deno.writeTextFile(entry.bundle, text.replace("in total. Use", "in total (bundle). Use"));
  await markBundle(cache, "query_jobs");
  c.startServer();
  await c.waitServerReady();
  c.startWorker(["--cpus", "1"]);
  assert.equal((await c.hq(["submit", "--wait", "--", "true"])).code, 0);
  const viaCache = (args: string[]) => c.hq(args, { env: { HQ_CLI_CACHE: cache } });
  const viaSources = (args: string[]) => c.hq(args, { env: { HQ_CLI_CACHE: "off" } });

  const fresh = await viaCache(["job", "list"]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, new RegExp(MARK));
  assert.match(fresh.stdout, /There is 1 job in total \(bundle\)\. Use/);

  // An input changed: the bundle still starts, but the sources answer, once.
  const marked = await readEntry(cache, "query_jobs");
  const [first, ...rest] = marked.inputs;
  await writeEntry(cache, "query_jobs", {
    ...marked,
    inputs: [[first![0], { ...first![1], mtimeMs: first![1].mtimeMs - 1000 }], ...rest],
  });
  // Log lines start with the time, which may differ by a second between the two runs.
  const lines = (s: string) =>
    s.split("\n").filter((l) => !l.includes(MARK)).map((l) => l.replace(/^\S+Z /, ""));
  for (
    const args of [
      ["job", "list"], // the check runs while the server answers
      ["job", "list", "--bogus"], // a usage error: before any request, when it prints
      ["--output-mode", "json", "job", "info", "7"], // the server's error
    ]
  ) {
    const stale = await viaCache(args);
    const sources = await viaSources(args);
    const label = args.join(" ");
    assert.match(stale.stderr, new RegExp(MARK), `${label}: the stale bundle started`);
    assert.doesNotMatch(stale.stdout, /\(bundle\)/, label);
    assert.equal(stale.code, sources.code, `${label}: exit code`);
    assert.equal(stale.stdout, sources.stdout, `${label}: stdout`);
    assert.deepEqual(lines(stale.stderr), lines(sources.stderr), `${label}: stderr`);
  }
  const listed = await viaCache(["job", "list"]);
  assert.equal(listed.stdout.match(/in total/g)?.length, 1);
});
