/**
 * Transitional: the renderer names and signatures the role files called
 * before the HyperQueue-exact outputs, as thin wrappers. They read the clock
 * and the local time zone themselves, so they are for shells only; the real,
 * pure renderers take `now` and the UTC offset as options and live in
 * `render_jobs.ts`, `render_tasks.ts` and `render_workers.ts` (JSON in
 * `hq_json.ts` and `hq_json_workers.ts`, quiet lines in `quiet.ts`, log
 * lines in `messages.ts`). Remove this module once the commands call those.
 *
 * @module
 */
import type { JobDetailView, JobInfoView, TaskView } from "../scheduler/views.ts";
import { JOB_SUMMARY_ORDER, jobSummaryCounts } from "./job_status.ts";
import { renderTable } from "./table.ts";
import { systemUtcOffset } from "./dates.ts";
import { renderJobInfo as jobInfoText, renderJobList as jobListText } from "./render_jobs.ts";
import { renderTaskInfo as taskInfoText, renderTaskList as taskListText } from "./render_tasks.ts";

export { jobState } from "./job_status.ts";
export { renderExplain } from "./render_explain.ts";
export { renderWorkerInfo, renderWorkerList, workerStateText } from "./render_workers.ts";

/** `job list` table (see `render_jobs.ts`). */
export function renderJobList(
  jobs: readonly JobInfoView[],
  total: number,
  verbose = false,
): string {
  return jobListText(jobs, { total, verbose });
}

/** Jobs per summary state, keyed by the state word, in HyperQueue's order. */
export function jobSummary(jobs: readonly JobInfoView[]): Record<string, number> {
  const counts = jobSummaryCounts(jobs);
  const out: Record<string, number> = {};
  for (const s of JOB_SUMMARY_ORDER) out[s] = counts.get(s) ?? 0;
  return out;
}

/** `job summary` table of {@link jobSummary} counts. */
export function renderJobSummary(summary: Readonly<Record<string, number>>): string {
  return renderTable(
    ["Status", "Count"],
    JOB_SUMMARY_ORDER.map((s) => [s, String(summary[s] ?? 0)]),
    { justify: ["left", "right"] },
  );
}

/** `job info` of one job, with the makespan measured against the clock now. */
export function renderJobInfo(job: JobDetailView): string {
  return jobInfoText(job, { now: Date.now() });
}

/** `task list` table (the truncation hint is not logged here). */
export function renderTaskList(byJob: Record<string, TaskView[]>, verbose: boolean): string {
  return taskListText(byJob, { now: Date.now(), verbose }).text;
}

/** `task info` table of one task, times in the local time zone. */
export function renderTaskInfo(job: JobDetailView, task: TaskView): string {
  return taskInfoText(job, task, { now: Date.now(), utcOffset: systemUtcOffset }).text;
}
