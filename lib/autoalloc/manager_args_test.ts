import assert from "node:assert/strict";
import { checkAdditionalArgs } from "./manager_args.ts";

Deno.test("checkAdditionalArgs() refuses SLURM node counts and walltimes", () => {
  for (const ok of [[], ["--partition=p"], ["--time-min=10"], ["--nodelist=a"], ["-p", "x"]]) {
    assert.equal(checkAdditionalArgs("slurm", ok), null, JSON.stringify(ok));
  }
  const nodes = "the node count comes from --max-workers-per-alloc";
  const time = "the walltime comes from --time-limit";
  for (
    const [arg, why] of [
      ["--nodes=2", nodes],
      ["--nodes", nodes],
      ["-N", nodes],
      ["-N2", nodes],
      ["--time=1:00:00", time],
      ["--time", time],
      ["-t", time],
      ["-t60", time],
    ]
  ) {
    assert.equal(
      checkAdditionalArgs("slurm", ["--account=a", arg!]),
      `Cannot pass "${arg}" to sbatch: ${why}`,
    );
  }
});

Deno.test("checkAdditionalArgs() refuses PBS select, nodes and walltime resources", () => {
  for (const ok of [[], ["-q", "qexp"], ["-l", "place=scatter"], ["-N", "x"], ["-lmem=4gb"]]) {
    assert.equal(checkAdditionalArgs("pbs", ok), null, JSON.stringify(ok));
  }
  assert.equal(
    checkAdditionalArgs("pbs", ["-l", "walltime=02:00:00"]),
    'Cannot pass "-l walltime=02:00:00" to qsub: the walltime comes from --time-limit',
  );
  assert.equal(
    checkAdditionalArgs("pbs", ["-lplace=free,walltime=1:00:00"]),
    'Cannot pass "-lplace=free,walltime=1:00:00" to qsub: the walltime comes from --time-limit',
  );
  assert.equal(
    checkAdditionalArgs("pbs", ["-l", "nodes=2:ppn=4"]),
    'Cannot pass "-l nodes=2:ppn=4" to qsub: the node count comes from --max-workers-per-alloc',
  );
  assert.equal(
    checkAdditionalArgs("pbs", ["-v", `A="x y",B='z'`]),
    `Cannot pass "A=\\"x y\\",B='z'" to qsub: a #PBS word with spaces cannot hold both kinds of quotes`,
  );
});

Deno.test("checkAdditionalArgs() refuses line breaks for both managers", () => {
  assert.equal(
    checkAdditionalArgs("slurm", ["--comment=a\nb"]),
    'Cannot pass "--comment=a\\nb" to sbatch: arguments cannot hold line breaks',
  );
  assert.match(checkAdditionalArgs("pbs", ["-q", "x\r"])!, /^Cannot pass "x\\r" to qsub/);
});
