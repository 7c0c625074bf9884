/**
 * Starts one task process with its environment and output files, and kills
 * whole process trees (found through `/proc`) on cancel or time limit. A
 * multi-node task gets a task directory holding its node and host files.
 *
 * @module
 */
import { dirname, fillPlaceholdersInPaths, type JobId, type TaskId } from "../../common/mod.ts";
import type { TaskNode, TaskTemplate } from "../../protocol/mod.ts";
import {
  type Allocation,
  allocationValues,
  formatAmount,
  formatRequestAmount,
  FRACTIONS_PER_UNIT,
} from "../../resources/mod.ts";
import {
  canExecute,
  cannotExecuteText,
  checkExecFormat,
  EACCES,
  ENOENT,
  ExecError,
  exitStatusText,
  spawnErrno,
  taskErrorText,
} from "./exec_errors.ts";

/** What the launcher needs to start a task. */
export interface LaunchSpec {
  jobId: JobId;
  taskId: TaskId;
  instance: number;
  submitDir: string;
  serverUid: string;
  template: TaskTemplate;
  /** Variant the task runs with. */
  variant: number;
  /** Resources it got. */
  allocation: Allocation;
  /** Worker id, for `HQ_WORKER_ID`. */
  workerId: number;
  /** For a multi-node task: its workers (root first) and its task directory. */
  multiNode?: MultiNodeSpec;
}

/** What a multi-node task needs on its root worker. */
export interface MultiNodeSpec {
  /** Workers of the task, root first. */
  nodes: TaskNode[];
  /** Per-task directory (under the worker's work dir) for the node files; removed at the end. */
  taskDir: string;
}

const IPV4_REGEXP = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * A host name without its domain (text after the first `.`); IP addresses are kept whole.
 *
 * @example Usage
 * ```ts
 * import { shortHostname } from "./launcher.ts";
 * import assert from "node:assert/strict";
 * assert.equal(shortHostname("cn12.cluster.example.org"), "cn12");
 * assert.equal(shortHostname("10.0.0.7"), "10.0.0.7");
 * ```
 */
export function shortHostname(hostname: string): string {
  if (IPV4_REGEXP.test(hostname) || hostname.includes(":")) return hostname;
  const dot = hostname.indexOf(".");
  return dot < 0 ? hostname : hostname.slice(0, dot);
}

/** Contents of `HQ_NODE_FILE` (short names) and `HQ_HOST_FILE` (full names), root first. */
export function nodeFiles(nodes: readonly TaskNode[]): { nodeFile: string; hostFile: string } {
  return {
    nodeFile: nodes.map((n) => shortHostname(n.hostname) + "\n").join(""),
    hostFile: nodes.map((n) => n.hostname + "\n").join(""),
  };
}

/** Paths of the node and host files in a multi-node task's directory. */
export function nodeFilePaths(taskDir: string): { nodeFile: string; hostFile: string } {
  return { nodeFile: `${taskDir}/hq-nodes`, hostFile: `${taskDir}/hq-hosts` };
}

/** Creates a multi-node task's directory with its node and host files. */
export function prepareMultiNodeDir(mn: MultiNodeSpec): void {
  Deno.mkdirSync(mn.taskDir, { recursive: true, mode: 0o700 });
  const text = nodeFiles(mn.nodes);
  const paths = nodeFilePaths(mn.taskDir);
  Deno.writeTextFileSync(paths.nodeFile, text.nodeFile);
  Deno.writeTextFileSync(paths.hostFile, text.hostFile);
}

/** Removes a task directory; a missing one is fine. */
export function removeTaskDir(taskDir: string): void {
  try {
    Deno.removeSync(taskDir, { recursive: true });
  } catch {
    // Already gone.
  }
}

/** How a task process ended. */
export type TaskEnd =
  | { kind: "finished" }
  | { kind: "failed"; error: string };

/** A started task. */
export interface RunningProcess {
  pid: number;
  /** Resolves when the process ends. */
  done: Promise<TaskEnd>;
}

function envName(resource: string): string {
  return resource.replace(/[^A-Za-z0-9]/g, "_");
}

