/**
 * HyperQueue 0.26's JSON documents (`--output-mode json`) for jobs and
 * tasks, built from the server's views; print them with
 * {@link formatJson}. Shapes follow HyperQueue's `client/output/json.rs`:
 * durations as f64 seconds, datetimes as RFC 3339 UTC strings, resource
 * amounts in 1/10000 (`{"Compact": 20000}`).
 *
 * @module
 */
import type {
  JobDetailView,
  JobInfoView,
  RequestEntryView,
  RequestView,
  TaskDescView,
  TaskView,
} from "../protocol/mod.ts";
import { assertNever } from "../common/mod.ts";
import { f64, type JsonFloat, type JsonValue } from "./json.ts";
import { formatJsonDatetime } from "./dates.ts";
import {
  JOB_SUMMARY_ORDER,
  type JobStatus,
  jobSummaryCounts,
  type JobWaitCounts,
} from "./job_status.ts";

/**
 * A duration in ms as HyperQueue's `format_duration`: f64 seconds (`secs + nanos * 1e-9`).
 *
 * @example Usage
 * ```ts
 * import { durationJson } from "./hq_json.ts";
 * import { formatJson } from "./json.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatJson(durationJson(1500)), "1.5");
 * assert.equal(formatJson(durationJson(2000)), "2.0");
 * ```
 */
export function durationJson(ms: number): JsonFloat {
  const secs = Math.floor(ms / 1000);
  const nanos = Math.round((ms - secs * 1000) * 1_000_000);
  return f64(secs + nanos * 1e-9);
}

/**
 * A duration in ms as serde serializes a raw `std::time::Duration`: `{"nanos", "secs"}`.
 *
 * @example Usage
 * ```ts
 * import { rawDurationJson } from "./hq_json.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(rawDurationJson(1500), { secs: 1, nanos: 500_000_000 });
 * ```
 */
export function rawDurationJson(ms: number): JsonValue {
  const secs = Math.floor(ms / 1000);
  return { secs, nanos: Math.round((ms - secs * 1000) * 1_000_000) };
}

/** `job list` element (`format_job_info`). */
export function jobInfoJson(job: JobInfoView): JsonValue {
  const s = job.task_stats;
  return {
    id: job.id,
    name: job.name,
    task_count: job.task_count,
    is_open: job.is_open,
    cancel_reason: job.cancel_reason,
    task_stats: {
      running: s.running,
      finished: s.finished,
      failed: s.failed,
      canceled: s.canceled,
      aborted: s.aborted,
      waiting: s.waiting,
    },
  };
}

/** `job list`: the listed jobs (already filtered) by id. */
export function jobListJson(jobs: readonly JobInfoView[]): JsonValue {
  return jobs.map(jobInfoJson);
}

/**
 * A task object (`format_tasks`): `{id, state}`, plus `cwd`/`stdout`/`stderr`
 * once it has started, `started_at` and `worker` (one worker) or `workers`
 * (several) while running, finished or failed after starting,
 * `finished_at` when finished or failed, and `error` when failed.
 *
 * @example Usage
 * ```ts
 * import { taskJson } from "./hq_json.ts";
 * import assert from "node:assert/strict";
 * const waiting = {
 *   id: 3,
 *   state: "waiting" as const,
 *   instance: 0,
 *   crash_count: 0,
 *   started_at: null,
 *   finished_at: null,
 *   workers: [],
 *   paths: null,
 *   error: null,
 * };
 * assert.deepEqual(taskJson(waiting), { id: 3, state: "waiting" });
 * const failed = {
 *   ...waiting,
 *   state: "failed" as const,
 *   started_at: Date.UTC(2026, 0, 1),
 *   finished_at: Date.UTC(2026, 0, 1, 0, 0, 5),
 *   workers: [{ id: 2, hostname: "n2" }],
 *   paths: { cwd: "/w", stdout: null, stderr: null },
 *   error: "Error: Program terminated with exit code 1.",
 * };
 * assert.deepEqual(taskJson(failed), {
 *   id: 3,
 *   state: "failed",
 *   cwd: "/w",
 *   stdout: null,
 *   stderr: null,
 *   started_at: "2026-01-01T00:00:00Z",
 *   worker: 2,
 *   finished_at: "2026-01-01T00:00:05Z",
 *   error: "Error: Program terminated with exit code 1.",
 * });
 * ```
 */
