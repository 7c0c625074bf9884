/**
 * `hq alloc ...` outputs: the queue list and allocation tables HyperQueue
 * prints, their JSON documents, and `alloc explain` (this project's own).
 *
 * @module
 */
import type { AllocationView, AllocExplainView, QueueView } from "../protocol/mod.ts";
import { formatDurationExact } from "../common/mod.ts";
import { formatJsonDatetime, formatUtcSeconds } from "./dates.ts";
import { renderTable, renderVerticalTable } from "./table.ts";
import type { JsonValue } from "./json.ts";
import { durationJson } from "./hq_json.ts";
import { formatResourceVariants } from "./resource_text.ts";

/** A request's variants on one line (`cpus: 1 compact`, variants joined by ` or `). */
function requestText(variants: AllocExplainView["demand"][number]["variants"]): string {
  return variants.map((v) =>
    formatResourceVariants([{ n_nodes: v.nNodes ?? 0, entries: v.entries }]).replaceAll("\n", ", ")
  ).join(" or ");
}

const MANAGER_TEXT = { slurm: "SLURM", pbs: "PBS" } as const;
const MANAGER_JSON = { slurm: "Slurm", pbs: "PBS" } as const;

/** A queue's state as listed: `ACTIVE`, or `PAUSED` with why when a failure paused it. */
function queueState(q: QueueView): string {
  if (q.state === "active") return "ACTIVE";
  return q.pauseReason === null || q.pauseReason === "paused by the user"
    ? "PAUSED"
    : `PAUSED (${q.pauseReason})`;
}

/** The worker resources a queue was given (`--cpus`, `--resource`), or the empty text. */
function workerResources(q: QueueView): string {
  const parts = [
    ...(q.params.cpus === null ? [] : [`cpus=${q.params.cpus}`]),
    ...q.params.resources,
  ];
  return parts.join(", ");
}

/**
 * `hq alloc list`: ID, State, Backlog size, Max workers per alloc, Max worker
 * count, Timelimit, Manager, Worker resources, Name, Args.
 *
 * @example Usage
 * ```ts
 * import { renderQueueList } from "./render_alloc.ts";
 * import { queueViewFixture } from "./testdata/alloc.ts";
 * import assert from "node:assert/strict";
 * assert.match(renderQueueList([queueViewFixture()]), /\| 1  \| ACTIVE \|/);
 * ```
 */
export function renderQueueList(queues: readonly QueueView[]): string {
  return renderTable(
    [
      "ID",
      "State",
      "Backlog size",
      "Max workers per alloc",
      "Max worker count",
      "Timelimit",
      "Manager",
      "Worker resources",
      "Name",
      "Args",
    ],
    queues.map((q) => [
      String(q.id),
      queueState(q),
      String(q.params.backlog),
      String(q.params.maxWorkersPerAlloc),
      q.params.maxWorkerCount === null ? "" : String(q.params.maxWorkerCount),
      formatDurationExact(q.params.timeLimitMs),
      MANAGER_TEXT[q.params.manager],
      workerResources(q),
      q.params.name ?? "",
      q.params.additionalArgs.join(","),
    ]),
  );
}

const TIME = (ms: number | null) => (ms === null ? "" : formatUtcSeconds(ms));

/**
 * `hq alloc info`: HyperQueue's columns (ID, State, Working directory, Worker
 * count, Queue time, Start time, Finish time) and, last, why each ended
 * allocation ended.
 *
 * @example Usage
 * ```ts
 * import { renderAllocations } from "./render_alloc.ts";
 * import assert from "node:assert/strict";
 * const a = {
 *   id: "7",
 *   queueId: 1,
 *   workerCount: 1,
 *   dir: "/s/001/autoalloc/1/001",
 *   state: "failed" as const,
 *   queuedAt: 0,
 *   startedAt: null,
 *   endedAt: 60_000,
 *   connected: [],
 *   disconnected: [],
 *   endReason: "FAILED, exit code 1",
 * };
 * assert.match(renderAllocations([a]), /\| 7  \| FAILED \|.*\| FAILED, exit code 1 \|/);
 * ```
 */
