/**
 * The comparison suite's records and their table: pure helpers, shared by `suite.ts`,
 * `peers.ts` and `_plot.ts` and tested in `_suite_table_test.ts`.
 *
 * @module
 */
import { mdTable } from "./_util.ts";

/** One workload every tool runs. */
export interface Workload {
  /** Short key: `true`, `sleep10ms`, `sleep1s`, `netfs`. */
  id: string;
  /** Title for tables and plots (`10,000 × true`). */
  title: string;
  /** Number of tasks. */
  tasks: number;
  /** The command each task runs. */
  cmd: string[];
  /** `--cpus` of each of this project's workers (peers run with the sum as parallelism). */
  workerCpus: number[];
  /** Whether the run goes through the two network-filesystem views. */
  netfs: boolean;
}

/** What one tool did on one workload. */
export interface RunRecord {
  /** Tool name as shown in the table. */
  tool: string;
  /** {@link Workload.id}. */
  workload: string;
  /** Tasks actually run (fewer than the workload's when {@link estimated}). */
  tasks: number;
  /** From the first submission to the last task's end, in milliseconds. */
  makespanMs?: number;
  /** Set when only `tasks` of the workload's tasks ran and the makespan is scaled up. */
  estimated?: boolean;
  /** CPU seconds of the coordinating process during the run. */
  serverCpuS?: number;
  /** Peak resident memory of the coordinating process, bytes. */
  peakRssBytes?: number;
  /** Size of the durable state (this project's journal), bytes. */
  journalBytes?: number;
  /** Files that exist after the run and did not before, in the folders the tool uses. */
  filesCreated?: number;
  /** Tasks finished over time: `[ms since the start, tasks finished]`, ascending. */
  progress?: [number, number][];
  /** Why the tool did not run on this workload. */
  skipped?: string;
  /** How the coordinator's numbers were taken, when it is not obvious. */
  note?: string;
}

/** The makespan of the whole workload: measured, or scaled from the tasks that ran. */
export function fullMakespanMs(r: RunRecord, w: Workload): number | undefined {
  if (r.makespanMs === undefined) return undefined;
  return r.estimated ? (r.makespanMs * w.tasks) / r.tasks : r.makespanMs;
}

/** Formats seconds for the table (`0.42 s`, `12.3 s`, `123 s`). */
export function fmtSeconds(ms: number): string {
  const s = ms / 1000;
  if (s >= 100) return `${s.toFixed(0)} s`;
  if (s >= 10) return `${s.toFixed(1)} s`;
  return `${s.toFixed(2)} s`;
}

/** Formats a byte count with binary units (`512 B`, `3.4 KiB`, `81.2 MiB`). */
export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Formats an integer with thousands separators (`10,000`). */
export function fmtCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Column titles of {@link suiteRows}. */
export const SUITE_HEADER = [
  "tool",
  "workload",
  "makespan",
  "tasks/s",
  "ratio to xargs",
  "server CPU s",
  "peak RSS",
  "journal",
  "files / 1,000 tasks",
];

/**
 * The table rows, workload by workload in the order of `workloads` and tools in record order;
 * the ratio is to the `xargs` record of the same workload.
 */
export function suiteRows(workloads: Workload[], records: RunRecord[]): string[][] {
  const rows: string[][] = [];
  for (const w of workloads) {
    const mine = records.filter((r) => r.workload === w.id);
    const base = mine.find((r) => r.tool.startsWith("xargs") && r.makespanMs !== undefined);
    const baseMs = base ? fullMakespanMs(base, w) : undefined;
    for (const r of mine) {
      const ms = fullMakespanMs(r, w);
      if (r.skipped !== undefined || ms === undefined) {
        rows.push([
          r.tool,
          w.title,
          `skipped: ${r.skipped ?? "no result"}`,
          "",
          "",
          "",
          "",
          "",
          "",
        ]);
        continue;
      }
      const est = r.estimated ? `~${fmtSeconds(ms)} (from ${fmtCount(r.tasks)} tasks)` : "";
      rows.push([
        r.tool,
        w.title,
        est || fmtSeconds(ms),
        fmtCount(w.tasks / (ms / 1000)),
        baseMs === undefined ? "n/a" : `${(ms / baseMs).toFixed(2)}x`,
        r.serverCpuS === undefined ? "N/A" : r.serverCpuS.toFixed(2),
        r.peakRssBytes === undefined ? "N/A" : fmtBytes(r.peakRssBytes),
        r.journalBytes === undefined ? "N/A" : fmtBytes(r.journalBytes),
        r.filesCreated === undefined ? "N/A" : ((r.filesCreated * 1000) / r.tasks).toFixed(1),
      ]);
    }
  }
  return rows;
}

/** The table as markdown, with a line per distinct record note under it. */
export function renderSuiteTable(workloads: Workload[], records: RunRecord[]): string {
  const notes = [...new Set(records.flatMap((r) => (r.note ? [`${r.tool}: ${r.note}`] : [])))];
  return mdTable(SUITE_HEADER, suiteRows(workloads, records)) +
    (notes.length ? `\n\n${notes.map((n) => `- ${n}`).join("\n")}` : "");
}

/**
 * Tasks finished over time from finish times (ms since the start, any order): a step curve of
 * at most about `maxPoints` points that starts at `[0, 0]` and ends at the last finish.
 */
export function progressFromFinishes(finishMs: number[], maxPoints = 200): [number, number][] {
  const sorted = [...finishMs].sort((a, b) => a - b);
  const out: [number, number][] = [[0, 0]];
  if (sorted.length === 0) return out;
  const step = Math.max(1, Math.ceil(sorted.length / maxPoints));
  for (let i = step - 1; i < sorted.length; i += step) out.push([sorted[i]!, i + 1]);
  const last = sorted.length - 1;
  if (out[out.length - 1]![1] !== sorted.length) out.push([sorted[last]!, sorted.length]);
  return out;
}

/** Thins sampled `[ms, finished]` points to about `maxPoints`, keeping the first and last. */
export function thinProgress(points: [number, number][], maxPoints = 200): [number, number][] {
  if (points.length <= maxPoints) return points;
  const step = Math.ceil(points.length / maxPoints);
  const out = points.filter((_, i) => i % step === 0);
  if (out[out.length - 1] !== points[points.length - 1]) out.push(points[points.length - 1]!);
  return out;
}
