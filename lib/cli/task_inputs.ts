/**
 * Where the tasks of `hq submit` come from, pure: the entries of `--each-line`
 * and `--from-json` files (each entry becomes a task's `HQ_ENTRY`), the
 * selection `--array` makes among them, the open job and the jobs to wait for
 * (`--job`, `--after`), and HyperQueue's warnings about an array's output
 * files. `buildSubmit` (`submit_args.ts`) puts them together; `prepareSubmit`
 * (`directives.ts`) reads the files through an injected reader.
 *
 * @module
 */
import type { JobSubmit, StdioSpec } from "../protocol/mod.ts";
import {
  escapeControl,
  findPlaceholders,
  type IdRange,
  idSetIterate,
  MAX_ID,
  parseIdSet,
  parseSelector,
  quote,
} from "../common/mod.ts";
import { UsageError } from "./args.ts";
import type { SubmitFlags } from "./submit_args.ts";

/** What `buildSubmit` gets from files and stdin; the caller reads them. */
export interface SubmitInputs {
  /** Every entry of the `--each-line` or `--from-json` file, in file order; given exactly with one of them. */
  readonly entries?: readonly string[];
  /** The data read from stdin; given exactly with `--stdin`. */
  readonly stdin?: string;
}

/** Size above which HyperQueue warns about an input file (100 MiB). */
export const LARGE_INPUT_FILE_BYTES = 100 * 1024 * 1024;

/** HyperQueue's warning for an input file larger than {@link LARGE_INPUT_FILE_BYTES}. */
export const LARGE_INPUT_FILE_WARNING = "Reading file bigger than 100MB";

/** Most output files an array may create before HyperQueue suggests `--stream`. */
const OUTPUT_FILES_LIMIT = 999;

/**
 * Splits an `--each-line` file into entries, one per line, as HyperQueue does: on `\n`
 * only (a `\r` stays in the entry), and a final newline does not make an empty last entry.
 * Bytes that are not UTF-8 become U+FFFD.
 *
 * @example Usage
 * ```ts
 * import { parseEachLine } from "./task_inputs.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode("a\n\nb c\n");
 * assert.deepEqual(parseEachLine(bytes), ["a", "", "b c"]);
 * assert.deepEqual(parseEachLine(new Uint8Array()), []);
 * ```
 */
export function parseEachLine(data: Uint8Array): string[] {
  const text = new TextDecoder().decode(data);
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * Reads a `--from-json` file: its top-level value must be an array, and each element,
 * written back as compact JSON, is an entry.
 *
 * @example Usage
 * ```ts
 * import { parseJsonEntries } from "./task_inputs.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseJsonEntries('[1, "x", {"a": [true]}]', "in.json"), [
 *   "1",
 *   '"x"',
 *   '{"a":[true]}',
 * ]);
 * assert.throws(() => parseJsonEntries('{"a": 1}', "in.json"), {
 *   message: "in.json: The top element of the provided JSON file has to be an array",
 * });
 * ```
 *
 * @throws {UsageError} When the text is not JSON or not an array; the message names `path`.
 */
export function parseJsonEntries(text: string, path: string): string[] {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new UsageError(
      `Cannot parse JSON file ${quote(path)}: ${escapeControl((e as Error).message)}`,
    );
  }
  if (!Array.isArray(root)) {
    throw new UsageError(
      `${escapeControl(path)}: The top element of the provided JSON file has to be an array`,
    );
  }
  return root.map((element) => JSON.stringify(element));
}

/** The task ids of a job and, for an array over entries, the entry of each id in id order. */
export interface TaskSelection {
  ids: IdRange[];
  entries?: string[];
}

/**
 * The task ids of a job: `--array`, or one task 0; with entries (`--each-line`,
 * `--from-json`) one task per entry, ids 0..n-1, of which `--array` selects some (ids past
 * the end are dropped silently, as HyperQueue does).
 *
 * @example Usage
 * ```ts
 * import { selectTaskIds } from "./task_inputs.ts";
 * import assert from "node:assert/strict";
 * const all = ["a", "b", "c", "d"];
 * assert.deepEqual(selectTaskIds({ eachLine: "f" }, all).ids, [{ start: 0, end: 3 }]);
 * assert.deepEqual(selectTaskIds({ eachLine: "f", array: "1,3-9" }, all), {
 *   ids: [{ start: 1, end: 1 }, { start: 3, end: 3 }],
 *   entries: ["b", "d"],
 * });
 * assert.deepEqual(selectTaskIds({}, undefined), { ids: [{ start: 0, end: 0 }] });
 * ```
 *
 * @throws {UsageError} For a bad `--array`, both files at once, or no task selected.
 * @throws {TypeError} When `entries` is given without a file flag, or missing with one.
 */
