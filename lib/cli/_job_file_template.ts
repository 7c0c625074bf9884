/**
 * The task fields of a job file (shared by `[[task]]` and `[array]`) as a
 * {@link TaskTemplate}: program, stdio, pinning, limits and request variants.
 * Flag-level parsing is reused from `submit_args.ts` and `resources/`, so a
 * job file accepts what `hq submit` accepts.
 *
 * @module
 */
import type { CrashLimit, StdioSpec, StreamSpec, TaskTemplate } from "../protocol/mod.ts";
import {
  DEFAULT_CWD,
  DEFAULT_STDERR,
  DEFAULT_STDOUT,
  findPlaceholders,
  quote,
  unknownPlaceholders,
} from "../common/mod.ts";
import {
  buildRequestVariants,
  formatRequestAmount,
  isMultiNode,
  isValidResourceName,
  MAX_VARIANTS,
  parseAmountAndPolicy,
  type ResourceEntry,
  type ResourceRequest,
} from "../resources/mod.ts";
import { parseCrashLimit, parseStdio, parseWeight } from "./submit_values.ts";
import {
  checkKeys,
  fail,
  isTable,
  keyPath,
  numberText,
  readBool,
  readDurationMs,
  readInt,
  readNonEmpty,
  readString,
  readStringList,
  readTableList,
  type TomlTable,
  typeError,
} from "./_job_file_values.ts";

/** Keys of the task fields every task definition may have (`[[task]]` adds `id` and `deps`). */
export const TASK_CONFIG_KEYS: readonly string[] = [
  "command",
  "env",
  "request",
  "stdout",
  "stderr",
  "cwd",
  "pin",
  "task_dir",
  "time_limit",
  "priority",
  "crash_limit",
  "stdin",
];

const REQUEST_KEYS: readonly string[] = ["resources", "time_request", "n_nodes", "weight"];
const STDIO_KEYS: readonly string[] = ["path", "on_close"];
const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/** Rejects unknown placeholders in a path at `key`. */
function checkPlaceholders(text: string, key: string): void {
  const unknown = unknownPlaceholders(text);
  if (unknown.length > 0) {
    fail(
      key,
      `unknown placeholder${unknown.length > 1 ? "s" : ""} \`${
        unknown.map((n) => `%{${n}}`).join(", ")
      }\``,
    );
  }
}

function readCommand(v: unknown, key: string): string[] {
  if (v === undefined) fail(key, "is required (the program and its arguments)");
  const args = readStringList(v, key);
  if (args.length === 0) fail(key, "must not be empty (the program and its arguments)");
  if (args[0] === "") fail(`${key}[0]`, "the program must not be empty");
  return args;
}

function readEnv(v: unknown, key: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isTable(v)) typeError(key, "a table of strings", v);
  const names = Object.keys(v).sort();
  return Object.fromEntries(names.map((name) => {
    const at = keyPath(key, name);
    if (name === "" || /[=\0]/.test(name)) fail(at, "invalid variable name");
    return [name, readString(v[name], at)];
  }));
}

function readCwd(v: unknown, key: string): string {
  if (v === undefined) return DEFAULT_CWD;
  const cwd = readNonEmpty(v, key);
  checkPlaceholders(cwd, key);
  if (findPlaceholders(cwd).includes("CWD")) {
    fail(key, "the working directory cannot contain the working directory placeholder `%{CWD}`");
  }
  return cwd;
}

/**
 * `stdout`/`stderr`: absent (the default path), a string as `--stdout` takes it (`none`,
 * a path, `path:rm-if-finished`), or `{ path, on_close = "never" | "rm-if-finished" }`.
 */
export function readStdio(v: unknown, key: string, fallback: string): StdioSpec {
  if (typeof v === "string" || v === undefined) {
    if (v === "") fail(key, 'must not be empty (use "none" to discard the output)');
    const spec = parseStdio(v, fallback);
    if (spec !== null) checkPlaceholders(spec.path, key);
    return spec;
  }
  if (!isTable(v)) typeError(key, 'a path, "none" or a table {path, on_close}', v);
  checkKeys(v, STDIO_KEYS, key);
  if (v.path === undefined) fail(keyPath(key, "path"), "is required");
  const path = readNonEmpty(v.path, keyPath(key, "path"));
  checkPlaceholders(path, keyPath(key, "path"));
  const onClose = v["on_close"] === undefined ? "never" : v["on_close"];
  if (onClose !== "never" && onClose !== "rm-if-finished") {
    fail(keyPath(key, "on_close"), 'expected "never" or "rm-if-finished"');
  }
  return { path, rmIfFinished: onClose === "rm-if-finished" };
}

function readPin(v: unknown, key: string): "taskset" | "omp" | null {
  if (v === undefined || v === "none") return null;
  if (v === "taskset" || v === "omp") return v;
  if (typeof v !== "string") typeError(key, 'one of "none", "taskset", "omp"', v);
  fail(key, `expected one of "none", "taskset", "omp", found ${quote(v)}`);
}

function readTimeLimit(v: unknown, key: string): number | null {
  if (v === undefined) return null;
  const ms = readDurationMs(v, key);
  if (ms === 0) fail(key, "must be positive");
  return ms;
}

function readCrashLimit(v: unknown, key: string): CrashLimit {
  const expected = 'a positive integer, "never-restart" or "unlimited"';
  if (v === undefined) return parseCrashLimit(undefined);
  if (typeof v !== "string" && typeof v !== "bigint") typeError(key, expected, v);
  try {
    return parseCrashLimit(String(v));
  } catch {
    fail(key, `expected ${expected}, found ${typeof v === "string" ? quote(v) : v}`);
  }
}

