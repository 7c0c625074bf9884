import assert from "node:assert/strict";
import { Rng } from "./_rng.ts";
import { parseResourceDef } from "../resources/mod.ts";
import { jobSubmit } from "../scheduler/testdata/fixtures.ts";
import {
  generateScenario,
  type Scenario,
  type ScenarioOptions,
  type SimOptions,
  type SimResult,
  Simulation,
} from "./mod.ts";

/** `HQ_SIM_SEED=<n>` replays one seed in every scenario below. */
const REPLAY = Deno.env.get("HQ_SIM_SEED");

interface SimCase {
  name: string;
  firstSeed: number;
  seeds: number;
  scenario: ScenarioOptions;
  options: Partial<SimOptions>;
}

const CASES: SimCase[] = [
  {
    name: "hundreds of workers, thousands of mixed tasks, crashes, late and short-lived workers",
    firstSeed: 1,
    seeds: 18,
    scenario: { tasks: 3000, workers: 120, lateWorkers: 40, crashRate: 0.1, cancelRate: 0.05 },
    options: { scheduler: { prefillMax: 4, prefillReserve: 8 }, maxTimeMs: 60_000 },
  },
  {
    name: "scarce workers, slow channels, prefill without reserve",
    firstSeed: 1001,
    seeds: 6,
    scenario: { tasks: 2000, workers: 20, lateWorkers: 10, crashRate: 0.1, cancelRate: 0.05 },
    options: {
      scheduler: { prefillMax: 4, prefillReserve: 0 },
      maxDelayMs: 300,
      heartbeatMs: 1000,
      maxTimeMs: 120_000,
    },
  },
  {
    name: "default prefill settings under a deep backlog",
    firstSeed: 2001,
    seeds: 5,
    scenario: { tasks: 2500, workers: 30, lateWorkers: 10, crashRate: 0.1, cancelRate: 0.05 },
    options: { scheduler: { prefillMax: 40, prefillReserve: 16 }, maxTimeMs: 120_000 },
  },
  {
    name: "multi-node tasks over two worker groups among single-node work",
    firstSeed: 4001,
    seeds: 5,
    scenario: {
      tasks: 800,
      workers: 16,
      lateWorkers: 6,
      crashRate: 0.15,
      cancelRate: 0.05,
      multiNode: { rate: 0.2, groups: 2 },
    },
    options: { scheduler: { prefillMax: 4, prefillReserve: 4 }, maxTimeMs: 300_000 },
  },
  {
    name: "a handful of workers: every task still ends",
    firstSeed: 3001,
    seeds: 5,
    scenario: { tasks: 1000, workers: 4, lateWorkers: 2, crashRate: 0.2, cancelRate: 0.1 },
    options: { scheduler: { prefillMax: 2, prefillReserve: 2 }, maxTimeMs: 300_000 },
  },
];

/** Runs one seeded scenario; a failure names the seed and how to replay it. */
function runSeed(c: SimCase, seed: number): SimResult {
  const plan = generateScenario(new Rng(seed), c.scenario);
  try {
    return new Simulation(plan, seed, c.options).run();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(
      `Simulation "${c.name}" failed with seed ${seed} (replay: HQ_SIM_SEED=${seed} ` +
        `./node_modules/deno/deno test -A lib/scheduler/sim/sim_test.ts): ${message}`,
      { cause: e },
    );
  }
}

for (const c of CASES) {
  Deno.test(`simulation: ${c.name}`, async (t) => {
    const seeds = REPLAY !== undefined
      ? [Number(REPLAY)]
      : Array.from({ length: c.seeds }, (_, i) => c.firstSeed + i);
    for (const seed of seeds) {
      await t.step(`seed ${seed}`, () => {
        const r = runSeed(c, seed);
        const total = Object.values(r.counts).reduce((a, b) => a + b, 0);
        assert.equal(total, c.scenario.tasks);
        assert.equal(r.counts.waiting! + r.counts.assigned! + r.counts.running!, 0);
        assert.ok(r.counts.finished! > 0);
      });
    }
  });
}

Deno.test("simulation: equal seeds replay equal runs", () => {
  const c = CASES[0]!;
  const scenario = { ...c.scenario, tasks: 600, workers: 30, lateWorkers: 10 };
  const once = () => new Simulation(generateScenario(new Rng(77), scenario), 77, c.options).run();
  assert.deepEqual(once(), once());
});

/**
 * 4,000 tasks of 2-4 ms (or `durationMs`) on `cpus=2` (or `cpus`) workers, one per entry of
 * `delays`: its channels' largest delay, or undefined for the run's; `slowdown` by worker.
 */
function shortTasksOn(
  delays: (number | undefined)[],
  { cpus = 2, durationMs = [2, 4], slowdown = [] }: {
    cpus?: number;
    durationMs?: [number, number];
    slowdown?: number[];
  } = {},
): Scenario {
  const pool = parseResourceDef(`cpus=${cpus}`);
  return {
    workers: delays.map((maxDelayMs, i) => ({
      startAt: 0,
      pools: [pool],
      timeLimitMs: null,
      minUtilization: 0,
      crashAt: null,
      ...(maxDelayMs === undefined ? {} : { maxDelayMs }),
      ...(slowdown[i] === undefined ? {} : { slowdown: slowdown[i] }),
    })),
    jobs: [{
      submitAt: 10,
      submit: jobSubmit("cpus=1", 4000),
      durationMs,
      failRate: 0,
      cancelAt: null,
    }],
  };
}

