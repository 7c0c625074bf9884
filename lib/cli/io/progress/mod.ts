/**
 * The live progress of jobs (`hq job progress`, `submit --progress`, and `job wait` in a
 * terminal): in a terminal, a bar drawn by `cli-progress` with HyperQueue's counts, the rate
 * of completed tasks and an ETA; otherwise one plain line each time the counts change.
 *
 * @module
 */
import cliProgress from "cli-progress";
import process from "node:process";
import type { HqClient } from "../../../client/io/mod.ts";
import { formatHumanDuration, parseSelector, resolveSelector } from "../../../common/mod.ts";
import type { JobInfoView } from "../../../protocol/mod.ts";
import { completedCount } from "../../progress.ts";
import { progressLine, progressStartText, progressStatus } from "../../render_progress.ts";
import type { Output } from "../output.ts";

/** How often the counts are asked for, in ms. */
const POLL_MS = 250;

/** Options of {@link showProgress}. */
export interface ProgressOptions {
  /** Draw to stderr instead of stdout (`job wait`, whose result goes to stdout). */
  toStderr?: boolean;
  /** Print the start line (`Waiting for N jobs with M tasks`), or the lack of jobs. @default {true} */
  announce?: boolean;
}

/** Shows the progress of the selected jobs until every one of them is complete. */
export async function showProgress(
  out: Output,
  client: HqClient,
  selector: string,
  options: ProgressOptions = {},
): Promise<void> {
  const sel = parseSelector(selector);
  const pick = (all: JobInfoView[]) => {
    const ids = new Set(resolveSelector(sel, all.map((j) => j.id)));
    return all.filter((j) => ids.has(j.id));
  };
  let jobs = pick(await client.listJobs());
  if (jobs.length === 0) {
    if (options.announce !== false) out.log("WARN", "There are no jobs to wait for");
    return;
  }
  if (options.announce !== false) out.log("INFO", progressStartText(jobs));
  const done = () => jobs.every((j) => j.task_stats.running + j.task_stats.waiting === 0);
  const bar = out.interactive && out.mode === "cli" ? liveBar(jobs, options) : null;
  let last = "";
  for (;;) {
    if (bar) bar.update(jobs);
    else {
      const line = progressLine(jobs);
      if (line !== last && out.mode === "cli") out.text(line);
      last = line;
    }
    if (done()) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
    jobs = pick(await client.listJobs());
  }
  bar?.stop();
}

/** A `cli-progress` bar showing jobs' counts, the task rate and the ETA. */
function liveBar(first: readonly JobInfoView[], options: ProgressOptions) {
  const started = Date.now();
  const completedAtStart = sumCompleted(first);
  const bar = new cliProgress.SingleBar({
    format: "[{bar}] {jobs} jobs, {value}/{total} tasks{status} | {rate} tasks/s | ETA {eta}",
    barCompleteChar: "#",
    barIncompleteChar: ".",
    barsize: 40,
    hideCursor: true,
    clearOnComplete: false,
    stream: options.toStderr ? process.stderr : process.stdout,
    // The ETA of cli-progress drops to "NULL" on stalls; ours comes from the payload.
    etaBuffer: 50,
    formatValue: (v, _o, type) => (type === "eta" ? etaText(v) : String(v)),
  });
  const payload = (jobs: readonly JobInfoView[]) => {
    const total = jobs.reduce((n, j) => n + j.task_count, 0);
    const completed = sumCompleted(jobs);
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? (completed - completedAtStart) / seconds : 0;
    const doneJobs = jobs.filter((j) => j.task_stats.running + j.task_stats.waiting === 0).length;
    const status = progressStatus(jobs);
    return {
      total,
      completed,
      jobs: `${doneJobs}/${jobs.length}`,
      status: status === "" ? "" : ` ${status}`,
      rate: rate.toFixed(1),
    };
  };
  const p0 = payload(first);
  bar.start(p0.total, p0.completed, p0);
  return {
    update(jobs: readonly JobInfoView[]) {
      const p = payload(jobs);
      bar.setTotal(p.total);
      bar.update(p.completed, p);
    },
    stop() {
      bar.stop();
    },
  };
}

function sumCompleted(jobs: readonly JobInfoView[]): number {
  return jobs.reduce((n, j) => n + completedCount(j.task_stats), 0);
}

/** An ETA in seconds as the project's durations read (`1m 5s`), or `-` while unknown. */
function etaText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "-";
  return formatHumanDuration(Math.round(seconds) * 1000);
}
