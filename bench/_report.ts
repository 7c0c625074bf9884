/**
 * Markdown report of `bench/main.ts`.
 *
 * @module
 */
import { fmtMs, mdTable, median } from "./_util.ts";

interface Stat {
  samples: number[];
}

/** Everything a bench run measured. */
export interface BenchResults {
  n: number;
  latencyReps: number;
  appearReps: number;
  idleMs: number;
  sleepTasks: number;
  throughput: { name: string; ms: number; ratio?: number; note?: string }[];
  latency: { mode: string; stat?: Stat; submitMs?: number[]; skipped?: string }[];
  appear: { mode: string; stat?: Stat; skipped?: string }[];
  sleepRun: number[];
  sleepXargsMs?: number;
  schedulerSection: string;
  cliSection: string;
  /** Markdown of `autoalloc.ts`, or empty. */
  autoallocSection?: string;
  /** Markdown of `growth.ts`, or empty. */
  growthSection?: string;
  /** Markdown of `suite.ts` (this project next to its peers), or empty. */
  suiteSection?: string;
  /** Markdown of `million.ts`, `zero_worker.ts` and `netfs.ts`, in that order. */
  scaleSections?: string[];
}

/** Renders the results as markdown. */
export function renderReport(r: BenchResults): string {
  const { n: N, throughput, latency, appear, sleepRun, schedulerSection } = r;
  const LATENCY_REPS = r.latencyReps;
  const APPEAR_REPS = r.appearReps;
  const IDLE_MS = r.idleMs;
  const SLEEP_TASKS = r.sleepTasks;
  const parts: string[] = [];
  parts.push(
    `## hq benchmarks\n\n${Deno.build.os}/${Deno.build.arch}, deno ${Deno.version.deno}, ` +
      `${navigator.hardwareConcurrency} CPUs, tasks N = ${N}`,
  );
  parts.push(
    `### 1. Throughput: ${N} \`true\` tasks, one worker \`--cpus 2\`\n\n` +
      mdTable(
        ["run", "makespan", "tasks/s", "ratio vs xargs", "note"],
        throughput.map((t) => [
          t.name,
          fmtMs(t.ms),
          (N / (t.ms / 1000)).toFixed(0),
          t.ratio === undefined ? "" : `${t.ratio.toFixed(2)}x`,
          t.note ?? "",
        ]),
      ) +
      `\n\nTarget hq/xargs ≤ 1.5 (\`--stdout none\`): ${
        (() => {
          const r = throughput.find((t) => t.name.startsWith("hq, `--stdout none"))?.ratio;
          return r === undefined
            ? "n/a"
            : r <= 1.5
            ? `met (${r.toFixed(2)}x)`
            : `NOT met (${r.toFixed(2)}x)`;
        })()
      }`,
  );
  parts.push(
    `### 2. Submit-to-start latency, one task on an idle worker (${LATENCY_REPS} runs, ${IDLE_MS} ms idle before each)\n\n` +
      mdTable(
        ["mode", "median", "max", "samples", "submit() returned after (median)"],
        latency.map((l) =>
          l.stat
            ? [
              l.mode,
              fmtMs(median(l.stat.samples)),
              fmtMs(Math.max(...l.stat.samples)),
              l.stat.samples.map(fmtMs).join(", "),
              l.submitMs ? fmtMs(median(l.submitMs)) : "",
            ]
            : [l.mode, l.skipped ?? "skipped", "", "", ""]
        ),
      ),
  );
  parts.push(
    `### 3. Worker appearance: spawn \`worker start\` → running in \`worker list\` (${APPEAR_REPS} runs)\n\n` +
      mdTable(
        ["mode", "median", "max", "samples"],
        appear.map((a) =>
          a.stat
            ? [
              a.mode,
              fmtMs(median(a.stat.samples)),
              fmtMs(Math.max(...a.stat.samples)),
              a.stat.samples.map(fmtMs).join(", "),
            ]
            : [a.mode, a.skipped ?? "skipped", "", ""]
        ),
      ) +
      "\n\n(Includes the worker's deno start-up; measured with in-process `listWorkers()` polling.)",
  );
  if (sleepRun.length > 0) {
    const ideal = (SLEEP_TASKS * 10) / 2;
    const hq = median(sleepRun);
    const ratio = hq / ideal;
    const rows = [[
      `hq (median of ${sleepRun.length}: ${sleepRun.map(fmtMs).join(", ")})`,
      fmtMs(hq),
      `${ratio.toFixed(2)}x`,
    ]];
    if (r.sleepXargsMs !== undefined) {
      rows.push([
        "`xargs -P 2 sleep 0.01`, for the floor of process start-up",
        fmtMs(r.sleepXargsMs),
        `${(r.sleepXargsMs / ideal).toFixed(2)}x`,
      ]);
    }
    parts.push(
      `### 4. ${SLEEP_TASKS} tasks of \`sleep 0.01\` on one \`--cpus 2\` worker (ideal: tasks x 10 ms / 2 = ${
        fmtMs(ideal)
      })\n\n` +
        mdTable(["run", "makespan", "ratio vs ideal"], rows) +
        `\n\nTarget ≤ 1.2x ideal: ${ratio <= 1.2 ? "met" : "NOT met"}`,
    );
  }
  if (schedulerSection) parts.push(schedulerSection);
  if (r.cliSection) parts.push(r.cliSection);
  if (r.autoallocSection) parts.push(r.autoallocSection);
  if (r.growthSection) parts.push(r.growthSection);
  for (const s of r.scaleSections ?? []) parts.push(s);
  if (r.suiteSection) parts.push(r.suiteSection);
  return parts.join("\n\n");
}
