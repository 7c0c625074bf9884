/**
 * Starts one task process with its environment and output files, and kills
 * whole process trees (found through `/proc`) on cancel or time limit.
 *
 * @module
 */
import { dirname } from "node:path";
import type { JobId, TaskId } from "../ids.ts";
import type { TaskTemplate } from "../fsproto/messages.ts";
import {
  type PlaceholderValues,
  resolvePlaceholders,
  resolveStdPath,
} from "../cli/placeholders.ts";
import { formatAmount, FRACTIONS_PER_UNIT } from "../resources/amount.ts";
import { formatRequestAmount } from "../resources/request.ts";

/** What the launcher needs to start a task. */
export interface LaunchSpec {
  jobId: JobId;
  taskId: TaskId;
  instance: number;
  submitDir: string;
  serverUid: string;
  template: TaskTemplate;
  /** CPU labels allocated to the task. */
  cpus: string[];
  /** Worker id, for `HQ_WORKER_ID`. */
  workerId: number;
}

/** How a task process ended. */
export type TaskEnd =
  | { kind: "finished" }
  | { kind: "failed"; error: string };

/** A started task. */
export interface RunningProcess {
  pid: number;
  /** Resolves when the process ends and its output is flushed. */
  done: Promise<TaskEnd>;
}

async function openOutput(path: string | null): Promise<Deno.FsFile | null> {
  if (path === null) return null;
  await Deno.mkdir(dirname(path), { recursive: true });
  return await Deno.open(path, { write: true, create: true, truncate: true });
}

/** Environment variables HyperQueue gives a task. */
export function taskEnv(spec: LaunchSpec): Record<string, string> {
  const env: Record<string, string> = { ...spec.template.program.env };
  env.HQ_JOB_ID = String(spec.jobId);
  env.HQ_TASK_ID = String(spec.taskId);
  env.HQ_INSTANCE_ID = String(spec.instance);
  env.HQ_SUBMIT_DIR = spec.submitDir;
  env.HQ_SERVER_UID = spec.serverUid;
  env.HQ_WORKER_ID = String(spec.workerId);
  for (const entry of spec.template.request.entries) {
    env[`HQ_RESOURCE_REQUEST_${entry.resource.replace(/[^A-Za-z0-9]/g, "_")}`] =
      formatRequestAmount(entry);
  }
  if (spec.cpus.length > 0) {
    env.HQ_CPUS = spec.cpus.join(",");
    env.HQ_RESOURCE_VALUES_cpus = env.HQ_CPUS;
    const cpuEntry = spec.template.request.entries.find((e) => e.resource === "cpus");
    const whole = cpuEntry?.policy === "all" ||
      (cpuEntry !== undefined && cpuEntry.amount % FRACTIONS_PER_UNIT === 0);
    if (whole && !("OMP_NUM_THREADS" in spec.template.program.env)) {
      env.OMP_NUM_THREADS = cpuEntry?.policy === "all"
        ? String(spec.cpus.length)
        : formatAmount(cpuEntry!.amount);
    }
  }
  return env;
}

/** Resolved paths of a task. */
export interface TaskPaths {
  cwd: string;
  stdout: string | null;
  stderr: string | null;
}

/** Resolves cwd, stdout and stderr templates of a task. @throws {RangeError} */
export function taskPaths(spec: LaunchSpec): TaskPaths {
  const values: PlaceholderValues = {
    jobId: spec.jobId,
    taskId: spec.taskId,
    instanceId: spec.instance,
    submitDir: spec.submitDir,
    serverUid: spec.serverUid,
  };
  const program = spec.template.program;
  let cwd = resolvePlaceholders(program.cwd, values);
  if (!cwd.startsWith("/")) cwd = `${spec.submitDir}/${cwd}`;
  const withCwd = { ...values, cwd };
  return {
    cwd,
    stdout: program.stdout === null ? null : resolveStdPath(program.stdout.path, withCwd),
    stderr: program.stderr === null ? null : resolveStdPath(program.stderr.path, withCwd),
  };
}

/** Text of a non-zero exit, as HyperQueue words it. */
export function exitError(status: Deno.CommandStatus): string {
  if (status.signal !== null) return `Program terminated by signal ${status.signal}`;
  return `Program terminated with exit code ${status.code}`;
}

/** Starts a task process. @throws {Error} With HyperQueue's wording when it cannot start. */
export async function launchTask(spec: LaunchSpec, paths: TaskPaths): Promise<RunningProcess> {
  const program = spec.template.program;
  await Deno.mkdir(paths.cwd, { recursive: true });
  const out = await openOutput(paths.stdout);
  const err = paths.stderr === paths.stdout && out ? null : await openOutput(paths.stderr);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program.args[0]!, {
      args: program.args.slice(1),
      cwd: paths.cwd,
      env: taskEnv(spec),
      stdin: "null",
      stdout: out ? "piped" : "null",
      stderr: err ? "piped" : "null",
    }).spawn();
  } catch (e) {
    out?.close();
    err?.close();
    const why = e instanceof Deno.errors.NotFound
      ? "No such file or directory (os error 2)"
      : (e as Error).message;
    throw new Error(`Cannot execute "${program.args.join(" ")}": ${why}`);
  }
  const pipes: Promise<void>[] = [];
  if (out) pipes.push(child.stdout.pipeTo(out.writable).catch(() => {}));
  if (err) pipes.push(child.stderr.pipeTo(err.writable).catch(() => {}));
  const done = (async (): Promise<TaskEnd> => {
    const status = await child.status;
    await Promise.all(pipes);
    if (status.success) return { kind: "finished" };
    return { kind: "failed", error: exitError(status) };
  })();
  return { pid: child.pid, done };
}

function childrenOf(pid: number): number[] {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`);
    return text.split(" ").filter((s) => s.trim() !== "").map(Number);
  } catch {
    return [];
  }
}

/** The process and all its descendants, parents first. */
export function processTree(pid: number): number[] {
  const result: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    result.push(p);
    stack.push(...childrenOf(p));
  }
  return result;
}

/** Signals a process tree; missing processes are ignored. */
export function killTree(pid: number, signal: Deno.Signal): void {
  for (const p of processTree(pid)) {
    try {
      Deno.kill(p, signal);
    } catch {
      // Already gone.
    }
  }
}
