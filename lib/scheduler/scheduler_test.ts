import assert from "node:assert/strict";
import { onTaskUpdates, stopUnfinished } from "./reactor.ts";
import { onSubmit } from "./job_events.ts";
import { onTick } from "./worker_events.ts";
import type { ServerState } from "./state.ts";
import {
  addWorkers,
  type JobSpec,
  jobSubmit,
  round,
  testState,
  type WorkerSpec,
} from "./testdata/fixtures.ts";

interface RoundCase {
  name: string;
  workers: WorkerSpec[];
  /** `[resource, count, options]` per job, submitted in order (job ids from 1). */
  jobs: [string, number, JobSpec?][];
  prefill?: [max: number, reserve: number];
  /** Clock of the round (worker time limits count from 0). */
  now?: number;
  /** What each worker gets, by worker id (from 1). */
  expect: Record<number, string[]>;
}

function runCase(c: RoundCase): ServerState {
  const s = testState(...(c.prefill ?? [0, 0]));
  addWorkers(s, c.workers);
  for (const [resource, n, spec] of c.jobs) onSubmit(s, jobSubmit(resource, n, spec), 0);
  assert.deepEqual(round(s, c.now ?? 0), c.expect, c.name);
  return s;
}

const PLACEMENT: RoundCase[] = [
  {
    name: "higher priority first",
    workers: [{ pools: ["cpus=4"] }],
    jobs: [["cpus=1", 10], ["cpus=2", 2, { priority: 5 }]],
    expect: { 1: ["2:0/v0", "2:1/v0"] },
  },
  {
    name: "equal priority: lower job id first, across classes",
    workers: [{ pools: ["cpus=2"] }],
    jobs: [["cpus=2", 1], ["cpus=1", 2]],
    expect: { 1: ["1:0/v0"] },
  },
  {
    name: "equal priority: the heavier request (--weight) first",
    workers: [{ pools: ["cpus=2"] }],
    jobs: [["cpus=2", 1], ["cpus=2", 1, { weight: 20_000 }]],
    expect: { 1: ["2:0/v0"] },
  },
  {
    name: "weight never beats priority",
    workers: [{ pools: ["cpus=2"] }],
    jobs: [["cpus=2", 1, { priority: 1 }], ["cpus=2", 1, { weight: 50_000 }]],
    expect: { 1: ["1:0/v0"] },
  },
  {
    name: "equal priority and class: job id, then task id",
    workers: [{ pools: ["cpus=3"] }],
    jobs: [["cpus=1", 2, { first: 5 }], ["cpus=1", 2]],
    expect: { 1: ["1:5/v0", "1:6/v0", "2:0/v0"] },
  },
  {
    name: "variants: the first that fits",
    workers: [{ pools: ["cpus=4", "gpus=[0,1]"] }],
    jobs: [["cpus=2 gpus=1 | cpus=4", 3]],
    expect: { 1: ["1:0/v0", "1:1/v0"] },
  },
  {
    name: "variants: the alternative when the first cannot run there",
    workers: [{ pools: ["cpus=4"] }],
    jobs: [["cpus=2 gpus=1 | cpus=4", 3]],
    expect: { 1: ["1:0/v1"] },
  },
  {
    name: "variants: the alternative when the first's resources are taken",
    workers: [{ pools: ["cpus=8", "gpus=[0]"] }],
    jobs: [["cpus=2 gpus=1 | cpus=4", 3]],
    expect: { 1: ["1:0/v0", "1:1/v1"] },
  },
  {
    name: "time request longer than the worker's remaining lifetime",
    workers: [{ pools: ["cpus=1"], timeLimitMs: 1000 }, { pools: ["cpus=1"] }],
    jobs: [["cpus=1", 2, { timeRequestMs: 2000 }]],
    expect: { 2: ["1:0/v0"] },
  },
  {
    name: "time request within the remaining lifetime",
    workers: [{ pools: ["cpus=1"], timeLimitMs: 10_000 }],
    jobs: [["cpus=1", 1, { timeRequestMs: 2000 }]],
    now: 8000,
    expect: { 1: ["1:0/v0"] },
  },
  {
    name: "time request: a variant without one runs on a short-lived worker",
    workers: [{ pools: ["cpus=4"], timeLimitMs: 1000 }],
    jobs: [["cpus=1", 1, { timeRequestMs: 5000 }], ["cpus=2", 1]],
    expect: { 1: ["2:0/v0"] },
  },
  {
    name: "min-utilization: too little work is not sent",
    workers: [{ pools: ["cpus=8"], minUtilization: 5000 }],
    jobs: [["cpus=1", 3]],
    expect: {},
  },
  {
    name: "min-utilization: enough work is sent",
    workers: [{ pools: ["cpus=8"], minUtilization: 5000 }],
    jobs: [["cpus=1", 6]],
    expect: { 1: ["1:0/v0", "1:1/v0", "1:2/v0", "1:3/v0", "1:4/v0", "1:5/v0"] },
  },
  {
    name: "min-utilization: work undone on one worker goes to the next, by priority",
    workers: [{ pools: ["cpus=8"], minUtilization: 10_000 }, { pools: ["cpus=2"] }],
    jobs: [["cpus=1", 3], ["cpus=1", 2, { priority: 5 }]],
    expect: { 2: ["2:0/v0", "2:1/v0"] },
  },
  {
    name: "fractional gpus",
    workers: [{ pools: ["cpus=4", "gpus=[0]"] }],
    jobs: [["cpus=1 gpus=0.5", 3]],
    expect: { 1: ["1:0/v0", "1:1/v0"] },
  },
  {
    name: "sum pool",
    workers: [{ pools: ["cpus=8", "mem=sum(1000)"] }],
    jobs: [["cpus=1 mem=400", 3]],
    expect: { 1: ["1:0/v0", "1:1/v0"] },
  },
  {
    name: "a resource no worker has",
    workers: [{ pools: ["cpus=8"] }],
    jobs: [["gpus=1", 1]],
    expect: {},
  },
  {
    name: "cpus=all takes the whole worker",
    workers: [{ pools: ["cpus=2x2"] }],
    jobs: [["cpus=all", 2]],
    expect: { 1: ["1:0/v0"] },
  },
  {
    name: "tasks spread over workers in order",
    workers: [{ pools: ["cpus=2"] }, { pools: ["cpus=2x2"] }],
    jobs: [["cpus=2", 4]],
    expect: { 1: ["1:0/v0"], 2: ["1:1/v0", "1:2/v0"] },
  },
];

