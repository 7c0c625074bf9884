// deno-lint-ignore-file no-console
/**
 * Benchmark of output streaming, run in its own process by `bench/main.ts`: N tasks (10,000;
 * `HQ_BENCH_TASKS`) that each print one line, on one `--cpus 2` worker, three ways in the
 * same run: `--stdout none --stderr none`, the default per-task files, and `--stream DIR`.
 * For each, the makespan (submit to job completion), its ratio to the `none` run, and the
 * number of files the job created. The streamed output is read back and checked.
 *
 * Prints a markdown section; `--json` prints the raw figures instead.
 *
 * @module
 */
import { buildSubmit, type HqClient } from "../mod.ts";
import { buildOutputLog, outputLogSummary } from "../lib/stream/mod.ts";
import { readStreamFiles } from "../lib/stream/io/mod.ts";
import { connect, fmtMs, nowMs, startServer, startWorker, stopAll } from "./_util.ts";

const N = Number(Deno.env.get("HQ_BENCH_TASKS") ?? "10000");
if (!Number.isInteger(N) || N < 1) throw new Error(`Invalid HQ_BENCH_TASKS: ${N}`);
const LINE = "one line of output";

type Mode = "none" | "files" | "stream";

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) n += await countFiles(`${dir}/${e.name}`);
      else n++;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return n;
}

/** Makespan of one job of `n` tasks in `mode`, submitted from the empty dir `submitDir`. */
async function timeJob(client: HqClient, mode: Mode, n: number, submitDir: string) {
  await Deno.mkdir(submitDir, { recursive: true });
  const flags = mode === "none"
    ? { stdout: "none", stderr: "none" }
    : mode === "stream"
    ? { stream: `${submitDir}/stream` }
    : {};
  const { job } = buildSubmit({ array: `1-${n}`, ...flags }, ["echo", LINE], submitDir);
  const t0 = nowMs();
  const id = await client.submit(job);
  const [info] = await client.wait(String(id));
  const ms = nowMs() - t0;
  if (!info || info.task_stats.finished !== n) {
    throw new Error(`job ${id} (${mode}) did not finish all ${n} tasks: ${JSON.stringify(info)}`);
  }
  return { ms, files: await countFiles(submitDir) };
}

const root = await Deno.makeTempDir({ prefix: "hq-bench-stream-" });
const results: Record<Mode, { ms: number; files: number }> = {
  none: { ms: 0, files: 0 },
  files: { ms: 0, files: 0 },
  stream: { ms: 0, files: 0 },
};
let check = "";

/** One run in a fresh server and worker, so that no run inherits the state of another. */
async function freshRun(mode: Mode, name: string): Promise<{ ms: number; files: number }> {
  const sd = `${root}/${name}/sd`;
  const server = startServer(`stream bench server ${name}`, sd);
  const client = await connect(sd, server);
  try {
    startWorker(`stream bench worker ${name}`, sd, `${root}/${name}/work`, ["--cpus", "2"]);
    for (let i = 0; i < 600 && (await client.listWorkers()).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await timeJob(client, mode, 200, `${root}/${name}/warm`); // start-up paths, the writer
    return await timeJob(client, mode, N, `${root}/${name}/submit`);
  } finally {
    await client.close();
    await stopAll();
  }
}

try {
  // Two rounds in opposite orders; the faster run of each mode counts.
  const orders = [["none", "files", "stream"], ["stream", "files", "none"]] as const;
  for (const [round, modes] of orders.entries()) {
    for (const mode of modes) {
      const name = `${mode}-${round}`;
      const r = await freshRun(mode, name);
      console.error(`[bench] stream: ${mode}: ${fmtMs(r.ms)}, ${r.files} files`);
      if (round === 0 || r.ms < results[mode].ms) results[mode] = r;
      if (mode === "stream" && round === 1) {
        const log = buildOutputLog(await readStreamFiles(`${root}/${name}/submit/stream`));
        const s = outputLogSummary(log);
        const ok = s.nTasks === N && s.nOpened === 0 && s.stdoutSize === N * (LINE.length + 1);
        check = ok
          ? `read back: ${s.nTasks} tasks, ${s.stdoutSize} bytes of stdout, all streams closed`
          : `READ BACK FAILED: ${JSON.stringify(s)}`;
      }
      await Deno.remove(`${root}/${name}`, { recursive: true });
    }
  }
} finally {
  await stopAll();
  await Deno.remove(root, { recursive: true }).catch(() => {});
}

if (Deno.args.includes("--json")) {
  console.log(JSON.stringify({ n: N, results, check }));
} else {
  const base = results.none.ms;
  const row = (label: string, mode: Mode) =>
    `| ${label} | ${fmtMs(results[mode].ms)} | ${(results[mode].ms / base).toFixed(2)} | ${
      results[mode].files
    } |`;
  console.log([
    "### Output streaming (`--stream`)",
    "",
    `${
      N.toLocaleString("en-US")
    } tasks each printing one line (\`echo\`), one \`--cpus 2\` worker, ` +
    "fresh server and worker per run (after 200 warm-up tasks); makespan from submit to job " +
    "completion, the faster of two runs (rounds in opposite orders).",
    "",
    "| output | makespan | ratio to `none` | files created |",
    "| --- | --- | --- | --- |",
    row("`--stdout none --stderr none`", "none"),
    row("per-task files (default)", "files"),
    row("`--stream DIR`", "stream"),
    "",
    `Stream check: ${check}.`,
  ].join("\n"));
}
