/**
 * `hq output-log <DIR> summary|jobs|show|cat|export`: reads the stream files that workers
 * wrote for jobs submitted with `--stream DIR` (HyperQueue's commands and options). It needs
 * no server: the directory alone holds everything, so files gathered from several machines
 * into one directory read the same.
 *
 * Output of superseded instances (older runs of a restarted task) is counted by `summary`
 * and ignored by the other commands. A directory written by several servers needs
 * `--server-uid`.
 *
 * @module
 */
import {
  argList,
  argString,
  type CommandSpec,
  GLOBAL_OPTIONS,
  intArg,
  optFlag,
  type OptionSpec,
  optString,
  parseCommandLine,
  type Parsed,
  renderVerticalTable,
  UsageError,
} from "./lib/cli/mod.ts";
import {
  type Command,
  type CommandContext,
  Output,
  type OutputMode,
  type RoleInfo,
  runCommandLine,
  runUmbrella,
} from "./lib/cli/io/mod.ts";
import {
  buildOutputLog,
  catOutput,
  channelId,
  type ChannelName,
  exportOutput,
  formatShowLine,
  humanSize,
  type OutputLog,
  outputLogSummary,
  outputLogSummaryJson,
  parseTaskList,
  showOutput,
} from "./lib/stream/mod.ts";
import { readStreamFiles } from "./lib/stream/io/mod.ts";

/** What a subcommand of `output-log` gets. */
interface LogContext {
  readonly parsed: Parsed;
  readonly out: Output;
  readonly dir: string;
  readonly log: OutputLog;
}

type LogCommand = CommandSpec<(ctx: LogContext) => void>;

const CHANNEL_CHOICES = ["stdout", "stderr"];

function taskListArg(value: string): void {
  parseTaskList(value);
}

/** `--task IDS` (HyperQueue's name) and its hidden alias `--tasks`. */
const TASK_OPTIONS: readonly OptionSpec[] = [
  {
    long: "task",
    value: "TASK",
    check: taskListArg,
    help: "Only the selected tasks, in the order given (an id array, e.g. `3-4,2`)",
  },
  { long: "tasks", value: "TASKS", check: taskListArg, hidden: true, help: "Same as --task" },
];

const JOB_ARG = { name: "JOB", required: true, check: intArg(0), help: "Job id" };

/** The tasks `--task`/`--tasks` selects; undefined for all. */
function selectedTasks(p: Parsed): number[] | undefined {
  const text = optString(p, "task") ?? optString(p, "tasks");
  return text === undefined ? undefined : parseTaskList(text);
}

function summary(ctx: LogContext): void {
  const s = outputLogSummary(ctx.log);
  if (ctx.out.mode === "json") {
    ctx.out.json({ filename: ctx.dir, summary: outputLogSummaryJson(s) });
    return;
  }
  if (ctx.out.mode === "quiet") return;
  ctx.out.text(renderVerticalTable([
    ["Path", ctx.dir],
    ["Files", String(s.nFiles)],
    ["Jobs", String(s.nJobs)],
    ["Tasks", String(s.nTasks)],
    ["Opened streams", String(s.nOpened)],
    ["Stdout/stderr size", `${humanSize(s.stdoutSize)} / ${humanSize(s.stderrSize)}`],
    ["Superseded streams", String(s.nSuperseded)],
    [
      "Superseded stdout/stderr size",
      `${humanSize(s.supersededStdoutSize)} / ${humanSize(s.supersededStderrSize)}`,
    ],
  ]));
}

function jobs(ctx: LogContext): void {
  const ids = [...ctx.log.jobs.keys()];
  if (ctx.out.mode === "json") ctx.out.json(ids);
  else if (ids.length > 0) ctx.out.text(ids.join("\n"));
}

/** Background colors of `show` headers by task id, as HyperQueue picks them. */
const HEADER_COLORS = [41, 42, 43, 44, 45, 46];

function show(ctx: LogContext): void {
  const p = ctx.parsed;
  const jobText = optString(p, "job") ?? optString(p, "jobs");
  const channel = optString(p, "channel") as ChannelName | undefined;
  const { lines, widths } = showOutput(ctx.log, {
    ...(jobText === undefined ? {} : { jobs: parseTaskList(jobText) }),
    ...(channel === undefined ? {} : { channel: channelId(channel) }),
    showEmpty: optFlag(p, "show-empty"),
  });
  const paint = ctx.out.colors
    ? (h: string, task: number) => `\x1b[${HEADER_COLORS[task % HEADER_COLORS.length]}m${h}\x1b[0m`
    : undefined;
  const encoder = new TextEncoder();
  // In slices: a large log is never one string.
  for (let i = 0; i < lines.length; i += 1000) {
    const text = lines.slice(i, i + 1000).map((l) => formatShowLine(l, widths, paint)).join("");
    ctx.out.writeBytes(encoder.encode(text));
  }
}

