import assert from "node:assert/strict";
import { parseDuration } from "../common/duration.ts";
import {
  allocationJobName,
  checkAdditionalArgs,
  formatWalltime,
  pbsScript,
  type ScriptOptions,
  shellQuote,
  slurmScript,
  workerCommand,
  type WorkerCommandOptions,
} from "./script.ts";
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

Deno.test("shellQuote() leaves safe words bare and single-quotes the rest", () => {
  assert.equal(shellQuote("abc-1.2_3/x:y,z=w+@%"), "abc-1.2_3/x:y,z=w+@%");
  assert.equal(shellQuote("a b"), "'a b'");
  assert.equal(shellQuote("$HOME"), "'$HOME'");
  assert.equal(shellQuote("x=sum(100)"), "'x=sum(100)'");
  assert.equal(shellQuote("a'b"), "'a'\\''b'");
  assert.equal(shellQuote("'"), "''\\'''");
  assert.equal(shellQuote(""), "''");
});

Deno.test("shellQuote() round-trips through bash", async () => {
  const words = ["plain", "with space", "it's", 'dq"x', "$HOME", "`id`", "a\\b", "", "*", "!x"];
  const cmd = new Deno.Command("bash", {
    args: ["-c", `printf '%s\\0' ${words.map(shellQuote).join(" ")}`],
    stdout: "piped",
  });
  const out = new TextDecoder().decode((await cmd.output()).stdout);
  assert.deepEqual(out.split("\0").slice(0, -1), words);
});

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

Deno.test("workerCommand() builds HyperQueue's worker line with defaults", () => {
  assert.equal(
    workerCommand(testQueueParams(), options()),
    '/usr/bin/deno run -A /repo/dist/hq-worker.js start --idle-timeout "5m"' +
      ' --manager "slurm" --server-dir "/home/alice/.hq-server/001"' +
      ' --on-server-lost "finish-running" --time-limit "1h"',
  );
});

Deno.test("workerCommand() picks the subcommand from the program or takes it given", () => {
  const params = testQueueParams();
  assert.match(
    workerCommand(params, options({ program: ["/x/worker.ts"] })),
    /^\/x\/worker\.ts start /,
  );
  assert.match(
    workerCommand(params, options({ program: ["deno", "run", "-A", "/x/hq.ts"] })),
    /^deno run -A \/x\/hq\.ts worker start /,
  );
  assert.match(
    workerCommand(params, options({ program: ["/bin/hq"] })),
    /^\/bin\/hq worker start /,
  );
  // A compiled worker (`deno task compile-worker`) is the worker role itself.
  assert.match(
    workerCommand(params, options({ program: ["/repo/dist/hq-worker"] })),
    /^\/repo\/dist\/hq-worker start /,
  );
  assert.match(
    workerCommand(params, options({ program: ["/bin/hq"], subcommand: ["w", "go"] })),
    /^\/bin\/hq w go --idle-timeout /,
  );
  assert.throws(() => workerCommand(params, options({ program: [] })), RangeError);
});

Deno.test("workerCommand() passes worker args, policy, idle timeout and worker time limit", () => {
  const line = workerCommand(
    testQueueParams({
      manager: "pbs",
      idleTimeoutMs: 90_000,
      timeLimitMs: 2 * 3_600_000,
      workerTimeLimitMs: 5_400_000,
      onServerLost: "stop",
      workerArgs: ["--cpus", "2x8", "--resource", "gpus/nvidia=range(1-2)", "--no-hyper-threading"],
    }),
    options({ program: ["/bin/hq"] }),
  );
  assert.equal(
    line,
    '/bin/hq worker start --idle-timeout "1m 30s" --manager "pbs"' +
      ' --server-dir "/home/alice/.hq-server/001" --cpus 2x8' +
      " --resource 'gpus/nvidia=range(1-2)' --no-hyper-threading" +
      ' --on-server-lost "stop" --time-limit "1h 30m"',
  );
  assert.equal(parseDuration("1m 30s"), 90_000);
  assert.equal(parseDuration("1h 30m"), 5_400_000);
});

Deno.test("workerCommand() adds start, stop and wrap commands and environment as HyperQueue", () => {
  const line = workerCommand(
    testQueueParams({
      workerStartCmd: "module load deno",
      workerStopCmd: "rm -rf /tmp/x",
      workerWrapCmd: "podman run myimage",
    }),
    options({ program: ["/bin/hq"], env: { DENO_DIR: "/scratch/deno cache" } }),
  );
  assert.equal(
    line,
    "module load deno && DENO_DIR='/scratch/deno cache' podman run myimage /bin/hq worker start" +
      ' --idle-timeout "5m" --manager "slurm" --server-dir "/home/alice/.hq-server/001"' +
      ' --on-server-lost "finish-running" --time-limit "1h"; rm -rf /tmp/x',
  );
  assert.throws(
    () => workerCommand(testQueueParams(), options({ env: { "BAD-NAME": "x" } })),
    RangeError,
  );
});

Deno.test("workerCommand() quotes odd paths so that bash reads them back", async () => {
  const serverDir = `/data/my "hq" $dir/it's`;
  const program = ["/opt/my deno/deno", "run", "-A", "/repo/it's/hq-worker.js"];
  const line = workerCommand(
    testQueueParams({ workerArgs: ["--group", "a b"] }),
    options({ program: ["printf", "%s\\n"], subcommand: program, serverDir }),
  );
  const cmd = new Deno.Command("bash", { args: ["-c", line], stdout: "piped" });
  const words = new TextDecoder().decode((await cmd.output()).stdout).split("\n").slice(0, -1);
  assert.deepEqual(words, [
    ...program,
    "--idle-timeout",
    "5m",
    "--manager",
    "slurm",
    "--server-dir",
    serverDir,
    "--group",
    "a b",
    "--on-server-lost",
    "finish-running",
    "--time-limit",
    "1h",
  ]);
});

Deno.test("workerCommand() refuses line breaks", () => {
  assert.throws(
    () => workerCommand(testQueueParams(), options({ serverDir: "/a\nb" })),
    RangeError,
  );
  assert.throws(
    () => workerCommand(testQueueParams({ workerStartCmd: "a\nb" }), options()),
    RangeError,
  );
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
