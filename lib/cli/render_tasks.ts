/**
 * HyperQueue's `cli` texts for tasks: `task list` and `task info` (`task
 * explain` is in `render_explain.ts`). Pure: `now` and the local UTC offset come in as options.
 * The list and info renderers say whether they shortened an error, so the
 * caller can log HyperQueue's hint ({@link TRUNCATED_LIST_HINT},
 * {@link TRUNCATED_INFO_HINT}) at INFO level.
 *
 * @module
 */
import type { JobDetailView, SubmitView, TaskView } from "../protocol/mod.ts";
import {
  formatDurationExact,
  formatHumanDuration,
  formatIdSet,
  idSetFromIds,
  idSetHas,
} from "../common/mod.ts";
import { renderTable, renderVerticalTable } from "./table.ts";
import { formatLocalTime, type UtcOffset } from "./dates.ts";
import { formatResourceVariants } from "./resource_text.ts";
import { environmentLines, stdioText, truncateError, wrapText } from "./text_util.ts";
import { taskWorkersText } from "./render_jobs.ts";

/** INFO line after a `task list` that shortened an error. */
export const TRUNCATED_LIST_HINT =
  "An error message was truncated. Use -v to display the full error.";
/** INFO line after a `task info` that shortened an error. */
export const TRUNCATED_INFO_HINT =
  "An error message(s) was truncated. Use -v to display the full error(s).";

/** A rendered text and whether an error in it was shortened. */
export interface RenderedTasks {
  text: string;
  /** Whether an error was cut (log the matching hint). */
  truncated: boolean;
}

/** Options of {@link renderTaskList}. */
export interface TaskListOptions {
  /** Current time, for the makespan of running tasks. */
  now: number;
  /** `-v`: full errors. @default {false} */
  verbose?: boolean;
}

/**
 * The task state word of `task list` and `task info`: the state in capitals.
 *
 * @example Usage
 * ```ts
 * import { taskStateText } from "./render_tasks.ts";
 * import assert from "node:assert/strict";
 * const task = {
 *   id: 0,
 *   state: "canceled" as const,
 *   instance: 0,
 *   crash_count: 0,
 *   started_at: null,
 *   finished_at: null,
 *   workers: [],
 *   paths: null,
 *   error: null,
 * };
 * assert.equal(taskStateText(task), "CANCELED");
 * ```
 */
export function taskStateText(task: TaskView): string {
  return task.state.toUpperCase();
}

function makespan(task: TaskView, now: number): string {
  if (task.started_at === null) return "";
  return formatHumanDuration((task.finished_at ?? now) - task.started_at);
}

/**
 * `task list`: Job ID (with several jobs) | Task ID | State | Worker |
 * Makespan | Error, sorted by job and task id, ids right-justified; errors
 * cut at 16 bytes unless verbose.
 */
export function renderTaskList(
  byJob: Readonly<Record<string, readonly TaskView[]>>,
  options: TaskListOptions,
): RenderedTasks {
  const jobIds = Object.keys(byJob).sort((a, b) => Number(a) - Number(b));
  const multi = jobIds.length !== 1;
  let truncated = false;
  const rows: string[][] = [];
  for (const jobId of jobIds) {
    for (const t of [...byJob[jobId]!].sort((a, b) => a.id - b.id)) {
      let error = "";
      if (t.state === "failed" || (t.state === "aborted" && t.error)) {
        const cut = options.verbose ? { text: t.error ?? "", truncated: false } : truncateError(
          t.error ?? "",
          16,
        );
        error = cut.text;
        truncated ||= cut.truncated;
      }
      rows.push([
        ...(multi ? [jobId] : []),
        String(t.id),
        taskStateText(t),
        taskWorkersText(t),
        makespan(t, options.now),
        error,
      ]);
    }
  }
  const header = [...(multi ? ["Job ID"] : []), "Task ID", "State", "Worker", "Makespan", "Error"];
  const justify = multi ? ["right", "right"] as const : ["right"] as const;
  return { text: renderTable(header, rows, { justify }), truncated };
}

/** Options of {@link renderTaskInfo}. */
export interface TaskInfoOptions {
  /** Current time, for the makespan of a running task. */
  now: number;
  /** Local time zone, for Start and End. */
  utcOffset: UtcOffset;
  /** `-v`: the full error. @default {false} */
  verbose?: boolean;
}

function submitOf(job: JobDetailView, taskId: number): SubmitView {
  return job.submits.find((s) => idSetHas(s.ids, taskId)) ?? job.submits[0]!;
}

/**
 * `task info` of one task of `job`: the vertical table in HyperQueue's row
 * order (resolved paths once it started; error cut at 237 bytes unless
 * verbose).
 */
export function renderTaskInfo(
  job: JobDetailView,
  task: TaskView,
  options: TaskInfoOptions,
): RenderedTasks {
  const d = submitOf(job, task.id).task_desc;
  const started = task.started_at;
  const end = started === null ? null : task.finished_at;
  let error = "";
  let truncated = false;
  if (task.state === "failed" || (task.state === "aborted" && task.error)) {
    const cut = options.verbose
      ? { text: task.error ?? "", truncated: false }
      : truncateError(task.error ?? "", 237);
    error = cut.text;
    truncated = cut.truncated;
  }
  const p = task.paths;
  const text = renderVerticalTable([
    ["Task ID", String(task.id)],
    ["State", taskStateText(task)],
    ["Command", d.program.args.map((a) => wrapText(a)).join("\n")],
    ["Environment", environmentLines(d.program.env)],
    ["Worker", taskWorkersText(task)],
    ["Start", started === null ? "" : formatLocalTime(started, options.utcOffset)],
    ["End", end === null ? "" : formatLocalTime(end, options.utcOffset)],
    ["Makespan", makespan(task, options.now)],
    ["Workdir", p === null ? "" : p.cwd],
    ["Stdout", p === null ? "" : stdioText(p.stdout, p.stream?.stdout)],
    ["Stderr", p === null ? "" : stdioText(p.stderr, p.stream?.stderr)],
    ["Time limit", d.time_limit_ms === null ? "None" : formatDurationExact(d.time_limit_ms)],
    ["Resources", formatResourceVariants(d.requests)],
    ["Priority", String(d.priority)],
    ["Pin", d.pin_mode ?? "none"],
    ["Task dir", d.task_dir ? "yes" : "no"],
    ["Crash limit", String(d.crash_limit)],
    ["Dependencies", task.deps?.join(",") ?? ""],
    ["Error", error],
  ]);
  return { text, truncated };
}

/**
 * `job task-ids` in `cli` mode: for one job its ids as an id array
 * (`2,7,9,20-30`, an empty line for none); for several, `<job>: <ids>` per
 * job by id.
 *
 * @example Usage
 * ```ts
 * import { renderTaskIds } from "./render_tasks.ts";
 * import assert from "node:assert/strict";
 * assert.equal(renderTaskIds({ "1": [9, 2, 7, 3] }), "2-3,7,9");
 * assert.equal(renderTaskIds({ "10": [0], "2": [] }), "2: \n10: 0");
 * ```
 */
export function renderTaskIds(byJob: Readonly<Record<string, readonly number[]>>): string {
  const jobIds = Object.keys(byJob).sort((a, b) => Number(a) - Number(b));
  const text = (id: string) => formatIdSet(idSetFromIds(byJob[id]!));
  if (jobIds.length === 1) return text(jobIds[0]!);
  return jobIds.map((id) => `${id}: ${text(id)}`).join("\n");
}
