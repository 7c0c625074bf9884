/**
 * `hq job cat <JOB_SELECTOR> stdout|stderr [--tasks IDS] [--task-status STATES]
 * [--print-task-header]`: prints the output files of a job's tasks, as
 * HyperQueue's `output_job_cat` (`client/commands/job.rs`) and
 * `print_job_output` (`client/output/cli.rs`) do.
 *
 * For each job the selector names, in ascending id order:
 * - a job that does not exist logs `Job <id> was not found` (ERROR); `last`
 *   with no job at all logs `No jobs were found` (ERROR);
 * - each id of `--tasks` the job lacks logs `Task <t> of job <id> not found` (WARN);
 * - when no task is left after `--tasks` and `--task-status`, it logs
 *   `No tasks were selected for job <id>, there is nothing to print` (WARN);
 * - otherwise each selected task, by id, prints `# Job <id>, task <t>` first
 *   with `--print-task-header`, then its file's bytes as they are. A task
 *   that never started, or whose stream is `none`, logs `Task <t> has no
 *   `<stream>` stream associated with it` (WARN); a file that cannot be
 *   opened or read logs HyperQueue's warning with the Rust `io::Error`
 *   debug text.
 *
 * None of these change the exit code (0). JSON mode fails, as HyperQueue's
 * JSON printer does, when the first job with tasks to print is reached:
 * `{"error": "JSON output mode doesn't support job output"}` and exit code 1.
 *
 * The module is pure: the command gets the client call, the file reading and
 * the stdout writes through a {@link JobCatIo} (see {@link createJobCatCommand}).
 *
 * @module
 */
import type { IdRange, IdSet } from "../../common/mod.ts";
import { idSetIterate, parseIdSet } from "../../common/mod.ts";
import type { TaskView } from "../../protocol/mod.ts";
import type { Command, CommandContext } from "./mod.ts";
import { idSetArg, lastOrIdsArg } from "../arg_checks.ts";
import { type ArgSpec } from "../args.ts";
import { argString, optFlag, optList, optString } from "../parsed_values.ts";
import { MAX_MISSING_IDS, missingIds } from "../job_status.ts";
import { stateListArg, TASK_STATE_NAMES } from "../state_args.ts";
import type { LogLine } from "../messages.ts";

/** The streams `job cat` prints (HyperQueue's `OutputStream`). */
export const JOB_CAT_STREAMS = ["stdout", "stderr"] as const;

/** One stream `job cat` prints. */
export type JobCatStream = typeof JOB_CAT_STREAMS[number];

/** HyperQueue's error for `job cat` in JSON mode (`client/output/json.rs`). */
export const JOB_CAT_JSON_ERROR = "JSON output mode doesn't support job output";

/**
 * The line printed before a task's output with `--print-task-header`
 * (without its newline).
 *
 * @example Usage
 * ```ts
 * import { jobCatHeader } from "./job_cat.ts";
 * import assert from "node:assert/strict";
 * assert.equal(jobCatHeader(1, 3), "# Job 1, task 3");
 * ```
 */
export function jobCatHeader(jobId: number, taskId: number): string {
  return `# Job ${jobId}, task ${taskId}`;
}

/**
 * The warning for a task without a file for `stream`: its output is `none`,
 * or it never started.
 *
 * @example Usage
 * ```ts
 * import { noStreamMessage } from "./job_cat.ts";
 * import assert from "node:assert/strict";
 * assert.equal(noStreamMessage(0, "stdout"), "Task 0 has no `stdout` stream associated with it");
 * ```
 */
export function noStreamMessage(taskId: number, stream: JobCatStream): string {
  return `Task ${taskId} has no \`${stream}\` stream associated with it`;
}

/**
 * Rust's `ErrorKind` for a Linux errno, as `std` decodes it
 * (`sys/pal/unix/mod.rs`, `decode_error_kind`); the rest is `Uncategorized`.
 */