export function selectTaskIds(
  flags: Pick<SubmitFlags, "array" | "eachLine" | "fromJson">,
  entries: readonly string[] | undefined,
): TaskSelection {
  let array: IdRange[] | undefined;
  if (flags.array !== undefined) {
    try {
      array = [...parseIdSet(flags.array)];
    } catch (e) {
      throw new UsageError(
        `Invalid value ${quote(flags.array)} for --array: ${(e as Error).message}`,
      );
    }
  }
  const file = flags.eachLine ?? flags.fromJson;
  if (file === undefined || entries === undefined) {
    if (file !== undefined || entries !== undefined) {
      throw new TypeError(
        "Cannot build the job: entries go with --each-line or --from-json, and only with them",
      );
    }
    return { ids: array ?? [{ start: 0, end: 0 }] };
  }
  if (flags.eachLine !== undefined && flags.fromJson !== undefined) {
    throw new UsageError(
      "the argument '--from-json <FROM_JSON>' cannot be used with '--each-line <EACH_LINE>'",
    );
  }
  const n = entries.length;
  const ids: IdRange[] = [];
  for (const r of array ?? [{ start: 0, end: n - 1 }]) {
    if (r.start >= n) break;
    ids.push({ start: r.start, end: Math.min(r.end, n - 1) });
  }
  if (ids.length === 0) {
    // The server takes no job without tasks.
    throw new UsageError(
      n === 0
        ? `Cannot submit: ${quote(file)} holds no entries, so there is no task to create`
        : `Cannot submit: --array ${quote(flags.array!)} selects none of the ${n} entries of ${
          quote(file)
        }`,
    );
  }
  return { ids, entries: [...idSetIterate(ids)].map((id) => entries[id]!) };
}

/**
 * Checks `--job` (an open job's id) and `--after` (a job selector: ids, ranges or `last`).
 * With `--job`, `--name` and `--max-fails` are not allowed: they belong to the open job.
 *
 * @example Usage
 * ```ts
 * import { jobPlacement } from "./task_inputs.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(jobPlacement({ job: "7", after: "3-5,8" }), { jobId: 7, after: "3-5,8" });
 * assert.deepEqual(jobPlacement({ after: "last" }), { after: "last" });
 * assert.throws(() => jobPlacement({ job: "7", name: "x" }), {
 *   message: "Cannot use --name with --job: tasks added to an open job keep the job's settings",
 * });
 * ```
 *
 * @throws {UsageError} For a bad id or selector, or `--name`/`--max-fails` with `--job`.
 */
export function jobPlacement(
  flags: Pick<SubmitFlags, "job" | "after" | "name" | "maxFails">,
): Pick<JobSubmit, "jobId" | "after"> {
  const out: Pick<JobSubmit, "jobId" | "after"> = {};
  if (flags.job !== undefined) {
    const id = Number(flags.job);
    if (!/^\d+$/.test(flags.job) || id < 1 || id > MAX_ID) {
      throw new UsageError(
        `Invalid value ${quote(flags.job)} for --job: expected a job id (an integer >= 1)`,
      );
    }
    for (const [flag, given] of [["--name", flags.name], ["--max-fails", flags.maxFails]]) {
      if (given !== undefined) {
        throw new UsageError(
          `Cannot use ${flag} with --job: tasks added to an open job keep the job's settings`,
        );
      }
    }
    out.jobId = id;
  }
  if (flags.after !== undefined) {
    let kind;
    try {
      kind = parseSelector(flags.after).kind;
    } catch (e) {
      throw new UsageError(
        `Invalid value ${quote(flags.after)} for --after: ${(e as Error).message}`,
      );
    }
    if (kind === "all") {
      throw new UsageError(
        `Invalid value ${quote(flags.after)} for --after: expected job ids or "last"`,
      );
    }
    out.after = flags.after.trim();
  }
  return out;
}

/** The output paths of a task, as `arrayOutputWarnings` checks them. */
export interface TaskOutputs {
  readonly stdout: StdioSpec;
  readonly stderr: StdioSpec;
  readonly cwd: string;
}

/**
 * HyperQueue's warnings about the output files of a job of `taskCount` tasks: more than 999
 * files without `--stream`, and a `--stdout`/`--stderr` path without `%{TASK_ID}` (tasks
 * would overwrite each other's file, unless the path uses a `%{CWD}` that has the id).
 *
 * @example Usage
 * ```ts
 * import { arrayOutputWarnings } from "./task_inputs.ts";
 * import assert from "node:assert/strict";
 * const outputs = {
 *   stdout: { path: "%{TASK_ID}.out", rmIfFinished: false },
 *   stderr: null,
 *   cwd: "%{SUBMIT_DIR}",
 * };
 * assert.deepEqual(arrayOutputWarnings({ stdout: "%{TASK_ID}.out" }, 1000, outputs), [
 *   "The job will create 1000 files for stdout. " +
 *   "Consider using the `--stream` option to stream all outputs into a single file",
 * ]);
 * assert.deepEqual(arrayOutputWarnings({ stream: "s" }, 1000, outputs), []);
 * ```
 */
export function arrayOutputWarnings(
  flags: Pick<SubmitFlags, "stdout" | "stderr" | "stream">,
  taskCount: number,
  outputs: TaskOutputs,
): string[] {
  if (taskCount < 2) return [];
  const warnings: string[] = [];
  const channels = (["stdout", "stderr"] as const).filter((c) => outputs[c] !== null);
  const files = taskCount * channels.length;
  if (files > OUTPUT_FILES_LIMIT && flags.stream === undefined) {
    warnings.push(
      `The job will create ${files} files for ${channels.join(" and ")}. ` +
        "Consider using the `--stream` option to stream all outputs into a single file",
    );
  }
  const cwdHasTaskId = findPlaceholders(outputs.cwd).includes("TASK_ID");
  for (const what of ["stdout", "stderr"] as const) {
    const spec = outputs[what];
    if (flags[what] === undefined || spec === null) continue;
    const used = findPlaceholders(spec.path);
    if (used.includes("TASK_ID") || (used.includes("CWD") && cwdHasTaskId)) continue;
    warnings.push(
      `You have submitted an array job, but the \`${what}\` path does not contain the task ID placeholder.\n` +
        `Individual tasks might thus overwrite the file. Consider adding \`%{TASK_ID}\` to the \`--${what}\` value.`,
    );
  }
  return warnings;
}