export function renderAllocations(allocations: readonly AllocationView[]): string {
  return renderTable(
    [
      "ID",
      "State",
      "Working directory",
      "Worker count",
      "Queue time",
      "Start time",
      "Finish time",
      "End reason",
    ],
    allocations.map((a) => [
      a.id,
      a.state.toUpperCase(),
      a.dir,
      String(a.workerCount),
      TIME(a.queuedAt),
      TIME(a.startedAt),
      TIME(a.endedAt),
      a.endReason ?? "",
    ]),
  );
}

/** `hq alloc list` in JSON, HyperQueue's keys. */
export function queueListJson(queues: readonly QueueView[]): JsonValue {
  return queues.map((q) => ({
    id: q.id,
    name: q.params.name,
    state: q.state === "active" ? "Active" : "Paused",
    manager: MANAGER_JSON[q.params.manager],
    additional_args: q.params.additionalArgs,
    backlog: q.params.backlog,
    max_workers_per_alloc: q.params.maxWorkersPerAlloc,
    timelimit: durationJson(q.params.timeLimitMs),
    max_worker_count: q.params.maxWorkerCount,
    worker_args: q.params.workerArgs,
    known_worker_resources: workerResources(q) === "" ? null : workerResources(q),
  }));
}

/** `hq alloc info` in JSON, HyperQueue's keys. */
export function allocationsJson(allocations: readonly AllocationView[]): JsonValue {
  return allocations.map((a) => ({
    id: a.id,
    target_worker_count: a.workerCount,
    queued_at: formatJsonDatetime(a.queuedAt),
    started_at: a.startedAt === null ? null : formatJsonDatetime(a.startedAt),
    ended_at: a.endedAt === null ? null : formatJsonDatetime(a.endedAt),
    status: a.state,
    workdir: a.dir,
  }));
}

/**
 * `hq alloc explain`: what the queue would submit now and each reason that
 * limits it, the demand it sees and the worker kind it assumes.
 */
export function renderAllocExplain(e: AllocExplainView): string {
  const q = e.queue;
  const resources = Object.entries(e.workerResources)
    .map(([name, amount]) => `${name}=${amount / 10_000}`).join(", ");
  const demand = e.demand.length === 0
    ? "no waiting task that its workers could run"
    : e.demand.map((d) =>
      `${d.tasks} task${d.tasks === 1 ? "" : "s"} of ${requestText(d.variants)}`
    )
      .join("\n");
  const submit = e.submit.length === 0
    ? "nothing"
    : `${e.submit.length} allocation${e.submit.length === 1 ? "" : "s"} (${
      e.submit.map((n) => `${n} worker${n === 1 ? "" : "s"}`).join(", ")
    })`;
  return renderVerticalTable([
    ["Queue", `${q.id}${q.params.name ? ` (${q.params.name})` : ""}`],
    ["State", queueState(q)],
    [
      "Worker resources",
      `${resources || "unknown"}${e.guessed ? " (a guess until a worker connects)" : ""}`,
    ],
    ["Waiting demand", demand],
    ["Workers wanted", String(e.wantedWorkers + e.multiNode.reduce((s, n) => s + n, 0))],
    ["Queued allocations", `${e.queuedAllocations} of ${q.params.backlog}`],
    ["Workers", `${e.workers.queued} queued, ${e.workers.running} running`],
    ["Would submit now", submit],
    ["Limited by", e.limits.join("\n") || "nothing"],
  ]);
}

/** `hq alloc explain` in JSON. */
export function allocExplainJson(e: AllocExplainView): JsonValue {
  return {
    queue_id: e.queue.id,
    state: e.queue.state,
    pause_reason: e.queue.pauseReason,
    backoff_until: e.queue.backoffUntil === null ? null : formatJsonDatetime(e.queue.backoffUntil),
    worker_resources: Object.fromEntries(
      Object.entries(e.workerResources).map(([k, v]) => [k, v / 10_000]),
    ),
    worker_resources_guessed: e.guessed,
    demand: e.demand.map((d) => ({ request: requestText(d.variants), tasks: d.tasks })),
    wanted_workers: e.wantedWorkers,
    multi_node: e.multiNode,
    queued_allocations: e.queuedAllocations,
    queued_workers: e.workers.queued,
    running_workers: e.workers.running,
    submit: e.submit,
    limits: e.limits,
  };
}
