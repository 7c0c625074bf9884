/**
 * Turns `hq submit` flags into a {@link JobSubmit} (pure; the caller passes
 * the submit directory, and the contents of `--each-line`/`--from-json` files
 * and of stdin: see `task_inputs.ts`, which reads them and applies `#HQ`
 * directives first).
 *
 * @module
 */
import type { JobSubmit, StreamSpec } from "../protocol/mod.ts";
import {
  DEFAULT_CWD,
  DEFAULT_STDERR,
  DEFAULT_STDOUT,
  findPlaceholders,
  idSetSize,
  parseDurationMs,
  quote,
  unknownPlaceholders,
} from "../common/mod.ts";
import { buildRequestVariants } from "../resources/mod.ts";
import { type Parsed, UsageError } from "./args.ts";
import { optFlag, optList, optString } from "./parsed_values.ts";
import {
  arrayOutputWarnings,
  jobPlacement,
  selectTaskIds,
  type SubmitInputs,
} from "./task_inputs.ts";
import {
  checkJobName,
  parseCrashLimit,
  parseMaxFails,
  parseNodes,
  parseStdio,
  parseWeight,
} from "./submit_values.ts";

/**
 * A path names a placeholder HyperQueue does not know, or `%{CWD}` where it cannot stand.
 *
 * @example Usage
 * ```ts
 * import { buildSubmit, PlaceholderError } from "./submit_args.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => buildSubmit({ stdout: "%{JOBID}.out" }, ["ls"], "/home/u"),
 *   (e) => e instanceof PlaceholderError && e.message.includes("unknown placeholder `JOBID`"),
 * );
 * ```
 */
export class PlaceholderError extends RangeError {
  /** `message` is HyperQueue's text for the problem. */
  constructor(message: string) {
    super(message);
    this.name = "PlaceholderError";
  }
}

/**
 * Raw `hq submit` flag values as given on the command line (unparsed texts), keyed by the
 * option's camelCase name; absent when not given (flags: absent or `true`).
 */
export interface SubmitFlags {
  name?: string;
  cpus?: string;
  resource?: string[];
  nodes?: string;
  pin?: string;
  array?: string;
  stdout?: string;
  stderr?: string;
  cwd?: string;
  env?: string[];
  priority?: string;
  maxFails?: string;
  timeLimit?: string;
  timeRequest?: string;
  crashLimit?: string;
  weight?: string;
  /** File with one task entry per line. */
  eachLine?: string;
  /** File holding a JSON array, one task entry per element. */
  fromJson?: string;
  /** Read stdin and give it to every task. */
  stdin?: true;
  /** Give each task a temporary directory. */
  taskDir?: true;
  /** Open job to add the tasks to. */
  job?: string;
  /** Job selector whose jobs must finish before these tasks start. */
  after?: string;
  /** Directory for stream files. */
  stream?: string;
  /** Where `#HQ` directives come from: `auto`, `file`, `stdin` or `off`. */
  directives?: string;
}

export type { SubmitInputs } from "./task_inputs.ts";

/** Result of building a submit: the job and warnings to print (as WARN log lines). */
export interface BuiltSubmit {
  job: JobSubmit;
  warnings: string[];
}

/**
 * Builds the job from flags and the command; `submitDir` becomes `%{SUBMIT_DIR}` and the
 * default working directory. The job name defaults to the program's base name. `inputs`
 * carries what the caller read for `--each-line`/`--from-json` and `--stdin`.
 *
 * @example Usage
 * ```ts
 * import { buildSubmit } from "./submit_args.ts";
 * import assert from "node:assert/strict";
 * const { job, warnings } = buildSubmit(
 *   { array: "1-4", cpus: "2", stdout: "out.txt" },
 *   ["/usr/bin/env", "hostname"],
 *   "/home/u",
 * );
 * assert.equal(job.name, "env");
 * assert.deepEqual(job.ids, [{ start: 1, end: 4 }]);
 * assert.equal(job.template.requests[0]!.entries[0]!.amount, 20000);
 * // Four tasks writing one stdout file: HyperQueue's warning.
 * assert.equal(warnings.length, 1);
 * ```
 *
 * @example Entries of `--each-line`, selected by `--array`
 * ```ts
 * import { buildSubmit } from "./submit_args.ts";
 * import assert from "node:assert/strict";
 * const { job } = buildSubmit(
 *   { eachLine: "inputs.txt", array: "1,2,7" },
 *   ["./process"],
 *   "/home/u",
 *   { entries: ["a", "b", "c"] },
 * );
 * assert.deepEqual(job.ids, [{ start: 1, end: 2 }]); // 7 is past the end
 * assert.deepEqual(job.entries, ["b", "c"]);
 * ```
 *
 * @throws {UsageError} For bad flag values (including bad resource requests), flags that
 * cannot go together, or entries of which no task is selected.
 * @throws {PlaceholderError} For unknown placeholders, or placeholders where they cannot stand.
 * @throws {TypeError} When `inputs` does not match the flags (a caller's bug).
 */
