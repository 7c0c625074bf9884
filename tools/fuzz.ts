// deno-lint-ignore-file no-console
/**
 * A longer fuzzing run than `deno task test` does: the fuzz tests
 * (`tests/fuzz_parsers_test.ts`, `fuzz_protocol_test.ts`, with `--e2e` also
 * `fuzz_e2e_test.ts`) again
 * and again, each time with a fresh seed and more cases, until the time is up;
 * prints every failing seed (replay it with `HQ_FUZZ_SEED=<seed>`).
 *
 * ```sh
 * deno run -A tools/fuzz.ts [--minutes 10] [--runs 2000] [--e2e] [--seed 42]
 * ```
 *
 * - `--minutes`: how long to go on (default 5).
 * - `--runs`: `HQ_FUZZ_RUNS` of each run (default 2000 cases per in-process category).
 * - `--e2e`: also the process-level tests (servers and `hq` processes; slower).
 * - `--seed`: first seed (default: random); later runs take the next ones.
 *
 * Exits 1 when any run failed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const test = (name: string) => fileURLToPath(new URL(`../tests/${name}`, import.meta.url));

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "5" },
    runs: { type: "string", default: "2000" },
    seed: { type: "string" },
    e2e: { type: "boolean", default: false },
  },
});

const minutes = Number(values.minutes);
const runs = Number(values.runs);
if (!(minutes > 0) || !Number.isSafeInteger(runs) || runs < 1) {
  console.error("fuzz: --minutes must be positive and --runs a positive integer");
  Deno.exit(2);
}
let seed = values.seed === undefined
  ? crypto.getRandomValues(new Uint32Array(1))[0]! >>> 1
  : Number(values.seed);
const deadline = Date.now() + minutes * 60_000;
const failed: number[] = [];
let done = 0;

while (Date.now() < deadline) {
  const args = [
    "test",
    "-A",
    test("fuzz_parsers_test.ts"),
    test("fuzz_protocol_test.ts"),
    ...(values.e2e ? [test("fuzz_e2e_test.ts")] : []),
  ];
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { HQ_FUZZ_SEED: String(seed), HQ_FUZZ_RUNS: String(runs), NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  done++;
  if (out.success) {
    console.error(`fuzz: seed ${seed} ok`);
  } else {
    failed.push(seed);
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const reasons = text.split("\n").filter((l) =>
      /^Caused by: (Assertion)?Error: /.test(l) && !l.includes("Property failed after")
    );
    console.error(`fuzz: seed ${seed} FAILED`);
    for (const r of new Set(reasons)) console.error(`  ${r.slice(0, 300)}`);
  }
  seed = (seed + 1) % 2 ** 31;
}
console.log(
  `fuzz: ${done} runs of ${runs} cases per category, ${failed.length} failed` +
    (failed.length > 0 ? `; replay with HQ_FUZZ_SEED=${failed.join(", ")}` : ""),
);
Deno.exit(failed.length > 0 ? 1 : 0);
