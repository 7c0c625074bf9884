/**
 * HyperQueue path placeholders (`%{JOB_ID}`, `%{TASK_ID}`, ...) used in
 * stdout, stderr, cwd and stream paths, resolved on the worker at task start.
 *
 * @module
 */

import { normalizePath, resolvePath } from "./path.ts";

/** Placeholder names HyperQueue knows. */
export const KNOWN_PLACEHOLDERS: readonly string[] = [
  "JOB_ID",
  "TASK_ID",
  "INSTANCE_ID",
  "SUBMIT_DIR",
  "CWD",
  "SERVER_UID",
];

/** Default stdout path template of a task. */
export const DEFAULT_STDOUT = "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout";
/** Default stderr path template of a task. */
export const DEFAULT_STDERR = "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stderr";
/** Default working directory template of a task. */
export const DEFAULT_CWD = "%{SUBMIT_DIR}";

/** Values substituted for placeholders; `cwd` is absent where `%{CWD}` is not allowed. */
export interface PlaceholderValues {
  /** Value of `%{JOB_ID}`. */
  readonly jobId: number;
  /** Value of `%{TASK_ID}`. */
  readonly taskId: number;
  /** Value of `%{INSTANCE_ID}`. */
  readonly instanceId: number;
  /** Value of `%{SUBMIT_DIR}` (absolute). */
  readonly submitDir: string;
  /** Value of `%{CWD}` (absolute); omit when resolving the cwd itself. */
  readonly cwd?: string;
  /** Value of `%{SERVER_UID}`. */
  readonly serverUid: string;
}

const PLACEHOLDER_REGEXP = /%\{([^{}]*)\}/g;

/**
 * Names of the placeholders used in `text` (known or not), once each, in order of first use.
 *
 * @example Usage
 * ```ts
 * import { findPlaceholders } from "./placeholders.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(findPlaceholders("%{CWD}/%{TASK_ID}-%{X}.%{TASK_ID}"), ["CWD", "TASK_ID", "X"]);
 * ```
 */
export function findPlaceholders(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER_REGEXP)) {
    const name = match[1]!;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * Names of the placeholders in `text` that HyperQueue does not know (left verbatim on resolve);
 * `hq submit` refuses paths that have any.
 *
 * @example Usage
 * ```ts
 * import { unknownPlaceholders } from "./placeholders.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(unknownPlaceholders("%{JOB_ID}-%{JOBID}.out"), ["JOBID"]);
 * ```
 */
export function unknownPlaceholders(text: string): string[] {
  return findPlaceholders(text).filter((name) => !KNOWN_PLACEHOLDERS.includes(name));
}

/** The paths of a task that may hold placeholders (`null` output: discarded). */
export interface PathTemplates {
  readonly cwd: string;
  readonly stdout: string | null;
  readonly stderr: string | null;
}

/**
 * Whether `text` still holds a placeholder, known or not.
 *
 * @example Usage
 * ```ts
 * import { hasPlaceholders } from "./placeholders.ts";
 * import assert from "node:assert/strict";
 * assert.equal(hasPlaceholders("/home/u/job-5/%{TASK_ID}.stdout"), true);
 * assert.equal(hasPlaceholders("/home/u/job-5/0.stdout"), false);
 * ```
 */
export function hasPlaceholders(text: string): boolean {
  return findPlaceholders(text).length > 0;
}

/** Replaces the placeholders `values` knows; others stay verbatim. */
function fill(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(
    PLACEHOLDER_REGEXP,
    (whole: string, name: string) => values.get(name) ?? whole,
  );
}

/** Fills what it can; a path without placeholders left is made absolute against `base`. */
function fillPath(text: string, values: ReadonlyMap<string, string>, base: string): string {
  const filled = fill(text, values);
  return hasPlaceholders(filled) ? filled : resolvePath(base, filled);
}

/**
 * HyperQueue's path resolution: the cwd first (relative to the submit
 * directory), then stdout and stderr with `%{CWD}` set to it (relative to the
 * cwd). A path that still holds a placeholder stays a template.
 */
function fillProgramPaths(
  paths: PathTemplates,
  values: ReadonlyMap<string, string>,
  submitDir: string,
): PathTemplates {
  let cwd = fillPath(paths.cwd, values, submitDir);
  // A relative cwd that is still a template is relative to the submit directory;
  // anchoring it now keeps `%{CWD}` in stdout/stderr from being resolved twice.
  if (!cwd.startsWith("/")) cwd = `${normalizePath(submitDir)}/${cwd}`;
  const withCwd = new Map(values).set("CWD", cwd);
  return {
    cwd,
    stdout: paths.stdout === null ? null : fillPath(paths.stdout, withCwd, cwd),
    stderr: paths.stderr === null ? null : fillPath(paths.stderr, withCwd, cwd),
  };
}

/**
 * Fills the placeholders known as soon as a job is submitted (`%{JOB_ID}`,
 * `%{SUBMIT_DIR}`, `%{SERVER_UID}`, and `%{CWD}` in stdout and stderr); what
 * depends on the task (`%{TASK_ID}`, `%{INSTANCE_ID}`) stays for the worker.
 * `job info` shows the result.
 *
 * @example Usage
 * ```ts
 * import { fillPlaceholdersAfterSubmit } from "./placeholders.ts";
 * import assert from "node:assert/strict";
 * const p = fillPlaceholdersAfterSubmit(
 *   { cwd: "%{SUBMIT_DIR}", stdout: "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout", stderr: "err" },
 *   { jobId: 5, submitDir: "/home/u", serverUid: "abc123" },
 * );
 * assert.deepEqual(p, {
 *   cwd: "/home/u",
 *   stdout: "/home/u/job-5/%{TASK_ID}.stdout",
 *   stderr: "/home/u/err",
 * });
 * ```
 */
export function fillPlaceholdersAfterSubmit(
  paths: PathTemplates,
  job: { readonly jobId: number; readonly submitDir: string; readonly serverUid: string },
): PathTemplates {
  const values = new Map([
    ["JOB_ID", String(job.jobId)],
    ["SUBMIT_DIR", job.submitDir],
    ["SERVER_UID", job.serverUid],
  ]);
  return fillProgramPaths(paths, values, job.submitDir);
}

/**
 * Fills every placeholder of one task instance, as the worker does when it
 * starts the task; unknown placeholders stay verbatim.
 *
 * @example Usage
 * ```ts
 * import { fillPlaceholdersInPaths } from "./placeholders.ts";
 * import assert from "node:assert/strict";
 * const p = fillPlaceholdersInPaths(
 *   { cwd: "%{SERVER_UID}-%{TASK_ID}-%{INSTANCE_ID}", stdout: "%{JOB_ID}/stdout", stderr: null },
 *   { jobId: 5, taskId: 10, instanceId: 6, submitDir: "/foo", serverUid: "testHQ" },
 * );
 * assert.deepEqual(p, {
 *   cwd: "/foo/testHQ-10-6",
 *   stdout: "/foo/testHQ-10-6/5/stdout",
 *   stderr: null,
 * });
 * ```
 */
export function fillPlaceholdersInPaths(
  paths: PathTemplates,
  task: Omit<PlaceholderValues, "cwd">,
): PathTemplates {
  const values = new Map([
    ["JOB_ID", String(task.jobId)],
    ["TASK_ID", String(task.taskId)],
    ["INSTANCE_ID", String(task.instanceId)],
    ["SUBMIT_DIR", task.submitDir],
    ["SERVER_UID", task.serverUid],
  ]);
  return fillProgramPaths(paths, values, task.submitDir);
}
