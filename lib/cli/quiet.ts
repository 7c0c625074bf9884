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
import type { JobInfoView } from "../scheduler/views.ts";
import type { WorkerView } from "../scheduler/worker_views.ts";
import { JOB_SUMMARY_ORDER, jobStatus, jobSummaryCounts } from "./job_status.ts";
import { workerStateText } from "./render_workers.ts";

/** `submit` in quiet mode. */
export function quietSubmit(jobId: number): string[] {
  return [String(jobId)];
}

/** `job list` in quiet mode (the listed jobs, no footer). */
export function quietJobList(jobs: readonly JobInfoView[]): string[] {
  return jobs.map((j) => `${j.id} ${jobStatus(j)}`);
}

/** `job summary` in quiet mode. */
export function quietJobSummary(jobs: readonly JobInfoView[]): string[] {
  const counts = jobSummaryCounts(jobs);
  return JOB_SUMMARY_ORDER.map((s) => `${s} ${counts.get(s) ?? 0}`);
}

/** `worker list` in quiet mode. */
export function quietWorkerList(workers: readonly WorkerView[]): string[] {
  return workers.map((w) => `${w.id} ${workerStateText(w.state)}`);
}

/** `server start` in quiet mode. */
export function quietServerStart(serverDir: string): string[] {
  return [serverDir];
}
