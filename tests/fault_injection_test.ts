/**
 * The fault-injection suite in small (`tests/_faults.ts`): three seeded runs
 * of 1,000 tasks on three workers, each killing the server with SIGKILL and
 * restarting it on the same server dir; seed 1 also kills a worker while the
 * server is down, seed 2 fills the disk under the server dir first, seed 4
 * freezes a worker with SIGSTOP across the kill. Each run must lose no job and
 * no finished result, finish no task twice, finish every task and keep every
 * worker not killed as the same process under the same id.
 *
 * `deno task faults` runs all 20 seeds of 5,000 tasks.
 */
import { REQUIRE_ALL } from "./_env.ts";
import {
  faultRunOk,
  type FaultRunResult,
  faultTableHeader,
  formatFaultProblems,
  formatFaultRow,
  runFaultScenario,
  scenarioFor,
} from "./_faults.ts";

const SEEDS = [1, 2, 4];
const TASKS = 1000;

Deno.test("fault injection: a server killed with SIGKILL and restarted loses nothing", async (t) => {
  const results: FaultRunResult[] = [];
  for (const seed of SEEDS) {
    const scenario = scenarioFor(seed, TASKS);
    await t.step(`seed ${seed} (${scenario.kind})`, async () => {
      const r = await runFaultScenario(scenario, { completionTimeoutMs: 30_000 });
      results.push(r);
      if (!faultRunOk(r) || (REQUIRE_ALL && r.skipped !== undefined)) {
        throw new Error(`${formatFaultRow(r)}\n${formatFaultProblems(r)}`);
      }
    });
  }
  const lines = [faultTableHeader(), ...results.map(formatFaultRow)];
  const extra = results.filter((r) => r.skipped !== undefined || r.notes.length > 0);
  lines.push(...extra.map(formatFaultProblems));
  Deno.stderr.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
});
