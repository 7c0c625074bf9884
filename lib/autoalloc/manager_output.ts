/**
 * Parsers of what the batch systems print: the job id from `sbatch` and
 * `qsub`, and job states from `scontrol show job` (SLURM) and
 * `qstat -f -F json -x` (OpenPBS). Pure: the shell runs the commands and
 * hands their stdout here.
 *
 * State mappings extend HyperQueue's (`server/autoalloc/queue/slurm.rs`,
 * `pbs.rs`), which knows only PENDING/CONFIGURING, RUNNING/COMPLETING,
 * COMPLETED/TIMEOUT and CANCELLED/FAILED for SLURM and Q, R/E and F for PBS,
 * and fails on any other state. Here the other documented states map too
 * (a held or requeued job is queued, a suspended one running, a node failure
 * or preemption failed); a state outside both lists still fails.
 *
 * @module
 */
import type { AllocationState } from "./queue.ts";

/** The batch system commands whose output is parsed here. */
export type ManagerCommand = "sbatch" | "qsub" | "scontrol" | "qstat";

const MAX_SHOWN_INPUT = 300;

/** Output of a batch system command that cannot be understood; keeps the command and the whole text. */
export class ManagerOutputSyntaxError extends SyntaxError {
  /** The command whose output this is. */
  readonly command: ManagerCommand;
  /** The whole output that was parsed. */
  readonly input: string;

  /**
   * Creates the error; the message quotes `input` (cut to 300 characters).
   *
   * @example Usage
   * ```ts
   * import { ManagerOutputSyntaxError } from "./manager_output.ts";
   * import assert from "node:assert/strict";
   * const e = new ManagerOutputSyntaxError("qsub", "oops", "expected a job id");
   * assert.equal(e.message, 'Cannot parse qsub output "oops": expected a job id');
   * assert.equal(e.input, "oops");
   * ```
   *
   * @param command The command whose output this is.
   * @param input The whole output.
   * @param detail What was expected or what is wrong.
   */
  constructor(command: ManagerCommand, input: string, detail: string) {
    const shown = input.length > MAX_SHOWN_INPUT ? `${input.slice(0, MAX_SHOWN_INPUT)}...` : input;
    super(`Cannot parse ${command} output ${JSON.stringify(shown)}: ${detail}`);
    this.name = "ManagerOutputSyntaxError";
    this.command = command;
    this.input = input;
  }
}

/** What the batch system says of one job. */
export interface ManagerJobStatus {
  /** The job's state in this project's terms. */
  state: AllocationState;
  /** The batch system's own state word (`PENDING`, `TIMEOUT`, `R`, `F`, ...). */
  managerState: string;
  /**
   * Exit code of an ended job (SLURM `ExitCode=<code>:<signal>`, PBS
   * `Exit_status`, negative for PBS's own failures); null when an ended job
   * has none. Absent while the job is queued or running.
   */
  exitCode?: number | null;
  /** The signal that killed an ended job (SLURM's `:<signal>`, PBS's `Exit_status` - 256 above 256). */
  signal?: number;
  /** Why the job is in this state: SLURM's `Reason=` (absent when `None`), PBS's `comment`. */
  reason?: string;
  /**
   * When the job started, as the batch system prints it (`2024-05-02T10:00:03`,
   * `Thu May 02 10:00:03 2024`), local time; absent while queued and for a job that never ran
   * (SLURM: an empty `NodeList`).
   */
  startTime?: string;
  /** When an ended job ended, as the batch system prints it (PBS: the last change, `mtime`). */
  endTime?: string;
}

const SBATCH_REGEXP = /^submitted batch job\s+(\d+)\b/i;
const SBATCH_PARSABLE_REGEXP = /^(\d+)(?:;\S+)?$/;
const QSUB_ID_REGEXP = /^\d+(?:\[\d*\])?(?:\.[A-Za-z0-9_.-]+)?(?:@[A-Za-z0-9_.-]+)?$/;

function lines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
}

/**
 * Reads the job id that `sbatch` printed: from the line
 * `Submitted batch job <id>` (anywhere, as HyperQueue looks for it, since
 * some sites print banners first), or from `sbatch --parsable` output
 * (`<id>` or `<id>;<cluster>`).
 *
 * @example Usage
 * ```ts
 * import { parseSbatchOutput } from "./manager_output.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseSbatchOutput("Submitted batch job 123\n"), "123");
 * assert.equal(parseSbatchOutput("456;cluster2\n"), "456");
 * ```
 *
 * @param stdout What sbatch printed on stdout.
 * @returns The job id.
 * @throws {ManagerOutputSyntaxError} When no line holds a job id.
 */
