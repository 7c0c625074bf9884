/**
 * The client role: `hq submit`, `hq job ...`, `hq task ...`.
 *
 * @module
 */
import {
  argList,
  argString,
  cancelLogLines,
  jobStatus,
  jobWaitCounts,
  jobWaitJson,
  missingIds,
  notFoundLines,
  optFlag,
  optString,
  renderJobWait,
  stateFilter,
  stateListArg,
  SUBMIT_OPTIONS,
  submitFlags,
  type SubmitIo,
  submitText,
  UsageError,
} from "./lib/cli/mod.ts";
import {
  type Command,
  type CommandContext,
  createSubmitFileCommand,
  importPart,
  JOB_ABOUT,
  JOB_SELECTOR_ARG,
  jobCatCommand,
  jobCloseCommand,
  jobInfoCommand,
  jobListCommand,
  jobOpenCommand,
  jobSummaryCommand,
  jobTaskIdsCommand,
  type NotificationRunner,
  notificationRunner,
  type Output,
  printJobId,
  type RoleInfo,
  runCommandLine,
  runUmbrella,
  taskCommand,
} from "./lib/cli/io/mod.ts";
import type { ForgettableState } from "./lib/protocol/mod.ts";
import { type HqClient, withClient } from "./lib/client/io/mod.ts";
import type { ProgressOptions } from "./lib/cli/io/progress/mod.ts";

/** Waits for jobs and prints HyperQueue's `job wait` result. */
async function waitAndPrint(
  out: Output,
  client: HqClient,
  selector: string,
  startedAt: number,
  withoutClose = false,
  notifications?: NotificationRunner,
  bar?: Promise<void>,
): Promise<void> {
  const jobs = await client.wait(selector, withoutClose, notifications?.onNotify);
  await notifications?.done();
  await bar;
  const missing = missingIds(selector, jobs.map((j) => j.id));
  out.logAll(notFoundLines("Job", missing, "WARN"));
  const counts = jobWaitCounts(jobs, missing.length);
  const duration = Date.now() - startedAt;
  if (out.mode === "json") out.json(jobWaitJson(counts, duration));
  else if (out.mode === "cli") {
    const failedIds = jobs.filter((j) => ["FAILED", "ABORTED"].includes(jobStatus(j)))
      .map((j) => j.id);
    const failed = failedIds.length === 0 ? [] : await client.jobInfo(failedIds.join(","));
    out.text(renderJobWait(counts, duration, failed));
  }
}

/**
 * Redraws the progress line of the selected jobs until they complete
 * (`submit --progress`, `job progress`); JSON mode prints the wait result.
 */
/**
 * Shows jobs' live progress. Its module (and `cli-progress`, which a bundle cannot hold) is
 * loaded from the sources when needed.
 */
async function showProgress(
  out: Output,
  client: HqClient,
  selector: string,
  options?: ProgressOptions,
): Promise<void> {
  const { showProgress: show }: typeof import("./lib/cli/io/progress/mod.ts") = await import(
    new URL("./lib/cli/io/progress/mod.ts", import.meta.url).href
  );
  await show(out, client, selector, options);
}

/** The live progress of jobs; JSON mode prints the wait result instead. */
async function progressOrWait(out: Output, client: HqClient, selector: string): Promise<void> {
  if (out.mode === "json") return await waitAndPrint(out, client, selector, Date.now());
  await showProgress(out, client, selector);
}

/** The heavy parts of client commands, loaded only when needed (see their module). */
function loadHeavy(): Promise<typeof import("./lib/cli/io/heavy/mod.ts")> {
  return importPart(import.meta.url, "lib/cli/io/heavy/mod.ts");
}

const submitFileCommand = createSubmitFileCommand(async () => (await loadHeavy()).parseJobFile);

/** Reads `--each-line`/`--from-json` files, scripts' directives and `--stdin`. */
const submitIo: SubmitIo = {
  async readFile(path, maxBytes) {
    if (maxBytes === undefined) return await Deno.readFile(path);
    using file = await Deno.open(path);
    const buf = new Uint8Array(maxBytes);
    let n = 0;
    while (n < maxBytes) {
      const read = await file.read(buf.subarray(n));
      if (read === null) break;
      n += read;
    }
    return buf.subarray(0, n);
  },
  readStdin: () => new Response(Deno.stdin.readable).bytes(),
};

