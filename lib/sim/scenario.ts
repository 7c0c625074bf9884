/**
 * Random scenarios for the scheduler simulation: worker fleets with varied
 * pools (NUMA cpu groups, gpus, memory sum pools, time limits,
 * min-utilization, crashes, late arrivals) and jobs with mixed requests,
 * variants, time requests, priorities, failures and cancels. Everything is
 * drawn from a seeded {@link Rng}. Also the simulation's timing and fault
 * knobs ({@link SimOptions}) and its result.
 *
 * @module
 */
import type { CrashLimit, JobSubmit } from "../protocol/mod.ts";
import type { SchedulerConfig } from "../scheduler/mod.ts";
import { buildRequestVariants, parseResourceDef, type ResourcePool } from "../resources/mod.ts";
import type { Rng } from "./_rng.ts";

/** A simulated worker to start. */
export interface SimWorkerSpec {
  /** When the worker process starts (simulated ms). */
  startAt: number;
  /** Its resource pools. */
  pools: ResourcePool[];
  /** Time limit of the worker, or null. */
  timeLimitMs: number | null;
  /** Least CPU use in 1/10000 for new work, 0 for none. */
  minUtilization: number;
  /** When the worker crashes silently (the server sees its heartbeats stop), or null. */
  crashAt: number | null;
  /** Worker group (`--group`); `default` when absent. */
  group?: string;
  /** Largest delay of this worker's channels (a slower link), ms; the run's `maxDelayMs` when absent. */
  maxDelayMs?: number;
  /** Factor on its tasks' run times (2: a machine half as fast); 1 when absent. */
  slowdown?: number;
}

/** A simulated job to submit. */
export interface SimJobSpec {
  /** Submission time (simulated ms). */
  submitAt: number;
  /** What the client submits. */
  submit: JobSubmit;
  /** Shortest and longest task duration in ms. */
  durationMs: [number, number];
  /** Probability that one run of a task fails. */
  failRate: number;
  /** When the client cancels the job, or null. */
  cancelAt: number | null;
}

/** A whole scenario. */
export interface Scenario {
  /** Workers, in start order. */
  workers: SimWorkerSpec[];
  /** Jobs, in submission order. */
  jobs: SimJobSpec[];
}

/** Size and fault knobs of a generated scenario. */
export interface ScenarioOptions {
  /** Total number of tasks over all jobs. */
  tasks: number;
  /** Number of workers present from the start. */
  workers: number;
  /** Workers started later, some with time limits. */
  lateWorkers: number;
  /** Fraction of non-permanent workers that crash. */
  crashRate: number;
  /** Fraction of jobs that get canceled. */
  cancelRate: number;
  /**
   * Multi-node work: workers are spread over `groups` groups (each with at least three
   * permanent workers) and a fraction `rate` of jobs asks for 2 or 3 whole workers.
   */
  multiNode?: { rate: number; groups: number };
}

/** Worker kinds: pool definitions. The first kind can run every request below. */
const WORKER_KINDS: readonly (readonly string[])[] = [
  ["cpus=2x8", "gpus=[0,1]", "mem=sum(32000)"],
  ["cpus=8"],
  ["cpus=2x8", "mem=sum(16000)"],
  ["cpus=4", "gpus=4"],
  ["cpus=4x8"],
  ["cpus=16", "gpus=2", "mem=sum(16000)"],
  ["cpus=2x4", "gpus=[[0],[1]]"],
];

/** Request menu: `--resource` text and its weight. All fit the first worker kind. */
const REQUESTS: readonly (readonly [number, string])[] = [
  [6, "cpus=1"],
  [3, "cpus=2"],
  [2, "cpus=3 scatter"],
  [2, "cpus=4 compact!"],
  [1, "cpus=8 tight"],
  [1, "cpus=6 tight!"],
  [2, "cpus=1 gpus=0.5"],
  [1, "cpus=1 gpus=0.25"],
  [1, "cpus=2 gpus=1.5"],
  [2, "cpus=2 gpus=1 | cpus=4"],
  [2, "cpus=1 mem=2000"],
  [1, "cpus=2 mem=9000 | cpus=1 gpus=0.5 | cpus=8"],
  [1, "cpus=5 mem=500.5"],
];

const PRIORITIES: readonly (readonly [number, number])[] = [
  [6, 0],
  [2, 1],
  [2, 5],
  [1, 10],
  [1, -2],
];

function pools(rng: Rng, permanent: boolean): ResourcePool[] {
  const kind = permanent ? WORKER_KINDS[0]! : rng.pick(WORKER_KINDS);
  return kind.map((text) => parseResourceDef(text));
}

