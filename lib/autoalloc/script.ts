/**
 * The text automatic allocation hands to the batch systems: the shell line
 * that starts a worker, the SLURM and PBS submit scripts around it, and the
 * check of the arguments a queue passes through to `sbatch`/`qsub`. Pure.
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
import { formatDuration } from "../common/mod.ts";
import type { ManagerKind, QueueParams } from "./queue.ts";

/** Name of the script written into each allocation directory (HyperQueue's). */
export const SUBMIT_SCRIPT_NAME = "hq-submit.sh";

const SAFE_WORD_REGEXP = /^[A-Za-z0-9_@%+=:,./-]+$/;
const ENV_NAME_REGEXP = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ASSIGNMENT_PREFIX_REGEXP = /^[A-Za-z_][A-Za-z0-9_]*=/;
const LINE_BREAK_REGEXP = /[\r\n]/;
const SLURM_SPECIAL_REGEXP = /[\s"\\#]/;
const PBS_SPACE_REGEXP = /\s/;

/**
 * Quotes a word for a POSIX shell: bare when it holds only
 * `[A-Za-z0-9_@%+=:,./-]`, else in single quotes with each `'` written
 * `'\''`. The empty word is `''`.
 *
 * @example Usage
 * ```ts
 * import { shellQuote } from "./script.ts";
 * import assert from "node:assert/strict";
 * assert.equal(shellQuote("/usr/bin/deno"), "/usr/bin/deno");
 * assert.equal(shellQuote("my dir"), "'my dir'");
 * assert.equal(shellQuote("it's"), "'it'\\''s'");
 * assert.equal(shellQuote(""), "''");
 * ```
 *
 * @param word The word to quote.
 * @returns The word as the shell must read it.
 */
export function shellQuote(word: string): string {
  if (SAFE_WORD_REGEXP.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Double-quotes a value for the shell (`"..."` with `\`, `"`, `$` and backquotes escaped). */
function doubleQuote(value: string): string {
  return `"${value.replace(/[\\"$`]/g, "\\$&")}"`;
}

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

/** The fields of {@link QueueParams} that shape the worker's command line. */
export type WorkerCommandParams = Pick<
  QueueParams,
  | "manager"
  | "idleTimeoutMs"
  | "workerArgs"
  | "onServerLost"
  | "timeLimitMs"
  | "workerTimeLimitMs"
  | "workerStartCmd"
  | "workerStopCmd"
  | "workerWrapCmd"
>;

/** Options of {@link workerCommand}. */
export interface WorkerCommandOptions {
  /**
   * Words that run this project's worker or `hq` umbrella, e.g.
   * `["/usr/bin/deno", "run", "-A", "/repo/dist/hq-worker.js"]`.
   */
  program: readonly string[];
  /**
   * Words between the program and the worker's options.
   *
   * @default {["start"]} when the program's last word ends with `worker`, `worker.js` or `worker.ts`, else `["worker", "start"]`
   */
  subcommand?: readonly string[];
  /** The server directory the worker reads (`--server-dir`). */
  serverDir: string;
  /**
   * Environment variables set for the worker only, written `NAME=value`
   * before the wrap command (as HyperQueue passes `RUST_LOG`).
   *
   * @default {{}}
   */
  env?: Readonly<Record<string, string>>;
}

function defaultSubcommand(program: readonly string[]): readonly string[] {
  const last = program[program.length - 1] ?? "";
  // The worker role (`worker.ts`, its bundle, a compiled `hq-worker`) takes `start`; `hq` both.
  return /worker(\.[jt]s)?$/.test(last) ? ["start"] : ["worker", "start"];
}

/**
 * The shell line that starts one worker of an allocation, as HyperQueue
 * builds it (reference 5.4):
 *
 * `[start-cmd && ][NAME=value ][wrap-cmd ]<program> <subcommand> --idle-timeout "<dur>"
 * --manager "<slurm|pbs>" --server-dir "<dir>" <worker args> --on-server-lost "<policy>"
 * --time-limit "<dur>"[; stop-cmd]`
 *
 * The time limit is the worker's own, else the queue's; durations are
 * humantime text (`5m`, `1h 30m`) that `parseDuration` reads back. Program
 * words and worker arguments are shell-quoted; the start, stop and wrap
 * commands are shell text and go in as given.
 *
 * @example Usage
 * ```ts
 * import { workerCommand } from "./script.ts";
 * import assert from "node:assert/strict";
 * const params = {
 *   manager: "slurm" as const,
 *   idleTimeoutMs: 300_000,
 *   workerArgs: ["--cpus", "4"],
 *   onServerLost: "finish-running" as const,
 *   timeLimitMs: 3_600_000,
 *   workerTimeLimitMs: null,
 *   workerStartCmd: "module load x",
 *   workerStopCmd: null,
 *   workerWrapCmd: null,
 * };
 * assert.equal(
 *   workerCommand(params, { program: ["/bin/hq"], serverDir: "/home/u/.hq-server/001" }),
 *   'module load x && /bin/hq worker start --idle-timeout "5m" --manager "slurm"' +
 *     ' --server-dir "/home/u/.hq-server/001" --cpus 4 --on-server-lost "finish-running"' +
 *     ' --time-limit "1h"',
 * );
 * ```
 *
 * @param params The queue's parameters (only the worker's fields are read).
 * @param options The program, its subcommand, the server directory and extra environment.
 * @returns One shell line, without a trailing newline.
 * @throws {RangeError} When the program is empty, a word or command holds a line break, or an environment name is not a shell name.
 */
export function workerCommand(params: WorkerCommandParams, options: WorkerCommandOptions): string {
  const { program, serverDir } = options;
  if (program.length === 0) {
    throw new RangeError("Cannot build the worker command: the program is empty");
  }
  const subcommand = options.subcommand ?? defaultSubcommand(program);
  const env = options.env ?? {};
  const texts = [
    ...program,
    ...subcommand,
    serverDir,
    ...params.workerArgs,
    ...Object.values(env),
    params.workerStartCmd ?? "",
    params.workerStopCmd ?? "",
    params.workerWrapCmd ?? "",
  ];
  const broken = texts.find((t) => LINE_BREAK_REGEXP.test(t));
  if (broken !== undefined) {
    throw new RangeError(
      `Cannot build the worker command: ${JSON.stringify(broken)} holds a line break`,
    );
  }
  const parts: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME_REGEXP.test(name)) {
      throw new RangeError(
        `Cannot build the worker command: "${name}" is not a valid environment variable name`,
      );
    }
    parts.push(`${name}=${shellQuote(value)}`);
  }
  if (params.workerWrapCmd !== null && params.workerWrapCmd.trim() !== "") {
    parts.push(params.workerWrapCmd.trim());
  }
  parts.push(...program.map(shellQuote), ...subcommand.map(shellQuote));
  parts.push(
    "--idle-timeout",
    doubleQuote(formatDuration(params.idleTimeoutMs)),
    "--manager",
    doubleQuote(params.manager),
    "--server-dir",
    doubleQuote(serverDir),
    ...params.workerArgs.map(shellQuote),
    "--on-server-lost",
    doubleQuote(params.onServerLost),
    "--time-limit",
    doubleQuote(formatDuration(params.workerTimeLimitMs ?? params.timeLimitMs)),
  );
  let line = parts.join(" ");
  if (params.workerStartCmd !== null && params.workerStartCmd.trim() !== "") {
    line = `${params.workerStartCmd.trim()} && ${line}`;
  }
  if (params.workerStopCmd !== null && params.workerStopCmd.trim() !== "") {
    line = `${line}; ${params.workerStopCmd.trim()}`;
  }
  return line;
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

