/**
 * Message unions of the file protocol, named by direction.
 *
 * Inbox files carry one {@link FromClientMsg} or {@link RegisterWorkerMsg}; the
 * per-worker channel logs carry {@link FromWorkerMsg} and {@link ToWorkerMsg};
 * per-client reply logs carry {@link ToClientMsg}.
 *
 * @module
 */
import type { IdRange, JobId, TaskId, WorkerId } from "../common/mod.ts";
import type { ResourcePool, ResourceRequest } from "../resources/mod.ts";
import type { TaskCursor, TaskStateName } from "./views.ts";

/**
 * Protocol version, the `v` of every record; bump on any incompatible change of these unions
 * (the guard test on `MESSAGE_KINDS` in `codec.ts` fails until you do).
 */
export const PROTOCOL_VERSION = 7;

/** Where a task's stdout or stderr goes; `null` discards it. */
export type StdioSpec = { path: string; rmIfFinished: boolean } | null;

/** How many worker crashes a task tolerates. */
export type CrashLimit = number | "never-restart" | "unlimited";

/** Program of a task, with placeholders still unresolved. */
export interface ProgramSpec {
  /** Command and arguments. */
  args: string[];
  /** Extra environment variables (`--env KEY=VALUE`). */
  env: Record<string, string>;
  /** Working directory template, placeholders allowed (`%{TASK_ID}`). */
  cwd: string;
  stdout: StdioSpec;
  stderr: StdioSpec;
  /**
   * Output streaming (`--stream DIR`, job file `stream`): the channels flagged here go through
   * pipes into the worker's stream files in `dir` (placeholders filled by the server), their
   * `stdout`/`stderr` spec is then null. A channel the user set with `--stdout`/`--stderr`
   * keeps that (HyperQueue's partial redirection). Absent: no streaming.
   */
  stream?: StreamSpec;
}

/** Which channels of a task are streamed, and where (see {@link ProgramSpec.stream}). */
export interface StreamSpec {
  /** Directory of the stream files. */
  dir: string;
  /** Whether stdout is streamed. */
  stdout: boolean;
  /** Whether stderr is streamed. */
  stderr: boolean;
}

/** What every task of one submit shares. */
export interface TaskTemplate {
  program: ProgramSpec;
  /** Resource request variants (1 to 32), in preference order. */
  requests: ResourceRequest[];
  /** CPU pinning of the task's cpus (`--pin`); null for none. */
  pin: "taskset" | "omp" | null;
  /** User priority, higher first. */
  priority: number;
  /** Run-time limit in ms, or null. */
  timeLimitMs: number | null;
  /** Worker crashes tolerated (`--crash-limit`; 5 unless given). */
  crashLimit: CrashLimit;
  /** Whether each task gets a temporary directory (`--task-dir`, `HQ_TASK_DIR`). */
  taskDir?: boolean;
  /** Data written to every task's stdin (`--stdin`, job file `stdin`); absent for none. */
  stdin?: string;
}

/** One task of a task graph (a job file's `[[task]]`). */
export interface GraphTask {
  id: TaskId;
  /** Index of its template in {@link TaskGraph.templates}. */
  template: number;
  /** Tasks of the same job that must finish first. */
  deps: TaskId[];
  /** Tasks of other jobs that must finish first (job file `deps = ["7:3"]`). */
  externalDeps?: { jobId: JobId; id: TaskId }[];
}

/** Tasks with their own definitions and dependencies (a job definition file). */
export interface TaskGraph {
  /** Distinct task definitions. */
  templates: TaskTemplate[];
  /** Tasks, each dependency before its dependents. */
  tasks: GraphTask[];
}

/** A job as submitted by a client. */
export interface JobSubmit {
  /** Job name (`--name`, else the program's base name). */
  name: string;
  /** Abort remaining tasks once more than this many failed; null for no limit. */
  maxFails: number | null;
  /** Directory the client submitted from (`%{SUBMIT_DIR}`). */
  submitDir: string;
  /** Task ids of the array (one id, 0, for a plain submit); for a graph, its tasks' ids. */
  ids: IdRange[];
  /** What every task of the array shares; for a graph, its first template. */
  template: TaskTemplate;
  /** `HQ_ENTRY` of each task of the array, in id order (`--each-line`, `--from-json`). */
  entries?: string[];
  /** A task graph instead of an array (`job submit-file`). */
  graph?: TaskGraph;
  /** Open job the tasks are added to (`--job`); absent for a new job. */
  jobId?: JobId;
  /**
   * Whether the ids were not given (no `--array`, a job file without ids): added to an open
   * job that has tasks, they are shifted past its largest id, as HyperQueue does.
   */
  autoIds?: boolean;
  /** Job selector whose jobs must all finish before these tasks start (`--after`). */
  after?: string;
  /** Directory of stream files (`--stream`), placeholders unresolved. */
  stream?: string;
}

