import assert from "node:assert/strict";
import { parseDuration } from "../common/duration.ts";
import {
  allocationJobName,
  formatWalltime,
  pbsScript,
  type ScriptOptions,
  slurmScript,
} from "./script.ts";
import { shellQuote, workerCommand, type WorkerCommandOptions } from "./worker_command.ts";
import type { QueueParams } from "./queue.ts";
import { testQueueParams } from "./testdata/params.ts";

const DENO_WORKER = ["/usr/bin/deno", "run", "-A", "/repo/dist/hq-worker.js"];
const SERVER_DIR = "/home/alice/.hq-server/001";

function options(over: Partial<WorkerCommandOptions> = {}): WorkerCommandOptions {
  return { program: DENO_WORKER, serverDir: SERVER_DIR, ...over };
}

/** The script of a queue of `manager` with `params`, for `workerCount` nodes. */
function script(
  manager: "slurm" | "pbs",
  workerCount: number,
  params: Partial<QueueParams> = {},
  extra: Partial<ScriptOptions> = {},
): string {
  const o = {
    params: testQueueParams({ manager, ...params }),
    workerCount,
    jobName: "hq-1-1",
    dir: "/srv/hq/001/autoalloc/1/001",
    workerLine: "/bin/hq worker start",
    ...extra,
  };
  return manager === "slurm" ? slurmScript(o) : pbsScript({ ...o, dryRun: false });
}

Deno.test("formatWalltime() prints HH:MM:SS with long hours and rounds up", () => {
  assert.equal(formatWalltime(0), "00:00:00");
  assert.equal(formatWalltime(1), "00:00:01");
  assert.equal(formatWalltime(999), "00:00:01");
  assert.equal(formatWalltime(1000), "00:00:01");
  assert.equal(formatWalltime(59_999), "00:01:00");
  assert.equal(formatWalltime(3_661_000), "01:01:01");
  assert.equal(formatWalltime(36 * 3_600_000), "36:00:00");
  assert.equal(formatWalltime(100 * 3_600_000 + 1), "100:00:01");
  assert.equal(parseDuration(formatWalltime(5_400_000)), 5_400_000);
});

Deno.test("formatWalltime() throws RangeError on negative or non-finite input", () => {
  for (const bad of [-1, NaN, Infinity]) {
    assert.throws(() => formatWalltime(bad), RangeError);
  }
  assert.throws(
    () => formatWalltime(-1),
    { name: "RangeError", message: "Cannot format walltime -1: it must be a finite number >= 0" },
  );
});

Deno.test("allocationJobName() joins the label and the counter", () => {
  assert.equal(allocationJobName("hq-3", 1), "hq-3-1");
  assert.equal(allocationJobName("my-queue", 20), "my-queue-20");
  assert.throws(() => allocationJobName("hq-1", 0), RangeError);
  assert.throws(() => allocationJobName("hq-1", 1.5), RangeError);
});

Deno.test("slurmScript() writes HyperQueue's script for one node", () => {
  assert.equal(
    script("slurm", 1, { timeLimitMs: 36 * 3_600_000 }),
    [
      "#!/bin/bash",
      "#SBATCH --nodes=1",
      "#SBATCH --job-name=hq-1-1",
      "#SBATCH --output=/srv/hq/001/autoalloc/1/001/stdout",
      "#SBATCH --error=/srv/hq/001/autoalloc/1/001/stderr",
      "#SBATCH --time=36:00:00",
      "",
      "/bin/hq worker start",
      "",
    ].join("\n"),
  );
});

Deno.test("slurmScript() runs N nodes through srun and passes extra args on one line", () => {
  assert.equal(
    script("slurm", 3, { additionalArgs: ["--partition=p1", "-A", "proj 1", "--comment=a#b"] }),
    [
      "#!/bin/bash",
      "#SBATCH --nodes=3",
      "#SBATCH --job-name=hq-1-1",
      "#SBATCH --output=/srv/hq/001/autoalloc/1/001/stdout",
      "#SBATCH --error=/srv/hq/001/autoalloc/1/001/stderr",
      "#SBATCH --time=01:00:00",
      '#SBATCH --partition=p1 -A "proj 1" "--comment=a\\#b"',
      "",
      "srun --overlap --ntasks=3 --nodes=3 /bin/hq worker start",
      "",
    ].join("\n"),
  );
});

Deno.test("slurmScript() runs a start/stop list on N nodes through bash -c", () => {
  const params = testQueueParams({ workerStartCmd: "init.sh", workerStopCmd: "unload.sh" });
  const workerLine = workerCommand(params, options({ program: ["/bin/hq"] }));
  const text = slurmScript({ params, workerCount: 2, jobName: "q-2", dir: "/d", workerLine });
  const last = text.trimEnd().split("\n").at(-1)!;
  assert.equal(last, `srun --overlap --ntasks=2 --nodes=2 bash -c ${shellQuote(workerLine)}`);
  assert.match(workerLine, /^init\.sh && \/bin\/hq worker start .*; unload\.sh$/);
  const one = slurmScript({ params, workerCount: 1, jobName: "q-2", dir: "/d", workerLine });
  assert.equal(one.trimEnd().split("\n").at(-1), workerLine);
});

