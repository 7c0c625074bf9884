/**
 * The reader of a stream directory, pure: given the bytes of its stream files, an index of
 * jobs, tasks and instances with their output, and its summary (`hq output-log summary`); the
 * other views are in `output_views.ts`.
 *
 * Output of an older instance of a task for which a newer instance streamed too (a task
 * restarted after its worker died) is *superseded*: counted by the summary, ignored by every
 * other view, as HyperQueue does.
 *
 * @module
 */
import type { CorruptRecord } from "../protocol/mod.ts";
import { decodeStreamFile, outputBytes, type StreamHeader, type StreamRecord } from "./codec.ts";

/** A stream file as read from the directory. */
export interface StreamFileInput {
  /** Its name (for messages). */
  name: string;
  bytes: Uint8Array;
}

/** A chunk of output of one channel. */
export interface OutputChunk {
  /** When the worker read it (worker clock, ms). */
  at: number;
  data: Uint8Array;
}

/** What one instance of a task streamed. */
export interface InstanceOutput {
  instance: number;
  /** Chunks by channel (0 stdout, 1 stderr), in the order they were written. */
  channels: [OutputChunk[], OutputChunk[]];
  /** Whether its end record was written (HyperQueue: the stream is closed). */
  finished: boolean;
  /** When the end record was written (worker clock, ms); 0 while not finished. */
  finishedAt: number;
  /** Worker that ran it. */
  worker: number;
}

/** A task's instances, oldest first; the last is current, the others superseded. */
export interface TaskOutput {
  instances: InstanceOutput[];
}

/** A problem met while reading (a skipped file or record). */
export interface OutputLogWarning {
  file: string;
  message: string;
}

/** The index of a stream directory. */
export interface OutputLog {
  /** Files read (with a valid header of the chosen server). */
  files: string[];
  /** Tasks by job id and task id, both in ascending order. */
  jobs: Map<number, Map<number, TaskOutput>>;
  /** Skipped files and records. */
  warnings: OutputLogWarning[];
}

/** A stream directory that cannot be read as one log. */
export class OutputLogError extends Error {
  /** `message` is the reason, in HyperQueue's words where it has them. */
  constructor(message: string) {
    super(message);
    this.name = "OutputLogError";
  }
}

/** Options of {@link buildOutputLog}. */
export interface BuildOutputLogOptions {
  /** Only files of this server (`--server-uid`); required when several servers wrote. */
  serverUid?: string;
}

/** Total size of chunks, bytes. */
export function chunksSize(chunks: readonly OutputChunk[]): number {
  let n = 0;
  for (const c of chunks) n += c.data.length;
  return n;
}

function describeCorrupt(c: CorruptRecord): string {
  return `skipped bytes ${c.offset}-${c.end}: ${c.reason}`;
}

/**
 * Builds the index of a stream directory from its files (any order). Files without a valid
 * header are skipped (with a warning unless they are merely empty or still being created),
 * as are records that fail their frame; a torn tail is output not written yet.
 *
 * @example Usage
 * ```ts
 * import { buildOutputLog, encodeStreamRecords } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeStreamRecords([
 *   { k: "header", v: 1, server: "uid", worker: 1, part: 0, at: 0 },
 *   { k: "out", job: 1, task: 3, inst: 0, ch: 0, at: 1, text: "hi\n" },
 *   { k: "end", job: 1, task: 3, inst: 0, at: 2 },
 * ]);
 * const log = buildOutputLog([{ name: "a.hqs", bytes }]);
 * assert.equal(log.jobs.get(1)?.get(3)?.instances[0]?.finished, true);
 * ```
 *
 * @throws {OutputLogError} When there are no stream files, or files of several servers and
 * no `serverUid`.
 */