/**
 * Who a worker process is, so that a server on the same machine can tell that
 * it died (a SIGKILLed worker shows `CONNECTION LOST` at once, not after its
 * heartbeats stop). Fields the worker could not read are null.
 */
export interface ProcessIdentity {
  /** The machine's own host name (`WorkerConfig.hostname` may be `--hostname`). */
  host: string;
  /** Kernel boot id (`/proc/sys/kernel/random/boot_id`): the same only on the same machine and boot. */
  bootId: string | null;
  /** PID namespace (target of `/proc/self/ns/pid`): pids mean the same only within one. */
  pidNamespace: string | null;
  /** Start time of the process in clock ticks since boot, so a reused pid is not mistaken for it. */
  startTicks: number | null;
}

/** Worker settings sent at registration. */
export interface WorkerConfig {
  /** Host name shown in listings (`--hostname`, else the machine's). */
  hostname: string;
  pid: number;
  /**
   * Identity of the worker process; absent where nobody can check it (simulated
   * workers, records of older workers): then only its heartbeats tell.
   */
  process?: ProcessIdentity;
  /** Heartbeat interval in ms. */
  heartbeatMs: number;
  /** Idle timeout in ms, or null. */
  idleTimeoutMs: number | null;
  /** Time limit in ms, or null. */
  timeLimitMs: number | null;
  /** Working directory of the worker (`--work-dir`). */
  workDir: string;
  /** What to do when the server is lost (`--on-server-lost`). */
  onServerLost: "stop" | "finish-running";
  /** Worker group (`--group`); multi-node tasks take workers of one group. */
  group: string;
  /** Resource pools, explicit and detected, `cpus` first. */
  resources: ResourcePool[];
  /** Least CPU use (1/10000 of the total) for new work to be planned onto the worker. */
  minUtilization: number;
  /** Batch manager, if started inside an allocation. */
  manager: { kind: "slurm" | "pbs"; jobId: string } | null;
  /** Start time (worker clock, ms since epoch). */
  startedAt: number;
}

/** A worker announces itself through the inbox. */
export interface RegisterWorkerMsg {
  kind: "registerWorker";
  /** Name of the worker's own directory under `workers/`. */
  key: string;
  config: WorkerConfig;
}

/** The batch systems a queue can submit to. */
export type ManagerKind = "slurm" | "pbs";

/** What `hq alloc add` fixes about a queue (HyperQueue's `QueueParameters`). */
export interface QueueParams {
  /** Batch system. */
  manager: ManagerKind;
  /** Most allocations queued in the batch system at once (`--backlog`, default 1). */
  backlog: number;
  /** Most nodes, so workers, in one allocation (`--max-workers-per-alloc`, default 1). */
  maxWorkersPerAlloc: number;
  /** Cap on queued and running workers of the queue (`--max-worker-count`); null: none. */
  maxWorkerCount: number | null;
  /** Walltime of each allocation in ms (`--time-limit`). */
  timeLimitMs: number;
  /** Queue name (`--name`); null: `hq-<id>` in job names. */
  name: string | null;
  /** Shell command run before the worker (`--worker-start-cmd`); the worker runs only if it succeeds. */
  workerStartCmd: string | null;
  /** Shell command run after the worker ends (`--worker-stop-cmd`), whatever its outcome. */
  workerStopCmd: string | null;
  /** Prefix of the worker command (`--worker-wrap-cmd`, e.g. `podman run ...`). */
  workerWrapCmd: string | null;
  /** Worker's own time limit in ms (`--worker-time-limit`, at most the queue's); null: the queue's. */
  workerTimeLimitMs: number | null;
  /** Worker idle timeout in ms (`--idle-timeout`, default 5 minutes). */
  idleTimeoutMs: number;
  /** `--on-server-lost` of the workers. */
  onServerLost: "stop" | "finish-running";
  /**
   * Worker flags passed through to `hq worker start` as given (`--cpus`, `--resource`,
   * `--group`, `--no-hyper-threading`, `--min-utilization`, ...), as argument words.
   */
  workerArgs: string[];
  /** `--cpus` as given, or null: the resource guess before a worker connects. */
  cpus: string | null;
  /** `--resource` values as given (`NAME=DEF`): the rest of the guess. */
  resources: string[];
  /** `--min-utilization` in 1/10000 of the CPUs. */
  minUtilization: number;
  /** Everything after `--`, passed to sbatch/qsub verbatim. */
  additionalArgs: string[];
}

