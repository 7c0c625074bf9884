/**
 * `hq job submit-file job.toml`: a job definition file (TOML) as a
 * {@link JobSubmit}, pure (the caller reads the file and passes its text).
 *
 * The schema is HyperQueue's (`deny_unknown_fields` everywhere): top-level
 * `name`, `max_fails`, `stream`, `data_layer`, and either `[[task]]` tables
 * (a task graph: ids, `deps`, per-task definitions) or one `[array]` table
 * (a task array over `ids` and/or `entries`). Task fields take what the
 * matching `hq submit` flags take. Every rejection is a {@link JobFileError}
 * whose one-line message names the file, the key path (`task[2].priority`)
 * and the problem, and for TOML syntax errors the line and column.
 *
 * @module
 */
import { parse, TomlError } from "smol-toml";
import {
  escapeControl,
  type IdRange,
  type IdSet,
  idSetSize,
  MAX_ID,
  parseIdSet,
  quote,
  unknownPlaceholders,
} from "../common/mod.ts";
import type { JobSubmit, TaskTemplate } from "../protocol/mod.ts";
import type { BuiltSubmit, SubmitFlags } from "./submit_args.ts";
import { arrayOutputWarnings } from "./task_inputs.ts";
import { type GraphPart, readGraph } from "./_job_file_graph.ts";
import { readTemplate, TASK_CONFIG_KEYS } from "./_job_file_template.ts";
import {
  checkKeys,
  fail,
  isTable,
  JobFileProblem,
  readBool,
  readInt,
  readNonEmpty,
  readString,
  type TomlTable,
  tomlToJson,
  typeError,
} from "./_job_file_values.ts";

const TOP_KEYS: readonly string[] = ["name", "max_fails", "stream", "data_layer", "task", "array"];
const ARRAY_KEYS: readonly string[] = ["ids", "entries", ...TASK_CONFIG_KEYS];
const TOML_PREFIX_REGEXP = /^Invalid TOML document: /;

/** Where a {@link JobFileError} points. */
export interface JobFileErrorOptions {
  /** The file name as the user gave it. */
  file: string;
  /** Key path of the rejected value (`task[2].priority`), or null for the file as a whole. */
  key?: string | null;
  /** 1-based line of a TOML syntax error, or null when unknown. */
  line?: number | null;
  /** 1-based column of a TOML syntax error, or null when unknown. */
  column?: number | null;
  /** The underlying error (smol-toml's `TomlError` for syntax errors). */
  cause?: unknown;
}

/**
 * A job definition file that cannot be submitted; `message` is one line naming the file, the
 * key path and the problem.
 *
 * @example Usage
 * ```ts
 * import { JobFileError, parseJobFile } from "./job_file.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => parseJobFile('[[task]]\ncomand = ["ls"]\n', "job.toml", "/home/u"),
 *   (e) =>
 *     e instanceof JobFileError && e.key === "task[0].comand" &&
 *     e.message === 'Invalid job file job.toml: unknown key "task[0].comand"',
 * );
 * ```
 */
export class JobFileError extends SyntaxError {
  /** The file name as the user gave it. */
  readonly file: string;
  /** Key path of the rejected value, or null for the file as a whole. */
  readonly key: string | null;
  /** 1-based line of a TOML syntax error, or null. */
  readonly line: number | null;
  /** 1-based column of a TOML syntax error, or null. */
  readonly column: number | null;
  /** `message` is the whole message; `options` say where it points. */
  constructor(message: string, options: JobFileErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "JobFileError";
    this.file = options.file;
    this.key = options.key ?? null;
    this.line = options.line ?? null;
    this.column = options.column ?? null;
  }
}

function parseToml(text: string, file: string): TomlTable {
  try {
    return parse(text, { integersAsBigInt: true });
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    const detail = e.message.replace(TOML_PREFIX_REGEXP, "").split("\n")[0]!;
    if (!(e instanceof TomlError)) {
      throw new JobFileError(escapeControl(`Invalid job file ${file}: ${detail}`), {
        file,
        cause: e,
      });
    }
    const { line, column } = e;
    throw new JobFileError(
      escapeControl(`Invalid job file ${file}: line ${line}, column ${column}: ${detail}`),
      { file, line, column, cause: e },
    );
  }
}

function problemError(problem: JobFileProblem, file: string): JobFileError {
  const { key, detail } = problem;
  let text: string;
  if (problem.unknownKey) text = `unknown key ${quote(key!)}`;
  else if (key === null) text = detail;
  else text = `${quote(key)}: ${detail}`;
  return new JobFileError(escapeControl(`Invalid job file ${file}: ${text}`), {
    file,
    key,
    cause: problem,
  });
}

function readName(v: unknown): string {
  if (v === undefined) return "job";
  const name = readNonEmpty(v, "name");
  if (/[\n\t]/.test(name)) fail("name", "must not contain newlines or tabs");
  return name;
}

function readStream(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const dir = readNonEmpty(v, "stream");
  const unknown = unknownPlaceholders(dir);
  if (unknown.length > 0) fail("stream", `unknown placeholder \`%{${unknown[0]}}\``);
  return dir;
}

function readIds(v: unknown, key: string): IdSet {
  const text = readString(v, key);
  try {
    return parseIdSet(text);
  } catch (e) {
    fail(key, (e as Error).message);
  }
}