/** Generates a scenario from `rng`. */
export function generateScenario(rng: Rng, options: ScenarioOptions): Scenario {
  const workers: SimWorkerSpec[] = [];
  const mn = options.multiNode;
  const permanent = Math.max(2, Math.ceil(options.workers / 10), mn ? 3 * mn.groups : 0);
  for (let i = 0; i < options.workers + options.lateWorkers; i++) {
    const isPermanent = i < permanent;
    const late = i >= options.workers;
    const startAt = late ? rng.int(500, 8000) : rng.int(0, 50);
    const timeLimitMs = !isPermanent && (late ? rng.chance(0.6) : rng.chance(0.1))
      ? rng.int(1500, 9000)
      : null;
    const crashAt = !isPermanent && rng.chance(options.crashRate)
      ? startAt + rng.int(100, 6000)
      : null;
    workers.push({
      startAt,
      pools: pools(rng, isPermanent),
      timeLimitMs,
      minUtilization: !isPermanent && rng.chance(0.08) ? rng.pick([2500, 5000]) : 0,
      crashAt,
      ...(mn ? { group: `g${isPermanent ? i % mn.groups : rng.int(0, mn.groups - 1)}` } : {}),
    });
  }
  workers.sort((a, b) => a.startAt - b.startAt);

  const jobs: SimJobSpec[] = [];
  let left = options.tasks;
  while (left > 0) {
    const size = Math.min(left, rng.chance(0.2) ? rng.int(100, 400) : rng.int(1, 60));
    left -= size;
    const timeRequestMs = rng.chance(0.12) ? rng.int(600, 2500) : 0;
    const requests = mn && rng.chance(mn.rate)
      ? [{ entries: [], minTimeMs: timeRequestMs, nNodes: rng.int(2, 3) }]
      : buildRequestVariants({ resources: [rng.weighted(REQUESTS)], timeRequestMs });
    const lo = rng.int(20, 300);
    let hi = lo + rng.int(0, 1500);
    if (timeRequestMs > 0) hi = Math.max(lo, Math.min(hi, timeRequestMs - 300));
    const first = rng.int(0, 1000);
    const crashLimit: CrashLimit = rng.weighted<CrashLimit>([
      [8, 5],
      [1, "unlimited"],
      [1, "never-restart"],
    ]);
    const maxFails = rng.chance(0.05) ? rng.int(0, 3) : null;
    jobs.push({
      submitAt: rng.chance(0.4) ? 0 : rng.int(0, 6000),
      submit: {
        name: `job${jobs.length}`,
        maxFails,
        submitDir: "/sim",
        ids: [{ start: first, end: first + size - 1 }],
        template: {
          program: { args: ["sim"], env: {}, cwd: "%{SUBMIT_DIR}", stdout: null, stderr: null },
          requests,
          pin: null,
          priority: rng.weighted(PRIORITIES),
          timeLimitMs: null,
          crashLimit,
        },
      },
      durationMs: [lo, hi],
      failRate: maxFails !== null ? 0.05 : rng.chance(0.3) ? 0.02 : 0,
      cancelAt: rng.chance(options.cancelRate) ? rng.int(0, 8000) : null,
    });
  }
  jobs.sort((a, b) => a.submitAt - b.submitAt);
  return { workers, jobs };
}

/** Timing and fault knobs of a simulation. */
export interface SimOptions {
  /** Scheduler settings. */
  scheduler: SchedulerConfig;
  /** Server loop period (ms). */
  serverTickMs: number;
  /** Largest channel delay (ms). */
  maxDelayMs: number;
  /** Worker heartbeat interval (ms). */
  heartbeatMs: number;
  /** Probability that a cancel/retract record or an update batch is duplicated. */
  duplicateRate: number;
  /** Give up (and fail) when the simulated clock passes this. */
  maxTimeMs: number;
}

/** Default knobs. */
export const DEFAULT_SIM_OPTIONS: SimOptions = {
  scheduler: { prefillMax: 4, prefillReserve: 8 },
  serverTickMs: 20,
  maxDelayMs: 60,
  heartbeatMs: 400,
  duplicateRate: 0.05,
  maxTimeMs: 600_000,
};

/** Outcome of a run. */
export interface SimResult {
  /** Simulated time when every job was complete. */
  endTimeMs: number;
  /** Scheduling rounds run. */
  rounds: number;
  /** Task runs that reached an end on a worker (including reruns). */
  runs: number;
  /** Soft rejections reported. */
  rejections: number;
  /** Retracted tasks returned. */
  returned: number;
  /** Final count per task state over all jobs. */
  counts: Record<string, number>;
  /** When each worker (by id) last reported a task that ended (its clock). */
  lastEndByWorker: Record<number, number>;
}
