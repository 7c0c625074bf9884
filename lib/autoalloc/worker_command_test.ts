import assert from "node:assert/strict";
import { parseDuration } from "../common/duration.ts";
import { shellQuote, workerCommand, type WorkerCommandOptions } from "./worker_command.ts";
import { testQueueParams } from "./testdata/params.ts";

const DENO_WORKER = ["/usr/bin/deno", "run", "-A", "/repo/dist/hq-worker.js"];
const SERVER_DIR = "/home/alice/.hq-server/001";

function options(over: Partial<WorkerCommandOptions> = {}): WorkerCommandOptions {
  return { program: DENO_WORKER, serverDir: SERVER_DIR, ...over };
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
