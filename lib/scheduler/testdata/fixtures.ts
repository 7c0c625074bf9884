/**
 * Private: small builders shared by the scheduler's unit tests: worker
 * configs and job submissions from `--resource`-style text, and readable
 * summaries of what a round sent.
 *
 * @module
 */
import type { WorkerId } from "../../common/mod.ts";
import type { CrashLimit, JobSubmit, WorkerConfig } from "../../protocol/mod.ts";
import { buildRequestVariants, parseResourceDef } from "../../resources/mod.ts";
import {
  createServerState,
  DEFAULT_SCHEDULER_CONFIG,
  onWorkerRegistered,
  type Outbox,
  schedule,
  type ServerState,
} from "../mod.ts";

/** A worker to register. */
export interface WorkerSpec {
  /** Pools as `name=DEF` (`cpus=2x8`, `gpus=[0,1]`, `mem=sum(1000)`). */
  pools: string[];
  /** Time limit in ms. */
  timeLimitMs?: number;
  /** Min utilization in 1/10000. */
  minUtilization?: number;
  /** Heartbeat interval in ms. */
  heartbeatMs?: number;
  /** Worker group (default `default`). */
  group?: string;
  /** Host name (default `h`). */
  hostname?: string;
}

/** A worker config from a spec. */
export function workerConfig(spec: WorkerSpec): WorkerConfig {
  return {
    hostname: spec.hostname ?? "h",
    pid: 1,
    heartbeatMs: spec.heartbeatMs ?? 1000,
    idleTimeoutMs: null,
    timeLimitMs: spec.timeLimitMs ?? null,
    workDir: "/tmp",
    onServerLost: "stop",
    group: spec.group ?? "default",
    resources: spec.pools.map((p) => parseResourceDef(p)),
    minUtilization: spec.minUtilization ?? 0,
    manager: null,
    startedAt: 0,
  };
}

/** Options of a test job. */
export interface JobSpec {
  priority?: number;
  /** Time request in ms. */
  timeRequestMs?: number;
  maxFails?: number | null;
  crashLimit?: CrashLimit;
  /** First task id. */
  first?: number;
  /** Request weight, fixed point (`--weight`). */
  weight?: number;
}

/** A job of `n` tasks with the `--resource` text `resource`. */
export function jobSubmit(resource: string, n: number, spec: JobSpec = {}): JobSubmit {
  const first = spec.first ?? 0;
  return {
    name: "j",
    maxFails: spec.maxFails ?? null,
    submitDir: "/tmp",
    ids: [{ start: first, end: first + n - 1 }],
    template: {
      program: { args: ["true"], env: {}, cwd: "%{SUBMIT_DIR}", stdout: null, stderr: null },
      requests: buildRequestVariants({
        resources: [resource],
        timeRequestMs: spec.timeRequestMs ?? 0,
        ...(spec.weight === undefined ? {} : { weight: spec.weight }),
      }),
      pin: null,
      priority: spec.priority ?? 0,
      timeLimitMs: null,
      crashLimit: spec.crashLimit ?? 5,
    },
  };
}

/**
 * A task graph job: `[id, deps]` per task, each dependency listed before its dependents;
 * `ext` gives tasks dependencies on other jobs' tasks (`[jobId, taskId]` pairs).
 */
export function graphSubmit(
  tasks: [number, number[]][],
  ext: Record<number, [number, number][]> = {},
): JobSubmit {
  const base = jobSubmit("cpus=1", 1);
  const ids = tasks.map(([id]) => id).sort((a, b) => a - b);
  return {
    ...base,
    ids: ids.map((id) => ({ start: id, end: id })),
    graph: {
      templates: [base.template],
      tasks: tasks.map(([id, deps]) => ({
        id,
        template: 0,
        deps,
        ...(ext[id] ? { externalDeps: ext[id]!.map(([jobId, t]) => ({ jobId, id: t })) } : {}),
      })),
    },
  };
}

/** A job of `n` multi-node tasks, each over `nodes` whole workers (`--nodes`). */
export function multiNodeSubmit(nodes: number, n: number, spec: JobSpec = {}): JobSubmit {
  const job = jobSubmit("cpus=1", n, spec);
  job.template.requests = [{ entries: [], minTimeMs: spec.timeRequestMs ?? 0, nNodes: nodes }];
  return job;
}

/** A fresh state with prefill off unless asked for. */
export function testState(prefillMax = 0, prefillReserve = 0): ServerState {
  return createServerState("uid", { ...DEFAULT_SCHEDULER_CONFIG, prefillMax, prefillReserve });
}

/** Registers workers in order; returns their ids. */
export function addWorkers(state: ServerState, specs: WorkerSpec[], now = 0): WorkerId[] {
  // Keys follow the ids the server hands out, so every call registers new workers.
  return specs.map((spec) =>
    onWorkerRegistered(state, `k${state.nextWorkerId}`, workerConfig(spec), now, new Map())
  );
}

/**
 * What a round sent to each worker: `job:task/vN` for a task to run with variant N
 * (`job:task/vN@1,2` for a multi-node task over workers 1 and 2),
 * `job:task/q` for a prefilled one, `retract job:task` for a retract.
 */
export function sent(out: Outbox): Record<number, string[]> {
  const result: Record<number, string[]> = {};
  for (const [workerId, msgs] of out) {
    const list: string[] = [];
    for (const m of msgs) {
      if (m.kind === "computeTasks") {
        for (const t of m.tasks) {
          const nodes = t.nodes ? `@${t.nodes.map((n) => n.workerId).join(",")}` : "";
          list.push(`${m.jobId}:${t.id}/${t.variant === null ? "q" : `v${t.variant}`}${nodes}`);
        }
      } else if (m.kind === "retractTasks" || m.kind === "cancelTasks") {
        const verb = m.kind === "retractTasks" ? "retract" : "cancel";
        for (const t of m.tasks) list.push(`${verb} ${t.jobId}:${t.id}`);
      }
    }
    if (list.length > 0) result[workerId] = list;
  }
  return result;
}

/** Runs a round at `now` and returns {@link sent} of it. */
export function round(state: ServerState, now = 0): Record<number, string[]> {
  const out: Outbox = new Map();
  schedule(state, now, out);
  return sent(out);
}