export function parseSbatchOutput(stdout: string): string {
  const all = lines(stdout);
  for (const line of all) {
    const m = SBATCH_REGEXP.exec(line);
    if (m !== null) return m[1]!;
  }
  for (let i = all.length - 1; i >= 0; i--) {
    const m = SBATCH_PARSABLE_REGEXP.exec(all[i]!);
    if (m !== null) return m[1]!;
  }
  throw new ManagerOutputSyntaxError(
    "sbatch",
    stdout,
    'expected "Submitted batch job <id>" or a job id',
  );
}

/**
 * Reads the job id that `qsub` printed (`4567.pbs-server`; also `4567`,
 * an array job's `4567[]`, `...@server`): the last line that looks like one.
 *
 * @example Usage
 * ```ts
 * import { parseQsubOutput } from "./manager_output.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseQsubOutput("4567.pbs-server\n"), "4567.pbs-server");
 * ```
 *
 * @param stdout What qsub printed on stdout.
 * @returns The job id.
 * @throws {ManagerOutputSyntaxError} When no line is a job id.
 */
export function parseQsubOutput(stdout: string): string {
  const all = lines(stdout);
  for (let i = all.length - 1; i >= 0; i--) {
    if (QSUB_ID_REGEXP.test(all[i]!)) return all[i]!;
  }
  throw new ManagerOutputSyntaxError("qsub", stdout, 'expected a job id such as "4567.server"');
}

const SLURM_STATES: ReadonlyMap<string, AllocationState> = new Map<string, AllocationState>([
  ...[
    "PENDING",
    "CONFIGURING",
    "REQUEUED",
    "REQUEUE_FED",
    "REQUEUE_HOLD",
    "SPECIAL_EXIT",
    "RESV_DEL_HOLD",
    "POWER_UP_NODE",
  ].map((s) => [s, "queued"] as const),
  ...[
    "RUNNING",
    "COMPLETING",
    "SUSPENDED",
    "STOPPED",
    "SIGNALING",
    "STAGE_OUT",
    "RESIZING",
    "UPDATE_DB",
  ].map((s) => [s, "running"] as const),
  ...["COMPLETED", "TIMEOUT"].map((s) => [s, "finished"] as const),
  ...[
    "CANCELLED",
    "FAILED",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "BOOT_FAIL",
    "DEADLINE",
    "PREEMPTED",
    "REVOKED",
    "RECONFIG_FAIL",
  ].map((s) => [s, "failed"] as const),
]);

/** Keys whose value is the rest of their line (they may hold spaces and `=`). */
const SCONTROL_REST_OF_LINE = new Set([
  "Command",
  "WorkDir",
  "StdErr",
  "StdIn",
  "StdOut",
  "Comment",
  "AdminComment",
  "SystemComment",
  "JobName",
]);
const SCONTROL_KEY_REGEXP = /(?:^|\s)([A-Za-z][A-Za-z0-9_:/.-]*)=/g;
const SLURM_EXIT_CODE_REGEXP = /^(\d+):(\d+)$/;
const UNSET_VALUES = new Set(["", "None", "Unknown", "(null)", "N/A"]);

/**
 * Splits one line of `scontrol show job` into `Key=value` pairs. A value
 * ends where the next ` Key=` starts; with `restOfLine`, the keys of
 * {@link SCONTROL_REST_OF_LINE} take the rest of their line instead.
 */
function scontrolPairs(line: string, restOfLine: boolean, into: Map<string, string>): void {
  const keys: { key: string; start: number; valueStart: number }[] = [];
  SCONTROL_KEY_REGEXP.lastIndex = 0;
  for (let m = SCONTROL_KEY_REGEXP.exec(line); m !== null; m = SCONTROL_KEY_REGEXP.exec(line)) {
    keys.push({ key: m[1]!, start: m.index, valueStart: m.index + m[0].length });
  }
  for (let i = 0; i < keys.length; i++) {
    const { key, valueStart } = keys[i]!;
    if (restOfLine && SCONTROL_REST_OF_LINE.has(key)) {
      into.set(key, line.slice(valueStart).trimEnd());
      return;
    }
    const end = i + 1 < keys.length ? keys[i + 1]!.start : line.length;
    into.set(key, line.slice(valueStart, end).trim());
  }
}

