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
import { Cluster, waitFor } from "./_harness.ts";
import { assertShapesIn, GOLDEN, golden, jsonLines, type Shapes, shapes } from "./_json_shapes.ts";

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

    // `job open` answers as submit does; `job close` and `job forget` print the empty document.
    const opened = await c.hqOk(["job", "open", "--output-mode", "json"]);
    assertShapesIn(JSON.parse(opened.stdout), await golden("submit"), "job open");
    const openId = String(JSON.parse(opened.stdout).id);
    const empty = await Deno.readTextFile(join(GOLDEN, "empty.json"));
    assert.equal((await c.hqOk(["job", "close", openId, "--output-mode", "json"])).stdout, empty);
    assert.equal((await c.hqOk(["job", "forget", openId, "--output-mode", "json"])).stdout, empty);

    // An output log's summary, from a streamed job.
    const stream = join(c.workDir, "stream");
    await c.hqOk(["submit", "--wait", "--stream", stream, "--array", "1-3", "--", "echo", "hi"]);
    await check(["output-log", stream, "summary"], "output_log_summary");

    // The journal's events, every kind the run produced, one document per line.
    const events = jsonLines((await c.hqOk(["journal", "replay"])).stdout);
    const kinds = new Set(events.map((e) => (e as { event: { type: string } }).event.type));
    for (const k of ["server-start", "worker-connected", "job-created", "task-failed"]) {
      assert.ok(kinds.has(k), `${k} in ${[...kinds]}`);
    }
    assertShapesIn(events, await golden("journal_events.jsonl"), "journal replay");
  });
});
