/**
 * The `task` command tree: `task list`, `task info`, `task explain` and `task notify`.
 *
 * @module
 */
import { withClient } from "../../client/io/mod.ts";
import { idSetIterate, parseIdSet } from "../../common/mod.ts";
import { type OptionSpec } from "../args.ts";
import { argString, optCount, optString } from "../parsed_values.ts";
import { idSetArg, lastOrIdsArg, singleIdArg } from "../arg_checks.ts";
import { taskInfoJson, taskListJson } from "../hq_json.ts";
import { explainJson } from "../hq_json_workers.ts";
import { missingIds } from "../job_status.ts";
import { notFoundLines } from "../messages.ts";
import { renderExplain } from "../render_explain.ts";
import {
  renderTaskInfo,
  renderTaskList,
  TRUNCATED_INFO_HINT,
  TRUNCATED_LIST_HINT,
} from "../render_tasks.ts";
import { stateListArg, TASK_STATE_NAMES, taskStateFilter } from "../state_args.ts";
import { systemUtcOffset } from "../dates.ts";
import { taskNotifyCommand } from "./notify.ts";
import type { Command, CommandContext } from "./run_cli.ts";

async function taskList(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const selector = argString(p, "JOB_SELECTOR")!;
  const tasksArg = optString(p, "tasks");
  const ids = tasksArg === undefined ? null : [...parseIdSet(tasksArg)];
  const filter = taskStateFilter(p, "task-status");
  const byJob = await withClient(
    ctx.serverDir,
    (client) => client.taskList(selector, ids, filter ?? null),
  );
  out.logAll(notFoundLines("Job", missingIds(selector, Object.keys(byJob).map(Number)), "WARN"));
  if (out.mode === "json") out.json(taskListJson(byJob));
  else if (out.mode === "cli") {
    const r = renderTaskList(byJob, { now: Date.now(), verbose: optCount(p, "verbose") > 0 });
    out.text(r.text);
    if (r.truncated) out.log("INFO", TRUNCATED_LIST_HINT);
  }
}

async function taskInfo(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const jobSel = argString(p, "JOB_SELECTOR")!;
  const ids = parseIdSet(argString(p, "TASK_SELECTOR")!);
  const found = await withClient(ctx.serverDir, async (client) => {
    const [job] = await client.jobInfo(jobSel);
    if (!job) return null;
    const byJob = await client.taskList(String(job.info.id), [...ids]);
    return { job, tasks: byJob[String(job.info.id)] ?? [] };
  });
  if (!found) {
    out.log("ERROR", `Cannot find job ${jobSel}`);
    return;
  }
  const { job } = found;
  const byId = new Map(found.tasks.map((t) => [t.id, t]));
  const tasks = [];
  for (const id of idSetIterate(ids)) {
    const t = byId.get(id);
    if (t) tasks.push(t);
    else out.log("WARN", `Task ${id} not found`);
  }
  if (out.mode === "json") out.json(taskInfoJson(tasks));
  else if (out.mode === "cli" && tasks.length > 0) {
    const opts = {
      now: Date.now(),
      utcOffset: systemUtcOffset,
      verbose: optCount(p, "verbose") > 0,
    };
    const rendered = tasks.map((t) => renderTaskInfo(job, t, opts));
    out.text(rendered.map((r) => r.text).join("\n"));
    if (rendered.some((r) => r.truncated)) out.log("INFO", TRUNCATED_INFO_HINT);
  }
}

async function taskExplain(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const e = await withClient(
    ctx.serverDir,
    (client) => client.explain(argString(p, "JOB_SELECTOR")!, Number(argString(p, "TASK_ID"))),
  );
  if (out.mode === "json") out.json(explainJson(e));
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
          check: /* @__PURE__ */ stateListArg(TASK_STATE_NAMES),
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
    taskNotifyCommand,
  ],
};
