/**
 * `hq alloc` views for rendering tests.
 *
 * @module
 */
import type { AllocationView, AllocExplainView, QueueView } from "../../protocol/mod.ts";
import type { ResourceEntry } from "../../resources/mod.ts";
import { testQueueParams } from "../../autoalloc/testdata/params.ts";
import { T0 } from "./fixtures.ts";

/** A SLURM queue with 4-CPU workers and no allocations, with `over` applied. */
export function queueViewFixture(over: Partial<QueueView> = {}): QueueView {
  return {
    id: 1,
    params: testQueueParams({
      workerArgs: ["--cpus", "4"],
      cpus: "4",
      additionalArgs: ["-p", "debug"],
    }),
    state: "active",
    pauseReason: null,
    submitFailures: 0,
    allocationFailures: 0,
    backoffUntil: null,
    allocations: [],
    ...over,
  };
}

/** Allocations of queue 1 in each state (`alloc info 1`). */
export const ALLOCATIONS: AllocationView[] = (["queued", "running", "finished", "failed"] as const)
  .map((state, i) => ({
    id: String(1001 + i),
    queueId: 1,
    workerCount: i === 1 ? 2 : 1,
    dir: `/home/u/.hq-server/001/autoalloc/1/00${i + 1}`,
    state,
    queuedAt: T0 + i * 60_000,
    startedAt: state === "queued" ? null : T0 + i * 60_000 + 5_000,
    endedAt: state === "finished" || state === "failed" ? T0 + i * 60_000 + 65_250 : null,
    connected: state === "queued" ? [] : [i + 1],
    disconnected: state === "finished" || state === "failed" ? [i + 1] : [],
    endReason: state === "failed"
      ? "FAILED, exit code 1"
      : state === "finished"
      ? "FINISHED"
      : null,
  }));

/** A paused PBS queue with a name, limits and worker resources (`alloc list`). */
export const PAUSED_QUEUE: QueueView = queueViewFixture({
  id: 2,
  params: testQueueParams({
    manager: "pbs",
    name: "gpu-queue",
    backlog: 3,
    maxWorkersPerAlloc: 2,
    maxWorkerCount: 8,
    timeLimitMs: 5_400_000,
    cpus: "2x4",
    resources: ["gpus=range(0-1)"],
    workerArgs: ["--cpus", "2x4", "--resource", "gpus=range(0-1)"],
    additionalArgs: ["-q", "qgpu", "-A", "Project1"],
  }),
  state: "paused",
  pauseReason: "3 allocations failed in a row",
  submitFailures: 0,
  allocationFailures: 3,
  backoffUntil: T0 + 600_000,
  allocations: ALLOCATIONS.slice(3),
});

/** `alloc explain 1`: a queue that would submit two allocations for waiting tasks. */
export const ALLOC_EXPLAIN: AllocExplainView = {
  queue: queueViewFixture({
    params: testQueueParams({ workerArgs: ["--cpus", "4"], cpus: "4", backlog: 3 }),
    allocations: ALLOCATIONS.slice(0, 2),
  }),
  now: T0 + 120_000,
  submit: [1, 1],
  limits: ["backlog 3: 3 queued"],
  demand: [
    { variants: [{ entries: [cpuEntry(20_000)], minTimeMs: 0 }], tasks: 12 },
    {
      variants: [
        { entries: [cpuEntry(40_000)], minTimeMs: 600_000 },
        { entries: [], minTimeMs: 0, nNodes: 2 },
      ],
      tasks: 1,
    },
  ],
  wantedWorkers: 3,
  multiNode: [2],
  queuedAllocations: 1,
  workers: { queued: 1, running: 2 },
  workerResources: { cpus: 40_000 },
  guessed: true,
};

function cpuEntry(amount: number): ResourceEntry {
  return { resource: "cpus", amount, policy: "compact" };
}
