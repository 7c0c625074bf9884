/** Identifier types and their single textual format. */

/** A job id: positive integer assigned by the server. */
export type JobId = number;
/** A task id inside a job (u32 in HyperQueue). */
export type TaskId = number;
/** A worker id: positive integer assigned by the server. */
export type WorkerId = number;

/** Formats a task as `job@task`, the form used in logs and errors. */
export function formatTaskRef(jobId: JobId, taskId: TaskId): string {
  return `${jobId}@${taskId}`;
}

/** Random lowercase hex token of `bytes` bytes, for client and worker keys. */
export function randomToken(bytes = 8): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}