function slurmStatus(
  stdout: string,
  jobId: string,
  fields: Map<string, string>,
): ManagerJobStatus {
  const managerState = fields.get("JobState");
  if (managerState === undefined) {
    throw new ManagerOutputSyntaxError("scontrol", stdout, `job ${jobId} has no JobState`);
  }
  const state = SLURM_STATES.get(managerState);
  if (state === undefined) {
    throw new ManagerOutputSyntaxError(
      "scontrol",
      stdout,
      `job ${jobId} has the unknown state "${managerState}"`,
    );
  }
  const status: ManagerJobStatus = { state, managerState };
  const ended = state === "finished" || state === "failed";
  if (ended) {
    const m = SLURM_EXIT_CODE_REGEXP.exec(fields.get("ExitCode") ?? "");
    status.exitCode = m === null ? null : Number(m[1]);
    if (m !== null && Number(m[2]) !== 0) status.signal = Number(m[2]);
  }
  const reason = fields.get("Reason");
  if (reason !== undefined && !UNSET_VALUES.has(reason)) status.reason = reason;
  // A job cancelled while pending gets StartTime = EndTime = the cancel time, and no nodes.
  const nodes = fields.get("NodeList");
  const ran = nodes === undefined || !UNSET_VALUES.has(nodes);
  const start = fields.get("StartTime");
  if (state !== "queued" && ran && start !== undefined && !UNSET_VALUES.has(start)) {
    status.startTime = start;
  }
  const end = fields.get("EndTime");
  if (ended && end !== undefined && !UNSET_VALUES.has(end)) status.endTime = end;
  return status;
}

/**
 * Reads `scontrol show job [<id>]` output: one record per job, each starting
 * with a `JobId=` line, made of `Key=value` pairs over several lines (or one
 * line, with `scontrol -o`). A value ends where the next ` Key=` starts; in
 * the several-line form `JobName`, `Command`, `WorkDir`, `StdOut`, `StdErr`,
 * `StdIn` and the comments take the rest of their line, so that they may
 * hold spaces and `=`. `Reason` has no spaces: SLURM writes them as `_`.
 *
 * States: PENDING, CONFIGURING, REQUEUED, REQUEUE_FED, REQUEUE_HOLD,
 * SPECIAL_EXIT, RESV_DEL_HOLD, POWER_UP_NODE → queued; RUNNING, COMPLETING,
 * SUSPENDED, STOPPED, SIGNALING, STAGE_OUT, RESIZING, UPDATE_DB → running;
 * COMPLETED, TIMEOUT → finished (as HyperQueue: a worker that ran into the
 * walltime is a normal end); CANCELLED, FAILED, NODE_FAIL, OUT_OF_MEMORY,
 * BOOT_FAIL, DEADLINE, PREEMPTED, REVOKED, RECONFIG_FAIL → failed. Empty
 * output and `No jobs in the system` give an empty map.
 *
 * @example Usage
 * ```ts
 * import { parseScontrolShowJob } from "./manager_output.ts";
 * import assert from "node:assert/strict";
 * const out = [
 *   "JobId=42 JobName=hq-1-1",
 *   "   JobState=TIMEOUT Reason=TimeLimit Dependency=(null)",
 *   "   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15",
 *   "   StartTime=2024-05-02T10:00:03 EndTime=2024-05-02T11:00:03 Deadline=N/A",
 *   "",
 * ].join("\n");
 * assert.deepEqual(parseScontrolShowJob(out).get("42"), {
 *   state: "finished",
 *   managerState: "TIMEOUT",
 *   exitCode: 0,
 *   signal: 15,
 *   reason: "TimeLimit",
 *   startTime: "2024-05-02T10:00:03",
 *   endTime: "2024-05-02T11:00:03",
 * });
 * ```
 *
 * @param stdout What `scontrol show job` printed on stdout.
 * @returns The status of each job, by job id.
 * @throws {ManagerOutputSyntaxError} When text comes before the first `JobId=`, or a job lacks `JobState` or has an unknown one.
 */
export function parseScontrolShowJob(stdout: string): Map<string, ManagerJobStatus> {
  const records: string[][] = [];
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("JobId=")) {
      records.push([line]);
    } else if (records.length > 0) {
      records[records.length - 1]!.push(line);
    } else if (line !== "No jobs in the system") {
      throw new ManagerOutputSyntaxError("scontrol", stdout, 'expected records starting "JobId="');
    }
  }
  const result = new Map<string, ManagerJobStatus>();
  for (const record of records) {
    const fields = new Map<string, string>();
    // `scontrol -o` prints a record on one line: there no value can take the rest of it.
    for (const line of record) scontrolPairs(line, record.length > 1, fields);
    const jobId = fields.get("JobId") ?? "";
    if (jobId === "") {
      throw new ManagerOutputSyntaxError("scontrol", stdout, "a record has an empty JobId");
    }
    result.set(jobId, slurmStatus(stdout, jobId, fields));
  }
  return result;
}

