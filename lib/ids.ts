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

/**
 * Random lowercase hex token of `bytes` bytes (so `2 * bytes` characters), for the keys of
 * clients and workers and the server's uid. Uses `crypto.getRandomValues`.
 *
 * @example Usage
 * ```ts
 * import { randomToken } from "./ids.ts";
 * import assert from "node:assert/strict";
 * assert.match(randomToken(4), /^[0-9a-f]{8}$/);
 * assert.equal(randomToken().length, 16);
 * ```
 */
export function randomToken(bytes = 8): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}
