/**
 * The options of `hq submit` (and `job submit`), as data: HyperQueue's `JobSubmitOpts`. The
 * directive parser (`#HQ` lines in scripts) reads them too.
 *
 * @module
 */
import type { OptionSpec } from "./args.ts";
import { durationArg, idSetArg, intArg, lastOrIdsArg } from "./arg_checks.ts";
import { DIRECTIVES_MODES } from "./directives.ts";
import { parseWeight } from "./submit_values.ts";

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
  {
    long: "each-line",
    value: "EACH_LINE",
    help: "Create a task for each line of this file (the line is passed in HQ_ENTRY)",
  },
  {
    long: "from-json",
    value: "FROM_JSON",
    conflicts: ["each-line"],
    help: "Create a task for each element of the JSON array in this file (passed in HQ_ENTRY)",
  },
  { long: "stdin", help: "Read stdin to its end and write it to every task's stdin" },
  {
    long: "task-dir",
    help: "Give each task a temporary directory (HQ_TASK_DIR), deleted when it ends",
  },
  {
    long: "job",
    value: "JOB",
    check: /* @__PURE__ */ intArg(1),
    help: "Add the tasks to this open job",
  },
  {
    long: "after",
    value: "AFTER",
    check: lastOrIdsArg,
    help: "Start the tasks only after these jobs finish (ids, ranges or last)",
  },
  {
    long: "stream",
    value: "STREAM",
    help: "Stream stdout/stderr into stream files in this directory (placeholders allowed)",
  },
  {
    long: "directives",
    value: "DIRECTIVES",
    choices: DIRECTIVES_MODES,
    default: "auto",
    help: "Where to read #HQ directives from: auto (a .sh command), file, stdin or off",
  },
  {
    long: "on-notify",
    value: "ON_NOTIFY",
    help: "Command run for each task notification (with --wait or --progress)",
  },
  { long: "wait", conflicts: ["progress"], help: "Wait until the job completes" },
  { long: "progress", help: "Show a progress bar until the job completes" },
];