const ERRNO_KINDS: ReadonlyMap<number, string> = new Map([
  [1, "PermissionDenied"],
  [2, "NotFound"],
  [4, "Interrupted"],
  [7, "ArgumentListTooLong"],
  [11, "WouldBlock"],
  [12, "OutOfMemory"],
  [13, "PermissionDenied"],
  [16, "ResourceBusy"],
  [17, "AlreadyExists"],
  [18, "CrossesDevices"],
  [20, "NotADirectory"],
  [21, "IsADirectory"],
  [22, "InvalidInput"],
  [26, "ExecutableFileBusy"],
  [27, "FileTooLarge"],
  [28, "StorageFull"],
  [29, "NotSeekable"],
  [30, "ReadOnlyFilesystem"],
  [31, "TooManyLinks"],
  [32, "BrokenPipe"],
  [35, "Deadlock"],
  [36, "InvalidFilename"],
  [38, "Unsupported"],
  [39, "DirectoryNotEmpty"],
  [40, "FilesystemLoop"],
  [110, "TimedOut"],
  [116, "StaleNetworkFileHandle"],
  [122, "QuotaExceeded"],
]);

const OS_ERROR_REGEXP = /^(.*?) \(os error (\d+)\)/;

/**
 * An I/O error as Rust's `{:?}` shows an `io::Error`, the text HyperQueue's
 * `job cat` warnings carry. Deno's messages (`<text> (os error <n>): <call>`)
 * give the errno and its text; anything else shows as a custom error.
 *
 * @example Usage
 * ```ts
 * import { formatIoErrorDebug } from "./job_cat.ts";
 * import assert from "node:assert/strict";
 * const e = new Error("No such file or directory (os error 2): open '/x'");
 * assert.equal(
 *   formatIoErrorDebug(e),
 *   'Os { code: 2, kind: NotFound, message: "No such file or directory" }',
 * );
 * assert.equal(formatIoErrorDebug("gone"), 'Custom { kind: Other, error: "gone" }');
 * ```
 */
export function formatIoErrorDebug(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const m = OS_ERROR_REGEXP.exec(message);
  if (!m) return `Custom { kind: Other, error: ${JSON.stringify(message)} }`;
  const code = Number(m[2]);
  const kind = ERRNO_KINDS.get(code) ?? "Uncategorized";
  return `Os { code: ${code}, kind: ${kind}, message: ${JSON.stringify(m[1])} }`;
}

/**
 * The warning for an output file that cannot be opened.
 *
 * @example Usage
 * ```ts
 * import { fileOpenErrorMessage } from "./job_cat.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   fileOpenErrorMessage("/w/1.stdout", new Error("Permission denied (os error 13): open")),
 *   'File at `/w/1.stdout` cannot be opened: Os { code: 13, kind: PermissionDenied, message: "Permission denied" }',
 * );
 * ```
 */
export function fileOpenErrorMessage(path: string, error: unknown): string {
  return `File at \`${path}\` cannot be opened: ${formatIoErrorDebug(error)}`;
}

/**
 * The warning for an output file opened but not copied to the end (a
 * directory, a read error, or stdout closed).
 *
 * @example Usage
 * ```ts
 * import { fileCopyErrorMessage } from "./job_cat.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   fileCopyErrorMessage("/w/d", new Error("Is a directory (os error 21)")),
 *   'Could not output contents of `/w/d`: Os { code: 21, kind: IsADirectory, message: "Is a directory" }',
 * );
 * ```
 */
export function fileCopyErrorMessage(path: string, error: unknown): string {
  return `Could not output contents of \`${path}\`: ${formatIoErrorDebug(error)}`;
}

/** A task whose output `job cat` prints: its id and file (`null`: none, or not started). */
export interface JobCatTask {
  id: number;
  path: string | null;
}

/** One step of `job cat`: a log line, or the output of one job's selected tasks. */
export type JobCatStep =
  | { kind: "log"; line: LogLine }
  | { kind: "output"; jobId: number; tasks: JobCatTask[] };

/** Options of {@link planJobCat}. */
export interface JobCatPlanOptions {
  /** The job selector as typed (`last` or an id set). */
  selector: string;
  /** The stream to print. */
  stream: JobCatStream;
  /** `--tasks`, or `null` for every task. @default null */
  taskIds?: IdSet | null;
  /** `--task-status` states, or `null` for every state. @default null */
  states?: readonly string[] | null;
}