function cat(ctx: LogContext): void {
  const p = ctx.parsed;
  const tasks = selectedTasks(p);
  ctx.out.writeBytes(catOutput(ctx.log, {
    job: Number(argString(p, "JOB")),
    channel: channelId(argString(p, "CHANNEL") as ChannelName),
    ...(tasks === undefined ? {} : { tasks }),
    allowUnfinished: optFlag(p, "allow-unfinished"),
  }));
}

function exportJson(ctx: LogContext): void {
  const p = ctx.parsed;
  ctx.out.json(exportOutput(ctx.log, Number(argString(p, "JOB")), selectedTasks(p)));
}

/** The subcommands, parsed from what follows `<PATH>`. */
const LOG_COMMANDS: readonly LogCommand[] = [
  { name: "summary", about: "Prints summary of the log file", run: summary },
  { name: "jobs", about: "Prints jobs ids in the stream", run: jobs },
  {
    name: "show",
    about: "Prints the stream content ordered by time",
    options: [
      {
        long: "job",
        value: "JOB",
        check: taskListArg,
        help: "Only output of this job (or jobs: an id array)",
      },
      { long: "jobs", value: "JOBS", check: taskListArg, hidden: true, help: "Same as --job" },
      {
        long: "channel",
        value: "CHANNEL",
        choices: CHANNEL_CHOICES,
        help: "Show only the specific channel",
      },
      { long: "show-empty", help: "Also show a `stream closed` line for each closed stream" },
    ],
    run: show,
  },
  {
    name: "cat",
    about: "Prints the content of a stream's channel",
    args: [
      JOB_ARG,
      {
        name: "CHANNEL",
        required: true,
        check: (v: string) => {
          if (!CHANNEL_CHOICES.includes(v)) {
            throw new RangeError("[possible values: stdout, stderr]");
          }
        },
        help: 'Channel name: "stdout" or "stderr"',
      },
    ],
    options: [
      ...TASK_OPTIONS,
      { long: "allow-unfinished", help: "Allow unfinished channels" },
    ],
    run: cat,
  },
  {
    name: "export",
    about: "Exports stream into JSON",
    args: [JOB_ARG],
    options: TASK_OPTIONS,
    run: exportJson,
  },
];

/** Output mode and colors: what follows `<PATH>` may set them too. */
function innerOutput(outer: Output, inner: Parsed): Output {
  const mode = optString(inner, "output-mode") as OutputMode | undefined;
  const colors = optString(inner, "colors");
  const chosen = mode !== undefined && mode !== "cli" ? mode : outer.mode;
  const colored = colors === "always" ? true : colors === "never" ? false : outer.colors;
  if (chosen === outer.mode && colored === outer.colors && !optFlag(inner, "debug")) return outer;
  return new Output(chosen, colored, outer.debug || optFlag(inner, "debug"));
}

async function outputLog(ctx: CommandContext): Promise<number | void> {
  const dir = argString(ctx.parsed, "PATH")!;
  const outcome = parseCommandLine(
    { name: `hq output-log ${dir}`, about: OUTPUT_LOG_ABOUT, subcommands: LOG_COMMANDS },
    argList(ctx.parsed, "COMMAND"),
    { globals: GLOBAL_OPTIONS, env: () => undefined },
  );
  if (outcome.kind === "help") {
    ctx.out.text(outcome.text);
    return;
  }
  if (outcome.kind === "version") throw new UsageError("unexpected argument '--version' found");
  const out = innerOutput(ctx.out, outcome.parsed);
  const serverUid = optString(ctx.parsed, "server-uid");
  const run = async () => {
    const log = buildOutputLog(
      await readStreamFiles(dir),
      serverUid === undefined ? {} : { serverUid },
    );
    for (const w of log.warnings) out.log("WARN", `${w.file}: ${w.message}`);
    outcome.command.run!({ parsed: outcome.parsed, out, dir, log });
  };
  if (out === ctx.out) return await run();
  // Options after <PATH> chose another printer: it answers, errors included.
  ctx.out.write(""); // so that the outer printer adds no `{}`
  try {
    await run();
  } catch (e) {
    out.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
  out.finish();
}

const OUTPUT_LOG_ABOUT = "Read the output of tasks streamed with `--stream`";

/** The `output-log` command. */
export const outputLogCommand: Command = {
  name: "output-log",
  about: OUTPUT_LOG_ABOUT,
  options: [{
    long: "server-uid",
    value: "SERVER_UID",
    help: "Filter files for the given server instance",
  }],
  args: [
    { name: "PATH", required: true, help: "Path of the stream directory" },
    {
      name: "COMMAND",
      trailing: true,
      hyphenValues: true,
      help:
        "summary | jobs | show | cat | export, with its own options (see `<PATH> <COMMAND> --help`)",
    },
  ],
  run: outputLog,
};

/** Entry point of the umbrella for `hq output-log ...`. */
export function hqMain(argv: readonly string[], roles: readonly RoleInfo[]): Promise<number> {
  return runUmbrella([outputLogCommand], argv, roles);
}

/** Entry point: `deno run -A output_log.ts <DIR> <subcommand> ...`. */
export function main(argv: readonly string[]): Promise<number> {
  return runCommandLine({ ...outputLogCommand, name: "output_log.ts" }, argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