const PREFILL: RoundCase[] = [
  {
    name: "prefill: a bounded queue beyond what fits",
    workers: [{ pools: ["cpus=2"] }],
    jobs: [["cpus=1", 100]],
    prefill: [3, 0],
    expect: { 1: ["1:0/v0", "1:1/v0", "1:2/q", "1:3/q", "1:4/q"] },
  },
  {
    name: "prefill: none while only the reserve is left",
    workers: [{ pools: ["cpus=2"] }],
    jobs: [["cpus=1", 12]],
    prefill: [3, 10],
    expect: { 1: ["1:0/v0", "1:1/v0"] },
  },
  {
    name: "prefill: only what exceeds the reserve",
    workers: [{ pools: ["cpus=2"] }],
    jobs: [["cpus=1", 14]],
    prefill: [3, 10],
    expect: { 1: ["1:0/v0", "1:1/v0", "1:2/q", "1:3/q"] },
  },
  {
    name: "prefill: shared between the workers running the class",
    workers: [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }],
    jobs: [["cpus=1", 100]],
    prefill: [2, 0],
    expect: { 1: ["1:0/v0", "1:2/q", "1:3/q"], 2: ["1:1/v0", "1:4/q", "1:5/q"] },
  },
  {
    name: "prefill: never onto a worker that does not run the class",
    workers: [{ pools: ["cpus=2", "gpus=[0]"] }, { pools: ["cpus=2"] }],
    jobs: [["cpus=1 gpus=1", 20]],
    prefill: [2, 0],
    expect: { 1: ["1:0/v0", "1:1/q", "1:2/q"] },
  },
  {
    name: "prefill: only at the highest level with tasks left",
    workers: [{ pools: ["cpus=1"] }],
    jobs: [["cpus=1", 50], ["cpus=1", 3, { priority: 5 }]],
    prefill: [5, 0],
    expect: { 1: ["2:0/v0", "2:1/q", "2:2/q"] },
  },
];

for (const c of [...PLACEMENT, ...PREFILL]) {
  Deno.test(`schedule(): ${c.name}`, () => {
    runCase(c);
  });
}

Deno.test("schedule(): a round places nothing twice and counts states", () => {
  const s = runCase(PREFILL[0]!);
  const job = s.jobs.get(1)!;
  assert.equal(job.counts.assigned, 5);
  assert.equal(job.counts.waiting, 95);
  assert.equal(s.workers.get(1)!.free.get("cpus"), 0);
  assert.equal(s.workers.get(1)!.prefilled, 3);
  assert.deepEqual(round(s, 1), {});
});

Deno.test("schedule(): higher-priority work retracts lower prefilled tasks from the reserved worker", () => {
  const s = testState(5, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 20), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0", "1:1/q", "1:2/q", "1:3/q", "1:4/q", "1:5/q"] });
  // Another class (scatter), so it cannot queue behind them.
  onSubmit(s, jobSubmit("cpus=1 scatter", 1, { priority: 10 }), 1);
  assert.deepEqual(round(s, 1), {
    1: ["retract 1:1", "retract 1:2", "retract 1:3", "retract 1:4", "retract 1:5"],
  });
  const returned = [1, 2, 3, 4, 5].map((id) => ({
    kind: "returned" as const,
    jobId: 1,
    id,
    instance: 0,
    at: 2,
  }));
  const finished = { kind: "finished" as const, jobId: 1, id: 0, instance: 0, at: 2 };
  onTaskUpdates(s, 1, [...returned, finished], 2, new Map());
  assert.equal(s.jobs.get(1)!.counts.waiting, 19);
  assert.deepEqual(round(s, 2), { 1: ["2:0/v0"] });
});