const SLURM_NODES_REGEXP = /^(--nodes(=.*)?|-N.*)$/s;
const SLURM_TIME_REGEXP = /^(--time(=.*)?|-t.*)$/s;
const PBS_NODE_RESOURCES = new Set(["select", "nodes"]);

function describe(word: string): string {
  return JSON.stringify(word);
}

function checkSlurmArgs(args: readonly string[]): string | null {
  for (const arg of args) {
    if (SLURM_NODES_REGEXP.test(arg)) {
      return `Cannot pass ${
        describe(arg)
      } to sbatch: the node count comes from --max-workers-per-alloc`;
    }
    if (SLURM_TIME_REGEXP.test(arg)) {
      return `Cannot pass ${describe(arg)} to sbatch: the walltime comes from --time-limit`;
    }
  }
  return null;
}

function checkPbsArgs(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (PBS_SPACE_REGEXP.test(arg) && arg.includes('"') && arg.includes("'")) {
      return `Cannot pass ${
        describe(arg)
      } to qsub: a #PBS word with spaces cannot hold both kinds of quotes`;
    }
    if (!arg.startsWith("-l")) continue;
    const value = arg === "-l" ? args[i + 1] : arg.slice(2);
    if (value === undefined) continue;
    const shown = arg === "-l" ? `-l ${value}` : arg;
    for (const item of value.split(",")) {
      const name = item.split("=", 1)[0]!.trim();
      if (PBS_NODE_RESOURCES.has(name)) {
        return `Cannot pass ${
          describe(shown)
        } to qsub: the node count comes from --max-workers-per-alloc`;
      }
      if (name === "walltime") {
        return `Cannot pass ${describe(shown)} to qsub: the walltime comes from --time-limit`;
      }
    }
  }
  return null;
}

/**
 * Checks the arguments a queue passes through to `sbatch` or `qsub` (what
 * follows `--` in `hq alloc add`). HyperQueue's docs say the node count and
 * the walltime must not be given there, since the queue sets them; this
 * refuses them: `--nodes`, `-N`, `--time` and `-t` for SLURM, `-l` with a
 * `select`, `nodes` or `walltime` resource for PBS. It also refuses a line
 * break in any argument (it would end the directive line), and, for PBS, an
 * argument with whitespace and both kinds of quotes (it cannot be quoted on
 * a `#PBS` line).
 *
 * @example Usage
 * ```ts
 * import { checkAdditionalArgs } from "./script.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkAdditionalArgs("slurm", ["--partition=p1", "--account=a"]), null);
 * assert.equal(
 *   checkAdditionalArgs("slurm", ["--nodes=2"]),
 *   'Cannot pass "--nodes=2" to sbatch: the node count comes from --max-workers-per-alloc',
 * );
 * assert.equal(
 *   checkAdditionalArgs("pbs", ["-l", "select=1:ncpus=8,walltime=1:00:00"]),
 *   'Cannot pass "-l select=1:ncpus=8,walltime=1:00:00" to qsub: the node count comes from --max-workers-per-alloc',
 * );
 * ```
 *
 * @param manager The batch system.
 * @param args The arguments, as words.
 * @returns Why the arguments are refused, or null when they are fine.
 */
export function checkAdditionalArgs(
  manager: ManagerKind,
  args: readonly string[],
): string | null {
  const program = manager === "slurm" ? "sbatch" : "qsub";
  const broken = args.find((a) => LINE_BREAK_REGEXP.test(a));
  if (broken !== undefined) {
    return `Cannot pass ${describe(broken)} to ${program}: arguments cannot hold line breaks`;
  }
  return manager === "slurm" ? checkSlurmArgs(args) : checkPbsArgs(args);
}
