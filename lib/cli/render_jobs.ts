/**
 * HyperQueue's `cli` texts for jobs: `job list`, `job summary`, `job info`
 * (with its failed-task table), the `job wait` line and the submit line.
 * Pure: the current time comes in as `now`.
 *
 * @module
 */
import type { JobDetailView, JobInfoView, TaskView, TaskWorkerView } from "../protocol/mod.ts";
import {
  formatDurationExact,
  formatHumanDuration,
  formatIdSet,
  type IdRange,
  idSetFromIds,
} from "../common/mod.ts";
import { renderTable, renderVerticalTable, truncateMiddle } from "./table.ts";
import { jobStateCell } from "./progress.ts";
import { formatSubmissionDate } from "./dates.ts";
import { formatResourceVariants } from "./resource_text.ts";
import { environmentLines, pluralize, selectPlural, stdioText, wrapText } from "./text_util.ts";
import {
  JOB_SUMMARY_ORDER,
  jobStatus,
  jobSummaryCounts,
  type JobWaitCounts,
} from "./job_status.ts";

/** Options of {@link renderJobList}. */
export interface JobListOptions {
  /** Number of jobs before filtering (for the `--all` hint). */
  total: number;
  /** `--verbose`: add the Cancel Reason column. @default {false} */
  verbose?: boolean;
}

/**
 * `job list`: the table (ID right-justified, `*<id>` for open jobs, names cut
 * to 50), then `* = Open jobs` when one is open, and the `--all` hint when
 * some jobs are not shown.
 */
export function renderJobList(jobs: readonly JobInfoView[], options: JobListOptions): string {
  const header = ["ID", "Name", "State", "Tasks"];
  if (options.verbose) header.push("Cancel Reason");
  const rows = jobs.map((j) => {
    const row = [
      j.is_open ? `*${j.id}` : String(j.id),
      truncateMiddle(j.name, 50),
      jobStatus(j),
      String(j.task_count),
    ];
    if (options.verbose) row.push(j.cancel_reason ?? "");
    return row;
  });
  const lines = [renderTable(header, rows, { justify: ["right"] })];
  if (jobs.some((j) => j.is_open)) lines.push("* = Open jobs");
  if (jobs.length !== options.total) {
    const n = options.total;
    lines.push(
      `There ${selectPlural("is", "are", n)} ${n} ${
        pluralize("job", n)
      } in total. Use \`--all\` to display all jobs.`,
    );
  }
  return lines.join("\n");
}

/**
 * `job summary`: Status | Count (right-justified) for every summary state.
 *
 * @example Usage
 * ```ts
 * import { renderJobSummary } from "./render_jobs.ts";
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
 * const lines = renderJobSummary([job(1, { running: 1 })]).split("\n");
 * assert.equal(lines[1], "| Status   | Count |");
 * assert.equal(lines[3], "| RUNNING  |     1 |");
 * assert.equal(lines[4], "| WAITING  |     0 |");
 * ```
 */
export function renderJobSummary(jobs: readonly JobInfoView[]): string {
  const counts = jobSummaryCounts(jobs);
  return renderTable(
    ["Status", "Count"],
    JOB_SUMMARY_ORDER.map((s) => [s, String(counts.get(s) ?? 0)]),
    { justify: ["left", "right"] },
  );
}

/** Host names of a task's workers, one per line (`N/A` for a worker the server forgot). */
export function taskWorkersText(task: TaskView): string {
  return task.workers.map((w) => w.hostname ?? "N/A").join("\n");
}

/**
 * The `Workers` row: host names of the workers tasks of the job ran on,
 * by worker id, at most two, then `, … (<count> total)`.
 */
export function jobWorkersText(workers: readonly TaskWorkerView[]): string {
  const byId = new Map<number, string>();
  for (const w of workers) byId.set(w.id, w.hostname ?? "N/A");
  const ids = [...byId.keys()].sort((a, b) => a - b);
  const text = ids.slice(0, 2).map((id) => byId.get(id)!).join(",");
  return ids.length > 2 ? `${text}, … (${ids.length} total)` : text;
}

function jobIdsText(job: JobDetailView): string {
  if (job.submits.length === 1) return formatIdSet(job.submits[0]!.ids);
  const all: IdRange[] = job.submits.flatMap((s) => s.ids);
  const ids: number[] = [];
  for (const r of all) for (let id = r.start; id <= r.end; id++) ids.push(id);
  return formatIdSet(idSetFromIds(ids));
}

function sharedDescriptionRows(job: JobDetailView): [string, string][] {
  const d = job.submits[0]!.task_desc;
  const resources = formatResourceVariants(d.requests);
  return [
    ["Resources", d.pin_mode === null ? resources : `${resources} [pin]`],
    ["Priority", String(d.priority)],
    ["Command", d.program.args.map((a) => wrapText(a)).join("\n")],
    ["Stdout", stdioText(d.program.stdout, d.stream?.stdout)],
    ["Stderr", stdioText(d.program.stderr, d.stream?.stderr)],
    ["Environment", environmentLines(d.program.env)],
    ["Working directory", d.program.cwd],
    ["Task time limit", d.time_limit_ms === null ? "None" : formatDurationExact(d.time_limit_ms)],
    ["Crash limit", String(d.crash_limit)],
  ];
}

