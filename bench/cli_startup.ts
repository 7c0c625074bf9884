// deno-lint-ignore-file no-console
/**
 * CLI start-up: wall time of client commands against a live server (one
 * worker, one finished job), next to an empty Deno script run the same way
 * from the repository (`deno run -A bench/_empty.ts`). Runs are interleaved
 * so that machine noise hits every command alike; each row is the median.
 * Target: every client command within 1.5x of the empty script.
 *
 * Each command runs twice: through the start-up cache (role files bundled by
 * `tools/build_cli.ts`, what `npm install` sets up; the target applies here)
 * and from the sources (`HQ_CLI_CACHE=off`, what a developer who has edited
 * a file gets).
 *
 * Prints a markdown section; `deno run -A bench/cli_startup.ts` runs it alone.
 *
 * @module
 */
import {
  DENO,
  fmtMs,
  HQ_TS,
  mdTable,
  median,
  REPO_ROOT,
  run,
  startServer,
  startWorker,
  stopAll,
} from "./_util.ts";

const REPS = Number(Deno.env.get("HQ_BENCH_CLI_REPS") ?? "25");
const TARGET = 1.5;

async function timeOnce(args: string[], cwd: string, cache: string): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(DENO, {
    args,
    cwd,
    env: { HQ_CLI_CACHE: cache },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  })
    .output();
  const ms = performance.now() - t0;
  if (!out.success) {
    throw new Error(`${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

/** Runs the measurement; returns the markdown section. */
export async function benchCliStartup(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "hq-bench-cli-" });
  try {
    const sd = `${root}/sd`;
    const cache = `${root}/cache`;
    await run(DENO, ["run", "-A", `${REPO_ROOT}tools/build_cli.ts`, cache]);
    startServer("cli bench server", sd);
    await run(DENO, ["run", "-A", HQ_TS, "server", "wait", "--timeout", "30s", "--server-dir", sd]);
    startWorker("cli bench worker", sd, `${root}/work`, ["--cpus", "1"]);
    await run(DENO, ["run", "-A", HQ_TS, "worker", "wait", "1", "--server-dir", sd]);
    await run(
      DENO,
      ["run", "-A", HQ_TS, "submit", "--wait", "--server-dir", sd, "--", "true"],
      root,
    );
    const hq = (...args: string[]) => ["run", "-A", HQ_TS, ...args, "--server-dir", sd];
    const hqCommands: [string, string[]][] = [
      ["hq --version", ["run", "-A", HQ_TS, "--version"]],
      ["hq job list", hq("job", "list")],
      ["hq job info 1", hq("job", "info", "1")],
      ["hq task list 1", hq("task", "list", "1")],
      ["hq worker list", hq("worker", "list")],
      ["hq server info", hq("server", "info")],
      ["hq --output-mode json job list", hq("--output-mode", "json", "job", "list")],
    ];
    const commands: [string, string[], string][] = [
      ["empty Deno script", ["run", "-A", `${REPO_ROOT}bench/_empty.ts`], "off"],
      ...hqCommands.map(([name, args]): [string, string[], string] => [name, args, cache]),
      ...hqCommands.map(([name, args]): [string, string[], string] => [
        `${name} (sources)`,
        args,
        "off",
      ]),
    ];
    const samples = commands.map(() => [] as number[]);
    for (let i = 0; i < 3; i++) for (const [, args, c] of commands) await timeOnce(args, root, c);
    for (let r = 0; r < REPS; r++) {
      for (let i = 0; i < commands.length; i++) {
        const [, args, c] = commands[i]!;
        samples[i]!.push(await timeOnce(args, root, c));
      }
    }
    const base = median(samples[0]!);
    let worst = 0;
    const rows = commands.map(([name], i) => {
      const m = median(samples[i]!);
      const ratio = m / base;
      // Client commands through the cache; --version talks to no server.
      if (i > 1 && i <= hqCommands.length) worst = Math.max(worst, ratio);
      return [name, fmtMs(m), fmtMs(Math.min(...samples[i]!)), `${ratio.toFixed(2)}x`];
    });
    return `### CLI start-up: client commands against a live server (median of ${REPS})\n\n` +
      mdTable(["command", "median", "best", "vs empty script"], rows) +
      `\n\nTarget: every client command (through the start-up cache) ≤ ${TARGET}x the empty script: ${
        worst <= TARGET ? "met" : "NOT met"
      } (worst ${worst.toFixed(2)}x).`;
  } finally {
    await stopAll();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) console.log(await benchCliStartup());
