/**
 * HyperQueue 0.26's JSON documents for workers, `worker hwdetect`,
 * `server info` and `task explain`; print them with {@link formatJson}.
 *
 * @module
 */
import type {
  ExplainItemView,
  ExplainView,
  WorkerRuntimeView,
  WorkerView,
} from "../protocol/mod.ts";
import { FRACTIONS_PER_UNIT } from "../resources/mod.ts";
import { assertNever } from "../common/mod.ts";
import { f64, type JsonValue } from "./json.ts";
import { formatJsonDatetime } from "./dates.ts";
import { durationJson, rawDurationJson } from "./hq_json.ts";
import type { PoolText } from "./resource_text.ts";

/**
 * One resource of a descriptor (`format_resource`): a range as
 * `{kind, name, start, end}`, a list as `values`, groups as `groups` (labels
 * are strings), a sum as `size` in 1/10000.
 *
 * @example Usage
 * ```ts
 * import { poolJson } from "./hq_json_workers.ts";
 * import assert from "node:assert/strict";
 * const cpus = { name: "cpus", kind: "range" as const, groups: [["0", "1", "2", "3"]], size: 0 };
 * assert.deepEqual(poolJson(cpus), { kind: "range", name: "cpus", start: 0, end: 3 });
 * const mem = { name: "mem", kind: "sum" as const, groups: [], size: 512 };
 * assert.deepEqual(poolJson(mem), { kind: "sum", name: "mem", size: 5_120_000 });
 * ```
 */
export function poolJson(pool: PoolText): JsonValue {
  switch (pool.kind) {
    case "range": {
      const all = pool.groups.flat();
      return {
        kind: "range",
        name: pool.name,
        start: Number(all[0] ?? 0),
        end: Number(all[all.length - 1] ?? 0),
      };
    }
    case "list":
      return { kind: "list", name: pool.name, values: pool.groups.flat() };
    case "groups":
      return { kind: "groups", name: pool.name, groups: pool.groups };
    case "sum":
      return { kind: "sum", name: pool.name, size: pool.size * FRACTIONS_PER_UNIT };
    default:
      return assertNever(pool.kind, "pool kind");
  }
}

/** A resource descriptor (`format_resource_descriptor`); no coupling here: `{"weights": []}`. */
export function resourceDescriptorJson(pools: readonly PoolText[]): JsonValue {
  return { resources: pools.map(poolJson), coupling: { weights: [] } };
}

/**
 * `worker hwdetect`: the detected descriptor.
 *
 * @example Usage
 * ```ts
 * import { hwdetectJson } from "./hq_json_workers.ts";
 * import assert from "node:assert/strict";
 * const gpus = { name: "gpus", kind: "list" as const, groups: [["0", "1"]], size: 0 };
 * assert.deepEqual(hwdetectJson([gpus]), {
 *   resources: [{ kind: "list", name: "gpus", values: ["0", "1"] }],
 *   coupling: { weights: [] },
 * });
 * ```
 */
export function hwdetectJson(pools: readonly PoolText[]): JsonValue {
  return resourceDescriptorJson(pools);
}

function runtimeJson(info: WorkerRuntimeView): JsonValue {
  switch (info.kind) {
    case "singleNode":
      return {
        SingleNodeTasks: {
          assigned_tasks: info.assigned_tasks,
          running_tasks: info.running_tasks,
          is_reserved: info.is_reserved,
        },
      };
    case "multiNode":
      return { MultiNodeTask: { main_node: info.main_node } };
    default:
      return assertNever(info, "runtime info");
  }
}

/**
 * A worker (`format_worker_info`). `withRuntime` fills `runtime_info` (only
 * `worker info` asks the server for it; `worker list` prints `null`).
 */
export function workerJson(w: WorkerView, withRuntime: boolean): JsonValue {
  const c = w.configuration;
  const manager = c.manager;
  return {
    id: w.id,
    configuration: {
      heartbeat_interval: durationJson(c.heartbeat_ms),
      idle_timeout: c.idle_timeout_ms === null ? null : durationJson(c.idle_timeout_ms),
      time_limit: c.time_limit_ms === null ? null : durationJson(c.time_limit_ms),
      work_dir: c.work_dir,
      hostname: c.hostname,
      group: c.group,
      listen_address: c.listen_address,
      resources: resourceDescriptorJson(c.resources),
      on_server_lost: c.on_server_lost,
      // HyperQueue keeps it as an f32.
      min_utilization: f64(Math.fround(c.min_utilization / FRACTIONS_PER_UNIT)),
    },
    allocation: manager === null
      ? null
      : { id: manager.job_id, manager: manager.kind === "pbs" ? "PBS" : "Slurm" },
    started: formatJsonDatetime(w.started_at),
    ended: w.ended_at === null ? null : { at: formatJsonDatetime(w.ended_at) },
    runtime_info: withRuntime && w.runtime_info !== null ? runtimeJson(w.runtime_info) : null,
    last_task_started: w.last_task_started === null ? null : {
      job_id: w.last_task_started.job_id,
      task_id: w.last_task_started.task_id,
      time: formatJsonDatetime(w.last_task_started.time),
    },
  };
}

/** `worker list`: the listed workers, `runtime_info` null. */
export function workerListJson(workers: readonly WorkerView[]): JsonValue {
  return workers.map((w) => workerJson(w, false));
}

/** `worker info <selector>`: the found workers, with runtime info while they run. */
export function workerInfoJson(workers: readonly WorkerView[]): JsonValue {
  return workers.map((w) => workerJson(w, true));
}

/** What `server info` and `server start` know about the server. */
export interface ServerInfoData {
  readonly serverUid: string;
  /** Host of the server (for both clients and workers). */
  readonly host: string;
  readonly pid: number;
  /** Start time, ms since the epoch. */
  readonly startedAt: number;
  /** Program version. */
  readonly version: string;
  /** Journal path, or null without a journal. */
  readonly journal: string | null;
}

/**
 * `server info` (`serverDir` null, as HyperQueue passes none) or
 * `server start` (its directory): the ten keys, ports `null` (no network).
 */
export function serverInfoJson(info: ServerInfoData, serverDir: string | null): JsonValue {
  return {
    server_dir: serverDir,
    server_uid: info.serverUid,
    client_host: info.host,
    worker_host: info.host,
    client_port: null,
    worker_port: null,
    pid: info.pid,
    start_date: formatJsonDatetime(info.startedAt),
    version: info.version,
    journal_path: info.journal,
  };
}

function explainItemJson(item: ExplainItemView): JsonValue {
  switch (item.kind) {
    case "time":
      return {
        Time: {
          min_time: rawDurationJson(item.min_time_ms),
          remaining_time: item.remaining_time_ms === null
            ? null
            : rawDurationJson(item.remaining_time_ms),
        },
      };
    case "resources":
      return {
        Resources: {
          resource: item.resource,
          request_amount: item.request_amount,
          worker_amount: item.worker_amount,
        },
      };
    case "workerGroup":
      return { WorkerGroup: { n_nodes: item.n_nodes, group_size: item.group_size } };
    default:
      return assertNever(item, "explain item");
  }
}

/** `task explain`: `{task_id: {job_id, job_task_id}, explanation: {...}}`. */
export function explainJson(e: ExplainView): JsonValue {
  return {
    task_id: { job_id: e.job_id, job_task_id: e.task_id },
    explanation: {
      n_task_deps: e.n_task_deps,
      n_waiting_deps: e.n_waiting_deps,
      workers: e.workers.map((w) => ({
        worker_id: w.worker_id,
        variants: w.variants.map((items) => items.map(explainItemJson)),
      })),
    },
  };
}
