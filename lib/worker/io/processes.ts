/**
 * The worker's task processes: launching what the core hands out, the
 * bookkeeping per process (pid, time-limit timer, the SIGKILL that follows a
 * SIGINT), and how each process's end becomes a task outcome.
 *
 * A process ended by a cancel or by the worker's end reports `canceled`; one
 * ended by its time limit fails with `Time limit reached`; otherwise its exit
 * decides. Output files marked `:rm-if-finished` are removed when the task
 * finished. Ends are handed to the `onEnd` callback in the order the
 * processes exit.
 *
 * @module
 */
import { joinPath, resolvePath } from "../../common/mod.ts";
import {
  type LaunchSpec,
  launchTask,
  removeTaskDir,
  type TaskEnd,
  type TaskPaths,
  taskPaths,
  terminateTree,
} from "./launcher.ts";
import { taskErrorText } from "./exec_errors.ts";
import { nextMeanRunMs, type StartOrder, type TaskOutcome, workerTaskKey } from "../mod.ts";

/** What a launch needs beyond the start order; `serverUid` and `workerId` are set at registration. */
export interface LaunchContext {
  /** The worker's working directory (multi-node task directories go under it). */
  workDir: string;
  /** The server's uid, for `%{SERVER_UID}`. */
  serverUid: string;
  /** The worker's id, for `HQ_WORKER_ID`. */
  workerId: number;
}

/** The launcher's spec for a start order. */
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
  if (order.nodes !== null) {
    const name = `${order.jobId}-${order.taskId}-${order.instance}`;
    spec.multiNode = {
      nodes: order.nodes,
      taskDir: resolvePath(Deno.cwd(), joinPath(context.workDir, "tasks", name)),
    };
  }
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

/** A running task process. */
interface ProcEntry extends EndedBy {
  pid: number;
  /** The time limit timer. */
  timer?: ReturnType<typeof setTimeout>;
  /** The SIGKILL that follows a SIGINT. */
  killTimer?: ReturnType<typeof setTimeout>;
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

/** The task processes of one worker, by task key ({@link workerTaskKey}). */
export class TaskProcesses {
  readonly #procs = new Map<string, ProcEntry>();
  readonly #onEnd: (key: string, outcome: TaskOutcome) => void;
  #meanRunMs = 0;

  /** Processes whose ends go to `onEnd`. */
  constructor(onEnd: (key: string, outcome: TaskOutcome) => void) {
    this.#onEnd = onEnd;
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
    const taskDir = spec.multiNode?.taskDir;
    let paths;
    let proc;
    try {
      paths = taskPaths(spec);
      proc = launchTask(spec, paths);
    } catch (e) {
      if (taskDir !== undefined) removeTaskDir(taskDir);
      return { kind: "failed", error: taskErrorText((e as Error).message) };
    }
    const entry: ProcEntry = { pid: proc.pid, canceled: false, timedOut: false };
    this.#procs.set(key, entry);
    const limitMs = order.template.timeLimitMs;
    if (limitMs !== null) {
      entry.timer = setTimeout(() => {
        entry.timedOut = true;
        this.#terminate(entry);
      }, limitMs);
    }
    const launchedAt = Date.now();
    proc.done.then((end) => {
      this.#meanRunMs = nextMeanRunMs(this.#meanRunMs, Date.now() - launchedAt);
      clearTimeout(entry.timer);
      clearTimeout(entry.killTimer);
      this.#procs.delete(key);
      if (taskDir !== undefined) removeTaskDir(taskDir);
      const outcome = taskOutcome(end, entry);
      if (outcome.kind === "finished") removeFinishedOutputs(spec, paths);
      this.#onEnd(key, outcome);
    });
    return null;
  }

  /** Ends the process of task `key`, if it runs, as canceled. */
  cancel(key: string): void {
    const entry = this.#procs.get(key);
    if (entry) {
      entry.canceled = true;
      this.#terminate(entry);
    }
  }

  /** Ends every process as canceled. */
  cancelAll(): void {
    for (const key of this.#procs.keys()) this.cancel(key);
  }

  /** Resolves once no process runs (checked every 20 ms). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.#procs.size === 0 ? resolve() : setTimeout(check, 20));
      check();
    });
  }

  /** SIGINT now, SIGKILL a second later (once per process). */
  #terminate(entry: ProcEntry): void {
    entry.killTimer ??= terminateTree(entry.pid);
  }
}