/**
 * The failed-task table under `job info` and `job wait`: the first five
 * failed tasks by id (Task ID | Worker | Error, the full error), then
 * `<n> tasks failed.` (with `(<k> shown)` when more failed); empty when
 * none failed.
 */
export function renderFailedTasks(job: JobDetailView): string {
  const shown = job.failed;
  if (shown.length === 0) return "";
  const table = renderTable(
    ["Task ID", "Worker", "Error"],
    shown.map((t) => [String(t.id), taskWorkersText(t), t.error ?? ""]),
  );
  const n = Math.max(job.info.task_stats.failed, shown.length);
  const footer = shown.length < n
    ? `${n} tasks failed. (${shown.length} shown)`
    : `${n} tasks failed.`;
  return `${table}\n${footer}`;
}

/**
 * Why tasks were aborted (a failed, canceled or aborted dependency; `--after` jobs), under
 * `job info`: the first five by id (Task ID | Error), then `<n> tasks aborted.`; empty when
 * no aborted task has a reason (aborted by `--max-fails`).
 */
export function renderAbortedTasks(job: JobDetailView): string {
  const shown = job.aborted;
  if (shown.length === 0) return "";
  const n = job.aborted_count;
  const table = renderTable(["Task ID", "Error"], shown.map((t) => [String(t.id), t.error ?? ""]));
  const footer = shown.length < n
    ? `${n} tasks aborted. (${shown.length} shown)`
    : `${n} tasks aborted.`;
  return `${table}\n${footer}`;
}

/** Options of {@link renderJobInfo}. */
export interface JobInfoOptions {
  /** Current time (ms since the epoch), for the makespan of a job still running. */
  now: number;
}

/**
 * `job info` of one job: the vertical table in HyperQueue's row order, then
 * the failed-task table when a task failed, and why tasks were aborted.
 */
export function renderJobInfo(job: JobDetailView, options: JobInfoOptions): string {
  const info = job.info;
  const rows: [string, string][] = [
    ["ID", String(info.id)],
    ["Name", info.name],
    [
      "State",
      info.task_count === 1 ? jobStatus(info) : jobStateCell(info.task_stats, info.task_count),
    ],
  ];
  if (info.cancel_reason !== null) rows.push(["Cancel Reason", info.cancel_reason]);
  const ids = jobIdsText(job);
  rows.push(
    ["Session", info.is_open ? "open" : "closed"],
    ["Tasks", ids === "" ? String(info.task_count) : `${info.task_count}; Ids: ${ids}`],
    ["Workers", jobWorkersText(job.workers)],
  );
  if (job.submits.length === 1) rows.push(...sharedDescriptionRows(job));
  rows.push(["Submission date", formatSubmissionDate(job.submitted_at)]);
  if (job.submits.length === 1) rows.push(["Submission directory", job.submits[0]!.submit_dir]);
  rows.push([
    "Makespan",
    formatHumanDuration((job.completed_at ?? options.now) - job.submitted_at),
  ]);
  const parts = [renderVerticalTable(rows), renderFailedTasks(job), renderAbortedTasks(job)];
  return parts.filter((p) => p !== "").join("\n");
}

/**
 * The line `submit` prints in `cli` mode.
 *
 * @example Usage
 * ```ts
 * import { submitText } from "./render_jobs.ts";
 * import assert from "node:assert/strict";
 * assert.equal(submitText(3), "Job submitted successfully, job ID: 3");
 * ```
 */
export function submitText(jobId: number): string {
  return `Job submitted successfully, job ID: ${jobId}`;
}

/**
 * `job wait` (and `submit --wait`): the failed-task tables of the failed
 * jobs, then `Wait finished in <duration>: 1 job finished, 2 jobs failed`
 * (non-zero parts; the duration exact, as humantime prints it).
 */
export function renderJobWait(
  counts: JobWaitCounts,
  durationMs: number,
  failedJobs: readonly JobDetailView[] = [],
): string {
  const parts: string[] = [];
  const add = (n: number, action: string) => {
    if (n > 0) parts.push(`${n} ${pluralize("job", n)} ${action}`);
  };
  add(counts.finished, "finished");
  add(counts.failed, "failed");
  add(counts.canceled, "canceled");
  add(counts.invalid, "invalid");
  const lines = failedJobs.map(renderFailedTasks).filter((t) => t !== "");
  lines.push(`Wait finished in ${formatDurationExact(durationMs)}: ${parts.join(", ")}`);
  return lines.join("\n");
}
