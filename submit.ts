/**
 * The client role: `hq submit`, `hq job ...`, `hq task ...`.
 *
 * @module
 */
import {
  argList,
  argString,
  optCount,
  optFlag,
  type OptionSpec,
  optList,
  optString,
  type Parsed,
} from "./lib/cli/args.ts";
import { type Command, type CommandContext, runCommandLine } from "./lib/cli/common.ts";
import {
  durationArg,
  idSetArg,
  lastOrIdsArg,
  selectorArg,
  singleIdArg,
} from "./lib/cli/arg_checks.ts";
import { buildSubmit, parseWeight, type SubmitFlags } from "./lib/cli/submit_args.ts";
import { formatIdSet, idSetFromIds, idSetIterate, parseIdSet } from "./lib/cli/id_set.ts";
import { parseSelector } from "./lib/cli/selector.ts";
import { formatDuration } from "./lib/cli/duration.ts";
import {
  jobState,
  jobSummary,
  renderExplain,
  renderJobInfo,
  renderJobList,
  renderJobSummary,
  renderTaskInfo,
  renderTaskList,
} from "./lib/cli/render.ts";
import type { Output } from "./lib/cli/output.ts";
import { resolveServerDir } from "./lib/fsproto/server_dir.ts";
import { HqClient } from "./lib/client/client.ts";
import type { JobInfoView } from "./lib/scheduler/views.ts";