async function submit(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const { prepareSubmit } = await loadHeavy();
  const { job, warnings } = await prepareSubmit(submitFlags(p), argList(p, "COMMANDS"), {
    submitDir: Deno.cwd(),
    io: submitIo,
    optionSpecs: SUBMIT_OPTIONS,
  });
  if (optString(p, "array") === undefined && optString(p, "job") !== undefined) {
    job.autoIds = true;
  }
  for (const w of warnings) out.log("WARN", w);
  const onNotify = optString(p, "on-notify");
  const waits = optFlag(p, "wait") || optFlag(p, "progress");
  if (onNotify !== undefined && !waits) {
    throw new UsageError("--on-notify can only be used with --wait or --progress");
  }
  const notifications = onNotify === undefined ? undefined : notificationRunner(onNotify, out);
  const started = Date.now();
  await withClient(ctx.serverDir, async (client) => {
    const id = await client.submit(job);
    printJobId(out, id, submitText(id));
    if (optFlag(p, "wait")) {
      await waitAndPrint(out, client, String(id), started, false, notifications);
    } else if (optFlag(p, "progress")) {
      // Notifications come to a wait of their own, beside the progress bar's polling.
      const notified = notifications &&
        withClient(ctx.serverDir, (c) => c.wait(String(id), false, notifications.onNotify));
      await progressOrWait(out, client, String(id));
      await notified;
      await notifications?.done();
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

async function jobCancel(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const reason = optString(p, "reason") ?? null;
  const results = await withClient(
    ctx.serverDir,
    (client) => client.cancel(argString(p, "SELECTOR")!, reason),
  );
  out.logAll(cancelLogLines(results));
}

const FORGET_STATES = ["finished", "failed", "canceled", "aborted"] as const;

async function jobForget(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  const filter = (stateFilter(p, "filter") ?? [...FORGET_STATES]) as ForgettableState[];
  const r = await withClient(
    ctx.serverDir,
    (client) => client.forget(argString(p, "SELECTOR")!, filter),
  );
  // HyperQueue's words, its grammar included ("1 job were forgotten").
  const ignored = r.ignored > 0
    ? `, ${r.ignored} were ignored due to wrong state or invalid ID`
    : "";
  out.log("INFO", `${r.forgotten} ${r.forgotten === 1 ? "job" : "jobs"} were forgotten${ignored}`);
}

async function jobWait(ctx: CommandContext): Promise<void> {
  const started = Date.now();
  const selector = argString(ctx.parsed, "SELECTOR")!;
  // In a terminal, a live bar on stderr (its own client) while the wait runs.
  const bar = ctx.out.mode === "cli" && ctx.out.interactive
    ? withClient(
      ctx.serverDir,
      (c) => showProgress(ctx.out, c, selector, { toStderr: true, announce: false }),
    ).catch(() => {})
    : undefined;
  await withClient(
    ctx.serverDir,
    (client) =>
      waitAndPrint(
        ctx.out,
        client,
        argString(ctx.parsed, "SELECTOR")!,
        started,
        optFlag(ctx.parsed, "without-close"),
        undefined,
        bar,
      ),
  );
}

async function jobProgress(ctx: CommandContext): Promise<void> {
  await withClient(
    ctx.serverDir,
    (client) => progressOrWait(ctx.out, client, argString(ctx.parsed, "SELECTOR")!),
  );
}

/** The `job` command tree. */
export const jobCommand: Command = {
  name: "job",
  about: JOB_ABOUT,
  subcommands: [
    jobListCommand,
    jobSummaryCommand,
    jobInfoCommand,
    {
      name: "cancel",
      about: "Cancel jobs",
      args: [JOB_SELECTOR_ARG],
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
    {
      name: "forget",
      about: "Forget completed jobs: the server drops them from memory and its journal",
      args: [JOB_SELECTOR_ARG],
      options: [{
        long: "filter",
        value: "FILTER",
        multiple: true,
        check: stateListArg(FORGET_STATES),
        help: "Forget only jobs in these states (comma-separated; default: all four)",
      }],
      run: jobForget,
    },
    { ...submitCommand, about: "Submit a job to HyperQueue" },
    submitFileCommand,
    jobOpenCommand,
    jobCloseCommand,
    jobCatCommand,
    {
      name: "wait",
      about: "Wait until jobs complete",
      args: [JOB_SELECTOR_ARG],
      options: [{ long: "without-close", help: "Do not wait for open jobs to be closed" }],
      run: jobWait,
    },
    {
      name: "progress",
      about: "Show a progress bar of jobs until they complete",
      args: [JOB_SELECTOR_ARG],
      run: jobProgress,
    },
    jobTaskIdsCommand,
  ],
};

/** Entry point: `deno run -A submit.ts [submit options] [--] <command>...`. */
export function main(argv: readonly string[]): Promise<number> {
  return runCommandLine({ ...submitCommand, name: "submit.ts" }, argv);
}

/** Entry point of the umbrella for `hq submit|job|task ...` (and for `hq` alone). */
export function hqMain(argv: readonly string[], roles: readonly RoleInfo[]): Promise<number> {
  return runUmbrella([submitCommand, jobCommand, taskCommand], argv, roles);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
