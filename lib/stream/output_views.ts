/**
 * HyperQueue's views of an {@link OutputLog} (`hq output-log cat|export|show`), and the
 * texts they take and print: current instances only, superseded output ignored.
 *
 * @module
 */
import type { ChannelId } from "./codec.ts";
import { concatBytes } from "../common/mod.ts";
import {
  currentInstance,
  type InstanceOutput,
  type OutputLog,
  OutputLogError,
} from "./output_log.ts";

/**
 * The current instances of the selected tasks of `job`: all its tasks in id order, or the
 * ids of `tasks` in the order given.
 *
 * @throws {OutputLogError} When the job or a selected task has no stream.
 */
export function selectTasks(
  log: OutputLog,
  job: number,
  tasks?: readonly number[],
): { id: number; instance: InstanceOutput }[] {
  const found = log.jobs.get(job);
  if (!found) throw new OutputLogError(`Job ${job} not found`);
  if (tasks === undefined) {
    return [...found].map(([id, t]) => ({ id, instance: currentInstance(t) }));
  }
  return tasks.map((id) => {
    const t = found.get(id);
    if (!t) throw new OutputLogError(`Task ${id} not found`);
    return { id, instance: currentInstance(t) };
  });
}

/** Options of {@link catOutput}. */
export interface CatOptions {
  job: number;
  channel: ChannelId;
  /** Selected task ids, in output order; all tasks of the job by id when absent. */
  tasks?: readonly number[];
  /** Whether tasks still streaming are allowed (`--allow-unfinished`). @default false */
  allowUnfinished?: boolean;
}

/**
 * `cat`: the raw output of one channel of the selected tasks, one task after another.
 *
 * @throws {OutputLogError} When a selected task has not closed its stream and unfinished
 * streams are not allowed (HyperQueue: `Stream for task N is not finished`).
 */
export function catOutput(log: OutputLog, options: CatOptions): Uint8Array {
  const selected = selectTasks(log, options.job, options.tasks);
  if (!options.allowUnfinished) {
    const open = selected.find((s) => !s.instance.finished);
    if (open) throw new OutputLogError(`Stream for task ${open.id} is not finished`);
  }
  return concatBytes(
    selected.flatMap((s) => s.instance.channels[options.channel]).map((c) => c.data),
  );
}

/** One entry of `export` (HyperQueue's `{id, finished, stdout}`, plus `stderr`). */
export interface ExportedTask {
  id: number;
  finished: boolean;
  stdout: string;
  stderr: string;
}

/**
 * `export`: the current output of the selected tasks of a job as JSON values (invalid UTF-8
 * replaced).
 */
export function exportOutput(
  log: OutputLog,
  job: number,
  tasks?: readonly number[],
): ExportedTask[] {
  const text = new TextDecoder();
  return selectTasks(log, job, tasks).map(({ id, instance }) => ({
    id,
    finished: instance.finished,
    stdout: text.decode(concatBytes(instance.channels[0].map((c) => c.data))),
    stderr: text.decode(concatBytes(instance.channels[1].map((c) => c.data))),
  }));
}

/** One line of `show`. */
export interface ShowLine {
  job: number;
  task: number;
  /** The channel; null for the line that says a stream was closed (`--show-empty`). */
  channel: ChannelId | null;
  /** The chunk's text (invalid UTF-8 replaced), ending in one newline. */
  text: string;
}

/** Options of {@link showOutput}. */
export interface ShowOptions {
  /** Only these jobs (`--job`). */
  jobs?: readonly number[];
  /** Only this channel (`--channel`). */
  channel?: ChannelId;
  /** Also a `stream closed` line for each closed stream (`--show-empty`). @default false */
  showEmpty?: boolean;
}

/**
 * `show`: the current output of every task as chunks ordered by the time the worker read
 * them (ties: by job, task, channel), each ending in a newline.
 *
 * @example Usage
 * ```ts
 * import { buildOutputLog, encodeStreamRecords, formatShowLine, showOutput } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeStreamRecords([
 *   { k: "header", v: 1, server: "uid", worker: 1, part: 0, at: 0 },
 *   { k: "out", job: 1, task: 12, inst: 0, ch: 1, at: 2, text: "Error" },
 *   { k: "out", job: 1, task: 3, inst: 0, ch: 0, at: 1, text: "Ok\n" },
 * ]);
 * const show = showOutput(buildOutputLog([{ name: "a.hqs", bytes }]));
 * assert.deepEqual(show.lines.map((l) => formatShowLine(l, show.widths)), [
 *   "1.03:0> Ok\n",
 *   "1.12:1> Error\n",
 * ]);
 * ```
 */
