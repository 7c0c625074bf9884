/**
 * `hq job open`, `hq job close`, `hq job submit-file` (open jobs and job definition files)
 * and `hq job cat`, as HyperQueue has them.
 *
 * @module
 */
import { withClient } from "../../client/io/mod.ts";
import { UsageError } from "../args.ts";
import { argString, optString } from "../parsed_values.ts";
import type { parseJobFile } from "../job_file.ts";
import { submitJson } from "../hq_json.ts";
import { quietSubmit } from "../quiet.ts";
import { submitText } from "../render_jobs.ts";
import { selectorArg } from "../arg_checks.ts";
import type { Command, CommandContext } from "./run_cli.ts";
import type { Output } from "./output.ts";
import { checkJobName, parseMaxFails } from "../submit_values.ts";
import { createJobCatCommand } from "./job_cat.ts";

/** `hq job cat`: task output files, in task id order. */
export const jobCatCommand: Command = /* @__PURE__ */ createJobCatCommand({
  taskList: (dir, selector, ids) => withClient(dir, (c) => c.taskList(selector, ids)),
  open: async (path) => (await Deno.open(path)).readable,
  write: async (bytes) => {
    for (let done = 0; done < bytes.length;) done += await Deno.stdout.write(bytes.subarray(done));
  },
});

/** Prints a created or extended job's id in the output mode's form (`text` in cli mode). */
export function printJobId(out: Output, id: number, text: string): void {
  if (out.mode === "json") out.json(submitJson(id));
  else if (out.mode === "quiet") { for (const l of quietSubmit(id)) out.text(l); }
  else out.text(text);
}

async function jobOpen(ctx: CommandContext): Promise<void> {
  const name = checkJobName(optString(ctx.parsed, "name") ?? "job");
  const maxFails = parseMaxFails(optString(ctx.parsed, "max-fails"));
  const id = await withClient(ctx.serverDir, (client) => client.openJob(name, maxFails));
  printJobId(ctx.out, id, `Job ${id} is open.`);
}

/** `hq job open`. */
export const jobOpenCommand: Command = {
  name: "open",
  about: "Open a new job: tasks can be added to it until it is closed",
  options: [
    { long: "name", value: "NAME", help: "Name of the job (default: job)" },
    {
      long: "max-fails",
      value: "MAX_FAILS",
      help: "Abort the remaining tasks once more than this many tasks failed",
    },
  ],
  run: jobOpen,
};

async function jobClose(ctx: CommandContext): Promise<number> {
  const selector = argString(ctx.parsed, "SELECTOR")!;
  const results = await withClient(ctx.serverDir, (client) => client.closeJobs(selector));
  for (const r of results) {
    switch (r.result) {
      case "closed":
        ctx.out.log("INFO", `Job ${r.id} closed`);
        break;
      case "alreadyClosed":
        ctx.out.log("ERROR", `Closing job ${r.id} failed: the job is not open`);
        break;
      case "notFound":
        ctx.out.log("ERROR", `Job ${r.id} not found`);
        break;
    }
  }
  return results.some((r) => r.result !== "closed") ? 1 : 0;
}

/** `hq job close`. */
export const jobCloseCommand: Command = {
  name: "close",
  about: "Close open jobs",
  args: [{
    name: "SELECTOR",
    required: true,
    check: selectorArg,
    help: "Job id, range, last or all",
  }],
  run: jobClose,
};

async function submitFile(
  ctx: CommandContext,
  parse: typeof parseJobFile,
): Promise<void> {
  const path = argString(ctx.parsed, "PATH")!;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError(`Cannot read job file ${path}: ${(e as Error).message}`);
  }
  const { job, warnings, autoIds } = parse(text, path, Deno.cwd());
  for (const w of warnings) ctx.out.log("WARN", w);
  const jobText = optString(ctx.parsed, "job");
  if (jobText !== undefined) {
    job.jobId = Number(jobText);
    // Ids a file does not give continue after the open job's largest id.
    if (autoIds) job.autoIds = true;
  }
  const id = await withClient(ctx.serverDir, (client) => client.submit(job));
  printJobId(ctx.out, id, submitText(id));
}

/**
 * `hq job submit-file`; `loadParser` gives the job file parser (loaded only when the command
 * runs).
 */
export function createSubmitFileCommand(loadParser: () => Promise<typeof parseJobFile>): Command {
  return {
    name: "submit-file",
    about: "Submit a job defined in a TOML file",
    args: [{ name: "PATH", required: true, help: "Path of the job definition file" }],
    options: [{
      long: "job",
      value: "JOB",
      check: (v) => {
        if (!/^[1-9]\d*$/.test(v)) throw new RangeError("expected a job id");
      },
      help: "Add the tasks to this open job",
    }],
    run: async (ctx) => await submitFile(ctx, await loadParser()),
  };
}