async function withClient<T>(ctx: CommandContext, fn: (c: HqClient) => Promise<T>): Promise<T> {
  const client = await HqClient.connect(resolveServerDir(ctx.serverDir));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

const TASK_STATES = ["waiting", "running", "finished", "failed", "canceled", "aborted"] as const;
const JOB_STATES = [...TASK_STATES, "opened"] as const;

function stateListArg(allowed: readonly string[]): (value: string) => void {
  return (value) => {
    for (const s of value.split(",")) {
      if (!allowed.includes(s)) {
        throw new RangeError(`unknown state '${s}' [possible values: ${allowed.join(", ")}]`);
      }
    }
  };
}

function stateFilter(p: Parsed, long: string): string[] | null {
  const list = optList(p, long);
  return list.length === 0 ? null : list.flatMap((v) => v.split(","));
}

function printWait(out: Output, jobs: JobInfoView[], startedAt: number): void {
  const counts = { finished: 0, failed: 0, canceled: 0, invalid: 0 };
  for (const j of jobs) {
    const s = jobState(j.task_stats);
    if (s === "FINISHED") counts.finished++;
    else if (s === "FAILED" || s === "ABORTED") counts.failed++;
    else if (s === "CANCELED") counts.canceled++;
    else counts.invalid++;
  }
  const duration = Date.now() - startedAt;
  if (out.mode === "json") out.json({ duration: duration / 1000, ...counts });
  else if (out.mode === "cli") {
    const parts: string[] = [];
    for (const [word, n] of Object.entries(counts)) {
      if (n > 0) parts.push(`${n} ${n === 1 ? "job" : "jobs"} ${word}`);
    }
    out.text(`Wait finished in ${formatDuration(duration)}: ${parts.join(", ")}`);
  }
}

/** `hq submit` options (HyperQueue's `JobSubmitOpts`). */
export const SUBMIT_OPTIONS: readonly OptionSpec[] = [
  { long: "name", value: "NAME", help: "Name of the job (default: the command's file name)" },
  {
    long: "max-fails",
    value: "MAX_FAILS",
    help: "Abort the remaining tasks once more than this many tasks failed",
  },
  {
    long: "nodes",
    value: "NODES",
    default: "0",
    conflicts: ["cpus", "pin"],
    help: "Number of whole workers of one group the task runs on",
  },
  { long: "cpus", value: "CPUS", help: "CPUs per task: <amount> [policy] or all (default: 1)" },
  {
    long: "resource",
    value: "RESOURCE",
    multiple: true,
    help: 'Resource request NAME=<amount> [policy] or NAME=all; variants joined by " | "',
  },
  {
    long: "time-request",
    value: "TIME_REQUEST",
    check: durationArg,
    help: "Least remaining lifetime a worker needs to start the task",
  },
  {
    long: "time-limit",
    value: "TIME_LIMIT",
    check: durationArg,
    help: "Run-time limit of each task",
  },
  {
    long: "weight",
    value: "WEIGHT",
    check: parseWeight,
    help: "Weight of the resource request in the scheduler's choice among equal priorities",
  },
  { long: "pin", value: "PIN", choices: ["taskset", "omp"], help: "CPU pinning" },
  { long: "cwd", value: "CWD", help: "Working directory (default: %{SUBMIT_DIR})" },
  {
    long: "stdout",
    value: "STDOUT",
    help:
      "Stdout path, `none`, and/or `:rm-if-finished` (default: %{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout)",
  },
  { long: "stderr", value: "STDERR", help: "Stderr path, `none`, and/or `:rm-if-finished`" },
  { long: "env", value: "ENV", multiple: true, help: "Environment variable KEY=VALUE" },
  { long: "array", value: "ARRAY", check: idSetArg, help: "Task ids, e.g. 1-10, 0-10:2, 1,3,5-8" },
  { long: "priority", value: "PRIORITY", default: "0", help: "Priority; higher runs first" },
  {
    long: "crash-limit",
    value: "CRASH_LIMIT",
    default: "5",
    help: "Worker crashes a task survives: N, never-restart or unlimited",
  },
  { long: "wait", conflicts: ["progress"], help: "Wait until the job completes" },
  { long: "progress", help: "Show a progress bar until the job completes" },
];

async function submit(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const flags: SubmitFlags = {};
  const text = (long: string, key: keyof SubmitFlags) => {
    const v = optString(p, long);
    if (v !== undefined) (flags as Record<string, unknown>)[key] = v;
  };
  text("name", "name");
  text("max-fails", "maxFails");
  text("cpus", "cpus");
  text("pin", "pin");
  text("array", "array");
  text("stdout", "stdout");
  text("stderr", "stderr");
  text("cwd", "cwd");
  text("priority", "priority");
  text("time-limit", "timeLimit");
  text("time-request", "timeRequest");
  text("crash-limit", "crashLimit");
  text("weight", "weight");
  if (optString(p, "nodes") !== "0") text("nodes", "nodes");
  flags.resource = optList(p, "resource");
  flags.env = optList(p, "env");
  const { job, warnings } = buildSubmit(flags, argList(p, "COMMANDS"), Deno.cwd());
  for (const w of warnings) out.log("WARN", w);
  const started = Date.now();
  await withClient(ctx, async (client) => {
    const id = await client.submit(job);
    if (out.mode === "json") out.json({ id });
    else if (out.mode === "quiet") out.text(String(id));
    else out.text(`Job submitted successfully, job ID: ${id}`);
    if (optFlag(p, "wait") || optFlag(p, "progress")) {
      printWait(out, await client.wait(String(id)), started);
    }
  });
}

/** The `submit` command (also `job submit`). */
export const submitCommand: Command = {
  name: "submit",
  about: "Submit a job to HyperQueue",
  options: SUBMIT_OPTIONS,
  args: [{
    name: "COMMANDS",
    required: true,
    trailing: true,
    help: "Command and its arguments (put -- before it if it starts with a dash)",
  }],
  run: submit,
};

async function jobList(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const filter = stateFilter(p, "filter");
  const all = await withClient(ctx, (client) => client.listJobs());
  const jobs = all.filter((j) => {
    const s = jobState(j.task_stats).toLowerCase();
    if (filter) return filter.includes(s);
    return optFlag(p, "all") || s === "waiting" || s === "running" || j.is_open;
  });
  if (out.mode === "json") out.json(jobs);
  else if (out.mode === "quiet") {
    for (const j of jobs) out.text(`${j.id} ${jobState(j.task_stats)}`);
  } else out.text(renderJobList(jobs, all.length, optFlag(p, "verbose")));
}

async function jobSummaryCmd(ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const summary = jobSummary(await withClient(ctx, (client) => client.listJobs()));
  if (out.mode === "json") out.json(summary);
  else if (out.mode === "quiet") {
    for (const [k, v] of Object.entries(summary)) out.text(`${k} ${v}`);
  } else out.text(renderJobSummary(summary));
}

/** Ids an `ids` selector names that are not among `found` (for "not found" lines). */
function missingIds(selector: string, found: readonly number[]): number[] {
  const sel = parseSelector(selector);
  if (sel.kind !== "ids") return [];
  const have = new Set(found);
  return [...idSetIterate(sel.ids)].filter((id) => !have.has(id));
}

async function jobInfo(ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const selector = argString(ctx.parsed, "SELECTOR")!;
  const jobs = await withClient(ctx, (client) => client.jobInfo(selector));
  for (const id of missingIds(selector, jobs.map((j) => j.info.id))) {
    out.log("ERROR", `Job ${id} not found`);
  }
  if (out.mode === "json") out.json(jobs);
  else if (out.mode === "cli") out.text(jobs.map(renderJobInfo).join("\n"));
}

async function jobCancel(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const reason = optString(p, "reason") ?? null;
  const results = await withClient(
    ctx,
    (client) => client.cancel(argString(p, "SELECTOR")!, reason),
  );
  if (results.length === 0) out.log("INFO", "There is nothing to cancel");
  for (const r of results) {
    switch (r.result) {
      case "canceled":
        out.log(
          "INFO",
          `Job ${r.id} canceled (${r.canceled} tasks canceled, ${r.alreadyFinished} tasks already finished)`,
        );
        break;
      case "alreadyFinished":
        out.log("ERROR", `Canceling job ${r.id} failed; all tasks are already finished`);
        break;
      case "notFound":
        out.log("ERROR", `Canceling job ${r.id} failed; job not found`);
        break;
    }
  }
}

async function jobWait(ctx: CommandContext): Promise<void> {
  const started = Date.now();
  const selector = argString(ctx.parsed, "SELECTOR")!;
  const jobs = await withClient(ctx, (client) => client.wait(selector));
  for (const id of missingIds(selector, jobs.map((j) => j.id))) {
    ctx.out.log("WARN", `Job ${id} not found`);
  }
  printWait(ctx.out, jobs, started);
}

async function jobTaskIds(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const filter = stateFilter(p, "filter");
  const byJob = await withClient(ctx, (client) => client.taskList(argString(p, "SELECTOR")!));
  const result: Record<string, number[]> = {};
  for (const [jobId, tasks] of Object.entries(byJob)) {
    result[jobId] = tasks.filter((t) => !filter || filter.includes(t.state)).map((t) => t.id);
  }
  if (out.mode === "json") out.json(result);
  else if (out.mode === "cli") {
    const ids = Object.values(result);
    if (ids.length === 1) out.text(formatIdSet(idSetFromIds(ids[0]!)));
    else {
      for (const [jobId, list] of Object.entries(result)) {
        out.text(`${jobId}: ${formatIdSet(idSetFromIds(list))}`);
      }
    }
  }
}

const SELECTOR_ARG = {
  name: "SELECTOR",
  required: true,
  check: selectorArg,
  help: "Job id, range, last or all",
} as const;

/** The `job` command tree. */
export const jobCommand: Command = {
  name: "job",
  about: "Commands for jobs",
  subcommands: [
    {
      name: "list",
      about: "Display information about jobs",
      options: [
        { long: "all", conflicts: ["filter"], help: "Display all jobs" },
        {
          long: "filter",
          value: "FILTER",
          multiple: true,
          check: stateListArg(JOB_STATES),
          help: "Display only jobs in these states (comma-separated)",
        },
        { long: "verbose", short: "v", count: true, help: "Add the Cancel Reason column" },
      ],
      run: jobList,
    },
    { name: "summary", about: "Display the number of jobs in each state", run: jobSummaryCmd },
    {
      name: "info",
      about: "Display detailed information about jobs",
      args: [SELECTOR_ARG],
      run: jobInfo,
    },
    {
      name: "cancel",
      about: "Cancel jobs",
      args: [SELECTOR_ARG],
      options: [{
        long: "reason",
        value: "REASON",
        check: (v) => {
          if (v.length > 200) throw new RangeError("at most 200 characters are allowed");
        },
        help: "Why the jobs are canceled (at most 200 characters)",
      }],
      run: jobCancel,
    },
    { ...submitCommand, about: "Submit a job to HyperQueue" },
    {
      name: "wait",
      about: "Wait until jobs complete",
      args: [SELECTOR_ARG],
      options: [{ long: "without-close", help: "Do not wait for open jobs to be closed" }],
      run: jobWait,
    },
    {
      name: "task-ids",
      about: "Print the ids of the tasks of jobs",
      args: [SELECTOR_ARG],
      options: [{
        long: "filter",
        value: "FILTER",
        multiple: true,
        check: stateListArg(TASK_STATES),
        help: "Only tasks in these states (comma-separated)",
      }],
      run: jobTaskIds,
    },
  ],
};

async function taskList(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const selector = argString(p, "JOB_SELECTOR")!;
  const tasksArg = optString(p, "tasks");
  const ids = tasksArg === undefined ? null : [...parseIdSet(tasksArg)];
  const filter = stateFilter(p, "task-status");
  const byJob = await withClient(ctx, (client) => client.taskList(selector, ids));
  for (const id of missingIds(selector, Object.keys(byJob).map(Number))) {
    out.log("WARN", `Job ${id} not found`);
  }
  if (filter) {
    for (const k of Object.keys(byJob)) {
      byJob[k] = byJob[k]!.filter((t) => filter.includes(t.state));
    }
  }
  if (out.mode === "json") out.json(byJob);
  else if (out.mode === "cli") out.text(renderTaskList(byJob, optCount(p, "verbose") > 0));
}

async function taskInfo(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const jobSel = argString(p, "JOB_SELECTOR")!;
  const taskIds = argString(p, "TASK_SELECTOR")!;
  const ids = parseIdSet(taskIds);
  const { jobs, byJob } = await withClient(ctx, async (client) => ({
    jobs: await client.jobInfo(jobSel),
    byJob: await client.taskList(jobSel, [...ids]),
  }));
  const job = jobs[0];
  if (!job) throw new Error(`Cannot find job ${jobSel}`);
  const tasks = byJob[String(job.info.id)] ?? [];
  const have = new Set(tasks.map((t) => t.id));
  for (const id of idSetIterate(ids)) {
    if (!have.has(id)) out.log("WARN", `Task ${id} not found`);
  }
  if (out.mode === "json") out.json(tasks);
  else if (out.mode === "cli") out.text(tasks.map((t) => renderTaskInfo(job, t)).join("\n"));
}

async function taskExplain(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const e = await withClient(
    ctx,
    (client) => client.explain(argString(p, "JOB_SELECTOR")!, Number(argString(p, "TASK_ID"))),
  );
  if (out.mode === "json") out.json(e);
  else if (out.mode === "cli") out.text(renderExplain(e));
}

const VERBOSE: OptionSpec = { long: "verbose", short: "v", count: true, help: "Show full errors" };

/** The `task` command tree. */
export const taskCommand: Command = {
  name: "task",
  about: "Commands for tasks",
  subcommands: [
    {
      name: "list",
      about: "Display a list of tasks",
      args: [{
        name: "JOB_SELECTOR",
        required: true,
        check: lastOrIdsArg,
        help: "Job id, range or last",
      }],
      options: [
        { long: "tasks", value: "TASKS", check: idSetArg, help: "Only these task ids" },
        {
          long: "task-status",
          value: "TASK_STATUS",
          multiple: true,
          check: stateListArg(TASK_STATES),
          help: "Only tasks in these states (comma-separated)",
        },
        VERBOSE,
      ],
      run: taskList,
    },
    {
      name: "info",
      about: "Display detailed information about tasks",
      args: [
        { name: "JOB_SELECTOR", required: true, check: singleIdArg, help: "Job id or last" },
        { name: "TASK_SELECTOR", required: true, check: idSetArg, help: "Task ids" },
      ],
      options: [VERBOSE],
      run: taskInfo,
    },
    {
      name: "explain",
      about: "Explain why a task can or cannot run on each worker",
      args: [
        { name: "JOB_SELECTOR", required: true, check: singleIdArg, help: "Job id or last" },
        {
          name: "TASK_ID",
          required: true,
          check: (v) => {
            if (!/^\d+$/.test(v)) throw new RangeError("expected a task id");
          },
          help: "Task id",
        },
      ],
      run: taskExplain,
    },
  ],
};

/** Entry point: `deno run -A submit.ts [submit options] [--] <command>...`. */
export function main(argv: readonly string[]): Promise<number> {
  return runCommandLine({ ...submitCommand, name: "submit.ts" }, argv);
}

/** Entry point for `hq job ...`. */
export function jobMain(argv: readonly string[]): Promise<number> {
  return runCommandLine(jobCommand, argv);
}

/** Entry point for `hq task ...`. */
export function taskMain(argv: readonly string[]): Promise<number> {
  return runCommandLine(taskCommand, argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
