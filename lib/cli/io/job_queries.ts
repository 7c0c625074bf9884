/**
 * The `job` commands that only read: `job list`, `job summary`, `job info` and
 * `job task-ids`. The client role lists them in its `job` tree, and the umbrella runs them
 * through the query part (`query_jobs/mod.ts`) without loading the rest of that role.
 *
 * @module
 */
import { withClient } from "../../client/io/mod.ts";
import { argString, optCount, optFlag } from "../parsed_values.ts";
import { selectorArg } from "../arg_checks.ts";
import { jobDetailsJson, jobListJson, jobSummaryJson, taskIdsJson } from "../hq_json.ts";
import { filterJobList, type JobStatus, missingIds } from "../job_status.ts";
import { notFoundLines } from "../messages.ts";
import { quietJobList, quietJobSummary } from "../quiet.ts";
import { renderJobInfo, renderJobList, renderJobSummary } from "../render_jobs.ts";
import { renderTaskIds } from "../render_tasks.ts";
import {
  JOB_STATE_NAMES,
  stateFilter,
  stateListArg,
  TASK_STATE_NAMES,
  taskStateFilter,
} from "../state_args.ts";
import type { Command, CommandContext } from "./run_cli.ts";

/** What `hq --help` says of `hq job`. */
export const JOB_ABOUT = "Commands for jobs";

/** The `SELECTOR` argument of the `job` commands. */
export const JOB_SELECTOR_ARG = {
  name: "SELECTOR",
  required: true,
  check: selectorArg,
  help: "Job id, range, last or all",
} as const;

async function jobList(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const states = stateFilter(p, "filter")?.map((s) => s.toUpperCase() as JobStatus) ?? null;
  const all = await withClient(ctx.serverDir, (client) => client.listJobs());
  const shown = filterJobList(all, { all: optFlag(p, "all"), states });
  if (out.mode === "json") out.json(jobListJson(shown));
  else if (out.mode === "quiet") { for (const l of quietJobList(shown)) out.text(l); }
  else {
    out.text(renderJobList(shown, { total: all.length, verbose: optCount(p, "verbose") > 0 }));
  }
}

async function jobSummary(ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const jobs = await withClient(ctx.serverDir, (client) => client.listJobs());
  if (out.mode === "json") out.json(jobSummaryJson(jobs));
  else if (out.mode === "quiet") { for (const l of quietJobSummary(jobs)) out.text(l); }
  else out.text(renderJobSummary(jobs));
}

async function jobInfo(ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const selector = argString(ctx.parsed, "SELECTOR")!;
  const { jobs, tasks } = await withClient(ctx.serverDir, async (client) => {
    const jobs = await client.jobInfo(selector);
    // JSON lists every task: fetched in pages, only for the jobs found.
    const ids = jobs.map((j) => j.info.id).join(",");
    const tasks = out.mode === "json" && ids !== "" ? await client.taskList(ids) : {};
    return { jobs, tasks };
  });
  out.logAll(notFoundLines("Job", missingIds(selector, jobs.map((j) => j.info.id)), "ERROR"));
  const now = Date.now();
  if (out.mode === "json") out.json(jobDetailsJson(jobs, tasks));
  else if (out.mode === "cli" && jobs.length > 0) {
    out.text(jobs.map((j) => renderJobInfo(j, { now })).join("\n"));
  }
}

async function jobTaskIds(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const byJob = await withClient(
    ctx.serverDir,
    (client) => client.taskList(argString(p, "SELECTOR")!, null, taskStateFilter(p, "filter")),
  );
  const result: Record<string, number[]> = {};
  for (const [jobId, tasks] of Object.entries(byJob)) {
    result[jobId] = tasks.map((t) => t.id);
  }
  if (out.mode === "json") out.json(taskIdsJson(result));
  else if (out.mode === "cli") out.text(renderTaskIds(result));
}

/** `hq job list`. */
export const jobListCommand: Command = {
  name: "list",
  about: "Display information about jobs",
  options: [
    { long: "all", conflicts: ["filter"], help: "Display all jobs" },
    {
      long: "filter",
      value: "FILTER",
      multiple: true,
      check: /* @__PURE__ */ stateListArg(JOB_STATE_NAMES),
      help: "Display only jobs in these states (comma-separated)",
    },
    { long: "verbose", short: "v", count: true, help: "Add the Cancel Reason column" },
  ],
  run: jobList,
};

/** `hq job summary`. */
export const jobSummaryCommand: Command = {
  name: "summary",
  about: "Display the number of jobs in each state",
  run: jobSummary,
};

/** `hq job info`. */
export const jobInfoCommand: Command = {
  name: "info",
  about: "Display detailed information about jobs",
  args: [JOB_SELECTOR_ARG],
  run: jobInfo,
};

/** `hq job task-ids`. */
export const jobTaskIdsCommand: Command = {
  name: "task-ids",
  about: "Print the ids of the tasks of jobs",
  args: [JOB_SELECTOR_ARG],
  options: [{
    long: "filter",
    value: "FILTER",
    multiple: true,
    check: /* @__PURE__ */ stateListArg(TASK_STATE_NAMES),
    help: "Only tasks in these states (comma-separated)",
  }],
  run: jobTaskIds,
};