function warn(message: string): JobCatStep {
  return { kind: "log", line: { level: "WARN", message } };
}

function error(message: string): JobCatStep {
  return { kind: "log", line: { level: "ERROR", message } };
}

/**
 * What `job cat` does, from the tasks the server returned for the selector
 * (keyed by job id, already limited to `--tasks`): log lines and outputs, in
 * HyperQueue's order. Missing ids are listed up to {@link MAX_MISSING_IDS}.
 *
 * @example Usage
 * ```ts
 * import { planJobCat } from "./job_cat.ts";
 * import { parseIdSet } from "../../common/mod.ts";
 * import assert from "node:assert/strict";
 * const task = { id: 2, state: "finished" as const, instance: 0, crash_count: 0,
 *   started_at: 1, finished_at: 2, workers: [], error: null,
 *   paths: { cwd: "/w", stdout: "/w/2.out", stderr: null } };
 * const steps = planJobCat({ "1": [task] }, {
 *   selector: "1-2", stream: "stdout", taskIds: parseIdSet("2-3") });
 * assert.deepEqual(steps, [
 *   { kind: "log", line: { level: "WARN", message: "Task 3 of job 1 not found" } },
 *   { kind: "output", jobId: 1, tasks: [{ id: 2, path: "/w/2.out" }] },
 *   { kind: "log", line: { level: "ERROR", message: "Job 2 was not found" } },
 * ]);
 * ```
 */
export function planJobCat(
  byJob: Readonly<Record<string, readonly TaskView[]>>,
  options: JobCatPlanOptions,
): JobCatStep[] {
  const { selector, stream } = options;
  const taskIds = options.taskIds ?? null;
  const states = options.states ?? null;
  const found = Object.keys(byJob).map(Number);
  const missing = new Set(missingIds(selector, found));
  const jobIds = [...new Set([...found, ...missing])].sort((a, b) => a - b);
  if (jobIds.length === 0) return [error("No jobs were found")];
  const steps: JobCatStep[] = [];
  for (const jobId of jobIds) {
    const tasks = byJob[String(jobId)];
    if (missing.has(jobId) || tasks === undefined) {
      steps.push(error(`Job ${jobId} was not found`));
      continue;
    }
    const sorted = [...tasks].sort((a, b) => a.id - b.id);
    if (taskIds !== null) {
      const have = new Set(sorted.map((t) => t.id));
      let listed = 0;
      for (const id of idSetIterate(taskIds)) {
        if (have.has(id)) continue;
        steps.push(warn(`Task ${id} of job ${jobId} not found`));
        if (++listed >= MAX_MISSING_IDS) break;
      }
    }
    const selected = states === null ? sorted : sorted.filter((t) => states.includes(t.state));
    if (selected.length === 0) {
      steps.push(warn(`No tasks were selected for job ${jobId}, there is nothing to print`));
      continue;
    }
    steps.push({
      kind: "output",
      jobId,
      tasks: selected.map((t) => ({ id: t.id, path: t.paths?.[stream] ?? null })),
    });
  }
  return steps;
}

/** What `job cat` needs from the outside world. */
export interface JobCatIo {
  /** The server's tasks of the selected jobs, keyed by job id (the client's `taskList`). */
  taskList(
    serverDir: string | undefined,
    selector: string,
    taskIds: IdRange[] | null,
  ): Promise<Record<string, TaskView[]>>;
  /** Opens a file for reading; rejects (as `Deno.open` does) when it cannot. */
  open(path: string): Promise<AsyncIterable<Uint8Array>>;
  /** Writes all of `bytes` on stdout. */
  write(bytes: Uint8Array): Promise<void>;
}

const encoder = new TextEncoder();

async function copyFile(ctx: CommandContext, io: JobCatIo, path: string): Promise<void> {
  let chunks: AsyncIterable<Uint8Array>;
  try {
    chunks = await io.open(path);
  } catch (e) {
    ctx.out.log("WARN", fileOpenErrorMessage(path, e));
    return;
  }
  try {
    for await (const chunk of chunks) await io.write(chunk);
  } catch (e) {
    ctx.out.log("WARN", fileCopyErrorMessage(path, e));
  }
}

