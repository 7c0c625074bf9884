/**
 * HyperQueue's `cli` texts for workers and the server: `worker list`,
 * `worker info` (also printed by `worker start`), `worker hwdetect`,
 * `server info` / `server start`.
 *
 * @module
 */
import type { WorkerRuntimeView, WorkerView } from "../protocol/mod.ts";
import { assertNever, formatDurationExact } from "../common/mod.ts";
import { renderTable, renderVerticalTable } from "./table.ts";
import { formatJsonDatetime, formatUtcSeconds } from "./dates.ts";
import { type PoolText, resourcesFullDescribe, resourcesSummary } from "./resource_text.ts";
import type { ServerInfoData } from "./hq_json_workers.ts";

const WORKER_STATE_TEXT: Record<string, string> = {
  running: "RUNNING",
  connectionLost: "CONNECTION LOST",
  heartbeatLost: "HEARTBEAT LOST",
  idleTimeout: "IDLE TIMEOUT",
  stopped: "STOPPED",
  serverStopped: "STOPPED",
  timeLimit: "TIME LIMIT REACHED",
};

/**
 * Worker state as HyperQueue prints it (`RUNNING`, `CONNECTION LOST`, `TIME LIMIT REACHED`,
 * ...); a worker that ended because its server stopped shows `STOPPED`.
 *
 * @example Usage
 * ```ts
 * import { workerStateText } from "./render_workers.ts";
 * import assert from "node:assert/strict";
 * assert.equal(workerStateText("connectionLost"), "CONNECTION LOST");
 * assert.equal(workerStateText("serverStopped"), "STOPPED");
 * ```
 */
export function workerStateText(state: string): string {
  return WORKER_STATE_TEXT[state] ?? state.toUpperCase();
}

function managerText(w: WorkerView): [string, string] {
  const m = w.configuration.manager;
  return m === null ? ["None", "N/A"] : [m.kind === "pbs" ? "PBS" : "SLURM", m.job_id];
}

/** `worker list`: ID (right-justified) | State | Hostname | Resources | Manager | Manager Job ID. */
export function renderWorkerList(workers: readonly WorkerView[]): string {
  return renderTable(
    ["ID", "State", "Hostname", "Resources", "Manager", "Manager Job ID"],
    workers.map((w) => [
      String(w.id),
      workerStateText(w.state),
      w.configuration.hostname,
      resourcesSummary(w.configuration.resources, false),
      ...managerText(w),
    ]),
    { justify: ["right"] },
  );
}

function runtimeText(info: WorkerRuntimeView): string {
  switch (info.kind) {
    case "singleNode": {
      let text = `assigned tasks: ${info.assigned_tasks}`;
      if (info.running_tasks > 0) text += `; running tasks: ${info.running_tasks}`;
      if (info.is_reserved) text += "; reserved for a multi-node task";
      return text;
    }
    case "multiNode":
      return `running multinode task; ${info.main_node ? "main node" : "secondary node"}`;
    default:
      return assertNever(info, "runtime info");
  }
}

function optionalDuration(ms: number | null): string {
  return ms === null ? "None" : formatDurationExact(ms);
}

/** Options of {@link renderWorkerInfo}. */
export interface WorkerInfoOptions {
  /** Add the Runtime Info row (`worker info`; not `worker start`). @default {true} */
  runtime?: boolean;
}

/**
 * `worker info` of one worker: the vertical table in HyperQueue's row order;
 * `Started` and the time of `Last task started` are quoted RFC 3339 times, as
 * HyperQueue prints them.
 */
export function renderWorkerInfo(w: WorkerView, options: WorkerInfoOptions = {}): string {
  const c = w.configuration;
  const [manager, managerJob] = managerText(w);
  const last = w.last_task_started;
  const rows: [string, string][] = [
    ["Worker", String(w.id)],
    ["State", workerStateText(w.state)],
    ["Hostname", c.hostname],
    ["Started", `"${formatJsonDatetime(w.started_at)}"`],
    ["Data provider", c.listen_address],
    ["Working directory", c.work_dir],
    ["Heartbeat", formatDurationExact(c.heartbeat_ms)],
    ["Idle timeout", optionalDuration(c.idle_timeout_ms)],
    ["Overview interval", "None"],
    ["Resources", resourcesSummary(c.resources, true)],
    ["Time Limit", optionalDuration(c.time_limit_ms)],
    ["Process pid", String(c.process_pid)],
    ["Group", c.group],
    ["Manager", manager],
    ["Manager Job ID", managerJob],
    [
      "Last task started",
      last === null ? "" : `${last.task_id}; Time: "${formatJsonDatetime(last.time)}"`,
    ],
  ];
  if ((options.runtime ?? true) && w.runtime_info !== null) {
    rows.push(["Runtime Info", runtimeText(w.runtime_info)]);
  }
  return renderVerticalTable(rows);
}

/**
 * `worker hwdetect`: `Summary:` lines, a blank line, `Full Description:` lines.
 *
 * @example Usage
 * ```ts
 * import { renderHwdetect } from "./render_workers.ts";
 * import assert from "node:assert/strict";
 * const groups = [["0", "1"], ["2", "3"]];
 * const cpus = { name: "cpus", kind: "groups" as const, groups, size: 0 };
 * assert.equal(
 *   renderHwdetect([cpus]),
 *   "Summary:\ncpus: 2x2\n\nFull Description:\ncpus: [[0,1],[2,3]]",
 * );
 * ```
 */
export function renderHwdetect(pools: readonly PoolText[]): string {
  return `Summary:\n${resourcesSummary(pools, true)}\n\nFull Description:\n${
    resourcesFullDescribe(pools)
  }`;
}

/**
 * `server info` (`serverDir` null: nine rows) or `server start` (a first
 * `Server directory` row). There are no ports: those cells are empty.
 */
export function renderServerInfo(info: ServerInfoData, serverDir: string | null): string {
  const rows: [string, string][] = [];
  if (serverDir !== null) rows.push(["Server directory", serverDir]);
  rows.push(
    ["Server UID", info.serverUid],
    ["Client host", info.host],
    ["Client port", ""],
    ["Worker host", info.host],
    ["Worker port", ""],
    ["Version", info.version],
    ["Pid", String(info.pid)],
    ["Start date", formatUtcSeconds(info.startedAt)],
    ["Journal path", info.journal ?? ""],
  );
  return renderVerticalTable(rows);
}
