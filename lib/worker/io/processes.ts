/**
 * The worker's task processes: launching what the core hands out, the
 * bookkeeping per process (pid, time-limit timer, the SIGKILL that follows a
 * SIGINT), and how each process's end becomes a task outcome.
 *
 * A process ended by a cancel or by the worker's end reports `canceled`; one
 * ended by its time limit fails with `Time limit reached`; otherwise its exit
 * decides. Ending a task sends SIGINT to its process group and tree, then
 * SIGKILL {@link KILL_GRACE_MS} later to what is left of the group (and of the
 * tree while the task's process runs), even after the task's process has
 * ended: background processes it left behind go too. Output files marked
 * `:rm-if-finished` are removed when the task finished, and the task's
 * directory whenever it ends. Ends are handed to the `onEnd` callback in the
 * order the processes exit; a task whose output is streamed (`streamer.ts`)
 * first has its output written and synced.
 *
 * @module
 */
import { joinPath, resolvePath } from "../../common/mod.ts";
import {
  type LaunchSpec,
  launchTask,
  removeTaskDir,
  streamedChannels,
  type TaskEnd,
  type TaskPaths,
  taskPaths,
} from "./launcher.ts";
import { groupExists, KILL_GRACE_MS, signalTask } from "./signals.ts";
import { taskErrorText } from "./exec_errors.ts";
import { type TaskStream, TaskStreamer } from "./streamer.ts";
import { nextMeanRunMs, type StartOrder, type TaskOutcome, workerTaskKey } from "../mod.ts";

/** What a launch needs beyond the start order; `serverUid` and `workerId` are set at registration. */
export interface LaunchContext {
  /** The worker's working directory (task directories go under `tasks/` in it). */
  workDir: string;
  /** The server's uid, for `%{SERVER_UID}`. */
  serverUid: string;
  /** The worker's id, for `HQ_WORKER_ID`. */
  workerId: number;
}

/**
 * The launcher's spec for a start order. A task with `--task-dir` and a multi-node task
 * get the directory `<workDir>/tasks/<job>-<task>-<instance>` (one per attempt).
 */
export function launchSpec(order: StartOrder, context: LaunchContext): LaunchSpec {
  const spec: LaunchSpec = {
    jobId: order.jobId,
    taskId: order.taskId,
    instance: order.instance,
    submitDir: order.submitDir,
    serverUid: context.serverUid,
    template: order.template,
    variant: order.variant,
    allocation: order.allocation,
    workerId: context.workerId,
  };
  if (order.entry !== undefined) spec.entry = order.entry;
  if (order.nodes !== null || order.template.taskDir === true) {
    const name = `${order.jobId}-${order.taskId}-${order.instance}`;
    spec.taskDir = resolvePath(Deno.cwd(), joinPath(context.workDir, "tasks", name));
  }
  if (order.nodes !== null) spec.multiNode = { nodes: order.nodes };
  return spec;
}

/** Why the worker ended a process, if it did. */
export interface EndedBy {
  /** By a cancel or the worker's end. */
  canceled: boolean;
  /** By its time limit. */
  timedOut: boolean;
}

/**
 * How a task ended, from how its process exited and whether the worker ended it.
 *
 * @example Usage
 * ```ts
 * import { taskOutcome } from "./processes.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   taskOutcome({ kind: "finished" }, { canceled: false, timedOut: true }),
 *   { kind: "failed", error: "Time limit reached" },
 * );
 * ```
 */
export function taskOutcome(end: TaskEnd, by: EndedBy): TaskOutcome {
  if (by.canceled) return { kind: "canceled" };
  if (by.timedOut) return { kind: "failed", error: "Time limit reached" };
  return end;
}

/** A task process, from its launch until its group is done with. */
interface ProcEntry extends EndedBy {
  /** Its pid (also its process group id when `ownGroup`). */
  pid: number;
  /** Whether it leads a process group of its own (tasks with a time limit). */
  ownGroup: boolean;
  /** Whether the process has ended (and was reaped: its pid may be reused). */
  exited: boolean;
  /** The time limit timer. */
  timer?: ReturnType<typeof setTimeout>;
  /** The SIGKILL that follows a SIGINT. */
  killTimer?: ReturnType<typeof setTimeout>;
  /** Whether that SIGKILL was sent. */
  killed?: boolean;
}

/** Removes a finished task's output files marked `:rm-if-finished`. */
function removeFinishedOutputs(spec: LaunchSpec, paths: TaskPaths): void {
  const { stdout, stderr } = spec.template.program;
  const targets = [[stdout, paths.stdout], [stderr, paths.stderr]] as const;
  for (const [stdio, file] of targets) {
    if (stdio?.rmIfFinished && file) {
      try {
        Deno.removeSync(file);
      } catch {
        // Already gone.
      }
    }
  }
}

/** Options of {@link TaskProcesses}. */
export interface TaskProcessesOptions {
  /** Where streamed output goes. @default a new {@link TaskStreamer} */
  streamer?: TaskStreamer;
}

/**
 * Opens the stream of a task with streamed channels (null for one without); a relative
 * stream dir (the server resolves it) is taken against the submit dir.
 */