/** Environment variables HyperQueue gives a task, on top of the worker's own. */
export function taskEnv(spec: LaunchSpec): Record<string, string> {
  const program = spec.template.program;
  const env: Record<string, string> = { ...program.env };
  env.HQ_JOB_ID = String(spec.jobId);
  env.HQ_TASK_ID = String(spec.taskId);
  env.HQ_INSTANCE_ID = String(spec.instance);
  env.HQ_SUBMIT_DIR = spec.submitDir;
  env.HQ_SERVER_UID = spec.serverUid;
  env.HQ_WORKER_ID = String(spec.workerId);
  if (spec.multiNode) {
    // The task owns whole workers: no per-resource variables.
    const paths = nodeFilePaths(spec.multiNode.taskDir);
    env.HQ_NUM_NODES = String(spec.multiNode.nodes.length);
    env.HQ_NODE_FILE = paths.nodeFile;
    env.HQ_HOST_FILE = paths.hostFile;
    env.HQ_TASK_DIR = spec.multiNode.taskDir;
    if (spec.template.requests.length > 1) env.HQ_RESOURCE_VARIANT = String(spec.variant);
    return env;
  }
  const request = spec.template.requests[spec.variant]!;
  if (spec.template.requests.length > 1) env.HQ_RESOURCE_VARIANT = String(spec.variant);
  for (const entry of request.entries) {
    env[`HQ_RESOURCE_REQUEST_${envName(entry.resource)}`] = formatRequestAmount(entry);
  }
  for (const got of spec.allocation.resources) {
    if (got.indices.length === 0) continue;
    const values = allocationValues(got);
    env[`HQ_RESOURCE_VALUES_${envName(got.resource)}`] = values;
    if (got.resource === "cpus") {
      env.HQ_CPUS = values;
      const entry = request.entries.find((e) => e.resource === "cpus");
      const whole = entry?.policy === "all" || got.amount % FRACTIONS_PER_UNIT === 0;
      if (whole && !("OMP_NUM_THREADS" in program.env)) {
        env.OMP_NUM_THREADS = formatAmount(got.amount);
      }
    } else if (got.resource === "gpus/nvidia" || got.resource === "gpus") {
      env.CUDA_VISIBLE_DEVICES = values;
      env.CUDA_DEVICE_ORDER = "PCI_BUS_ID";
    } else if (got.resource === "gpus/amd") {
      env.ROCR_VISIBLE_DEVICES = values;
    }
  }
  if (spec.template.pin !== null) {
    env.HQ_PIN = spec.template.pin;
    if (spec.template.pin === "omp") {
      if (!("OMP_PROC_BIND" in program.env)) env.OMP_PROC_BIND = "close";
      if (!("OMP_PLACES" in program.env)) env.OMP_PLACES = `{${env.HQ_CPUS ?? ""}}`;
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

/** Resolves cwd, stdout and stderr of a task as HyperQueue does (stdout relative to the cwd). */
export function taskPaths(spec: LaunchSpec): TaskPaths {
  const program = spec.template.program;
  return fillPlaceholdersInPaths(
    {
      cwd: program.cwd,
      stdout: program.stdout?.path ?? null,
      stderr: program.stderr?.path ?? null,
    },
    {
      jobId: spec.jobId,
      taskId: spec.taskId,
      instanceId: spec.instance,
      submitDir: spec.submitDir,
      serverUid: spec.serverUid,
    },
  );
}

/** Command line of a task, with `taskset` in front when pinned that way. */
export function taskArgs(spec: LaunchSpec, env: Record<string, string>): string[] {
  const args = spec.template.program.args;
  if (spec.template.pin === null) return args;
  if (!env.HQ_CPUS) throw new Error("Pinning failed, no CPU ids allocated for task");
  return spec.template.pin === "taskset" ? ["taskset", "-c", env.HQ_CPUS, ...args] : args;
}

const knownDirs = new Set<string>();

function ensureDir(path: string): void {
  if (knownDirs.has(path)) return;
  Deno.mkdirSync(path, { recursive: true });
  if (knownDirs.size > 10_000) knownDirs.clear();
  knownDirs.add(path);
}

/**
 * Starts a task process; synchronous, so a prefilled task starts in the same
 * turn as the end of the task whose resources it takes over. Output goes
 * straight to the files: `/bin/sh` opens them and `exec`s the program (its pid
 * and exit status are the program's), so no output passes through this process.
 * The program is checked first as `execve` would ({@link resolveProgram}), so
 * the shell never runs a file without an interpreter line as a script.
 *
 * @throws {Error} With HyperQueue's wording (without the `Error: ` prefix, see
 * {@link taskErrorText}) when it cannot start.
 */
export function launchTask(spec: LaunchSpec, paths: TaskPaths): RunningProcess {
  const env = taskEnv(spec);
  const args = taskArgs(spec, env);
  ensureDir(paths.cwd);
  if (spec.multiNode) prepareMultiNodeDir(spec.multiNode);
  let program: string;
  try {
    program = resolveProgram(args[0]!, paths.cwd, env.PATH ?? Deno.env.get("PATH"));
  } catch (e) {
    if (e instanceof ExecError) throw new Error(cannotExecuteText(args, e, paths.cwd));
    throw e;
  }
  const [cmd, cmdArgs] = redirected(program, args.slice(1), paths);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args: cmdArgs,
      cwd: paths.cwd,
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (e) {
    throw new Error(cannotExecuteText(args, spawnErrno(e), paths.cwd));
  }
  const done = child.status.then((status): TaskEnd =>
    status.success
      ? { kind: "finished" }
      : { kind: "failed", error: taskErrorText(exitStatusText(status)) }
  );
  return { pid: child.pid, done };
}

/** The command line that runs `program` with its output sent to the task's files. */
function redirected(program: string, rest: string[], paths: TaskPaths): [string, string[]] {
  const { stdout, stderr } = paths;
  // A relative path is run through the shell too, so it is relative to the task's cwd.
  const relative = !program.startsWith("/") && program.includes("/");
  if (stdout === null && stderr === null && !relative) return [program, rest];
  for (const p of [stdout, stderr]) if (p !== null) ensureDir(dirname(p));
  const script = stdout === stderr
    ? 'o=$1; shift 2; exec "$@" >"$o" 2>&1'
    : 'o=$1; e=$2; shift 2; exec "$@" >"$o" 2>"$e"';
  return ["/bin/sh", [
    "-c",
    script,
    "hq-task",
    stdout ?? "/dev/null",
    stderr ?? "/dev/null",
    program,
    ...rest,
  ]];
}

const resolved = new Map<string, string>();

/**
 * Finds the program to run as `execvp` would: a name is looked up in `PATH`
 * (and remembered), a path (relative to `cwd`) must exist and be executable.
 * The file must also be something the kernel runs: an interpreter line whose
 * interpreter exists, an ELF binary, or a registered `binfmt_misc` format.
 * `/bin/sh`'s `exec` would run any other file as a shell script; `execve`
 * (and so HyperQueue) refuses it.
 *
 * @throws {ExecError} With the error `execve` would give.
 */
export function resolveProgram(name: string, cwd: string, path: string | undefined): string {
  if (name.includes("/")) {
    const full = name.startsWith("/") ? name : `${cwd}/${name}`;
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(full);
    } catch {
      throw new ExecError(ENOENT);
    }
    if (!info.isFile || !canExecute(info)) throw new ExecError(EACCES);
    checkExecFormat(full, cwd);
    return name;
  }
  const key = `${path}\0${name}`;
  const known = resolved.get(key);
  if (known !== undefined) return known;
  let denied = false;
  for (const dir of (path ?? "/usr/local/bin:/usr/bin:/bin").split(":")) {
    const candidate = `${dir === "" ? cwd : dir}/${name}`;
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(candidate);
    } catch {
      continue; // Not in this directory.
    }
    if (!info.isFile) continue;
    if (!canExecute(info)) {
      denied = true;
      continue;
    }
    checkExecFormat(candidate, cwd);
    if (resolved.size > 1000) resolved.clear();
    resolved.set(key, candidate);
    return candidate;
  }
  throw new ExecError(denied ? EACCES : ENOENT);
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

/** How long a task may take to end after SIGINT before it gets SIGKILL (HyperQueue: 1 s). */
export const KILL_GRACE_MS = 1000;

/**
 * Ends a task as HyperQueue does on cancel, time limit or worker end: SIGINT
 * to its whole tree, then SIGKILL after {@link KILL_GRACE_MS} to what is left.
 * Returns the timer of the second step.
 */
export function terminateTree(pid: number): ReturnType<typeof setTimeout> {
  killTree(pid, "SIGINT");
  return setTimeout(() => killTree(pid, "SIGKILL"), KILL_GRACE_MS);
}