Deno.test("schedule(): a full prefill queue gives way to higher-priority work of its class", () => {
  const s = testState(2, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 10), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0", "1:1/q", "1:2/q"] });
  onSubmit(s, jobSubmit("cpus=1", 10, { priority: 3 }), 1);
  // The worker's queue is full, so the new level cannot queue there: it reserves the worker,
  // which gives back its lower-priority prefilled tasks.
  assert.deepEqual(round(s, 1), { 1: ["retract 1:1", "retract 1:2"] });
});

Deno.test("schedule(): an idle worker pulls prefilled tasks from a holder", () => {
  const s = testState(5, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 6), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0", "1:1/q", "1:2/q", "1:3/q", "1:4/q", "1:5/q"] });
  addWorkers(s, [{ pools: ["cpus=2"] }], 1);
  assert.deepEqual(round(s, 1), { 1: ["retract 1:1", "retract 1:2"] });
  assert.equal(s.classes.get(1)!.retracting, 2);
  // Retracts in flight are not sent twice.
  // Retracts in flight count against new room: none more yet.
  addWorkers(s, [{ pools: ["cpus=1"] }], 2);
  assert.deepEqual(round(s, 2), {});
  onTaskUpdates(
    s,
    1,
    [
      { kind: "returned", jobId: 1, id: 1, instance: 0, at: 3 },
      { kind: "returned", jobId: 1, id: 2, instance: 0, at: 3 },
    ],
    3,
    new Map(),
  );
  assert.equal(s.classes.get(1)!.retracting, 0);
  // The returned tasks run on worker 2, and worker 3 pulls one more.
  assert.deepEqual(round(s, 3), { 1: ["retract 1:3"], 2: ["1:1/v0", "1:2/v0"] });
  onTaskUpdates(
    s,
    1,
    [
      { kind: "finished", jobId: 1, id: 0, instance: 0, at: 4 },
      { kind: "started", jobId: 1, id: 3, instance: 0, at: 4, variant: 0 }, // too late to retract
    ],
    4,
    new Map(),
  );
  assert.equal(s.classes.get(1)!.retracting, 0);
  assert.equal(s.jobs.get(1)!.counts.running, 1);
});

Deno.test("schedule(): a reserved worker is looked at again once the reason is gone", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"] }, { pools: ["cpus=4"] }]);
  onSubmit(s, jobSubmit("cpus=3", 2), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0"], 2: ["1:1/v0"] });
  onSubmit(s, jobSubmit("cpus=4", 1, { priority: 5 }), 1);
  onSubmit(s, jobSubmit("cpus=1", 2), 1);
  // The 4-cpu task fits nowhere: the least busy worker (1) is kept for it.
  assert.deepEqual(round(s, 1), { 2: ["3:0/v0"] });
  onTaskUpdates(s, 2, [{ kind: "finished", jobId: 1, id: 1, instance: 0, at: 2 }], 2, new Map());
  // Only worker 2 changed, and it is now the least busy, so it is kept instead; worker 1 is
  // looked at again although nothing changed there, and takes the small task.
  assert.deepEqual(round(s, 2), { 1: ["3:1/v0"] });
});

Deno.test("schedule(): canceling what a reservation was for asks for a round", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"] }]);
  onSubmit(s, jobSubmit("cpus=3", 1), 0);
  round(s);
  onSubmit(s, jobSubmit("cpus=4", 1, { priority: 5 }), 1);
  onSubmit(s, jobSubmit("cpus=1", 1), 1);
  assert.deepEqual(round(s, 1), {});
  assert.equal(s.needsSchedule, false);
  stopJob(s, 2);
  assert.equal(s.needsSchedule, true);
  assert.deepEqual(round(s, 2), { 1: ["3:0/v0"] });
});

Deno.test("schedule(): a reservation kept by a time request lapses on its own", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=2"], timeLimitMs: 10_000 }]);
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  round(s);
  onSubmit(s, jobSubmit("cpus=2", 1, { priority: 5, timeRequestMs: 4000 }), 1);
  onSubmit(s, jobSubmit("cpus=1", 1, { first: 1 }), 1);
  assert.deepEqual(round(s, 1), {});
  assert.equal(s.scheduleAt, 6001);
  onTickAt(s, 6000);
  assert.equal(s.needsSchedule, false);
  onTickAt(s, 6001);
  assert.equal(s.needsSchedule, true);
  assert.deepEqual(round(s, 6001), { 1: ["3:1/v0"] });
});

function stopJob(s: ServerState, jobId: number): void {
  stopUnfinished(s, s.jobs.get(jobId)!, "canceled", 2, new Map());
}

function onTickAt(s: ServerState, now: number): void {
  for (const w of s.workers.values()) w.lastSeen = now;
  onTick(s, now, new Map());
}