export function buildSubmit(
  flags: SubmitFlags,
  command: string[],
  submitDir: string,
  inputs: SubmitInputs = {},
): BuiltSubmit {
  if (command.length === 0) throw new UsageError("Cannot submit: no command given");
  let pin: "taskset" | "omp" | null = null;
  if (flags.pin !== undefined) {
    if (flags.pin !== "taskset" && flags.pin !== "omp") {
      throw new UsageError(`Invalid value ${quote(flags.pin)} for --pin: expected taskset or omp`);
    }
    pin = flags.pin;
  }
  const { ids, entries } = selectTaskIds(flags, inputs.entries);
  if ((flags.stdin === true) !== (inputs.stdin !== undefined)) {
    throw new TypeError("Cannot build the job: stdin data goes with --stdin, and only with it");
  }
  const env: Record<string, string> = {};
  let duplicateEnv = false;
  for (const item of flags.env ?? []) {
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    if (key === "" || /[\s=]/.test(key)) {
      throw new UsageError(`Invalid value ${quote(item)} for --env: expected KEY=VALUE`);
    }
    duplicateEnv ||= Object.hasOwn(env, key);
    env[key] = eq < 0 ? "" : item.slice(eq + 1);
  }
  // `+ 0` makes "-0" a plain 0 (JSON has no negative zero).
  const priority = flags.priority === undefined ? 0 : Number(flags.priority) + 0;
  if (
    !Number.isSafeInteger(priority) || !/^-?\d+$/.test(flags.priority ?? "0") ||
    Math.abs(priority) > 2 ** 31
  ) {
    throw new UsageError(
      `Invalid value ${quote(flags.priority!)} for --priority: expected an integer`,
    );
  }
  const maxFails = parseMaxFails(flags.maxFails);
  const duration = (name: string, text: string | undefined) => {
    if (text === undefined) return null;
    try {
      return parseDurationMs(text);
    } catch (e) {
      throw new UsageError(`Invalid value ${quote(text)} for ${name}: ${(e as Error).message}`);
    }
  };
  const timeLimitMs = duration("--time-limit", flags.timeLimit);
  const timeRequestMs = duration("--time-request", flags.timeRequest) ?? 0;
  const nNodes = parseNodes(flags);
  let requests;
  if (nNodes > 0) {
    requests = [{ entries: [], minTimeMs: timeRequestMs, nNodes }];
  } else {
    try {
      requests = buildRequestVariants({
        ...(flags.cpus === undefined ? {} : { cpus: flags.cpus }),
        ...(flags.weight === undefined ? {} : { weight: parseWeight(flags.weight) }),
        resources: flags.resource ?? [],
        timeRequestMs,
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  if (timeLimitMs === 0) {
    throw new UsageError(
      `Invalid value ${quote(flags.timeLimit!)} for --time-limit: must be positive`,
    );
  }
  // With --stream, a channel not set by --stdout/--stderr is streamed: it has no file.
  const streamed: StreamSpec | null = flags.stream === undefined ? null : {
    dir: flags.stream,
    stdout: flags.stdout === undefined,
    stderr: flags.stderr === undefined,
  };
  const stdout = streamed?.stdout ? null : parseStdio(flags.stdout, DEFAULT_STDOUT);
  const stderr = streamed?.stderr ? null : parseStdio(flags.stderr, DEFAULT_STDERR);
  const cwd = flags.cwd ?? DEFAULT_CWD;
  const warnings = arrayOutputWarnings(flags, idSetSize(ids), { stdout, stderr, cwd });
  for (
    const [what, text] of [
      ["stdout path", stdout?.path],
      ["stderr path", stderr?.path],
      ["working directory path", cwd],
      ["stream path", flags.stream],
    ] as const
  ) {
    if (text === undefined) continue;
    const unknown = unknownPlaceholders(text);
    if (unknown.length > 0) {
      throw new PlaceholderError(
        `Found unknown placeholder${unknown.length > 1 ? "s" : ""} \`${
          unknown.join(", ")
        }\` in ${what}`,
      );
    }
  }
  if (findPlaceholders(cwd).includes("CWD")) {
    throw new PlaceholderError(
      "Working directory path cannot contain the working directory placeholder `%{CWD}`.",
    );
  }
  if (flags.stream === "") throw new UsageError('Invalid value "" for --stream: empty path');
  const perTask = findPlaceholders(flags.stream ?? "").find((p) =>
    ["TASK_ID", "INSTANCE_ID", "CWD"].includes(p)
  );
  if (perTask !== undefined) {
    throw new PlaceholderError(
      `Placeholder \`%{${perTask}}\` cannot be used in stream path: ` +
        "one stream directory serves all tasks of the job",
    );
  }
  const name = checkJobName(flags.name ?? command[0]!.split("/").pop()!);
  if (duplicateEnv) {
    warnings.push(
      "Some environment variables were ignored. Check if you haven't used duplicate keys.",
    );
  }
  return {
    warnings,
    job: {
      name,
      maxFails,
      submitDir,
      ids,
      template: {
        program: {
          args: command,
          env,
          cwd,
          stdout,
          stderr,
          ...(streamed === null ? {} : { stream: streamed }),
        },
        requests,
        pin,
        priority,
        timeLimitMs,
        crashLimit: parseCrashLimit(flags.crashLimit),
        ...(flags.taskDir ? { taskDir: true } : {}),
        ...(inputs.stdin === undefined ? {} : { stdin: inputs.stdin }),
      },
      ...(entries === undefined ? {} : { entries }),
      ...jobPlacement(flags),
      ...(flags.stream === undefined ? {} : { stream: flags.stream }),
    },
  };
}

/**
 * The flags of a parsed `hq submit` command line, as {@link buildSubmit} takes them. A value
 * equal to its option's default (`--nodes 0`, `--priority 0`, `--crash-limit 5`,
 * `--directives auto`) counts as not given, as `Parsed` does not say where a value came from:
 * so an `#HQ` directive may still set it.
 *
 * @example Usage
 * ```ts
 * import { submitFlags } from "./submit_args.ts";
 * import assert from "node:assert/strict";
 * const options = new Map<string, string | string[] | boolean>([
 *   ["each-line", "inputs.txt"],
 *   ["priority", "0"],
 *   ["task-dir", true],
 * ]);
 * const flags = submitFlags({ path: ["hq", "submit"], options, args: new Map() });
 * assert.deepEqual(flags, { eachLine: "inputs.txt", taskDir: true, resource: [], env: [] });
 * ```
 */
export function submitFlags(p: Parsed): SubmitFlags {
  const flags: SubmitFlags = {};
  const defaults: Record<string, string> = {
    nodes: "0",
    priority: "0",
    "crash-limit": "5",
    directives: "auto",
  };
  const text = (long: string, key: keyof SubmitFlags) => {
    const v = optString(p, long);
    if (v !== undefined && v !== defaults[long]) (flags as Record<string, unknown>)[key] = v;
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
  text("nodes", "nodes");
  text("each-line", "eachLine");
  text("from-json", "fromJson");
  text("job", "job");
  text("after", "after");
  text("stream", "stream");
  text("directives", "directives");
  if (optFlag(p, "stdin")) flags.stdin = true;
  if (optFlag(p, "task-dir")) flags.taskDir = true;
  flags.resource = optList(p, "resource");
  flags.env = optList(p, "env");
  return flags;
}
