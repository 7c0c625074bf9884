/**
 * The SLURM and PBS submit scripts automatic allocation hands to the batch
 * systems, around the worker's shell line (`worker_command.ts`; the arguments
 * a queue passes through are checked in `manager_args.ts`). Pure.
 *
 * Shapes follow HyperQueue (`server/autoalloc/queue/{common,slurm,pbs}.rs`):
 *
 * ```text
 * #!/bin/bash
 * #SBATCH --nodes=2                     #PBS -l select=2
 * #SBATCH --job-name=hq-1-3             #PBS -N hq-1-3
 * #SBATCH --output=<dir>/stdout         #PBS -o <dir>/stdout
 * #SBATCH --error=<dir>/stderr          #PBS -e <dir>/stderr
 * #SBATCH --time=01:00:00               #PBS -l walltime=01:00:00
 * #SBATCH <additional args>             #PBS <additional args>
 *                                       #PBS -h               (dry runs only)
 *
 * srun --overlap --ntasks=2 --nodes=2 <worker line>
 *                                       pbsdsh -- bash -l -c '<worker line>'
 * ```
 *
 * Where this differs from HyperQueue, on purpose:
 * - words are quoted so that odd paths (spaces, quotes, `$`) survive the
 *   shell and the batch system's directive parser (HyperQueue pastes them
 *   raw); checked with Slurm 22.05.8, where a job name with a space, output
 *   paths with a space, `%` and `"`, and a `--comment` holding `#` and quotes
 *   came through intact;
 * - with several nodes and a `--worker-start-cmd`/`--worker-stop-cmd` (or an
 *   environment prefix), SLURM runs the line through `bash -c`, since `srun`
 *   runs one program and not a shell list (HyperQueue's line would run only
 *   the start command on every node);
 * - the script ends with a newline;
 * - walltimes are rounded up to whole seconds (HyperQueue truncates).
 *
 * @module
 */
import { checkAdditionalArgs } from "./manager_args.ts";
import { shellQuote } from "./worker_command.ts";
import type { ManagerKind, QueueParams } from "./queue.ts";
import { LINE_BREAK_REGEXP, PBS_SPACE_REGEXP } from "./_directive_text.ts";

/** Name of the script written into each allocation directory (HyperQueue's). */
export const SUBMIT_SCRIPT_NAME = "hq-submit.sh";

const ASSIGNMENT_PREFIX_REGEXP = /^[A-Za-z_][A-Za-z0-9_]*=/;
const SLURM_SPECIAL_REGEXP = /[\s"\\#]/;

/**
 * Formats a walltime as `HH:MM:SS` for `#SBATCH --time` and
 * `#PBS -l walltime`: hours take as many digits as needed (`36:00:00`,
 * `100:00:00`), and a fraction of a second rounds up.
 *
 * @example Usage
 * ```ts
 * import { formatWalltime } from "./script.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatWalltime(3_600_000), "01:00:00");
 * assert.equal(formatWalltime(36 * 3_600_000), "36:00:00");
 * assert.equal(formatWalltime(61_001), "00:01:02");
 * ```
 *
 * @param ms The walltime in milliseconds.
 * @returns The walltime as `HH:MM:SS`.
 * @throws {RangeError} When `ms` is negative or not finite.
 */
export function formatWalltime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`Cannot format walltime ${ms}: it must be a finite number >= 0`);
  }
  const total = Math.ceil(ms / 1000);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${pad(Math.floor(total / 3_600))}:${pad(Math.floor((total % 3_600) / 60))}:${
    pad(total % 60)
  }`;
}

/**
 * Name of the `counter`-th allocation of a queue in the batch system
 * (HyperQueue's `format_allocation_name`): `<label>-<counter>`, where the
 * label is the queue's name or `hq-<queue id>` (see `queueLabel`).
 *
 * @example Usage
 * ```ts
 * import { allocationJobName } from "./script.ts";
 * import assert from "node:assert/strict";
 * assert.equal(allocationJobName("hq-1", 3), "hq-1-3");
 * assert.equal(allocationJobName("gpu", 12), "gpu-12");
 * ```
 *
 * @param label The queue's name, or `hq-<queue id>`.
 * @param counter The allocation's number in its queue (1, 2, ...).
 * @returns The job name.
 * @throws {RangeError} When `counter` is not a positive integer.
 */
export function allocationJobName(label: string, counter: number): string {
  if (!Number.isSafeInteger(counter) || counter < 1) {
    throw new RangeError(
      `Cannot name allocation of "${label}": counter must be a positive integer: current value is ${counter}`,
    );
  }
  return `${label}-${counter}`;
}

/** Options of {@link slurmScript} and {@link pbsScript}. */
export interface ScriptOptions {
  /** The queue's parameters: its manager, walltime, extra arguments and start/stop commands. */
  params: Pick<
    QueueParams,
    "manager" | "timeLimitMs" | "additionalArgs" | "workerStartCmd" | "workerStopCmd"
  >;
  /** Nodes, so workers, of this allocation (>= 1). */
  workerCount: number;
  /** The job's name (see {@link allocationJobName}). */
  jobName: string;
  /** The allocation's directory: its `stdout` and `stderr` go there. */
  dir: string;
  /** The worker's shell line (see {@link workerCommand}). */
  workerLine: string;
}

/** Options of {@link pbsScript}. */
export interface PbsScriptOptions extends ScriptOptions {
  /** Whether this is the test submission of `alloc add`/`alloc dry-run`: the job is held (`#PBS -h`). */
  dryRun: boolean;
}