export function buildOutputLog(
  files: readonly StreamFileInput[],
  options: BuildOutputLogOptions = {},
): OutputLog {
  if (files.length === 0) throw new OutputLogError("No log files found");
  const warnings: OutputLogWarning[] = [];
  const decoded: { name: string; header: StreamHeader; records: StreamRecord[] }[] = [];
  const servers = new Set<string>();
  for (const file of files) {
    const d = decodeStreamFile(file.bytes);
    if (d.header === null) {
      if (d.headerError !== "incomplete") {
        warnings.push({ file: file.name, message: `skipped: ${d.headerError}` });
      }
      continue;
    }
    if (options.serverUid !== undefined && d.header.server !== options.serverUid) continue;
    servers.add(d.header.server);
    for (const c of d.corrupt) warnings.push({ file: file.name, message: describeCorrupt(c) });
    decoded.push({ name: file.name, header: d.header, records: d.records });
  }
  if (servers.size > 1) {
    throw new OutputLogError(
      "Found streams from multiple server instances:\n" +
        [...servers].sort().map((s) => `${s}\n`).join("") +
        "Use --server-uid=... to specify server uid",
    );
  }
  // A worker process writes its parts in order: chunks of an instance follow file order.
  decoded.sort((a, b) =>
    a.header.worker - b.header.worker || a.header.at - b.header.at ||
    a.header.part - b.header.part || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
  const jobs = new Map<number, Map<number, TaskOutput>>();
  const instanceOf = (job: number, task: number, inst: number, worker: number) => {
    let tasks = jobs.get(job);
    if (!tasks) jobs.set(job, tasks = new Map());
    let t = tasks.get(task);
    if (!t) tasks.set(task, t = { instances: [] });
    let i = t.instances.find((x) => x.instance === inst);
    if (!i) {
      i = { instance: inst, channels: [[], []], finished: false, finishedAt: 0, worker };
      t.instances.push(i);
    }
    return i;
  };
  for (const file of decoded) {
    for (const r of file.records) {
      const inst = instanceOf(r.job, r.task, r.inst, file.header.worker);
      switch (r.k) {
        case "start":
          break; // Known now: an instance that printed nothing still counts.
        case "out": {
          let data: Uint8Array;
          try {
            data = outputBytes(r);
          } catch (e) {
            warnings.push({ file: file.name, message: (e as Error).message });
            continue;
          }
          if (data.length > 0) inst.channels[r.ch].push({ at: r.at, data });
          break;
        }
        case "end":
          inst.finished = true;
          inst.finishedAt = r.at;
          break;
      }
    }
  }
  const sortedJobs = new Map([...jobs].sort((a, b) => a[0] - b[0]));
  for (const [id, tasks] of sortedJobs) {
    for (const t of tasks.values()) t.instances.sort((a, b) => a.instance - b.instance);
    sortedJobs.set(id, new Map([...tasks].sort((a, b) => a[0] - b[0])));
  }
  return { files: decoded.map((d) => d.name), jobs: sortedJobs, warnings };
}

/** The current (last) instance of a task. */
export function currentInstance(task: TaskOutput): InstanceOutput {
  return task.instances[task.instances.length - 1]!;
}

/** HyperQueue's summary of a stream directory ({@link outputLogSummaryJson} gives its JSON). */
export interface OutputLogSummary {
  nFiles: number;
  nJobs: number;
  nTasks: number;
  /** Instances, superseded ones included. */
  nStreams: number;
  /** Tasks whose current instance has not closed its stream. */
  nOpened: number;
  stdoutSize: number;
  stderrSize: number;
  /** Superseded instances. */
  nSuperseded: number;
  supersededStdoutSize: number;
  supersededStderrSize: number;
}

/**
 * The summary of a log: counts, sizes of current output, and of superseded output.
 *
 * @example Usage
 * ```ts
 * import { buildOutputLog, encodeStreamRecords, outputLogSummary } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeStreamRecords([
 *   { k: "header", v: 1, server: "uid", worker: 1, part: 0, at: 0 },
 *   { k: "out", job: 1, task: 0, inst: 0, ch: 0, at: 1, text: "Start\n" },
 *   { k: "out", job: 1, task: 0, inst: 1, ch: 0, at: 2, text: "Start\nEnd 1\n" },
 *   { k: "end", job: 1, task: 0, inst: 1, at: 3 },
 * ]);
 * const s = outputLogSummary(buildOutputLog([{ name: "a.hqs", bytes }]));
 * assert.equal(s.nSuperseded, 1);
 * assert.equal(s.supersededStdoutSize, 6);
 * assert.equal(s.stdoutSize, 12);
 * ```
 */
export function outputLogSummary(log: OutputLog): OutputLogSummary {
  const s: OutputLogSummary = {
    nFiles: log.files.length,
    nJobs: log.jobs.size,
    nTasks: 0,
    nStreams: 0,
    nOpened: 0,
    stdoutSize: 0,
    stderrSize: 0,
    nSuperseded: 0,
    supersededStdoutSize: 0,
    supersededStderrSize: 0,
  };
  for (const tasks of log.jobs.values()) {
    for (const task of tasks.values()) {
      s.nTasks++;
      s.nStreams += task.instances.length;
      const current = currentInstance(task);
      if (!current.finished) s.nOpened++;
      for (const inst of task.instances) {
        if (inst === current) {
          s.stdoutSize += chunksSize(inst.channels[0]);
          s.stderrSize += chunksSize(inst.channels[1]);
        } else {
          s.nSuperseded++;
          s.supersededStdoutSize += chunksSize(inst.channels[0]);
          s.supersededStderrSize += chunksSize(inst.channels[1]);
        }
      }
    }
  }
  return s;
}

/**
 * The summary as HyperQueue prints it in JSON: its `Summary` with snake_case field names.
 *
 * @example Usage
 * ```ts
 * import { buildOutputLog, encodeStreamRecords, outputLogSummary, outputLogSummaryJson } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeStreamRecords([{ k: "header", v: 1, server: "u", worker: 1, part: 0, at: 0 }]);
 * const json = outputLogSummaryJson(outputLogSummary(buildOutputLog([{ name: "a.hqs", bytes }])));
 * assert.equal(json["n_files"], 1);
 * ```
 */
export function outputLogSummaryJson(s: OutputLogSummary): Record<string, number> {
  return {
    "n_files": s.nFiles,
    "n_jobs": s.nJobs,
    "n_tasks": s.nTasks,
    "n_streams": s.nStreams,
    "n_opened": s.nOpened,
    "stdout_size": s.stdoutSize,
    "stderr_size": s.stderrSize,
    "n_superseded": s.nSuperseded,
    "superseded_stdout_size": s.supersededStdoutSize,
    "superseded_stderr_size": s.supersededStderrSize,
  };
}