export function taskJson(task: TaskView): JsonValue {
  const out: Record<string, JsonValue> = { id: task.id, state: task.state };
  if (task.paths !== null) {
    out.cwd = task.paths.cwd;
    out.stdout = stdioJson(task.paths.stdout, task.paths.stream?.stdout);
    out.stderr = stdioJson(task.paths.stderr, task.paths.stream?.stderr);
  }
  const startedData = task.started_at !== null &&
    (task.state === "running" || task.state === "finished" || task.state === "failed");
  if (startedData) {
    out.started_at = formatJsonDatetime(task.started_at!);
    if (task.workers.length === 1) out.worker = task.workers[0]!.id;
    else out.workers = task.workers.map((w) => w.id);
  }
  if ((task.state === "finished" || task.state === "failed") && task.finished_at !== null) {
    out.finished_at = formatJsonDatetime(task.finished_at);
  }
  if (task.state === "failed") out.error = task.error ?? "";
  return out;
}

/**
 * An allocation request as serde prints tako's `AllocationRequest`: the policy as the key,
 * the amount in 1/10000 as the value, and `"All"` alone.
 *
 * @example Usage
 * ```ts
 * import { allocationRequestJson } from "./hq_json.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(allocationRequestJson({ resource: "cpus", amount: 20000, policy: "compact" }), {
 *   Compact: 20000,
 * });
 * assert.equal(allocationRequestJson({ resource: "gpus", amount: 0, policy: "all" }), "All");
 * ```
 */
export function allocationRequestJson(entry: RequestEntryView): JsonValue {
  switch (entry.policy) {
    case "all":
      return "All";
    case "compact":
      return { Compact: entry.amount };
    case "forceCompact":
      return { ForceCompact: entry.amount };
    case "tight":
      return { Tight: entry.amount };
    case "forceTight":
      return { ForceTight: entry.amount };
    case "scatter":
      return { Scatter: entry.amount };
    default:
      return assertNever(entry.policy, "allocation policy");
  }
}

function requestJson(rq: RequestView): JsonValue {
  return {
    n_nodes: rq.n_nodes,
    min_time: durationJson(rq.min_time_ms),
    weight: rq.weight,
    resources: rq.entries.map((e) => ({
      resource: e.resource,
      request: allocationRequestJson(e),
    })),
  };
}

/** An output channel (`format_stdio_def`): its path, null when discarded, `"<pipe>"` when streamed. */
function stdioJson(path: string | null, streamed: boolean | undefined): JsonValue {
  return streamed ? "<pipe>" : path;
}

/** A task description (`format_task_description`); `pin_mode` `omp` prints `"openmp"`. */
export function taskDescJson(desc: TaskDescView): JsonValue {
  const crash = desc.crash_limit;
  return {
    program: {
      args: desc.program.args,
      env: desc.program.env,
      cwd: desc.program.cwd,
      stdout: stdioJson(desc.program.stdout, desc.stream?.stdout),
      stderr: stdioJson(desc.program.stderr, desc.stream?.stderr),
    },
    resources: desc.requests.map(requestJson),
    pin_mode: desc.pin_mode === "omp" ? "openmp" : desc.pin_mode,
    priority: desc.priority,
    time_limit: desc.time_limit_ms === null ? null : durationJson(desc.time_limit_ms),
    task_dir: desc.task_dir,
    crash_limit: crash,
  };
}

/** `job info` element (`format_job_detail`) with the job's tasks (fetched in pages). */
export function jobDetailJson(job: JobDetailView, tasks: readonly TaskView[]): JsonValue {
  return {
    info: jobInfoJson(job.info),
    max_fails: job.max_fails,
    started_at: formatJsonDatetime(job.submitted_at),
    finished_at: job.completed_at === null ? null : formatJsonDatetime(job.completed_at),
    submits: job.submits.map((s) => ({ array: taskDescJson(s.task_desc) })),
    tasks: tasks.map(taskJson),
  };
}

/** `job info <selector>`: the found jobs by id (`[]` when none), with their tasks by job id. */
export function jobDetailsJson(
  jobs: readonly JobDetailView[],
  tasks: Readonly<Record<string, readonly TaskView[]>>,
): JsonValue {
  return jobs.map((job) => jobDetailJson(job, tasks[String(job.info.id)] ?? []));
}

