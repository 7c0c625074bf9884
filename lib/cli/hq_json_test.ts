// deno-lint-ignore-file camelcase -- HyperQueue's JSON field names are snake_case
import assert from "node:assert/strict";
import { formatJson } from "./json.ts";
import {
  allocationRequestJson,
  durationJson,
  jobDetailJson,
  jobSummaryJson,
  rawDurationJson,
  taskDescJson,
  taskJson,
} from "./hq_json.ts";
import { explainJson, poolJson, serverInfoJson, workerJson } from "./hq_json_workers.ts";
import { type TaskView, unpackTaskView } from "../protocol/mod.ts";
import { JOB_FOUR, JOB_ONE, JOB_ONE_TASKS, JOBS, SERVER, WORKERS } from "./testdata/fixtures.ts";

const base: TaskView = unpackTaskView({ id: 4, state: "waiting" });

Deno.test("taskJson() of a waiting task is exactly {id, state}", () => {
  assert.equal(formatJson(taskJson(base)), '{\n  "id": 4,\n  "state": "waiting"\n}');
});

Deno.test("taskJson() gives canceled and aborted tasks paths but no times or workers", () => {
  const started = {
    ...base,
    started_at: 1000,
    finished_at: 2000,
    workers: [{ id: 1, hostname: "h" }],
    paths: { cwd: "/w", stdout: null, stderr: "/w/e" },
  };
  for (const state of ["canceled", "aborted"] as const) {
    assert.deepEqual(taskJson({ ...started, state }), {
      id: 4,
      state,
      cwd: "/w",
      stdout: null,
      stderr: "/w/e",
    });
  }
  assert.deepEqual(
    Object.keys(taskJson({ ...started, state: "running", finished_at: null }) as object),
    [
      "id",
      "state",
      "cwd",
      "stdout",
      "stderr",
      "started_at",
      "worker",
    ],
  );
});

Deno.test("taskJson() of a task failed before it started has finished_at and error only", () => {
  assert.deepEqual(taskJson({ ...base, state: "failed", finished_at: 0, error: "boom" }), {
    id: 4,
    state: "failed",
    finished_at: "1970-01-01T00:00:00Z",
    error: "boom",
  });
});

Deno.test("allocationRequestJson() prints serde's AllocationRequest variants", () => {
  const e = (policy: "compact" | "forceCompact" | "tight" | "forceTight" | "scatter" | "all") =>
    allocationRequestJson({ resource: "cpus", amount: 20000, policy });
  assert.deepEqual(
    (["compact", "forceCompact", "tight", "forceTight", "scatter", "all"] as const).map(e),
    [
      { Compact: 20000 },
      { ForceCompact: 20000 },
      { Tight: 20000 },
      { ForceTight: 20000 },
      { Scatter: 20000 },
      "All",
    ],
  );
});

Deno.test("taskDescJson() maps pin omp to openmp and durations to f64 seconds", () => {
  const desc = JOB_FOUR.submits[0]!.task_desc;
  const text = formatJson(taskDescJson({ ...desc, pin_mode: "omp", time_limit_ms: 500 }));
  assert.match(text, /"pin_mode": "openmp"/);
  assert.match(text, /"time_limit": 0\.5/);
  assert.match(text, /"min_time": 0\.0/);
  assert.match(text, /"weight": 10000/);
});

Deno.test("durationJson() and rawDurationJson() encode ms as HyperQueue does", () => {
  assert.equal(formatJson(durationJson(8000)), "8.0");
  assert.equal(formatJson(durationJson(1503)), "1.5030000000000001");
  assert.deepEqual(rawDurationJson(299_500), { secs: 299, nanos: 500_000_000 });
});

Deno.test("jobDetailJson() has no finished_at while the job runs", () => {
  assert.equal(
    (jobDetailJson({ ...JOB_ONE, completed_at: null }, JOB_ONE_TASKS) as { finished_at: unknown })
      .finished_at,
    null,
  );
});

Deno.test("jobSummaryJson() adds Opened only for an open job", () => {
  const open = { ...JOBS[0]!, is_open: true };
  assert.deepEqual(Object.keys(jobSummaryJson([open]) as object).sort(), [
    "Aborted",
    "Canceled",
    "Failed",
    "Finished",
    "Opened",
    "Running",
    "Waiting",
  ]);
});

Deno.test("workerJson() fills runtime_info only when asked and while the worker runs", () => {
  const [running, stopped] = WORKERS;
  assert.deepEqual((workerJson(running!, true) as { runtime_info: unknown }).runtime_info, {
    SingleNodeTasks: { assigned_tasks: 3, running_tasks: 2, is_reserved: false },
  });
  assert.equal((workerJson(running!, false) as { runtime_info: unknown }).runtime_info, null);
  assert.equal((workerJson(stopped!, true) as { runtime_info: unknown }).runtime_info, null);
});

Deno.test("poolJson() prints a range by its first and last index", () => {
  assert.deepEqual(poolJson({ name: "cpus", kind: "range", groups: [["4", "5", "6"]], size: 0 }), {
    kind: "range",
    name: "cpus",
    start: 4,
    end: 6,
  });
});

Deno.test("serverInfoJson() has exactly HyperQueue's ten keys", () => {
  assert.deepEqual(Object.keys(serverInfoJson(SERVER, null) as object).sort(), [
    "client_host",
    "client_port",
    "journal_path",
    "pid",
    "server_dir",
    "server_uid",
    "start_date",
    "version",
    "worker_host",
    "worker_port",
  ]);
});

Deno.test("explainJson() prints a runnable worker's variant as an empty item list", () => {
  assert.equal(
    formatJson(explainJson({
      job_id: 1,
      task_id: 0,
      state: "waiting",
      n_task_deps: 0,
      n_waiting_deps: 0,
      workers: [{ worker_id: 1, runnable: true, variants: [[]] }],
    })),
    formatJson({
      explanation: {
        n_task_deps: 0,
        n_waiting_deps: 0,
        workers: [{ variants: [[]], worker_id: 1 }],
      },
      task_id: { job_id: 1, job_task_id: 0 },
    }),
  );
});