/**
 * A word for a `#SBATCH` line. sbatch splits these lines itself
 * (`_get_argument` in `src/sbatch/opt.c`): double quotes group whitespace,
 * a backslash escapes the next character, and an unescaped `#` ends the
 * line even inside quotes.
 */
function slurmWord(word: string): string {
  if (word !== "" && !SLURM_SPECIAL_REGEXP.test(word)) return word;
  return `"${word.replace(/[\\"#]/g, "\\$&")}"`;
}

/**
 * A word for a `#PBS` line: bare unless it holds whitespace, then in double
 * quotes (single ones when it holds a double quote). {@link checkAdditionalArgs}
 * refuses a word with whitespace and both kinds of quotes.
 */
function pbsWord(word: string): string {
  if (word !== "" && !PBS_SPACE_REGEXP.test(word)) return word;
  return word.includes('"') ? `'${word}'` : `"${word}"`;
}

/** `%` is a filename pattern in `--output`/`--error`; `%%` is a literal one (none apply after a `\`). */
function slurmPathPattern(path: string): string {
  return path.includes("\\") ? path : path.replaceAll("%", "%%");
}

function joinDir(dir: string, name: string): string {
  const base = dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
  return base.endsWith("/") ? `${base}${name}` : `${base}/${name}`;
}

function checkScriptOptions(options: ScriptOptions, manager: ManagerKind): void {
  const { params, workerCount, jobName, dir, workerLine } = options;
  if (params.manager !== manager) {
    throw new RangeError(
      `Cannot build a ${manager} script for a ${params.manager} queue`,
    );
  }
  if (!Number.isSafeInteger(workerCount) || workerCount < 1) {
    throw new RangeError(
      `Cannot build the ${manager} script: worker count must be a positive integer: current value is ${workerCount}`,
    );
  }
  const texts: [string, string][] = [
    ["job name", jobName],
    ["directory", dir],
    ["worker line", workerLine],
  ];
  for (const [what, text] of texts) {
    if (LINE_BREAK_REGEXP.test(text)) {
      const shown = JSON.stringify(text);
      throw new RangeError(
        `Cannot build the ${manager} script: the ${what} holds a line break: ${shown}`,
      );
    }
  }
  const refused = checkAdditionalArgs(manager, params.additionalArgs);
  if (refused !== null) throw new RangeError(refused);
}

function needsShell(options: ScriptOptions): boolean {
  const { params, workerLine } = options;
  return (params.workerStartCmd !== null && params.workerStartCmd.trim() !== "") ||
    (params.workerStopCmd !== null && params.workerStopCmd.trim() !== "") ||
    ASSIGNMENT_PREFIX_REGEXP.test(workerLine);
}

/**
 * The `sbatch` script of one allocation (HyperQueue's
 * `build_slurm_submit_script`). With several nodes the worker line runs
 * under `srun --overlap --ntasks=N --nodes=N`, one worker per node; when the
 * line is a shell list (start/stop command) or starts with an environment
 * assignment, through `bash -c`.
 *
 * @example Usage
 * ```ts
 * import { slurmScript } from "./script.ts";
 * import assert from "node:assert/strict";
 * const script = slurmScript({
 *   params: {
 *     manager: "slurm",
 *     timeLimitMs: 3_600_000,
 *     additionalArgs: ["--partition=p1"],
 *     workerStartCmd: null,
 *     workerStopCmd: null,
 *   },
 *   workerCount: 1,
 *   jobName: "hq-1-1",
 *   dir: "/srv/hq/001/autoalloc/1/001",
 *   workerLine: "/bin/hq worker start",
 * });
 * assert.equal(
 *   script,
 *   [
 *     "#!/bin/bash",
 *     "#SBATCH --nodes=1",
 *     "#SBATCH --job-name=hq-1-1",
 *     "#SBATCH --output=/srv/hq/001/autoalloc/1/001/stdout",
 *     "#SBATCH --error=/srv/hq/001/autoalloc/1/001/stderr",
 *     "#SBATCH --time=01:00:00",
 *     "#SBATCH --partition=p1",
 *     "",
 *     "/bin/hq worker start",
 *     "",
 *   ].join("\n"),
 * );
 * ```
 *
 * @param options The queue's parameters, worker count, job name, directory and worker line.
 * @returns The script text, ending with a newline.
 * @throws {RangeError} When the queue is not a SLURM one, the worker count is not a positive integer, a text holds a line break, or {@link checkAdditionalArgs} refuses the extra arguments.
 */