/** Requests of `hq alloc ...`. */
export type AllocMsg =
  /** Adds a queue, after a test submission unless `dryRun` is false. */
  | { kind: "allocAdd"; params: QueueParams; dryRun: boolean }
  /** Submits a test allocation and cancels it (`hq alloc dry-run`). */
  | { kind: "allocDryRun"; params: QueueParams }
  | { kind: "allocList" }
  | { kind: "allocInfo"; queueId: number }
  | { kind: "allocPause"; queueId: number }
  | { kind: "allocResume"; queueId: number }
  | { kind: "allocRemove"; queueId: number; force: boolean }
  | { kind: "allocExplain"; queueId: number }
  /** Where an allocation's files are (`hq alloc log`). */
  | { kind: "allocLog"; allocationId: string };

/**
 * Whether a client request is one of `hq alloc`'s.
 *
 * @example Usage
 * ```ts
 * import { isAllocMsg } from "./messages.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isAllocMsg({ kind: "allocList" }), true);
 * assert.equal(isAllocMsg({ kind: "jobList" }), false);
 * ```
 */
export function isAllocMsg(msg: FromClientMsg): msg is AllocMsg {
  return msg.kind.startsWith("alloc");
}

/** Job states `job forget --filter` accepts. */
export type ForgettableState = "finished" | "failed" | "canceled" | "aborted";

/** What `job forget` did: jobs dropped, and jobs selected but kept (unknown or not complete). */
export interface ForgetResult {
  forgotten: number;
  ignored: number;
}

/** `hq journal ...` requests. */
export type JournalMsg =
  /** Past events (`journal replay`), then, with `live`, every new one (`journal stream`). */
  | { kind: "journalEvents"; live: boolean }
  /** Forgets every completed job and ended worker (`journal prune`). */
  | { kind: "journalPrune" }
  /** Forces the journal to disk (`journal flush`). */
  | { kind: "journalFlush" };

/** Whether a client request is one of `hq journal`'s. */
export function isJournalMsg(msg: { kind: string }): msg is JournalMsg {
  return msg.kind.startsWith("journal");
}

/** Client requests, one per inbox file. */
export type FromClientMsg =
  | AllocMsg
  | { kind: "submit"; job: JobSubmit }
  /** Creates an empty open job (`job open`); answered like a submit. */
  | { kind: "jobOpen"; name: string; maxFails: number | null }
  /** Closes open jobs (`job close`). */
  | { kind: "jobClose"; selector: string }
  | { kind: "jobList" }
  | { kind: "jobInfo"; selector: string }
  | { kind: "jobCancel"; selector: string; reason: string | null }
  /**
   * With `withoutClose`, an open job counts as complete once its tasks are; with `notify`,
   * the waiting client is sent each notification of its jobs' tasks (`--on-notify`).
   */
  | { kind: "jobWait"; selector: string; withoutClose?: boolean; notify?: boolean }
  /** `hq task notify` from inside a running task (never journaled). */
  | { kind: "taskNotify"; jobId: JobId; taskId: TaskId; instance: number; message: string }
  /** Drops completed jobs whose state is in `filter` from memory and the journal. */
  | { kind: "jobForget"; selector: string; filter: ForgettableState[] }
  | JournalMsg
  /**
   * One page of the selected jobs' tasks (only `taskIds`, only `states`), at most `limit`,
   * from just after `after`; answered with a {@link TaskPageView}.
   */
  | {
    kind: "taskList";
    selector: string;
    taskIds: IdRange[] | null;
    states: TaskStateName[] | null;
    after: TaskCursor | null;
    limit: number;
  }
  | { kind: "taskExplain"; selector: string; taskId: TaskId }
  | { kind: "workerList" }
  | { kind: "workerStop"; selector: string }
  | { kind: "serverStop" }
  | { kind: "ping" }
  | { kind: "debugDump" };

/** Envelope of an inbox file. */
export interface InboxEnvelope {
  /** The sender's {@link PROTOCOL_VERSION}; a different one is rejected. */
  v: number;
  /** Reply channel: the client's key, or null for worker registration. */
  client: string | null;
  /** Request number within the client. */
  request: number;
  /** Sender's clock at sending, ms since epoch. */
  sentAt: number;
  msg: FromClientMsg | RegisterWorkerMsg;
}