const PBS_STATES: ReadonlyMap<string, AllocationState | "ended"> = new Map<
  string,
  AllocationState | "ended"
>([
  ...["Q", "H", "W", "T"].map((s) => [s, "queued"] as const),
  ...["R", "E", "B", "S", "U"].map((s) => [s, "running"] as const),
  ...["F", "X"].map((s) => [s, "ended"] as const),
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pbsStatus(stdout: string, jobId: string, job: unknown): ManagerJobStatus {
  if (!isRecord(job)) {
    throw new ManagerOutputSyntaxError("qstat", stdout, `job ${jobId} is not an object`);
  }
  const managerState = job["job_state"];
  if (typeof managerState !== "string") {
    throw new ManagerOutputSyntaxError("qstat", stdout, `job ${jobId} has no job_state`);
  }
  const mapped = PBS_STATES.get(managerState);
  if (mapped === undefined) {
    throw new ManagerOutputSyntaxError(
      "qstat",
      stdout,
      `job ${jobId} has the unknown job_state "${managerState}"`,
    );
  }
  const exit = job["Exit_status"];
  const exitCode = typeof exit === "number" && Number.isInteger(exit) ? exit : null;
  const state: AllocationState = mapped !== "ended"
    ? mapped
    : exitCode === 0
    ? "finished"
    : "failed";
  const status: ManagerJobStatus = { state, managerState };
  if (mapped === "ended") {
    status.exitCode = exitCode;
    if (exitCode !== null && exitCode > 256) status.signal = exitCode - 256;
  }
  const comment = job["comment"];
  if (typeof comment === "string" && comment !== "") status.reason = comment;
  const stime = job["stime"];
  if (state !== "queued" && typeof stime === "string") status.startTime = stime;
  const mtime = job["mtime"];
  if (mapped === "ended" && typeof mtime === "string") status.endTime = mtime;
  return status;
}

/**
 * Reads OpenPBS `qstat -f -F json -x <id>...` output:
 * `{"timestamp": ..., "pbs_version": ..., "pbs_server": ..., "Jobs": {"<id>": {...}}}`
 * (no `Jobs` key: no job). States: Q, H, W, T → queued; R, E, B, S, U →
 * running; F (and X, an ended array subjob) → finished when `Exit_status`
 * is 0, else failed (also when it is missing, as in HyperQueue).
 *
 * @example Usage
 * ```ts
 * import { parseQstatJson } from "./manager_output.ts";
 * import assert from "node:assert/strict";
 * const out = JSON.stringify({
 *   timestamp: 1714640000,
 *   pbs_version: "22.05.11",
 *   pbs_server: "pbs-server",
 *   Jobs: { "4567.pbs-server": { job_state: "F", Exit_status: 0, mtime: "Thu May 02 11:00:03 2024" } },
 * });
 * assert.deepEqual(parseQstatJson(out).get("4567.pbs-server"), {
 *   state: "finished",
 *   managerState: "F",
 *   exitCode: 0,
 *   endTime: "Thu May 02 11:00:03 2024",
 * });
 * ```
 *
 * @param stdout What qstat printed on stdout.
 * @returns The status of each job, by job id as qstat prints it.
 * @throws {ManagerOutputSyntaxError} When the text is not JSON of that shape, or a job lacks `job_state` or has an unknown one.
 */
export function parseQstatJson(stdout: string): Map<string, ManagerJobStatus> {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ManagerOutputSyntaxError("qstat", stdout, `it is not JSON (${why})`);
  }
  if (!isRecord(data)) {
    throw new ManagerOutputSyntaxError("qstat", stdout, "expected a JSON object");
  }
  const result = new Map<string, ManagerJobStatus>();
  const jobs = data["Jobs"];
  if (jobs === undefined) return result;
  if (!isRecord(jobs)) {
    throw new ManagerOutputSyntaxError("qstat", stdout, '"Jobs" is not an object');
  }
  for (const [jobId, job] of Object.entries(jobs)) {
    result.set(jobId, pbsStatus(stdout, jobId, job));
  }
  return result;
}
