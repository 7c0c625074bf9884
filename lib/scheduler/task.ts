/**
 * The state of one task and its record, apart from the server state so that
 * the task table and the state can both use them without importing each
 * other.
 *
 * @module
 */
import type { WorkerId } from "../common/mod.ts";

/** Internal task state. */
export type TaskState =
  | "waiting"
  | "assigned"
  | "running"
  | "finished"
  | "failed"
  | "canceled"
  | "aborted";

/** All task states, in display order. */
export const TASK_STATES: readonly TaskState[] = [
  "waiting",
  "assigned",
  "running",
  "finished",
  "failed",
  "canceled",
  "aborted",
];

/** Whether a task state is terminal. */
export function isTerminal(state: TaskState): boolean {
  return state === "finished" || state === "failed" || state === "canceled" ||
    state === "aborted";
}

/** One task of a job. */
export interface TaskRecord {
  /** Current state. */
  state: TaskState;
  /** Attempt number, starting at 0. */
  instance: number;
  /** Worker crashes survived so far. */
  crashCount: number;
  /** Worker holding or having run the task. */
  workerId: WorkerId | null;
  /** Variant the task runs with, once known. */
  variant: number | null;
  /** Start time (ms since epoch). */
  startedAt: number | null;
  /** End time (ms since epoch). */
  finishedAt: number | null;
  /** Error text of a failed task. */
  error: string | null;
}

/** A fresh record of a task in its first waiting state. */
export function pristineTask(): TaskRecord {
  return {
    state: "waiting",
    instance: 0,
    crashCount: 0,
    workerId: null,
    variant: null,
    startedAt: null,
    finishedAt: null,
    error: null,
  };
}
