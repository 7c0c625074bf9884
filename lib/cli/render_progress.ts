/**
 * The line `hq submit --progress` and `hq job progress` keep redrawing:
 * `[####....] 1/2 jobs, 30/60 tasks 2 RUNNING 28 FINISHED`, as HyperQueue
 * prints it.
 *
 * @module
 */
import type { JobInfoView } from "../protocol/mod.ts";
import { completedCount, renderProgressBar } from "./progress.ts";
import { pluralize } from "./text_util.ts";

/**
 * `Waiting for 1 job with 10 tasks` (the INFO line before the bar).
 *
 * @example Usage
 * ```ts
 * import { progressStartText } from "./render_progress.ts";
 * import assert from "node:assert/strict";
 * const stats = { running: 0, finished: 0, failed: 0, canceled: 0, aborted: 0, waiting: 1 };
 * const job = {
 *   id: 1,
 *   name: "x",
 *   task_count: 1,
 *   is_open: false,
 *   task_stats: stats,
 *   cancel_reason: null,
 * };
 * assert.equal(progressStartText([job, { ...job, id: 2 }]), "Waiting for 2 jobs with 2 tasks");
 * ```
 */
export function progressStartText(jobs: readonly JobInfoView[]): string {
  const tasks = jobs.reduce((n, j) => n + j.task_count, 0);
  return `Waiting for ${jobs.length} ${pluralize("job", jobs.length)} with ${tasks} ${
    pluralize("task", tasks)
  }`;
}

/**
 * The progress line of the selected jobs: the bar over all their tasks, jobs done (nothing
 * running or waiting), completed tasks, and the non-zero running, finished, failed and
 * canceled counts.
 *
 * @example Usage
 * ```ts
 * import { progressLine } from "./render_progress.ts";
 * import assert from "node:assert/strict";
 * const stats = { running: 1, finished: 1, failed: 0, canceled: 0, aborted: 0, waiting: 2 };
 * const job = {
 *   id: 1,
 *   name: "x",
 *   task_count: 4,
 *   is_open: false,
 *   task_stats: stats,
 *   cancel_reason: null,
 * };
 * assert.equal(
 *   progressLine([job]),
 *   `[${"#".repeat(20)}${".".repeat(20)}] 0/1 jobs, 1/4 tasks 1 RUNNING 1 FINISHED`,
 * );
 * ```
 */
export function progressLine(jobs: readonly JobInfoView[]): string {
  const sum = { running: 0, waiting: 0, finished: 0, failed: 0, canceled: 0, aborted: 0 };
  let total = 0;
  let doneJobs = 0;
  for (const j of jobs) {
    total += j.task_count;
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += j.task_stats[k];
    if (j.task_stats.running + j.task_stats.waiting === 0 && !j.is_open) doneJobs++;
  }
  const status = statusText(sum);
  return `${renderProgressBar(sum, total)} ${doneJobs}/${jobs.length} jobs, ${
    completedCount(sum)
  }/${total} tasks${status === "" ? "" : ` ${status}`}`;
}

function statusText(sum: Record<"running" | "finished" | "failed" | "canceled", number>): string {
  return (["running", "finished", "failed", "canceled"] as const)
    .filter((k) => sum[k] > 0)
    .map((k) => `${sum[k]} ${k.toUpperCase()}`)
    .join(" ");
}

/**
 * The state counts of a progress line over all `jobs` (`2 RUNNING 5 FINISHED`), states with
 * no task left out.
 *
 * @example Usage
 * ```ts
 * import { progressStatus } from "./render_progress.ts";
 * import assert from "node:assert/strict";
 * const stats = { running: 2, waiting: 1, finished: 5, failed: 0, canceled: 0, aborted: 0 };
 * const job = { id: 1, name: "j", task_count: 8, is_open: false, task_stats: stats, cancel_reason: null };
 * assert.equal(progressStatus([job]), "2 RUNNING 5 FINISHED");
 * ```
 */
export function progressStatus(jobs: readonly JobInfoView[]): string {
  const sum = { running: 0, finished: 0, failed: 0, canceled: 0 };
  for (const j of jobs) {
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += j.task_stats[k];
  }
  return statusText(sum);
}
