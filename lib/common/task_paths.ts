/**
 * Resolved task paths in bulk: {@link fillPlaceholdersInPaths} for every
 * task of a job costs a few µs per task, too much for a million-task
 * `job info` in the server's loop. The paths of a job's tasks differ only in
 * the task and instance ids, which are digits: resolving once with
 * sentinel digit strings and substituting them per task gives the same
 * result, since path normalization works on whole `/` segments and a
 * segment with digits in it is never `.` or `..`.
 *
 * @module
 */
import { fillPlaceholdersInPaths, type PathTemplates } from "./placeholders.ts";

/** Resolved paths of one task instance (`null` output: discarded). */
export interface ResolvedTaskPaths {
  cwd: string;
  stdout: string | null;
  stderr: string | null;
}

/** Resolves the paths of one task instance of a job. */
export type TaskPathResolver = (taskId: number, instanceId: number) => ResolvedTaskPaths;

/**
 * What is the same for every task of a job: the values of `%{JOB_ID}`, `%{SUBMIT_DIR}` and
 * `%{SERVER_UID}`.
 */
export interface JobPathValues {
  readonly jobId: number;
  readonly submitDir: string;
  readonly serverUid: string;
}

// Digit strings no real path is expected to hold (safe integers, so they print back as is).
const TASK_SENTINEL = 4_092_718_273_645_191;
const INSTANCE_SENTINEL = 4_092_718_273_645_373;
const SENTINEL_PREFIX = "4092718273645";

/**
 * A resolver equal to `fillPlaceholdersInPaths(templates, {...job, taskId,
 * instanceId})` for every task, fast (falls back to calling it when a
 * sentinel string already occurs in the job's paths).
 *
 * @example Usage
 * ```ts
 * import { compileTaskPaths } from "./task_paths.ts";
 * import assert from "node:assert/strict";
 * const resolve = compileTaskPaths(
 *   { cwd: "/home/u", stdout: "/home/u/job-1/%{TASK_ID}.stdout", stderr: null },
 *   { jobId: 1, submitDir: "/home/u", serverUid: "abc123" },
 * );
 * assert.deepEqual(resolve(7, 0), {
 *   cwd: "/home/u",
 *   stdout: "/home/u/job-1/7.stdout",
 *   stderr: null,
 * });
 * ```
 */
export function compileTaskPaths(templates: PathTemplates, job: JobPathValues): TaskPathResolver {
  const slow: TaskPathResolver = (taskId, instanceId) => ({
    ...fillPlaceholdersInPaths(templates, { ...job, taskId, instanceId }),
  });
  const all = [templates.cwd, templates.stdout, templates.stderr, job.submitDir, job.serverUid];
  if (all.some((text) => text?.includes(SENTINEL_PREFIX))) return slow;
  const probe = fillPlaceholdersInPaths(templates, {
    ...job,
    taskId: TASK_SENTINEL,
    instanceId: INSTANCE_SENTINEL,
  });
  const task = String(TASK_SENTINEL);
  const instance = String(INSTANCE_SENTINEL);
  const fill = (text: string | null, taskId: string, instanceId: string): string | null =>
    text === null || !text.includes(SENTINEL_PREFIX)
      ? text
      : text.replaceAll(task, taskId).replaceAll(instance, instanceId);
  return (taskId, instanceId) => {
    const t = String(taskId);
    const i = String(instanceId);
    return {
      cwd: fill(probe.cwd, t, i)!,
      stdout: fill(probe.stdout, t, i),
      stderr: fill(probe.stderr, t, i),
    };
  };
}