function openStream(
  streamer: TaskStreamer,
  spec: LaunchSpec,
  context: LaunchContext,
): TaskStream | null {
  const piped = streamedChannels(spec.template);
  if (piped === null) return null;
  return streamer.open(
    resolvePath(spec.submitDir, piped.dir),
    { job: spec.jobId, task: spec.taskId, inst: spec.instance },
    { serverUid: context.serverUid, workerId: context.workerId },
  );
}

/** The task processes of one worker, by task key ({@link workerTaskKey}). */
export class TaskProcesses {
  readonly #procs = new Map<string, ProcEntry>();
  /** Ended tasks whose group still gets its SIGKILL. */
  readonly #ending = new Set<ProcEntry>();
  readonly #onEnd: (key: string, outcome: TaskOutcome) => void;
  readonly #streamer: TaskStreamer;
  #meanRunMs = 0;

  /** Processes whose ends go to `onEnd`. */
  constructor(
    onEnd: (key: string, outcome: TaskOutcome) => void,
    options: TaskProcessesOptions = {},
  ) {
    this.#onEnd = onEnd;
    this.#streamer = options.streamer ?? new TaskStreamer();
  }

  /** Writes, syncs and closes the stream files (once no task runs). */
  closeStreams(): Promise<void> {
    return this.#streamer.close();
  }

  /** Number of processes running. */
  get size(): number {
    return this.#procs.size;
  }

  /** Moving average of the run times of ended processes, ms. */
  get meanRunMs(): number {
    return this.#meanRunMs;
  }

  /**
   * Launches a task. Returns null when it runs, or its failure when it could
   * not start (then `onEnd` is not called for it).
   */
  launch(order: StartOrder, context: LaunchContext): TaskOutcome | null {
    const key = workerTaskKey(order.jobId, order.taskId);
    const spec = launchSpec(order, context);
    const { taskDir } = spec;
    let paths;
    let proc;
    let stream;
    try {
      paths = taskPaths(spec);
      stream = openStream(this.#streamer, spec, context);
      proc = launchTask(spec, paths);
    } catch (e) {
      if (taskDir !== undefined) removeTaskDir(taskDir);
      return { kind: "failed", error: taskErrorText((e as Error).message) };
    }
    if (stream !== null) {
      stream.start();
      if (proc.stdout) stream.pump(proc.stdout, 0);
      if (proc.stderr) stream.pump(proc.stderr, 1);
    }
    const entry: ProcEntry = {
      pid: proc.pid,
      ownGroup: proc.ownGroup,
      exited: false,
      canceled: false,
      timedOut: false,
    };
    this.#procs.set(key, entry);
    const limitMs = order.template.timeLimitMs;
    if (limitMs !== null) {
      entry.timer = setTimeout(() => {
        entry.timedOut = true;
        this.#terminate(entry);
      }, limitMs);
    }
    const launchedAt = Date.now();
    proc.done.then(async (end) => {
      this.#meanRunMs = nextMeanRunMs(this.#meanRunMs, Date.now() - launchedAt);
      entry.exited = true;
      clearTimeout(entry.timer);
      if (entry.killTimer !== undefined && !entry.killed) {
        // Processes the task left in its group get their SIGKILL on time; none left, no wait.
        if (entry.ownGroup && groupExists(entry.pid)) this.#ending.add(entry);
        else clearTimeout(entry.killTimer);
      }
      if (taskDir !== undefined) removeTaskDir(taskDir);
      let outcome = taskOutcome(end, entry);
      if (stream !== null) {
        // Its output is written (and synced, unless the worker ended it) before its end is
        // reported; meanwhile it still counts as running, so the worker's end waits for it.
        const durable = !entry.canceled && !entry.timedOut;
        try {
          await stream.finish(durable);
        } catch (e) {
          if (durable) outcome = { kind: "failed", error: taskErrorText((e as Error).message) };
        }
      }
      this.#procs.delete(key);
      if (outcome.kind === "finished") removeFinishedOutputs(spec, paths);
      this.#onEnd(key, outcome);
    });
    return null;
  }

  /** Ends the process of task `key`, if it runs, as canceled. */
  cancel(key: string): void {
    const entry = this.#procs.get(key);
    // A process that ended is only writing its stream out: nothing to signal.
    if (entry && !entry.exited) {
      entry.canceled = true;
      this.#terminate(entry);
    }
  }

  /** Ends every process as canceled. */
  cancelAll(): void {
    for (const key of this.#procs.keys()) this.cancel(key);
  }

  /**
   * Resolves once no process runs and the groups of ended tasks have had their
   * SIGKILL (checked every 20 ms).
   */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      const check = () =>
        this.#procs.size === 0 && this.#ending.size === 0 ? resolve() : setTimeout(check, 20);
      check();
    });
  }

  /** SIGINT to the task's group and tree now, SIGKILL {@link KILL_GRACE_MS} later (once). */
  #terminate(entry: ProcEntry): void {
    if (entry.killTimer !== undefined) return;
    signalTask(entry.pid, "SIGINT", { group: entry.ownGroup });
    entry.killTimer = setTimeout(() => {
      entry.killed = true;
      // Without a group of its own, nothing is left to signal once the task was reaped.
      if (entry.ownGroup || !entry.exited) {
        signalTask(entry.pid, "SIGKILL", { tree: !entry.exited, group: entry.ownGroup });
      }
      this.#ending.delete(entry);
    }, KILL_GRACE_MS);
  }
}
