// deno-lint-ignore-file no-console
/**
 * The client role: `hq submit`, `hq job ...`, `hq task ...`.
 *
 * @module
 */
import { Command } from "commander";
import { globals, parseIntFlag, printJson, runCli, withGlobals } from "./lib/cli/common.ts";
import { buildSubmit, type SubmitFlags } from "./lib/cli/submit_args.ts";
import { formatIdSet, idSetFromIds, parseIdSet } from "./lib/cli/id_set.ts";
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
import { resolveServerDir } from "./lib/fsproto/server_dir.ts";
import { HqClient } from "./lib/client/client.ts";
import type { JobInfoView } from "./lib/scheduler/views.ts";

async function withClient<T>(cmd: Command, fn: (c: HqClient) => Promise<T>): Promise<T> {
  const client = await HqClient.connect(resolveServerDir(globals(cmd).serverDir));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
const JOB_STATES = ["waiting", "running", "finished", "failed", "canceled", "aborted", "opened"];

function parseStateFilter(text: string | undefined, allowed: readonly string[]): string[] | null {
  if (text === undefined) return null;
  const states = text.split(",").map((s) => s.trim().toLowerCase());
  for (const s of states) {
    if (!allowed.includes(s)) {
      throw new Error(`Invalid value "${text}" for --filter: unknown state "${s}"`);
    }
  }
  return states;
}

function printWait(cmd: Command, jobs: JobInfoView[], startedAt: number): void {
  const counts = { finished: 0, failed: 0, canceled: 0, invalid: 0 };
  for (const j of jobs) {
    const s = jobState(j.task_stats);
    if (s === "FINISHED") counts.finished++;
    else if (s === "FAILED" || s === "ABORTED") counts.failed++;
    else if (s === "CANCELED") counts.canceled++;
    else counts.invalid++;
  }
  const g = globals(cmd);
  const duration = Date.now() - startedAt;
  if (g.outputMode === "json") printJson({ duration: duration / 1000, ...counts });
  else if (g.outputMode === "cli") {
    const parts = [`${counts.finished} job${counts.finished === 1 ? "" : "s"} finished`];
    if (counts.failed) parts.push(`${counts.failed} job${counts.failed === 1 ? "" : "s"} failed`);
    if (counts.canceled) {
      parts.push(`${counts.canceled} job${counts.canceled === 1 ? "" : "s"} canceled`);
    }
    console.log(`Wait finished in ${formatDuration(duration)}: ${parts.join(", ")}`);
  }
}

function addSubmitOptions(cmd: Command): Command {
  return withGlobals(cmd)
    .argument("<command...>", "command and its arguments (put -- before flags of the command)")
    .option("--name <name>", "job name")
    .option("--cpus <request>", "CPUs per task: <amount> [policy] or all (default: 1)")
    .option(
      "--resource <name=request>",
      'resource request (repeatable): name=<amount> [policy], name=all; variants with "|"',
      collect,
    )
    .option("--pin <mode>", "CPU pinning: taskset or omp")
    .option("--nodes <n>", "multi-node task over N whole workers of one group (default: 0)")
    .option("--array <ids>", "task ids, e.g. 1-10, 0-10:2, 1,3,5-8")
    .option("--stdout <path>", "stdout path, `none`, or with :rm-if-finished")
    .option("--stderr <path>", "stderr path, `none`, or with :rm-if-finished")
    .option("--cwd <path>", "working directory")
    .option("--env <KEY=VAL>", "environment variable (repeatable)", collect)
    .option("--priority <n>", "priority, higher runs first", "0")
    .option("--max-fails <n>", "abort remaining tasks once more than N failed")
    .option("--time-limit <duration>", "per-task time limit")
    .option("--time-request <duration>", "minimum remaining worker lifetime to start")
    .option("--crash-limit <n>", "N, never-restart or unlimited", "5")
    .option("--wait", "wait until the job completes")
    .action(async (command: string[], opts: SubmitFlags & { wait?: boolean }, c: Command) => {
      const g = globals(c);
      const { job, warnings } = buildSubmit(opts, command, Deno.cwd());
      for (const w of warnings) console.error(`[WARN] ${w}`);
      const started = Date.now();
      await withClient(c, async (client) => {
        const id = await client.submit(job);
        if (g.outputMode === "json") {
          if (!opts.wait) printJson({ id });
        } else if (g.outputMode === "quiet") console.log(String(id));
        else console.log(`Job submitted successfully, job ID: ${id}`);
        if (opts.wait) printWait(c, await client.wait(String(id)), started);
      });
    });
}

/** Builds the `submit` command. */
export function submitCommand(): Command {
  return addSubmitOptions(new Command("submit").description("submit a job"));
}

/** Builds the `job` command tree. */
export function jobCommand(): Command {
  const job = new Command("job").description("manage jobs");
  addSubmitOptions(job.command("submit").description("submit a job"));
  withGlobals(job.command("list").description("list jobs"))
    .option("--all", "show all jobs")
    .option("--filter <states>", "comma-separated states")
    .option("--verbose", "show cancel reasons")
    .action(async (opts, c: Command) => {
      const g = globals(c);
      const filter = parseStateFilter(opts.filter, JOB_STATES);
      const all = await withClient(c, (client) => client.listJobs());
      const jobs = all.filter((j) => {
        const s = jobState(j.task_stats).toLowerCase();
        if (filter) return filter.includes(s);
        return opts.all || s === "waiting" || s === "running";
      });
      if (g.outputMode === "json") printJson(jobs);
      else if (g.outputMode === "quiet") {
        for (const j of jobs) console.log(`${j.id} ${jobState(j.task_stats)}`);
      } else console.log(renderJobList(jobs, all.length, !!opts.verbose));
    });
  withGlobals(job.command("summary").description("number of jobs per state")).action(
    async (_o, c: Command) => {
      const g = globals(c);
      const summary = jobSummary(await withClient(c, (client) => client.listJobs()));
      if (g.outputMode === "json") printJson(summary);
      else if (g.outputMode === "quiet") {
        for (const [k, v] of Object.entries(summary)) console.log(`${k} ${v}`);
      } else console.log(renderJobSummary(summary));
    },
  );
  withGlobals(job.command("info").description("details of jobs").argument("<selector>"))
    .action(async (selector: string, _o, c: Command) => {
      parseSelector(selector);
      const g = globals(c);
      const jobs = await withClient(c, (client) => client.jobInfo(selector));
      if (jobs.length === 0) throw new Error(`Job ${selector} not found`);
      if (g.outputMode === "json") printJson(jobs);
      else if (g.outputMode === "quiet") {
        for (const j of jobs) console.log(`${j.info.id} ${jobState(j.info.task_stats)}`);
      } else console.log(jobs.map(renderJobInfo).join("\n"));
    });
  withGlobals(job.command("cancel").description("cancel jobs").argument("<selector>"))
    .option("--reason <text>", "why (at most 200 characters)")
    .action(async (selector: string, opts, c: Command) => {
      parseSelector(selector);
      if (opts.reason !== undefined && opts.reason.length > 200) {
        throw new Error("Invalid value for --reason: at most 200 characters");
      }
      const g = globals(c);
      const results = await withClient(c, (client) => client.cancel(selector, opts.reason ?? null));
      if (g.outputMode === "json") printJson(results);
      else if (g.outputMode === "cli") {
        if (results.length === 0) console.log(`No job matches "${selector}"`);
        for (const r of results) {
          console.log(
            r.canceled > 0
              ? `Job ${r.id} canceled (${r.canceled} tasks canceled)`
              : `Canceling job ${r.id} failed: job is already finished`,
          );
        }
      }
    });
  withGlobals(job.command("wait").description("wait until jobs complete").argument("<selector>"))
    .option("--without-close", "accepted for compatibility (jobs here are always closed)")
    .action(async (selector: string, _o, c: Command) => {
      parseSelector(selector);
      const started = Date.now();
      printWait(c, await withClient(c, (client) => client.wait(selector)), started);
    });
  withGlobals(job.command("task-ids").description("ids of tasks of jobs").argument("<selector>"))
    .option("--filter <states>", "comma-separated task states")
    .action(async (selector: string, opts, c: Command) => {
      const filter = parseStateFilter(opts.filter, JOB_STATES);
      const byJob = await withClient(c, (client) => client.taskList(selector));
      const result: Record<string, number[]> = {};
      for (const [jobId, tasks] of Object.entries(byJob)) {
        result[jobId] = tasks.filter((t) => !filter || filter.includes(t.state)).map((t) => t.id);
      }
      if (globals(c).outputMode === "json") printJson(result);
      else {
        const ids = Object.values(result);
        if (ids.length === 1) console.log(formatIdSet(idSetFromIds(ids[0]!)));
        else {for (const [jobId, list] of Object.entries(result)) {
            console.log(`${jobId}: ${formatIdSet(idSetFromIds(list))}`);
          }}
      }
    });
  return job;
}

/** Builds the `task` command tree. */
export function taskCommand(): Command {
  const task = new Command("task").description("inspect tasks");
  withGlobals(task.command("list").description("list tasks of jobs").argument("<job-selector>"))
    .option("--tasks <ids>", "only these task ids")
    .option("--task-status <states>", "only tasks in these states")
    .option("-v, --verbose", "do not shorten errors")
    .action(async (selector: string, opts, c: Command) => {
      const sel = parseSelector(selector);
      if (sel.kind === "all") {
        throw new Error('Invalid job selector "all" for task list: use ids or last');
      }
      const ids = opts.tasks ? [...parseIdSet(opts.tasks)] : null;
      const filter = parseStateFilter(opts.taskStatus, JOB_STATES);
      const byJob = await withClient(c, (client) => client.taskList(selector, ids));
      if (filter) {
        for (const k of Object.keys(byJob)) {
          byJob[k] = byJob[k]!.filter((t) => filter.includes(t.state));
        }
      }
      if (globals(c).outputMode === "json") printJson(byJob);
      else console.log(renderTaskList(byJob, !!opts.verbose));
    });
  withGlobals(
    task.command("info").description("details of tasks").argument("<job>").argument("<task-ids>"),
  )
    .option("-v, --verbose", "more detail")
    .action(async (jobSel: string, taskIds: string, _o, c: Command) => {
      const sel = parseSelector(jobSel);
      if (
        sel.kind === "all" ||
        (sel.kind === "ids" && (sel.ids.length !== 1 || sel.ids[0]!.start !== sel.ids[0]!.end))
      ) {
        throw new Error(`Invalid job "${jobSel}" for task info: give one job id or last`);
      }
      const ids = parseIdSet(taskIds);
      const { jobs, byJob } = await withClient(c, async (client) => ({
        jobs: await client.jobInfo(jobSel),
        byJob: await client.taskList(jobSel, [...ids]),
      }));
      const job = jobs[0];
      if (!job) throw new Error(`Job ${jobSel} not found`);
      const tasks = byJob[String(job.info.id)] ?? [];
      if (tasks.length === 0) throw new Error(`Task ${taskIds} of job ${job.info.id} not found`);
      if (globals(c).outputMode === "json") printJson(tasks);
      else console.log(tasks.map((t) => renderTaskInfo(job, t)).join("\n"));
    });
  withGlobals(
    task.command("explain").description("why a task can or cannot run on each worker")
      .argument("<job>").argument("<task-id>"),
  )
    .action(async (jobSel: string, taskId: string, _o, c: Command) => {
      const sel = parseSelector(jobSel);
      if (
        sel.kind === "all" ||
        (sel.kind === "ids" && (sel.ids.length !== 1 || sel.ids[0]!.start !== sel.ids[0]!.end))
      ) {
        throw new Error(`Invalid job "${jobSel}" for task explain: give one job id or last`);
      }
      const id = parseIntFlag("<task-id>", taskId, 0);
      const e = await withClient(c, (client) => client.explain(jobSel, id));
      if (globals(c).outputMode === "json") printJson(e);
      else if (globals(c).outputMode === "cli") console.log(renderExplain(e));
      else console.log(e.workers.filter((w) => w.runnable).map((w) => w.worker_id).join(","));
    });
  return task;
}

/** Entry point: `deno run -A submit.ts [submit flags] -- <command>`. */
export function main(argv: string[]): Promise<number> {
  return runCli(submitCommand(), argv);
}

/** Entry point for `hq job ...`. */
export function jobMain(argv: string[]): Promise<number> {
  return runCli(jobCommand(), argv);
}

/** Entry point for `hq task ...`. */
export function taskMain(argv: string[]): Promise<number> {
  return runCli(taskCommand(), argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
