/**
 * The log lines (level and text) HyperQueue's client prints on stderr for
 * command results: cancel and stop outcomes, ids not found. The caller adds
 * the timestamp and prints them (in every output mode).
 *
 * @module
 */
import { assertNever } from "../common/mod.ts";

/** Level of a log line (the client's result lines are never DEBUG). */
export type LogLevel = "ERROR" | "WARN" | "INFO";

/** One log line, without its timestamp. */
export interface LogLine {
  level: LogLevel;
  message: string;
}

/** The outcome of canceling one selected job. */
export type JobCancelResult =
  | { id: number; result: "canceled"; canceled: number; alreadyFinished: number }
  | { id: number; result: "alreadyFinished" }
  | { id: number; result: "notFound" }
  | { id: number; result: "error"; message: string };

/**
 * `job cancel`: per job, by id, `Job <id> canceled (<n> tasks canceled, <m>
 * tasks already finished)` (INFO) or `Canceling job <id> failed; ...`
 * (ERROR); `There is nothing to cancel` (INFO) for an empty selection.
 *
 * @example Usage
 * ```ts
 * import { cancelLogLines } from "./messages.ts";
 * import assert from "node:assert/strict";
 * const lines = cancelLogLines([
 *   { id: 4, result: "notFound" },
 *   { id: 2, result: "canceled", canceled: 3, alreadyFinished: 1 },
 * ]);
 * assert.deepEqual(lines, [
 *   { level: "INFO", message: "Job 2 canceled (3 tasks canceled, 1 tasks already finished)" },
 *   { level: "ERROR", message: "Canceling job 4 failed; job not found" },
 * ]);
 * assert.deepEqual(cancelLogLines([]), [{ level: "INFO", message: "There is nothing to cancel" }]);
 * ```
 */
export function cancelLogLines(results: readonly JobCancelResult[]): LogLine[] {
  if (results.length === 0) return [{ level: "INFO", message: "There is nothing to cancel" }];
  return [...results].sort((a, b) => a.id - b.id).map((r): LogLine => {
    switch (r.result) {
      case "canceled":
        return {
          level: "INFO",
          message:
            `Job ${r.id} canceled (${r.canceled} tasks canceled, ${r.alreadyFinished} tasks already finished)`,
        };
      case "alreadyFinished":
        return {
          level: "ERROR",
          message: `Canceling job ${r.id} failed; all tasks are already finished`,
        };
      case "notFound":
        return { level: "ERROR", message: `Canceling job ${r.id} failed; job not found` };
      case "error":
        return { level: "ERROR", message: `Canceling job ${r.id} failed; ${r.message}` };
      default:
        return assertNever(r, "cancel result");
    }
  });
}

/** The outcome of stopping one selected worker. */
export type WorkerStopResult =
  | { id: number; result: "stopped" }
  | { id: number; result: "alreadyStopped" }
  | { id: number; result: "notFound" }
  | { id: number; result: "error"; message: string };

/**
 * `worker stop`: per worker, by id, `Worker <id> stopped` (INFO),
 * `Stopping worker <id> failed; worker is already stopped` (WARN) or
 * `...; worker not found` (ERROR).
 *
 * @example Usage
 * ```ts
 * import { stopLogLines } from "./messages.ts";
 * import assert from "node:assert/strict";
 * const lines = stopLogLines([{ id: 3, result: "alreadyStopped" }, { id: 1, result: "stopped" }]);
 * assert.deepEqual(lines, [
 *   { level: "INFO", message: "Worker 1 stopped" },
 *   { level: "WARN", message: "Stopping worker 3 failed; worker is already stopped" },
 * ]);
 * ```
 */
export function stopLogLines(results: readonly WorkerStopResult[]): LogLine[] {
  return [...results].sort((a, b) => a.id - b.id).map((r): LogLine => {
    switch (r.result) {
      case "stopped":
        return { level: "INFO", message: `Worker ${r.id} stopped` };
      case "alreadyStopped":
        return {
          level: "WARN",
          message: `Stopping worker ${r.id} failed; worker is already stopped`,
        };
      case "notFound":
        return { level: "ERROR", message: `Stopping worker ${r.id} failed; worker not found` };
      case "error":
        return { level: "ERROR", message: `Stopping worker ${r.id} failed; ${r.message}` };
      default:
        return assertNever(r, "stop result");
    }
  });
}

/**
 * `<What> <id> not found` per id: `job info` (ERROR, `Job`), `task list`
 * and `job wait` (WARN, `Job`), `task info` (WARN, `Task`), `worker info`
 * (ERROR, `Worker`).
 *
 * @example Usage
 * ```ts
 * import { notFoundLines } from "./messages.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(notFoundLines("Task", [7], "WARN"), [
 *   { level: "WARN", message: "Task 7 not found" },
 * ]);
 * ```
 */
export function notFoundLines(
  what: "Job" | "Task" | "Worker",
  ids: readonly number[],
  level: LogLevel,
): LogLine[] {
  return ids.map((id) => ({ level, message: `${what} ${id} not found` }));
}