Deno.test("slurmScript() quotes odd directories and escapes % in output paths", () => {
  const text = script("slurm", 1, {}, { dir: '/srv/my hq/50%/"x"/', jobName: "my queue-1" });
  const lines = text.split("\n");
  assert.equal(lines[2], '#SBATCH "--job-name=my queue-1"');
  assert.equal(lines[3], '#SBATCH "--output=/srv/my hq/50%%/\\"x\\"/stdout"');
  assert.equal(lines[4], '#SBATCH "--error=/srv/my hq/50%%/\\"x\\"/stderr"');
});

Deno.test("slurmScript() refuses a PBS queue, bad counts, forbidden args and line breaks", () => {
  assert.throws(
    () => slurmScript({ ...base("pbs"), workerCount: 1 }),
    { name: "RangeError", message: "Cannot build a slurm script for a pbs queue" },
  );
  assert.throws(() => script("slurm", 0), RangeError);
  assert.throws(() => script("slurm", 1.5), RangeError);
  assert.throws(
    () => script("slurm", 1, { additionalArgs: ["--time=10"] }),
    {
      name: "RangeError",
      message: 'Cannot pass "--time=10" to sbatch: the walltime comes from --time-limit',
    },
  );
  assert.throws(() => script("slurm", 1, {}, { jobName: "a\nb" }), RangeError);
  assert.throws(() => script("slurm", 1, {}, { workerLine: "a\n#SBATCH --x" }), RangeError);
});

function base(manager: "slurm" | "pbs"): ScriptOptions {
  return {
    params: testQueueParams({ manager }),
    workerCount: 1,
    jobName: "hq-1-1",
    dir: "/d",
    workerLine: "/bin/hq worker start",
  };
}

Deno.test("pbsScript() writes HyperQueue's script for one node", () => {
  assert.equal(
    script("pbs", 1, { timeLimitMs: 90 * 60_000 }),
    [
      "#!/bin/bash",
      "#PBS -l select=1",
      "#PBS -N hq-1-1",
      "#PBS -o /srv/hq/001/autoalloc/1/001/stdout",
      "#PBS -e /srv/hq/001/autoalloc/1/001/stderr",
      "#PBS -l walltime=01:30:00",
      "",
      "/bin/hq worker start",
      "",
    ].join("\n"),
  );
});

Deno.test("pbsScript() holds dry runs and runs N nodes through pbsdsh", () => {
  const params = testQueueParams({
    manager: "pbs",
    additionalArgs: ["-q", "qprod", "-A", "OPEN-1-2", "-l", "place=scatter"],
    workerStartCmd: "module load x",
  });
  const workerLine = workerCommand(params, options({ program: ["/bin/hq"] }));
  const text = pbsScript({
    params,
    workerCount: 4,
    jobName: "gpu-7",
    dir: "/srv/a",
    workerLine,
    dryRun: true,
  });
  assert.equal(
    text,
    [
      "#!/bin/bash",
      "#PBS -l select=4",
      "#PBS -N gpu-7",
      "#PBS -o /srv/a/stdout",
      "#PBS -e /srv/a/stderr",
      "#PBS -l walltime=01:00:00",
      "#PBS -q qprod -A OPEN-1-2 -l place=scatter",
      "#PBS -h",
      "",
      `pbsdsh -- bash -l -c '${workerLine}'`,
      "",
    ].join("\n"),
  );
});

Deno.test("pbsScript() quotes paths with spaces and a worker line with single quotes", () => {
  const workerLine = "/opt/'x'/hq worker start";
  const text = pbsScript({
    ...base("pbs"),
    workerCount: 2,
    dir: "/srv/my hq",
    workerLine,
    dryRun: false,
  });
  const lines = text.split("\n");
  assert.equal(lines[3], '#PBS -o "/srv/my hq/stdout"');
  assert.equal(lines[4], '#PBS -e "/srv/my hq/stderr"');
  assert.equal(lines[7], `pbsdsh -- bash -l -c '/opt/'\\''x'\\''/hq worker start'`);
});

Deno.test("pbsScript() refuses a SLURM queue and a select in the extra args", () => {
  assert.throws(() => pbsScript({ ...base("slurm"), dryRun: false }), RangeError);
  assert.throws(
    () => script("pbs", 1, { additionalArgs: ["-lselect=2:ncpus=4"] }),
    {
      name: "RangeError",
      message:
        'Cannot pass "-lselect=2:ncpus=4" to qsub: the node count comes from --max-workers-per-alloc',
    },
  );
});