/** `task list`: tasks keyed by job id (as a string). */
export function taskListJson(byJob: Readonly<Record<string, readonly TaskView[]>>): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const [jobId, tasks] of Object.entries(byJob)) out[jobId] = tasks.map(taskJson);
  return out;
}

/** `task info`: the found tasks of one job. */
export function taskInfoJson(tasks: readonly TaskView[]): JsonValue {
  return tasks.map(taskJson);
}

const SUMMARY_KEY: Record<JobStatus, string> = {
  RUNNING: "Running",
  WAITING: "Waiting",
  FINISHED: "Finished",
  FAILED: "Failed",
  ABORTED: "Aborted",
  CANCELED: "Canceled",
  OPENED: "Opened",
};

/**
 * `job summary`: jobs per state, TitleCase keys; `Opened` only when a job is open and idle.
 *
 * @example Usage
 * ```ts
 * import { jobSummaryJson } from "./hq_json.ts";
 * import assert from "node:assert/strict";
 * const stats = { running: 0, waiting: 0, finished: 0, failed: 0, canceled: 0, aborted: 0 };
 * const job = (id: number, s: Partial<typeof stats>) => ({
 *   id,
 *   name: "j",
 *   task_count: 1,
 *   is_open: false,
 *   task_stats: { ...stats, ...s },
 *   cancel_reason: null,
 * });
 * assert.deepEqual(jobSummaryJson([job(1, { waiting: 1 })]), {
 *   Running: 0,
 *   Waiting: 1,
 *   Finished: 0,
 *   Failed: 0,
 *   Aborted: 0,
 *   Canceled: 0,
 * });
 * ```
 */
export function jobSummaryJson(jobs: readonly JobInfoView[]): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const status of JOB_SUMMARY_ORDER) out[SUMMARY_KEY[status]] = 0;
  for (const [status, n] of jobSummaryCounts(jobs)) out[SUMMARY_KEY[status]] = n;
  return out;
}

/**
 * `job wait` (and the second document of `submit --wait`); `durationMs` is the client's wait.
 *
 * @example Usage
 * ```ts
 * import { jobWaitJson } from "./hq_json.ts";
 * import { formatJson } from "./json.ts";
 * import assert from "node:assert/strict";
 * const counts = { finished: 2, failed: 0, canceled: 0, invalid: 0 };
 * assert.equal(
 *   formatJson(jobWaitJson(counts, 250)),
 *   [
 *     "{",
 *     '  "canceled": 0,',
 *     '  "duration": 0.25,',
 *     '  "failed": 0,',
 *     '  "finished": 2,',
 *     '  "invalid": 0',
 *     "}",
 *   ].join("\n"),
 * );
 * ```
 */
export function jobWaitJson(counts: JobWaitCounts, durationMs: number): JsonValue {
  return {
    finished: counts.finished,
    failed: counts.failed,
    canceled: counts.canceled,
    invalid: counts.invalid,
    duration: durationJson(durationMs),
  };
}

/**
 * `submit` / `job submit`: `{"id": N}`.
 *
 * @example Usage
 * ```ts
 * import { submitJson } from "./hq_json.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(submitJson(4), { id: 4 });
 * ```
 */
export function submitJson(jobId: number): JsonValue {
  return { id: jobId };
}

/**
 * `job task-ids`: ascending task ids keyed by job id (as a string).
 *
 * @example Usage
 * ```ts
 * import { taskIdsJson } from "./hq_json.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(taskIdsJson({ "2": [5, 1, 3] }), { "2": [1, 3, 5] });
 * ```
 */
export function taskIdsJson(byJob: Readonly<Record<string, readonly number[]>>): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const [jobId, ids] of Object.entries(byJob)) out[jobId] = [...ids].sort((a, b) => a - b);
  return out;
}

/** What a command that prints nothing prints in JSON mode. */
export function emptyJson(): JsonValue {
  return {};
}

/**
 * An error in JSON mode: `{"error": message}` (exit code 1).
 *
 * @example Usage
 * ```ts
 * import { errorJson } from "./hq_json.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(errorJson("Job 9 not found"), { error: "Job 9 not found" });
 * ```
 */
export function errorJson(message: string): JsonValue {
  return { error: message };
}
