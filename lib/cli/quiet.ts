/**
 * HyperQueue's `quiet` output mode: the few commands that print anything
 * print one short line per item; every other command prints nothing (log
 * lines still go to stderr). Each function returns the lines to print.
 *
 * | command | lines |
 * | --- | --- |
 * | `submit`, `job submit` | `<job id>` |
 * | `job list` | `<id> <STATE>` per listed job |
 * | `job summary` | `<STATE> <count>` per summary state |
 * | `worker list` | `<id> <STATE>` per listed worker |
 * | `server start` | the server directory |
 *
 * @module
 */
import type { JobInfoView, WorkerView } from "../protocol/mod.ts";
import { JOB_SUMMARY_ORDER, jobStatus, jobSummaryCounts } from "./job_status.ts";
import { workerStateText } from "./render_workers.ts";

/**
 * `submit` in quiet mode: the job id alone.
 *
 * @example Usage
 * ```ts
 * import { quietSubmit } from "./quiet.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(quietSubmit(7), ["7"]);
 * ```
 */
export function quietSubmit(jobId: number): string[] {
  return [String(jobId)];
}

/**
 * `job list` in quiet mode (the listed jobs, no footer).
 *
 * @example Usage
 * ```ts
 * import { quietJobList } from "./quiet.ts";
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
 * assert.deepEqual(quietJobList([job(1, { finished: 1 }), job(2, { running: 1 })]), [
 *   "1 FINISHED",
 *   "2 RUNNING",
 * ]);
 * ```
 */
export function quietJobList(jobs: readonly JobInfoView[]): string[] {
  return jobs.map((j) => `${j.id} ${jobStatus(j)}`);
}

/**
 * `job summary` in quiet mode: every summary state with its count, zeros included.
 *
 * @example Usage
 * ```ts
 * import { quietJobSummary } from "./quiet.ts";
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
 * assert.deepEqual(quietJobSummary([job(1, { failed: 1 })]), [
 *   "RUNNING 0",
 *   "WAITING 0",
 *   "FINISHED 0",
 *   "FAILED 1",
 *   "ABORTED 0",
 *   "CANCELED 0",
 * ]);
 * ```
 */
export function quietJobSummary(jobs: readonly JobInfoView[]): string[] {
  const counts = jobSummaryCounts(jobs);
  return JOB_SUMMARY_ORDER.map((s) => `${s} ${counts.get(s) ?? 0}`);
}

/** `worker list` in quiet mode. */
export function quietWorkerList(workers: readonly WorkerView[]): string[] {
  return workers.map((w) => `${w.id} ${workerStateText(w.state)}`);
}

/**
 * `server start` in quiet mode: the server directory.
 *
 * @example Usage
 * ```ts
 * import { quietServerStart } from "./quiet.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(quietServerStart("/home/u/.hq-server"), ["/home/u/.hq-server"]);
 * ```
 */
export function quietServerStart(serverDir: string): string[] {
  return [serverDir];
}