/** A task handed to a worker. */
export interface TaskAssignment {
  id: TaskId;
  /** Instance id (attempt number, from 0). */
  instance: number;
  /** Variant to run now, or null for a prefilled task started when one of its class ends. */
  variant: number | null;
  /** The task's `HQ_ENTRY`, for tasks of an array with entries. */
  entry?: string;
  /**
   * Workers of a multi-node task, root (the receiver) first; absent for a single-node
   * task. Only the root is sent the task; the other workers run nothing for it.
   */
  nodes?: TaskNode[];
}

/** One worker of a multi-node task. */
export interface TaskNode {
  workerId: WorkerId;
  /** The worker's host name (`--hostname`, else the machine's). */
  hostname: string;
}

/** Server to worker channel records. */
export type ToWorkerMsg =
  | { kind: "registered"; workerId: WorkerId; serverUid: string }
  | {
    kind: "computeTasks";
    jobId: JobId;
    submitDir: string;
    template: TaskTemplate;
    tasks: TaskAssignment[];
    /** When the server sent it (server clock); the worker echoes it back (round trips). */
    sentAt: number;
  }
  | { kind: "cancelTasks"; tasks: TaskRef[] }
  | { kind: "retractTasks"; tasks: TaskRef[] }
  | { kind: "stop"; reason: WorkerStopReason }
  | { kind: "ack"; segment: number }
  /**
   * The first record of a server that took over a crashed server's instance: what the
   * worker read before it came from the dead server. The worker drops its unstarted
   * tasks and answers `reattached`.
   */
  | { kind: "serverRestarted"; serverStartedAt: number }
  /** The server refused the worker's registration (its settings are invalid), with why. */
  | { kind: "refused"; reason: string };

/** Why a worker ended (HyperQueue's worker exit reasons). */
export type WorkerStopReason =
  | "stopped"
  | "idleTimeout"
  | "timeLimit"
  | "heartbeatLost"
  | "connectionLost"
  | "serverStopped";

/** One attempt of a task: a message about an older instance is ignored. */
export interface TaskRef {
  jobId: JobId;
  id: TaskId;
  /** Instance id (attempt number, from 0). */
  instance: number;
}

/** A task a worker runs, as it reports it when it reattaches to a restarted server. */
export interface RunningTaskRef extends TaskRef {
  /** Variant it runs with. */
  variant: number;
  /** When it started (worker clock). */
  startedAt: number;
}

/**
 * One task outcome or start reported by a worker. `returned`: a prefilled
 * task given back unstarted (retracted, or no task of its class runs to hand
 * it resources); `rejected`: a task to run now that the worker cannot place
 * (fragmentation), so its variant is blocked there until resources free up.
 */
export type TaskUpdate =
  | { kind: "started"; jobId: JobId; id: TaskId; instance: number; at: number; variant: number }
  | { kind: "returned"; jobId: JobId; id: TaskId; instance: number; at: number }
  | { kind: "rejected"; jobId: JobId; id: TaskId; instance: number; at: number; variant: number }
  | { kind: "finished"; jobId: JobId; id: TaskId; instance: number; at: number }
  | { kind: "failed"; jobId: JobId; id: TaskId; instance: number; at: number; error: string }
  | { kind: "canceled"; jobId: JobId; id: TaskId; instance: number; at: number };

/** Worker to server channel records. */
export type FromWorkerMsg =
  | { kind: "heartbeat"; at: number }
  /** `echo`: the `sentAt` of the last `computeTasks` read since the previous batch. */
  | { kind: "taskUpdates"; updates: TaskUpdate[]; echo?: number }
  | { kind: "stopping"; reason: WorkerStopReason }
  | { kind: "ack"; segment: number }
  /** The answer to `serverRestarted`: every task still running here; nothing else is queued. */
  | { kind: "reattached"; running: RunningTaskRef[] };

/** Server to client reply records. */
export type ToClientMsg =
  | { kind: "submitted"; request: number; jobId: JobId }
  /** A task's notification, to a `jobWait` that asked for them (before its `data` reply). */
  | {
    kind: "notify";
    request: number;
    jobId: JobId;
    taskId: TaskId;
    workerId: WorkerId | null;
    message: string;
  }
  | { kind: "data"; request: number; data: unknown }
  | { kind: "error"; request: number; message: string };

/** A file read from the inbox. */
export type InboxItem =
  | { kind: "message"; name: string; envelope: InboxEnvelope }
  | { kind: "rejected"; name: string; reason: string };
