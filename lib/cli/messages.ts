/**
 * The log lines (level and text) HyperQueue's client prints on stderr for
 * command results: cancel and stop outcomes, ids not found. The caller adds
 * the timestamp and prints them (in every output mode).
 *
 * @module
 */
import { assertNever } from "../_assert_never.ts";

/** Level of a log line. */
export type LogLevel = "ERROR" | "WARN" | "INFO";

/** One log line. */
export interface LogLine {
  /** Level word. */
  level: LogLevel;
  /** Message text. */
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
 */
export function notFoundLines(
  what: "Job" | "Task" | "Worker",
  ids: readonly number[],
  level: LogLevel,
): LogLine[] {
  return ids.map((id) => ({ level, message: `${what} ${id} not found` }));
}