export function showOutput(
  log: OutputLog,
  options: ShowOptions = {},
): { lines: ShowLine[]; widths: { job: number; task: number } } {
  const text = new TextDecoder();
  let maxJob = 0;
  let maxTask = 0;
  const entries: { at: number; line: ShowLine }[] = [];
  for (const [job, tasks] of log.jobs) {
    maxJob = Math.max(maxJob, job);
    for (const [task, output] of tasks) {
      maxTask = Math.max(maxTask, task);
      if (options.jobs !== undefined && !options.jobs.includes(job)) continue;
      const inst = currentInstance(output);
      for (const ch of [0, 1] as const) {
        if (options.channel !== undefined && options.channel !== ch) continue;
        for (const chunk of inst.channels[ch]) {
          let t = text.decode(chunk.data);
          if (!t.endsWith("\n")) t += "\n";
          entries.push({ at: chunk.at, line: { job, task, channel: ch, text: t } });
        }
      }
      if (options.showEmpty && inst.finished) {
        const line = { job, task, channel: null, text: "stream closed\n" };
        entries.push({ at: inst.finishedAt, line });
      }
    }
  }
  // A stable sort keeps job, task, channel order between chunks read at the same time.
  entries.sort((a, b) => a.at - b.at);
  return {
    lines: entries.map((e) => e.line),
    widths: { job: String(maxJob).length, task: String(maxTask).length },
  };
}

/**
 * A `show` line as HyperQueue prints it: `J.T:C> DATA`, ids zero-padded to the widest id of
 * the log, channel 0 or 1 (blank for a `stream closed` line).
 */
export function formatShowLine(
  line: ShowLine,
  widths: { job: number; task: number },
  paint: (header: string, task: number) => string = (h) => h,
): string {
  const header = `${String(line.job).padStart(widths.job, "0")}.${
    String(line.task).padStart(widths.task, "0")
  }:${line.channel ?? " "}>`;
  return `${paint(header, line.task)} ${line.text}`;
}

/**
 * HyperQueue's `human_size`: bytes below 2 KiB, then whole KiB, MiB or GiB below twice the
 * next unit.
 *
 * @example Usage
 * ```ts
 * import { humanSize } from "./output_views.ts";
 * import assert from "node:assert/strict";
 * assert.equal(humanSize(271), "271 B");
 * assert.equal(humanSize(300_000), "292 KiB");
 * assert.equal(humanSize(50_000_000), "47 MiB");
 * ```
 */
export function humanSize(bytes: number): string {
  const KIB = 1024;
  if (bytes < 2 * KIB) return `${bytes} B`;
  if (bytes < 2 * KIB * KIB) return `${Math.floor(bytes / KIB)} KiB`;
  if (bytes < 2 * KIB ** 3) return `${Math.floor(bytes / KIB ** 2)} MiB`;
  return `${Math.floor(bytes / KIB ** 3)} GiB`;
}

/** Most task ids one `--task` may list. */
export const MAX_LISTED_TASKS = 10_000_000;

/**
 * Task ids as `--task` gives them (HyperQueue's id array: `3-4,2`), in the order given,
 * each once.
 *
 * @example Usage
 * ```ts
 * import { parseTaskList } from "./output_views.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseTaskList("3-4,2,0-6:3"), [3, 4, 2, 0, 6]);
 * ```
 *
 * @throws {SyntaxError} When the text is not an id array.
 * @throws {RangeError} When a range ends before it starts or a step is 0.
 */
export function parseTaskList(text: string): number[] {
  const ids: number[] = [];
  const seen = new Set<number>();
  const add = (id: number) => {
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  };
  for (const raw of text.split(",")) {
    const item = raw.trim().replaceAll("_", "");
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(item);
    if (!m) throw new SyntaxError(`Cannot parse task ids ${JSON.stringify(text)}`);
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (end < start) {
      throw new RangeError(`Cannot parse task ids ${JSON.stringify(text)}: ${end} < ${start}`);
    }
    if (step === 0) throw new RangeError(`Cannot parse task ids ${JSON.stringify(text)}: step 0`);
    if (end > 0xffffffff) throw new RangeError(`Cannot parse task ids: ${end} exceeds u32`);
    if (ids.length + (end - start) / step > MAX_LISTED_TASKS) {
      throw new RangeError(`Cannot list more than ${MAX_LISTED_TASKS} task ids`);
    }
    for (let id = start; id <= end; id += step) add(id);
  }
  return ids;
}
