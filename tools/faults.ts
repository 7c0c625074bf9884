// deno-lint-ignore-file no-console
/**
 * `deno task faults`: the fault-injection suite in full. Runs seeded
 * scenarios (`tests/_faults.ts`) one after another, prints a row per run as
 * it ends, then what failed with each failing seed and how to replay it.
 * Exits 1 when any run failed.
 *
 * Options: `--runs N` (default 20), `--tasks N` (default 5000), `--seed S`
 * (the first seed, default 1; run i uses seed S + i), `--keep DIR` (keep each
 * run's task log and process logs in `DIR/seed-N/`).
 *
 * @module
 */
import {
  faultRunOk,
  type FaultRunResult,
  faultTableHeader,
  formatFaultProblems,
  formatFaultRow,
  runFaultScenario,
  scenarioFor,
} from "../tests/_faults.ts";

function intFlag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`Cannot read ${name}: expected a whole number, got "${args[i + 1] ?? ""}"`);
    Deno.exit(2);
  }
  return v;
}

const args = Deno.args;
const known = new Set(["--runs", "--tasks", "--seed", "--keep"]);
for (let i = 0; i < args.length; i += 2) {
  if (!known.has(args[i]!)) {
    console.error(`Unknown option "${args[i]}": use --runs N, --tasks N, --seed S, --keep DIR`);
    Deno.exit(2);
  }
}
const runs = intFlag(args, "--runs", 20);
const tasks = intFlag(args, "--tasks", 5000);
const first = intFlag(args, "--seed", 1);
const keepDir = args.includes("--keep") ? args[args.indexOf("--keep") + 1] : undefined;
if (tasks < 10) {
  console.error(`Cannot run with --tasks ${tasks}: at least 10 are needed`);
  Deno.exit(2);
}

const last = first + runs - 1;
console.log(
  `fault injection: ${runs} run(s) of ${tasks} tasks on 3 workers, seeds ${first}..${last}`,
);
console.log(faultTableHeader());
const results: FaultRunResult[] = [];
for (let i = 0; i < runs; i++) {
  const r = await runFaultScenario(scenarioFor(first + i, tasks), keepDir ? { keepDir } : {});
  results.push(r);
  console.log(formatFaultRow(r));
}

const failed = results.filter((r) => !faultRunOk(r));
const skipped = results.filter((r) => r.skipped !== undefined);
const noted = results.filter((r) => faultRunOk(r) && r.skipped === undefined && r.notes.length);
console.log("");
for (const r of [...failed, ...skipped, ...noted]) console.log(formatFaultProblems(r));
const ok = results.length - failed.length - skipped.length;
console.log(`\n${ok} passed, ${failed.length} failed, ${skipped.length} skipped`);
if (failed.length > 0) {
  console.log(`failing seeds: ${failed.map((r) => r.scenario.seed).join(" ")}`);
  Deno.exit(1);
}