export function slurmScript(options: ScriptOptions): string {
  checkScriptOptions(options, "slurm");
  const { params, workerCount: n, jobName, dir, workerLine } = options;
  const lines = [
    "#!/bin/bash",
    `#SBATCH --nodes=${n}`,
    `#SBATCH ${slurmWord(`--job-name=${jobName}`)}`,
    `#SBATCH ${slurmWord(`--output=${slurmPathPattern(joinDir(dir, "stdout"))}`)}`,
    `#SBATCH ${slurmWord(`--error=${slurmPathPattern(joinDir(dir, "stderr"))}`)}`,
    `#SBATCH --time=${formatWalltime(params.timeLimitMs)}`,
  ];
  if (params.additionalArgs.length > 0) {
    lines.push(`#SBATCH ${params.additionalArgs.map(slurmWord).join(" ")}`);
  }
  lines.push("");
  if (n > 1) {
    const run = needsShell(options) ? `bash -c ${shellQuote(workerLine)}` : workerLine;
    lines.push(`srun --overlap --ntasks=${n} --nodes=${n} ${run}`);
  } else {
    lines.push(workerLine);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The `qsub` script of one allocation (HyperQueue's
 * `build_pbs_submit_script`). With several nodes the worker line runs on each
 * through `pbsdsh -- bash -l -c '<line>'`; a dry run's job is held
 * (`#PBS -h`) so that it never starts.
 *
 * @example Usage
 * ```ts
 * import { pbsScript } from "./script.ts";
 * import assert from "node:assert/strict";
 * const script = pbsScript({
 *   params: {
 *     manager: "pbs",
 *     timeLimitMs: 1_800_000,
 *     additionalArgs: ["-q", "qexp"],
 *     workerStartCmd: null,
 *     workerStopCmd: null,
 *   },
 *   workerCount: 2,
 *   jobName: "hq-2-1",
 *   dir: "/srv/hq/001/autoalloc/2/001",
 *   workerLine: "/bin/hq worker start",
 *   dryRun: false,
 * });
 * assert.equal(
 *   script,
 *   [
 *     "#!/bin/bash",
 *     "#PBS -l select=2",
 *     "#PBS -N hq-2-1",
 *     "#PBS -o /srv/hq/001/autoalloc/2/001/stdout",
 *     "#PBS -e /srv/hq/001/autoalloc/2/001/stderr",
 *     "#PBS -l walltime=00:30:00",
 *     "#PBS -q qexp",
 *     "",
 *     "pbsdsh -- bash -l -c '/bin/hq worker start'",
 *     "",
 *   ].join("\n"),
 * );
 * ```
 *
 * @param options The queue's parameters, worker count, job name, directory, worker line and dry-run flag.
 * @returns The script text, ending with a newline.
 * @throws {RangeError} When the queue is not a PBS one, the worker count is not a positive integer, a text holds a line break, or {@link checkAdditionalArgs} refuses the extra arguments.
 */
export function pbsScript(options: PbsScriptOptions): string {
  checkScriptOptions(options, "pbs");
  const { params, workerCount: n, jobName, dir, workerLine, dryRun } = options;
  const lines = [
    "#!/bin/bash",
    `#PBS -l select=${n}`,
    `#PBS -N ${pbsWord(jobName)}`,
    `#PBS -o ${pbsWord(joinDir(dir, "stdout"))}`,
    `#PBS -e ${pbsWord(joinDir(dir, "stderr"))}`,
    `#PBS -l walltime=${formatWalltime(params.timeLimitMs)}`,
  ];
  if (params.additionalArgs.length > 0) {
    lines.push(`#PBS ${params.additionalArgs.map(pbsWord).join(" ")}`);
  }
  if (dryRun) lines.push("#PBS -h");
  lines.push("");
  lines.push(n > 1 ? `pbsdsh -- bash -l -c ${shellQuote(workerLine)}` : workerLine);
  return `${lines.join("\n")}\n`;
}
