// deno-lint-ignore-file no-console
/**
 * Benchmark of task dependencies in the scheduling core (no files, no processes), run in its
 * own process by `bench/main.ts`: a chain, a fan-out and a fan-in of 100,000 tasks each,
 * against the same shapes with 1,000 tasks in the same run.
 *
 * For each: the submit (the reactor adding the graph) and the median time of one step, a
 * task's finish plus the scheduling round after it. Rounds are O(changes) when a step costs
 * the same at 100,000 tasks as at 1,000 (a ratio near 1).
 *
 * Prints a markdown section; `--json` prints the raw figures instead.
 *
 * @module
 */
import type { GraphTask, JobSubmit } from "../lib/protocol/messages.ts";
import { createServerState, type ServerState } from "../lib/scheduler/state.ts";
import { onTaskUpdates, type Outbox } from "../lib/scheduler/reactor.ts";
import { onSubmit } from "../lib/scheduler/job_events.ts";
import { onWorkerRegistered } from "../lib/scheduler/worker_events.ts";
import { schedule } from "../lib/scheduler/schedule.ts";
import { simWorkerConfig } from "./_sim.ts";
import { median } from "./_util.ts";

type Shape = "chain" | "fan-out" | "fan-in";

const WORKER = simWorkerConfig(8);

/** The graph of a shape: chain 0 -> 1 -> ...; fan-out 0 -> all; fan-in all -> the last. */
function graph(shape: Shape, n: number): JobSubmit {
  const tasks: GraphTask[] = [];
  for (let id = 0; id < n; id++) {
    let deps: number[] = [];
    if (shape === "chain" && id > 0) deps = [id - 1];
    if (shape === "fan-out" && id > 0) deps = [0];
    if (shape === "fan-in" && id === n - 1) deps = Array.from({ length: n - 1 }, (_, i) => i);
    tasks.push({ id, template: 0, deps });
  }
  const template = {
    program: { args: ["true"], env: {}, cwd: "/tmp", stdout: null, stderr: null },
    requests: [{
      entries: [{ resource: "cpus", amount: 10_000, policy: "compact" as const }],
      minTimeMs: 0,
    }],
    pin: null,
    priority: 0,
    timeLimitMs: null,
    crashLimit: 5 as const,
  };
  return {
    name: shape,
    maxFails: null,
    submitDir: "/tmp",
    ids: [{ start: 0, end: n - 1 }],
    template,
    graph: { templates: [template], tasks },
  };
}

/** Starts, then finishes, the tasks a round placed; returns each step's ms (finish + round). */
function run(shape: Shape, n: number, steps: number) {
  const state: ServerState = createServerState("bench", { prefillMax: 0, prefillReserve: 0 });
  const out: Outbox = new Map();
  for (let i = 0; i < 8; i++) onWorkerRegistered(state, `w${i}`, WORKER, 0, out);
  const submit = graph(shape, n);
  const t0 = performance.now();
  const jobId = onSubmit(state, submit, 0);
  const submitMs = performance.now() - t0;
  let now = 1;
  schedule(state, now, new Map());
  const samples: number[] = [];
  const job = state.jobs.get(jobId)!;
  while (samples.length < steps) {
    const running = [...state.workers.values()].flatMap((w) =>
      [...w.tasks.values()].map((slot) => ({ w: w.id, id: slot.taskId }))
    );
    if (running.length === 0) break;
    const { w, id } = running[0]!;
    const at = ++now;
    onTaskUpdates(
      state,
      w,
      [{ kind: "started", jobId, id, instance: 0, at, variant: 0 }],
      at,
      out,
    );
    const s = performance.now();
    onTaskUpdates(state, w, [{ kind: "finished", jobId, id, instance: 0, at }], at, out);
    schedule(state, at, new Map());
    samples.push(performance.now() - s);
  }
  return {
    submitMs,
    stepMs: median(samples),
    steps: samples.length,
    finished: job.counts.finished,
  };
}

const STEPS = 2000;
const results: Record<string, { small: ReturnType<typeof run>; large: ReturnType<typeof run> }> =
  {};
for (const shape of ["chain", "fan-out", "fan-in"] as const) {
  run(shape, 1000, 50); // warm-up
  results[shape] = { small: run(shape, 1000, STEPS), large: run(shape, 100_000, STEPS) };
}

if (Deno.args.includes("--json")) {
  console.log(JSON.stringify(results));
} else {
  const lines = [
    "### Task dependencies (scheduling core, no I/O)",
    "",
    "| shape | submit of 100,000 tasks | one finish + round at 100,000 tasks | same at 1,000 tasks | ratio (target: O(changes), < 2) |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const [shape, r] of Object.entries(results)) {
    const ratio = r.large.stepMs / r.small.stepMs;
    lines.push(
      `| ${shape} | ${r.large.submitMs.toFixed(0)} ms | ${r.large.stepMs.toFixed(3)} ms | ${
        r.small.stepMs.toFixed(3)
      } ms | ${ratio.toFixed(2)}: ${ratio < 2 ? "met" : "NOT met"} |`,
    );
  }
  console.log(lines.join("\n"));
}