function readWeight(v: unknown, key: string): number | undefined {
  if (v === undefined) return undefined;
  const text = numberText(v, key, "a number > 0");
  try {
    return parseWeight(text);
  } catch {
    fail(key, `expected a number > 0 with at most 4 decimal places, found ${text}`);
  }
}

/** The entries of `resources = { cpus = "4 compact!", gpus = 1 }`, in file order. */
function readResourceEntries(v: unknown, key: string): ResourceEntry[] {
  if (v === undefined) return [];
  if (!isTable(v)) typeError(key, 'a table such as { cpus = "4 compact!", gpus = 1 }', v);
  return Object.keys(v).map((name) => {
    const at = keyPath(key, name);
    if (!isValidResourceName(name)) {
      fail(at, 'invalid resource name (use an ASCII letter, then letters, digits or "/")');
    }
    const value = v[name];
    const text = typeof value === "string"
      ? value
      : numberText(value, at, 'an amount, "<amount> [policy]" or "all"');
    const parsed = parseAmountAndPolicy(name, text);
    if (!("resource" in parsed)) fail(at, parsed.detail);
    return parsed;
  });
}

/** One `[[...request]]` table as a request (entries sorted, `cpus = 1` added when absent). */
function readRequest(table: TomlTable, key: string): ResourceRequest {
  checkKeys(table, REQUEST_KEYS, key);
  const timeRequestMs = table["time_request"] === undefined
    ? 0
    : readDurationMs(table["time_request"], keyPath(key, "time_request"));
  const nNodes = table["n_nodes"] === undefined
    ? 0
    : readInt(table["n_nodes"], keyPath(key, "n_nodes"), 0, I32_MAX);
  const weight = readWeight(table.weight, keyPath(key, "weight"));
  const entries = readResourceEntries(table.resources, keyPath(key, "resources"));
  if (nNodes > 0) {
    if (entries.length > 0) {
      fail(
        keyPath(key, "resources"),
        "a multi-node request (n_nodes > 0) takes whole workers and cannot list resources",
      );
    }
    const request: ResourceRequest = { entries: [], minTimeMs: timeRequestMs, nNodes };
    if (weight !== undefined) request.weight = weight;
    return request;
  }
  // The entries are checked; as one `--resource` value they get the defaults of `hq submit`.
  const flag = entries.map((e) => `${e.resource}=${formatRequestAmount(e)}`).join(" ");
  try {
    return buildRequestVariants({
      resources: flag === "" ? [] : [flag],
      timeRequestMs,
      ...(weight === undefined ? {} : { weight }),
    })[0]!;
  } catch (e) {
    fail(key, (e as Error).message);
  }
}

/** `[[...request]]` variants: none gives the default request (`cpus = 1 compact`). */
function readRequests(v: unknown, key: string, header: string): ResourceRequest[] {
  if (v === undefined) return buildRequestVariants({ resources: [], timeRequestMs: 0 });
  const tables = readTableList(v, key, header);
  if (tables.length === 0) return buildRequestVariants({ resources: [], timeRequestMs: 0 });
  if (tables.length > MAX_VARIANTS) {
    fail(key, `${tables.length} variants exceed the maximum of ${MAX_VARIANTS}`);
  }
  const requests = tables.map((t, i) => readRequest(t, `${key}[${i}]`));
  if (new Set(requests.map(isMultiNode)).size > 1) {
    fail(key, "variants must be all single-node or all multi-node (n_nodes > 0)");
  }
  return requests;
}

/**
 * The template of one task definition whose keys are already checked; `prefix` is its key
 * path (`task[3]`, `array`). With the job's `stream` directory, a channel the definition
 * does not set (`stdout`, `stderr`) is streamed, as HyperQueue makes it a pipe.
 */
export function readTemplate(table: TomlTable, prefix: string, stream?: string): TaskTemplate {
  const at = (key: string) => keyPath(prefix, key);
  const args = readCommand(table.command, at("command"));
  const env = readEnv(table.env, at("env"));
  const cwd = readCwd(table.cwd, at("cwd"));
  const streamed: StreamSpec | null = stream === undefined
    ? null
    : { dir: stream, stdout: table.stdout === undefined, stderr: table.stderr === undefined };
  const stdout = streamed?.stdout ? null : readStdio(table.stdout, at("stdout"), DEFAULT_STDOUT);
  const stderr = streamed?.stderr ? null : readStdio(table.stderr, at("stderr"), DEFAULT_STDERR);
  const header = prefix === "array" ? "array.request" : "task.request";
  const requests = readRequests(table.request, at("request"), header);
  const pin = readPin(table.pin, at("pin"));
  if (pin !== null && requests.some(isMultiNode)) {
    fail(at("pin"), "a multi-node task cannot be pinned");
  }
  const template: TaskTemplate = {
    program: {
      args,
      env,
      cwd,
      stdout,
      stderr,
      ...(streamed === null ? {} : { stream: streamed }),
    },
    requests,
    pin,
    priority: table.priority === undefined
      ? 0
      : readInt(table.priority, at("priority"), I32_MIN, I32_MAX),
    timeLimitMs: readTimeLimit(table["time_limit"], at("time_limit")),
    crashLimit: readCrashLimit(table["crash_limit"], at("crash_limit")),
  };
  if (table["task_dir"] !== undefined && readBool(table["task_dir"], at("task_dir"))) {
    template.taskDir = true;
  }
  if (table.stdin !== undefined) {
    const stdin = readString(table.stdin, at("stdin"));
    if (stdin !== "") template.stdin = stdin;
  }
  return template;
}