function stateFilter(values: readonly string[]): string[] | null {
  const states = values.flatMap((v) => v.split(","));
  return states.length === 0 ? null : states;
}

/**
 * Runs `job cat` on a parsed command line (see the module doc for what it prints).
 *
 * @throws {Error} In JSON mode, when a job has tasks to print ({@link JOB_CAT_JSON_ERROR}).
 */
export async function runJobCat(ctx: CommandContext, io: JobCatIo): Promise<void> {
  const p = ctx.parsed;
  const selector = argString(p, "JOB_SELECTOR")!;
  const stream = argString(p, "STREAM") as JobCatStream;
  const tasksText = optString(p, "tasks");
  const taskIds = tasksText === undefined ? null : parseIdSet(tasksText);
  const states = stateFilter(optList(p, "task-status"));
  const header = optFlag(p, "print-task-header");
  const byJob = await io.taskList(ctx.serverDir, selector, taskIds === null ? null : [...taskIds]);
  for (const step of planJobCat(byJob, { selector, stream, taskIds, states })) {
    if (step.kind === "log") {
      ctx.out.log(step.line.level, step.line.message);
      continue;
    }
    if (ctx.out.mode === "json") throw new Error(JOB_CAT_JSON_ERROR);
    for (const task of step.tasks) {
      if (header) await io.write(encoder.encode(`${jobCatHeader(step.jobId, task.id)}\n`));
      if (task.path === null) ctx.out.log("WARN", noStreamMessage(task.id, stream));
      else await copyFile(ctx, io, task.path);
    }
  }
}

const taskStatesArg = /* @__PURE__ */ stateListArg(TASK_STATE_NAMES);

function streamArg(value: string): void {
  if (!(JOB_CAT_STREAMS as readonly string[]).includes(value)) {
    throw new RangeError(`[possible values: ${JOB_CAT_STREAMS.join(", ")}]`);
  }
}

/**
 * The STREAM argument. `choices` is not part of {@link ArgSpec}'s type, but
 * the parser honours it for arguments too, giving clap's one-line
 * `invalid value 'x' for '<STREAM>' [possible values: stdout, stderr]`;
 * `check` says the same should it ever stop doing so.
 */
const STREAM_ARG: ArgSpec & { readonly choices: readonly string[] } = {
  name: "STREAM",
  required: true,
  choices: JOB_CAT_STREAMS,
  check: streamArg,
  help: "Type of output stream to display",
};

/**
 * The `job cat` command, doing its I/O through `io`.
 *
 * @example Usage
 * ```ts ignore
 * import { createJobCatCommand } from "./lib/cli/io/job_cat.ts";
 * import { withClient } from "./lib/client/io/mod.ts";
 * const jobCatCommand = createJobCatCommand({
 *   taskList: (dir, selector, ids) => withClient(dir, (c) => c.taskList(selector, ids)),
 *   open: async (path) => (await Deno.open(path)).readable,
 *   write: async (bytes) => {
 *     for (let done = 0; done < bytes.length;) {
 *       done += await Deno.stdout.write(bytes.subarray(done));
 *     }
 *   },
 * });
 * ```
 */
export function createJobCatCommand(io: JobCatIo): Command {
  return {
    name: "cat",
    about: "Shows task(s) stdout and stderr",
    args: [
      { name: "JOB_SELECTOR", required: true, check: lastOrIdsArg, help: "Select a job" },
      STREAM_ARG,
    ],
    options: [
      { long: "tasks", value: "TASKS", check: idSetArg, help: "Filter task(s) by ID" },
      {
        long: "task-status",
        value: "TASK_STATUS",
        multiple: true,
        check: taskStatesArg,
        help: "Filter task(s) by status (comma-separated)",
      },
      { long: "print-task-header", help: "Add task headers to the output" },
    ],
    run: (ctx) => runJobCat(ctx, io),
  };
}
