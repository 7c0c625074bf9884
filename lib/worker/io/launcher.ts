/**
 * Starts one task process with its environment, stdin data and output files,
 * and ends whole tasks on cancel or time limit: every task runs in its own
 * process group (a session of its own), which is signalled together with the
 * descendants found through `/proc`. A task with `--task-dir`, and every
 * multi-node task, gets a task directory under the worker's work dir
 * (`HQ_TASK_DIR`), holding the node and host files of a multi-node task and
 * the error file (`HQ_ERROR_FILENAME`) through which a failing task gives its
 * own error message.
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
import { errorFilePath, readErrorFile } from "./error_file.ts";

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
  /** The task's `HQ_ENTRY` (`--each-line`, `--from-json`). */
  entry?: string;
  /**
   * The task's own directory (`HQ_TASK_DIR`), under the worker's work dir: for a task
   * submitted with `--task-dir` and for every multi-node task. Created afresh at launch
   * ({@link prepareTaskDir}); the caller removes it when the task ends ({@link removeTaskDir}).
   */
  taskDir?: string;
  /** For a multi-node task: its workers (root first); its node files go in `taskDir`. */
  multiNode?: MultiNodeSpec;
}

/** What a multi-node task needs on its root worker. */
export interface MultiNodeSpec {
  /** Workers of the task, root first. */
  nodes: TaskNode[];
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

/**
 * Creates a task's directory afresh (a leftover of an earlier worker on the same work dir
 * is removed first), with the node and host files of a multi-node task. Does nothing for
 * a task without a directory.
 */
export function prepareTaskDir(spec: LaunchSpec): void {
  const { taskDir, multiNode } = spec;
  if (taskDir === undefined) return;
  removeTaskDir(taskDir);
  Deno.mkdirSync(taskDir, { recursive: true, mode: 0o700 });
  if (multiNode) {
    const text = nodeFiles(multiNode.nodes);
    const paths = nodeFilePaths(taskDir);
    Deno.writeTextFileSync(paths.nodeFile, text.nodeFile);
    Deno.writeTextFileSync(paths.hostFile, text.hostFile);
  }
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
  /** Whether it leads a session (and process group) of its own: pgid = pid. */
  ownGroup: boolean;
  /** Resolves when the process ends. */
  done: Promise<TaskEnd>;
  /** Its stdout, when streamed ({@link streamedChannels}): to be read, or the task blocks. */
  stdout?: ReadableStream<Uint8Array>;
  /** Its stderr, when streamed. */
  stderr?: ReadableStream<Uint8Array>;
}

/** Which channels of a task go through pipes to its stream; null when none does. */
export function streamedChannels(
  template: TaskTemplate,
): { dir: string; stdout: boolean; stderr: boolean } | null {
  const stream = template.program.stream;
  if (stream === undefined || (!stream.stdout && !stream.stderr)) return null;
  return stream;
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
  if (spec.entry !== undefined) env.HQ_ENTRY = spec.entry;
  if (spec.taskDir !== undefined) {
    env.HQ_TASK_DIR = spec.taskDir;
    env.HQ_ERROR_FILENAME = errorFilePath(spec.taskDir);
  }
  if (spec.multiNode) {
    // The task owns whole workers: no per-resource variables.
    if (spec.taskDir === undefined) {
      throw new TypeError("Cannot launch a multi-node task: it has no task directory");
    }
    const paths = nodeFilePaths(spec.taskDir);
    env.HQ_NUM_NODES = String(spec.multiNode.nodes.length);
    env.HQ_NODE_FILE = paths.nodeFile;
    env.HQ_HOST_FILE = paths.hostFile;
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

/**
 * Resolves cwd, stdout and stderr of a task as HyperQueue does (stdout relative to the cwd);
 * a streamed channel has no file.
 */
export function taskPaths(spec: LaunchSpec): TaskPaths {
  const program = spec.template.program;
  const piped = streamedChannels(spec.template);
  return fillPlaceholdersInPaths(
    {
      cwd: program.cwd,
      stdout: piped?.stdout ? null : program.stdout?.path ?? null,
      stderr: piped?.stderr ? null : program.stderr?.path ?? null,
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

/** Encoded stdin data per template (tasks of one message share their template). */
const stdinBytes = new WeakMap<TaskTemplate, Uint8Array>();

/**
 * Writes a task's stdin data and closes the pipe, in the background: a task that
 * does not read never blocks the worker, and one that ends first (`EPIPE`) is fine.
 */
function feedStdin(stdin: WritableStream<Uint8Array>, template: TaskTemplate): void {
  let data = stdinBytes.get(template);
  if (data === undefined) {
    data = new TextEncoder().encode(template.stdin ?? "");
    stdinBytes.set(template, data);
  }
  const writer = stdin.getWriter();
  writer.write(data).then(
    () => writer.close(),
    () => writer.abort(),
  ).catch(() => {
    // The task closed its stdin or ended: what it did not read is dropped.
  });
}

/**
 * Starts a task process; synchronous, so a prefilled task starts in the same
 * turn as the end of the task whose resources it takes over. Output goes
 * straight to the files: `/bin/sh` opens them and `exec`s the program (its pid
 * and exit status are the program's), so no output passes through this process.
 * The program is checked first as `execve` would ({@link resolveProgram}), so
 * the shell never runs a file without an interpreter line as a script.
 *
 * The process leads a new session, hence its own process group (pgid = pid),
 * which {@link signalTask} signals as a whole. The task's directory, if it has
 * one, is created first; a failed task's error file, if it wrote one, gives its
 * error ({@link readErrorFile}). Stdin data, if any, is written through a pipe;
 * otherwise stdin is `/dev/null`.
 *
 * @throws {Error} With HyperQueue's wording (without the `Error: ` prefix, see
 * {@link taskErrorText}) when it cannot start.
 */
export function launchTask(spec: LaunchSpec, paths: TaskPaths): RunningProcess {
  const env = taskEnv(spec);
  const args = taskArgs(spec, env);
  ensureDir(paths.cwd);
  prepareTaskDir(spec);
  let program: string;
  try {
    program = resolveProgram(args[0]!, paths.cwd, env.PATH ?? Deno.env.get("PATH"));
  } catch (e) {
    if (e instanceof ExecError) throw new Error(cannotExecuteText(args, e, paths.cwd));
    throw e;
  }
  const piped = streamedChannels(spec.template);
  const [cmd, cmdArgs] = redirected(program, args.slice(1), paths);
  // Empty data is no data, as in HyperQueue: stdin is /dev/null, EOF at once either way.
  const withStdin = (spec.template.stdin ?? "") !== "";
  let child: Deno.ChildProcess;
  // A task with a time limit leads a session of its own, so that the limit ends everything it
  // started. Through `setsid`, which execs in place: a detached spawn would fork the whole
  // worker on its main thread (slower the bigger the worker grows). Other tasks are spawned
  // plainly, the cheapest way (an exec less per task); ending them signals their process tree.
  const ownGroup = spec.template.timeLimitMs !== null;
  const setsid = ownGroup ? setsidProgram() : null;
  try {
    child = new Deno.Command(setsid ?? cmd, {
      args: setsid === null ? cmdArgs : [cmd, ...cmdArgs],
      cwd: paths.cwd,
      env,
      detached: ownGroup && setsid === null,
      stdin: withStdin ? "piped" : "null",
      stdout: piped?.stdout ? "piped" : "null",
      stderr: piped?.stderr ? "piped" : "null",
    }).spawn();
  } catch (e) {
    throw new Error(cannotExecuteText(args, spawnErrno(e), paths.cwd));
  }
  if (withStdin) feedStdin(child.stdin, spec.template);
  const { taskDir } = spec;
  const done = child.status.then((status): TaskEnd => {
    if (status.success) return { kind: "finished" };
    const own = taskDir === undefined ? null : readErrorFile(taskDir);
    return { kind: "failed", error: taskErrorText(own ?? exitStatusText(status)) };
  });
  const running: RunningProcess = { pid: child.pid, ownGroup, done };
  if (piped?.stdout) running.stdout = child.stdout;
  if (piped?.stderr) running.stderr = child.stderr;
  return running;
}

/**
 * The command line that runs `program` with its output sent to the task's files; a channel
 * without a file keeps what the process got (`/dev/null`, or the pipe of a streamed one).
 */
let setsidPath: string | null | undefined;

/** The `setsid` program (util-linux), or null when this machine has none. */
function setsidProgram(): string | null {
  if (setsidPath === undefined) {
    setsidPath = null;
    for (const path of ["/usr/bin/setsid", "/bin/setsid"]) {
      try {
        if (Deno.statSync(path).isFile) {
          setsidPath = path;
          break;
        }
      } catch {
        // Not there.
      }
    }
  }
  return setsidPath;
}

function redirected(program: string, rest: string[], paths: TaskPaths): [string, string[]] {
  const { stdout, stderr } = paths;
  // A relative path is run through the shell too, so it is relative to the task's cwd.
  const relative = !program.startsWith("/") && program.includes("/");
  if (stdout === null && stderr === null && !relative) return [program, rest];
  for (const p of [stdout, stderr]) if (p !== null) ensureDir(dirname(p));
  const out = stdout === null ? "" : ' >"$o"';
  const err = stderr === null ? "" : stderr === stdout ? " 2>&1" : ' 2>"$e"';
  const script = `o=$1; e=$2; shift 2; exec "$@"${out}${err}`;
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
