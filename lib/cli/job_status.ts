/**
 * Job and task states as HyperQueue's client derives and filters them
 * (`client/status.rs`, `job list` filters, `job summary`, `job wait`).
 *
 * @module
 */
import type { JobInfoView, TaskStatsView } from "../protocol/mod.ts";
import { idSetIterate, parseSelector } from "../common/mod.ts";

/** A job state word. */
export type JobStatus =
  | "WAITING"
  | "RUNNING"
  | "FINISHED"
  | "FAILED"
  | "ABORTED"
  | "CANCELED"
  | "OPENED";

/** The states `job summary` lists, in its order. */
export const JOB_SUMMARY_ORDER: readonly JobStatus[] = [
  "RUNNING",
  "WAITING",
  "FINISHED",
  "FAILED",
  "ABORTED",
  "CANCELED",
];

/**
 * Job state from its counts (first rule that matches): any running task →
 * RUNNING, any task left → WAITING, then FAILED, ABORTED, CANCELED, and
 * FINISHED. Ignores whether the job is open ({@link jobStatus} does not).
 *
 * @example Usage
 * ```ts
 * import { jobState } from "./job_status.ts";
 * import assert from "node:assert/strict";
 * const stats = { running: 0, waiting: 0, finished: 0, failed: 0, canceled: 0, aborted: 0 };
 * assert.equal(jobState({ ...stats, running: 1, failed: 1 }), "RUNNING");
 * assert.equal(jobState({ ...stats, finished: 9, canceled: 1 }), "CANCELED");
 * assert.equal(jobState(stats), "FINISHED"); // a job without tasks
 * ```
 */
export function jobState(stats: TaskStatsView): JobStatus {
  if (stats.running > 0) return "RUNNING";
  if (stats.waiting > 0) return "WAITING";
  if (stats.failed > 0) return "FAILED";
  if (stats.aborted > 0) return "ABORTED";
  if (stats.canceled > 0) return "CANCELED";
  return "FINISHED";
}

/**
 * Job state as HyperQueue shows it: {@link jobState}, but an open job with nothing else to say
 * is OPENED.
 *
 * @example Usage
 * ```ts
 * import { jobStatus } from "./job_status.ts";
 * import assert from "node:assert/strict";
 * const stats = { running: 0, waiting: 0, finished: 2, failed: 0, canceled: 0, aborted: 0 };
 * assert.equal(jobStatus({ task_stats: stats, is_open: true }), "OPENED");
 * assert.equal(jobStatus({ task_stats: stats, is_open: false }), "FINISHED");
 * ```
 */
export function jobStatus(job: Pick<JobInfoView, "task_stats" | "is_open">): JobStatus {
  const state = jobState(job.task_stats);
  return state === "FINISHED" && job.is_open ? "OPENED" : state;
}

/** Options of {@link filterJobList}. */
export interface JobListFilter {
  /** `--all`: every job. @default {false} */
  all?: boolean;
  /** `--filter`: only jobs in these states (open jobs are then not kept on their own). */
  states?: readonly JobStatus[] | null;
}

/**
 * The jobs `job list` shows: with `--filter` those in the given states,
 * with `--all` every job, and by default waiting, running and open jobs.
 *
 * @example Usage
 * ```ts
 * import { filterJobList } from "./job_status.ts";
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
 * const jobs = [job(1, { finished: 1 }), job(2, { waiting: 1 }), job(3, { failed: 1 })];
 * assert.deepEqual(filterJobList(jobs).map((j) => j.id), [2]);
 * assert.deepEqual(filterJobList(jobs, { all: true }).map((j) => j.id), [1, 2, 3]);
 * assert.deepEqual(filterJobList(jobs, { states: ["FAILED"] }).map((j) => j.id), [3]);
 * ```
 */
export function filterJobList(
  jobs: readonly JobInfoView[],
  filter: JobListFilter = {},
): JobInfoView[] {
  const states = filter.states ?? null;
  return jobs.filter((j) => {
    const status = jobStatus(j);
    if (states !== null) return states.includes(status);
    if (filter.all) return true;
    return j.is_open || status === "WAITING" || status === "RUNNING" || status === "OPENED";
  });
}

/**
 * Jobs per state for `job summary` (HyperQueue's `group_jobs_by_status`):
 * every state of {@link JOB_SUMMARY_ORDER} starts at 0; OPENED appears only
 * when a job is in it.
 *
 * @example Usage
 * ```ts
 * import { jobSummaryCounts } from "./job_status.ts";
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
 * const counts = jobSummaryCounts([job(1, { running: 1 }), job(2, { running: 1 })]);
 * assert.equal(counts.get("RUNNING"), 2);
 * assert.equal(counts.get("FAILED"), 0);
 * assert.equal(counts.has("OPENED"), false);
 * ```
 */
export function jobSummaryCounts(jobs: readonly JobInfoView[]): Map<JobStatus, number> {
  const counts = new Map<JobStatus, number>(JOB_SUMMARY_ORDER.map((s) => [s, 0]));
  for (const j of jobs) {
    const status = jobStatus(j);
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return counts;
}

/** What `job wait` reports (HyperQueue's `WaitForJobsResponse`). */
export interface JobWaitCounts {
  finished: number;
  failed: number;
  canceled: number;
  /** Requested jobs that do not exist. */
  invalid: number;
}

/**
 * Counts waited-for jobs by outcome: FINISHED (or OPENED) as finished,
 * FAILED and ABORTED as failed, CANCELED as canceled; `notFound` job ids
 * are invalid.
 *
 * @example Usage
 * ```ts
 * import { jobWaitCounts } from "./job_status.ts";
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
 * assert.deepEqual(jobWaitCounts([job(1, { finished: 1 }), job(2, { aborted: 1 })], 3), {
 *   finished: 1,
 *   failed: 1,
 *   canceled: 0,
 *   invalid: 3,
 * });
 * ```
 */
export function jobWaitCounts(jobs: readonly JobInfoView[], notFound = 0): JobWaitCounts {
  const counts: JobWaitCounts = { finished: 0, failed: 0, canceled: 0, invalid: notFound };
  for (const j of jobs) {
    const status = jobStatus(j);
    if (status === "FAILED" || status === "ABORTED") counts.failed++;
    else if (status === "CANCELED") counts.canceled++;
    else counts.finished++;
  }
  return counts;
}

/** Most ids {@link missingIds} lists from one selector. */
export const MAX_MISSING_IDS = 10_000;

/**
 * Ids an id-set selector names that are not among `found` (for `Job <id>
 * not found` and similar lines), ascending; `last` and `all` name no
 * missing ids. At most {@link MAX_MISSING_IDS} are listed.
 *
 * @example Usage
 * ```ts
 * import { missingIds } from "./job_status.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(missingIds("1-5", [2, 3]), [1, 4, 5]);
 * assert.deepEqual(missingIds("last", []), []);
 * ```
 *
 * @throws {SyntaxError|RangeError} When the selector does not parse.
 */
export function missingIds(selector: string, found: Iterable<number>): number[] {
  const sel = parseSelector(selector);
  if (sel.kind !== "ids") return [];
  const have = new Set(found);
  const out: number[] = [];
  for (const id of idSetIterate(sel.ids)) {
    if (!have.has(id)) out.push(id);
    if (out.length >= MAX_MISSING_IDS) break;
  }
  return out;
}