/**
 * Runs `scenario` (4,000 tasks) with seeds 1 to 10 on 20 ms server ticks and the default
 * prefill settings, asserting each time that the workers' last task ends lie within their
 * largest measured round trip.
 */
function assertEndTogether(scenario: Scenario): void {
  for (let seed = 1; seed <= 10; seed++) {
    const sim = new Simulation(scenario, seed, {
      serverTickMs: 20,
      duplicateRate: 0,
      heartbeatMs: 1000,
      scheduler: { prefillMax: 40, prefillReserve: 16, prefillLimit: 2000 },
      maxTimeMs: 600_000,
    });
    const r = sim.run();
    assert.equal(r.counts.finished, 4000);
    const ends = Object.values(r.lastEndByWorker);
    const spread = Math.max(...ends) - Math.min(...ends);
    const roundTrip = Math.max(
      ...[...sim.state.workers.values()].map((w) => w.roundTripMs ?? Infinity),
    );
    assert.ok(
      spread <= roundTrip,
      `seed ${seed}: ends ${spread} ms apart, round trip ${roundTrip}`,
    );
  }
}

Deno.test("sim: on slow channels, adaptive prefill feeds short tasks and 4 workers end within a round trip", () => {
  const scenario = shortTasksOn([undefined, undefined, undefined, undefined]);
  const options = { maxDelayMs: 250, serverTickMs: 20, duplicateRate: 0, heartbeatMs: 1000 };
  const run = (prefillLimit: number) =>
    new Simulation(scenario, 7, {
      ...options,
      scheduler: { prefillMax: 40, prefillReserve: 16, prefillLimit },
      maxTimeMs: 600_000,
    }).run();
  const fixed = run(40);
  const adaptive = run(2000);
  assert.equal(adaptive.counts.finished, 4000);
  // 4,000 tasks of 3 ms on 8 slots are 1.5 s of work; 42 tasks a round trip starve them.
  assert.ok(
    adaptive.endTimeMs * 2 < fixed.endTimeMs,
    `adaptive ${adaptive.endTimeMs} ms, fixed ${fixed.endTimeMs} ms`,
  );
  const ends = Object.values(adaptive.lastEndByWorker);
  assert.equal(ends.length, 4);
  const roundTrip = 2 * options.maxDelayMs + options.serverTickMs;
  assert.ok(
    Math.max(...ends) - Math.min(...ends) <= roundTrip,
    `last task ends per worker: ${ends.join(", ")}`,
  );
});

Deno.test("sim: with one link ten times slower than the others, the 4 workers still end within its round trip", () => {
  const scenario = shortTasksOn([25, 25, 25, 250]);
  const options = { maxDelayMs: 25, serverTickMs: 20, duplicateRate: 0, heartbeatMs: 1000 };
  const slowRoundTrip = 2 * 250 + options.serverTickMs;
  // Without a fair-share bound the slow worker holds the most when the queue runs dry: seeds
  // 1 and 4 then end 557 and 671 ms apart.
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const r = new Simulation(scenario, seed, {
      ...options,
      scheduler: { prefillMax: 40, prefillReserve: 16, prefillLimit: 2000 },
      maxTimeMs: 600_000,
    }).run();
    assert.equal(r.counts.finished, 4000);
    const ends = Object.values(r.lastEndByWorker);
    assert.equal(ends.length, 4);
    assert.ok(
      Math.max(...ends) - Math.min(...ends) <= slowRoundTrip,
      `seed ${seed}: last task ends per worker: ${ends.join(", ")}`,
    );
  }
});

Deno.test("sim: on slow channels, prefills do not chase workers that run dry before they arrive", () => {
  // A prefill that reaches a worker with nothing of its class running comes back unstarted.
  // Without holding those back, more tasks came back than the job had (17,922 over these 4
  // seeds); with it, 4,553; with the end game and the first round trip left out, 815.
  let returned = 0;
  for (const seed of [7, 1, 2, 3]) {
    const r = new Simulation(shortTasksOn([undefined, undefined, undefined, undefined]), seed, {
      maxDelayMs: 250,
      serverTickMs: 20,
      duplicateRate: 0,
      heartbeatMs: 1000,
      scheduler: { prefillMax: 40, prefillReserve: 16, prefillLimit: 2000 },
      maxTimeMs: 600_000,
    }).run();
    assert.equal(r.counts.finished, 4000);
    returned += r.returned;
  }
  assert.ok(returned < 8000, `${returned} tasks came back over 4 runs of 4,000`);
});

Deno.test("sim: on alike links, the end of the queue is shared by projected end: 4 workers end within one measured round trip", () => {
  // Before the end game, 3 of these 10 seeds ended further apart (up to 1.34 round trips);
  // now 0.06 to 0.70, and the runs end about 4 % sooner.
  assertEndTogether(shortTasksOn([40, 40, 40, 40], { cpus: 1, durationMs: [3, 8] }));
});

Deno.test("sim: a worker half as fast as the others still ends within a round trip of them", () => {
  // Prefill counts tasks, so the slow worker held twice the others' work when the queue ran
  // dry: 4 of these 10 seeds ended up to 1.36 round trips apart; now 0.13 to 0.66.
  assertEndTogether(
    shortTasksOn([40, 40, 40, 40], { cpus: 1, durationMs: [3, 8], slowdown: [1, 1, 1.2, 2] }),
  );
});
