import assert from "node:assert/strict";
import { Rng } from "./_rng.ts";
import { generateScenario, type ScenarioOptions } from "./scenario.ts";
import { type SimOptions, type SimResult, Simulation } from "./harness.ts";

const REPLAY = Deno.env.get("HQ_SIM_SEED");

/** Runs one seeded scenario; a failure names the seed and how to replay it. */
function runSeed(
  seed: number,
  scenario: ScenarioOptions,
  options: Partial<SimOptions> = {},
): SimResult {
  const plan = generateScenario(new Rng(seed), scenario);
  try {
    return new Simulation(plan, seed, options).run();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(
      `Simulation failed with seed ${seed} (replay: HQ_SIM_SEED=${seed} ` +
        `./node_modules/deno/deno test -A lib/scheduler/sim/sim_test.ts): ${message}`,
      { cause: e },
    );
  }
}

function seeds(base: number, count: number): number[] {
  if (REPLAY !== undefined) return [Number(REPLAY)];
  return Array.from({ length: count }, (_, i) => base + i);
}

const BIG: ScenarioOptions = {
  tasks: 3000,
  workers: 120,
  lateWorkers: 40,
  crashRate: 0.1,
  cancelRate: 0.05,
};

Deno.test("simulation: thousands of mixed tasks on a faulty fleet keep every invariant", () => {
  for (const seed of seeds(1, 1)) {
    const r = runSeed(seed, BIG);
    console.log(seed, JSON.stringify(r));
  }
});
