/**
 * Identifier types and their single textual format.
 *
 * @module
 */

/** A job id: positive integer assigned by the server. */
export type JobId = number;
/** A task id inside a job (u32 in HyperQueue). */
export type TaskId = number;
/** A worker id: positive integer assigned by the server. */
export type WorkerId = number;

/**
 * Formats a task as `job@task`, the form used in logs and errors.
 *
 * @example Usage
 * ```ts
 * import { formatTaskRef } from "./ids.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatTaskRef(12, 3), "12@3");
 * ```
 */
export function formatTaskRef(jobId: JobId, taskId: TaskId): string {
  return `${jobId}@${taskId}`;
}
