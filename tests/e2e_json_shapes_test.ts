/**
 * The JSON a real server and worker produce has the shapes pinned by the
 * golden files of `lib/cli/testdata/golden/` (built from fixtures there):
 * every object in a real document has a key set that the golden document
 * has at the same place, with values of the same JSON types. So a field the
 * server stops sending, or one it adds, fails here, not only in the unit
 * goldens.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, ROOT, waitFor } from "./_harness.ts";

const GOLDEN = join(ROOT, "lib", "cli", "testdata", "golden");

type Shapes = Map<string, Set<string>>;

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

/**
 * Key sets (with value types) of the objects at each place: array items
 * share `[]`, numeric keys (job ids) share `*`.
 */
function shapes(v: unknown, path = "$", out: Shapes = new Map()): Shapes {
  if (Array.isArray(v)) {
    for (const item of v) shapes(item, `${path}[]`, out);
  } else if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    const numeric = entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k));
    if (numeric) {
      for (const [, item] of entries) shapes(item, `${path}.*`, out);
      return out;
    }
    const sig = entries.map(([k, x]) => `${k}:${typeOf(x)}`).sort().join(",");
    let set = out.get(path);
    if (!set) out.set(path, set = new Set());
    set.add(sig);
    for (const [k, x] of entries) shapes(x, `${path}.${k}`, out);
  }
  return out;
}

async function golden(...names: string[]): Promise<Shapes> {
  const out: Shapes = new Map();
  for (const name of names) {
    shapes(JSON.parse(await Deno.readTextFile(join(GOLDEN, `${name}.json`))), "$", out);
  }
  return out;
}

function assertShapesIn(real: unknown, expected: Shapes, what: string): void {
  const got = shapes(real);
  for (const [path, sigs] of got) {
    for (const sig of sigs) {
      assert.ok(
        expected.get(path)?.has(sig),
        `${what}: object at ${path} has keys {${sig}}, which the golden file never has there ` +
          `(golden: ${JSON.stringify([...(expected.get(path) ?? [])])})`,
      );
    }
  }
  assert.ok(got.size > 0 || typeOf(real) !== "object", `${what}: nothing to compare`);
}

Deno.test("e2e: real JSON documents have the golden files' shapes", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "2", "--hostname", "w1", "--time-limit", "1h"]);
    await c.waitWorkers(1);
    // Finished, failed, running and waiting tasks in one job.
    const job = await c.submit([
      "--array",
      "0-5",
      "--",
      "bash",
      "-c",
      "case $HQ_TASK_ID in 0) exit 0;; 1) exit 1;; *) sleep 60;; esac",
    ]);
    await waitFor(
      async () => {
        const t = await c.tasks(job);
        return t.filter((x) => x.state === "running").length === 2 &&
          t.some((x) => x.state === "failed") && t.some((x) => x.state === "finished");
      },
      20000,
      "tasks in every state",
    );

    const check = async (args: string[], ...names: string[]) => {
      const r = await c.hqOk([...args, "--output-mode", "json"]);
      assertShapesIn(JSON.parse(r.stdout), await golden(...names), `${args.join(" ")} vs ${names}`);
    };
    await check(["job", "list", "--all"], "job_list");
    // Tasks that never started, as `job info` and `task info` place them.
    const pending = JSON.parse(
      await Deno.readTextFile(join(GOLDEN, "task_list_pending.json")),
    )["3"];
    const withPending = async (name: string, at: string) => {
      const s = await golden(name);
      return shapes(pending, at, s);
    };
    const checkWith = async (args: string[], expected: Shapes) => {
      const r = await c.hqOk([...args, "--output-mode", "json"]);
      assertShapesIn(JSON.parse(r.stdout), expected, args.join(" "));
    };
    await checkWith(["job", "info", String(job)], await withPending("job_info", "$[].tasks"));
    // `task info` prints the same task objects as a plain array.
    const listed = JSON.parse(await Deno.readTextFile(join(GOLDEN, "task_list.json")));
    const taskShapes = shapes(
      [...Object.values(listed).flat(), ...pending],
      "$",
      await golden("task_info"),
    );
    await checkWith(["task", "info", String(job), "0-5"], taskShapes);
    await check(["job", "summary"], "job_summary");
    await check(["task", "list", String(job)], "task_list", "task_list_pending");
    // `job task-ids`: job ids (as keys) to plain id lists, as in the golden file.
    const ids = JSON.parse(
      (await c.hqOk(["job", "task-ids", String(job), "--output-mode", "json"])).stdout,
    );
    assert.deepEqual(ids, { [String(job)]: [0, 1, 2, 3, 4, 5] });
    const goldenIds = JSON.parse(await Deno.readTextFile(join(GOLDEN, "task_ids.json")));
    assert.ok(Object.values(goldenIds).every((v) => Array.isArray(v)));
    await check(["worker", "list"], "worker_list");
    await check(["worker", "info", "1"], "worker_info");
    await check(["server", "info"], "server_info");
    await check(["worker", "hwdetect"], "hwdetect");
    await check(["task", "explain", String(job), "3"], "explain");
    const cancel = await c.hqOk(["job", "cancel", String(job), "--output-mode", "json"]);
    assert.equal(cancel.stdout, await Deno.readTextFile(join(GOLDEN, "empty.json")));
    const submit = await c.hqOk(["submit", "--output-mode", "json", "--", "true"]);
    assertShapesIn(JSON.parse(submit.stdout), await golden("submit"), "submit");
    const wait = await c.hqOk(["job", "wait", "last", "--output-mode", "json"]);
    assertShapesIn(JSON.parse(wait.stdout), await golden("job_wait"), "job wait");
    const err = await c.hq(["worker", "address", "9", "--output-mode", "json"]);
    assert.equal(err.code, 1);
    assertShapesIn(JSON.parse(err.stdout), await golden("error"), "error");
  });
});