/** Entries as given when all are strings, else each as JSON text (as `--from-json` does). */
function readEntries(v: unknown, key: string): string[] {
  if (!Array.isArray(v)) typeError(key, "an array", v);
  if (v.every((x) => typeof x === "string")) return v as string[];
  return v.map((x, i) => tomlToJson(x, `${key}[${i}]`));
}

/** `hq submit`'s warnings about the output files of an array (`--stdout` stands for `stdout`). */
function arrayWarnings(table: TomlTable, part: ArrayPart, stream: string | undefined): string[] {
  const given: Pick<SubmitFlags, "stdout" | "stderr" | "stream"> = {};
  if (table.stdout !== undefined) given.stdout = "given";
  if (table.stderr !== undefined) given.stderr = "given";
  if (stream !== undefined) given.stream = stream;
  return arrayOutputWarnings(given, idSetSize(part.ids), part.template.program);
}

interface ArrayPart {
  ids: IdRange[];
  template: TaskTemplate;
  entries?: string[];
}

function readArray(v: TomlTable, stream: string | undefined): ArrayPart {
  checkKeys(v, ARRAY_KEYS, "array");
  const template = readTemplate(v, "array", stream);
  const given = v.ids === undefined ? undefined : readIds(v.ids, "array.ids");
  const entries = v.entries === undefined ? [] : readEntries(v.entries, "array.entries");
  if (given === undefined && entries.length === 0) {
    fail("array", 'expected "ids" or a non-empty "entries" (or both)');
  }
  const ids = given ?? [{ start: 0, end: entries.length - 1 }];
  const size = idSetSize(ids);
  if (entries.length > 0 && entries.length !== size) {
    fail("array.entries", `${entries.length} entries do not match the ${size} ids of "array.ids"`);
  }
  const part: ArrayPart = { ids: [...ids], template };
  if (entries.length > 0) part.entries = entries;
  return part;
}

/** A job file's submit, and whether the file gave no task ids. */
export interface JobFileSubmit extends BuiltSubmit {
  /**
   * Whether no task id is given (no `id` in any `[[task]]`, no `ids` in `[array]`): added to
   * an open job, the ids then move past its largest (`JobSubmit.autoIds`).
   */
  autoIds: boolean;
}

function readJob(doc: TomlTable, submitDir: string): JobFileSubmit {
  checkKeys(doc, TOP_KEYS, "");
  const name = readName(doc.name);
  const maxFails = doc["max_fails"] === undefined
    ? null
    : readInt(doc["max_fails"], "max_fails", 0, MAX_ID);
  const stream = readStream(doc.stream);
  if (doc["data_layer"] !== undefined) readBool(doc["data_layer"], "data_layer");
  if (doc.task !== undefined && doc.array !== undefined) {
    fail(null, "[[task]] and [array] cannot be mixed: define individual tasks or one array");
  }
  if (doc.task === undefined && doc.array === undefined) {
    fail(null, "no tasks defined: expected [[task]] tables or an [array] table");
  }
  let warnings: string[] = [];
  let part: ArrayPart | GraphPart;
  if (doc.array !== undefined) {
    if (!isTable(doc.array)) typeError("array", "a table ([array])", doc.array);
    part = readArray(doc.array, stream);
    warnings = arrayWarnings(doc.array, part, stream);
  } else part = readGraph(doc.task, stream);
  const job: JobSubmit = { name, maxFails, submitDir, ...part };
  if (stream !== undefined) job.stream = stream;
  const autoIds = doc.array !== undefined
    ? (doc.array as TomlTable).ids === undefined
    : (doc.task as TomlTable[]).every((t) => t.id === undefined);
  return { job, warnings, autoIds };
}

/**
 * Parses a job definition file into the job to submit and the warnings to print; `file` names
 * it in error messages and `submitDir` becomes `%{SUBMIT_DIR}` (the default working
 * directory).
 *
 * A `[[task]]` file gives `job.graph`: identical task definitions stored once in
 * `templates`, tasks sorted so that each dependency comes before its dependents (else in
 * file order); tasks without `id` get the ids above the largest explicit id of the file, as
 * HyperQueue assigns them. An `[array]` file gives `job.ids`, `job.template` and, with
 * `entries`, `job.entries` in id order.
 *
 * @example Usage
 * ```ts
 * import { parseJobFile } from "./job_file.ts";
 * import assert from "node:assert/strict";
 * const text = `
 * name = "pipeline"
 *
 * [[task]]
 * id = 1
 * command = ["prepare"]
 *
 * [[task]]
 * command = ["compute", "--fast"]
 * deps = [1]
 * [[task.request]]
 * resources = { cpus = "4 compact!", gpus = 1 }
 * `;
 * const { job } = parseJobFile(text, "job.toml", "/home/u");
 * assert.equal(job.name, "pipeline");
 * assert.deepEqual(job.ids, [{ start: 1, end: 2 }]);
 * assert.deepEqual(job.graph!.tasks.map((t) => [t.id, t.deps]), [[1, []], [2, [1]]]);
 * assert.equal(job.graph!.templates[1]!.requests[0]!.entries[0]!.policy, "forceCompact");
 * ```
 *
 * @throws {JobFileError} For TOML syntax errors, unknown keys, wrong types or values, and
 * bad ids or dependencies.
 */
export function parseJobFile(text: string, file: string, submitDir: string): JobFileSubmit {
  const doc = parseToml(text, file);
  try {
    return readJob(doc, submitDir);
  } catch (e) {
    if (e instanceof JobFileProblem) throw problemError(e, file);
    throw e;
  }
}
