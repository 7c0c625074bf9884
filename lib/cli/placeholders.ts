/**
 * HyperQueue path placeholders (`%{JOB_ID}`, `%{TASK_ID}`, ...) used in
 * stdout, stderr, cwd and stream paths, resolved on the worker at task start.
 *
 * @module
 */

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

/** Names of the placeholders used in `text` (known or not), once each, in order of first use. */
export function findPlaceholders(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER_REGEXP)) {
    const name = match[1]!;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Names of the placeholders in `text` that HyperQueue does not know (left verbatim on resolve). */
export function unknownPlaceholders(text: string): string[] {
  return findPlaceholders(text).filter((name) => !KNOWN_PLACEHOLDERS.includes(name));
}

function placeholderValue(name: string, values: PlaceholderValues): string | null | undefined {
  switch (name) {
    case "JOB_ID":
      return String(values.jobId);
    case "TASK_ID":
      return String(values.taskId);
    case "INSTANCE_ID":
      return String(values.instanceId);
    case "SUBMIT_DIR":
      return values.submitDir;
    case "CWD":
      return values.cwd ?? null;
    case "SERVER_UID":
      return values.serverUid;
    default:
      // Unknown placeholder: kept verbatim.
      return undefined;
  }
}

/**
 * Replaces known placeholders in `text`; unknown ones are left verbatim.
 *
 * @throws {RangeError} When `%{CWD}` is used but `values.cwd` is not given.
 */
export function resolvePlaceholders(text: string, values: PlaceholderValues): string {
  return text.replace(PLACEHOLDER_REGEXP, (whole: string, name: string) => {
    const value = placeholderValue(name, values);
    if (value === null) {
      throw new RangeError(
        `Cannot resolve placeholder "${whole}" in "${text}": not available here`,
      );
    }
    return value ?? whole;
  });
}

/**
 * Normalizes a POSIX path: collapses repeated `/`, removes `.` segments and
 * resolves `..` where a parent segment exists (never above `/`).
 */
export function normalizePosixPath(path: string): string {
  const absolute = path.startsWith("/");
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    const last = segments[segments.length - 1];
    if (segment === ".." && last !== undefined && last !== "..") segments.pop();
    else if (segment === ".." && absolute) continue;
    else segments.push(segment);
  }
  const joined = segments.join("/");
  if (absolute) return `/${joined}`;
  return joined === "" ? "." : joined;
}

/** Joins POSIX paths: a later absolute part restarts the path; the result is normalized. */
export function joinPosixPath(base: string, path: string): string {
  return normalizePosixPath(path.startsWith("/") ? path : `${base}/${path}`);
}

/**
 * Resolves a stdout/stderr path template: placeholders first, then a relative
 * result is joined to the submit directory (a `%{CWD}/...` template is
 * already absolute). The result is normalized.
 *
 * @throws {RangeError} When `%{CWD}` is used but `values.cwd` is not given.
 */
export function resolveStdPath(path: string, values: PlaceholderValues): string {
  return joinPosixPath(values.submitDir, resolvePlaceholders(path, values));
}
