/**
 * Deep validation of client and worker payloads before they reach the
 * reactors; a bad payload becomes an error reply, never a crash.
 *
 * @module
 */
import { isValidResourceName } from "../resources/mod.ts";
import type { JobSubmit, QueueParams, WorkerConfig } from "./messages.ts";
import { escapeControl, idSetHas, idSetSize } from "../common/mod.ts";

/** A payload that does not have the expected shape. */
export class PayloadError extends TypeError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "PayloadError";
  }
}

function fail(what: string, why: string): never {
  // Values named in `why` came from a file: a newline in one must not break the line.
  throw new PayloadError(escapeControl(`Cannot accept ${what}: ${why}`));
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isInt(v: unknown, min = 0): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= min;
}

function checkStdio(v: unknown, what: string): void {
  if (v === null) return;
  if (!isObj(v) || typeof v.path !== "string" || typeof v.rmIfFinished !== "boolean") {
    fail("job", `${what} must be null or {path, rmIfFinished}`);
  }
}

function checkStream(v: unknown): void {
  if (v === undefined) return;
  if (
    !isObj(v) || typeof v.dir !== "string" || v.dir === "" || v.dir.includes("\0") ||
    typeof v.stdout !== "boolean" || typeof v.stderr !== "boolean"
  ) {
    fail("job", "stream must be {dir, stdout, stderr} with a non-empty dir");
  }
}

/** Most tasks one job may hold. */
export const MAX_TASKS_PER_JOB = 10_000_000;

/** Validates a submitted job. @throws {PayloadError} */
export function validateJobSubmit(v: unknown): JobSubmit {
  if (!isObj(v)) fail("job", "not an object");
  if (typeof v.name !== "string" || v.name.length === 0 || /[\n\t]/.test(v.name)) {
    fail("job", "name must be a non-empty string without newlines or tabs");
  }
  if (!(v.maxFails === null || isInt(v.maxFails))) {
    fail("job", "maxFails must be null or a non-negative integer");
  }
  if (typeof v.submitDir !== "string" || !v.submitDir.startsWith("/")) {
    fail("job", "submitDir must be an absolute path");
  }
  if (!Array.isArray(v.ids) || v.ids.length === 0) {
    fail("job", "ids must be a non-empty list of ranges");
  }
  let prev = -1;
  for (const r of v.ids as unknown[]) {
    if (
      !isObj(r) || !isInt(r.start) || !isInt(r.end) || r.end < r.start || r.start <= prev ||
      r.end > 0xffffffff
    ) {
      fail("job", "ids must be sorted, disjoint ranges of u32 ids");
    }
    prev = r.end as number;
  }
  if (idSetSize(v.ids as { start: number; end: number }[]) > MAX_TASKS_PER_JOB) {
    fail("job", `more than ${MAX_TASKS_PER_JOB} tasks`);
  }
  validateTemplate(v.template);
  checkSubmitExtras(v);
  return v as unknown as JobSubmit;
}

/** Checks one task template (of an array, or of a graph's tasks). */
function validateTemplate(t: unknown): void {
  if (!isObj(t)) fail("job", "template must be an object");
  const p = t.program;
  if (!isObj(p)) fail("job", "program must be an object");
  if (
    !Array.isArray(p.args) || p.args.length === 0 || !p.args.every((a) => typeof a === "string")
  ) {
    fail("job", "program args must be a non-empty list of strings");
  }
  if (!isObj(p.env) || !Object.values(p.env).every((x) => typeof x === "string")) {
    fail("job", "env must map names to strings");
  }
  if (typeof p.cwd !== "string") fail("job", "cwd must be a string");
  checkStdio(p.stdout, "stdout");
  checkStdio(p.stderr, "stderr");
  checkStream(p.stream);
  if (!Array.isArray(t.requests) || t.requests.length < 1 || t.requests.length > 32) {
    fail("job", "requests must be a list of 1 to 32 variants");
  }
  let multiNode: boolean | null = null;
  for (const rq of t.requests as unknown[]) {
    if (!isObj(rq) || !Array.isArray(rq.entries) || !isInt(rq.minTimeMs)) {
      fail("job", "each request must have entries and minTimeMs");
    }
    if (!(rq.nNodes === undefined || isInt(rq.nNodes))) {
      fail("job", "nNodes must be a non-negative integer");
    }
    if (!(rq.weight === undefined || (isInt(rq.weight) && (rq.weight as number) > 0))) {
      fail("job", "weight must be a positive fixed-point integer");
    }
    const isMulti = ((rq.nNodes as number | undefined) ?? 0) > 0;
    if (multiNode !== null && multiNode !== isMulti) {
      fail("job", "request variants must be all single-node or all multi-node");
    }
    multiNode = isMulti;
    if (isMulti && rq.entries.length > 0) {
      fail("job", "a multi-node request takes whole workers and cannot list resources");
    }
    const names = new Set<string>();
    for (const e of rq.entries as unknown[]) {
      if (
        !isObj(e) || typeof e.resource !== "string" || !isInt(e.amount) ||
        typeof e.policy !== "string"
      ) {
        fail("job", "request entries must be {resource, amount, policy}");
      }
      if (!isValidResourceName(e.resource as string)) {
        fail("job", `invalid resource name "${e.resource}"`);
      }
      if (names.has(e.resource as string)) fail("job", `resource "${e.resource}" requested twice`);
      names.add(e.resource as string);
      if (
        !["compact", "forceCompact", "tight", "forceTight", "scatter", "all"].includes(
          e.policy as string,
        )
      ) {
        fail("job", `unknown policy "${e.policy}"`);
      }
      if (e.policy !== "all" && (e.amount as number) < 1) {
        fail("job", `amount of "${e.resource}" must be positive`);
      }
    }
  }
  if (!(t.pin === null || t.pin === "taskset" || t.pin === "omp")) {
    fail("job", "pin must be null, taskset or omp");
  }
  if (multiNode && t.pin !== null) fail("job", "a multi-node task cannot be pinned");
  if (!Number.isSafeInteger(t.priority)) fail("job", "priority must be an integer");
  if (!(t.timeLimitMs === null || isInt(t.timeLimitMs, 1))) {
    fail("job", "timeLimitMs must be null or positive");
  }
  const c = t.crashLimit;
  if (!(c === "never-restart" || c === "unlimited" || isInt(c, 1))) {
    fail("job", "crashLimit must be a positive integer, never-restart or unlimited");
  }
  if (!(t.taskDir === undefined || typeof t.taskDir === "boolean")) {
    fail("job", "taskDir must be a boolean");
  }
  if (!(t.stdin === undefined || typeof t.stdin === "string")) {
    fail("job", "stdin must be a string");
  }
}

/** Checks entries, the task graph, the open job, `--after` and the stream dir. */
function checkSubmitExtras(v: Record<string, unknown>): void {
  const ids = v.ids as { start: number; end: number }[];
  if (v.entries !== undefined) {
    if (!isStrList(v.entries)) fail("job", "entries must be a list of strings");
    if (v.entries.length !== idSetSize(ids)) fail("job", "entries must match the ids one to one");
  }
  if (!(v.jobId === undefined || isInt(v.jobId, 1))) fail("job", "jobId must be a positive id");
  if (!(v.autoIds === undefined || typeof v.autoIds === "boolean")) {
    fail("job", "autoIds must be a boolean");
  }
  if (!(v.after === undefined || typeof v.after === "string")) {
    fail("job", "after must be a string");
  }
  if (!(v.stream === undefined || typeof v.stream === "string")) {
    fail("job", "stream must be a string");
  }
  if (v.graph === undefined) return;
  const g = v.graph;
  if (!isObj(g) || !Array.isArray(g.templates) || !Array.isArray(g.tasks)) {
    fail("job", "graph must have templates and tasks");
  }
  if (g.templates.length === 0) fail("job", "graph must have a template");
  for (const t of g.templates) validateTemplate(t);
  const seen = new Set<number>();
  for (const task of g.tasks as unknown[]) {
    if (
      !isObj(task) || !isInt(task.id) || (task.id as number) > 0xffffffff ||
      !isInt(task.template) || (task.template as number) >= g.templates.length ||
      !Array.isArray(task.deps) || !task.deps.every((d) => isInt(d))
    ) {
      fail("job", "graph tasks must be {id, template, deps} with known templates");
    }
    if (seen.has(task.id as number)) fail("job", `task ${task.id} is defined twice`);
    seen.add(task.id as number);
    const ext = task.externalDeps;
    if (
      !(ext === undefined ||
        (Array.isArray(ext) && ext.every((d) => isObj(d) && isInt(d.jobId, 1) && isInt(d.id))))
    ) {
      fail("job", "externalDeps must be a list of {jobId, id}");
    }
  }
  if (seen.size !== idSetSize(ids) || [...seen].some((id) => !idSetHas(ids, id))) {
    fail("job", "ids must be the ids of the graph's tasks");
  }
}

function isProcessIdentity(p: unknown): boolean {
  return isObj(p) && typeof p.host === "string" &&
    (p.bootId === null || typeof p.bootId === "string") &&
    (p.pidNamespace === null || typeof p.pidNamespace === "string") &&
    (p.startTicks === null || isInt(p.startTicks));
}

/** Validates a worker's registration settings. @throws {PayloadError} */
export function validateWorkerConfig(v: unknown): WorkerConfig {
  if (!isObj(v)) fail("worker", "config is not an object");
  if (typeof v.hostname !== "string" || !isInt(v.pid, 1) || !isInt(v.heartbeatMs, 1)) {
    fail("worker", "hostname, pid and heartbeatMs are required");
  }
  if (!(v.idleTimeoutMs === null || isInt(v.idleTimeoutMs, 1))) {
    fail("worker", "idleTimeoutMs must be null or positive");
  }
  if (!(v.timeLimitMs === null || isInt(v.timeLimitMs, 1))) {
    fail("worker", "timeLimitMs must be null or positive");
  }
  if (typeof v.workDir !== "string" || typeof v.group !== "string") {
    fail("worker", "workDir and group must be strings");
  }
  if (v.onServerLost !== "stop" && v.onServerLost !== "finish-running") {
    fail("worker", "onServerLost must be stop or finish-running");
  }
  if (!Array.isArray(v.resources)) fail("worker", "resources must be a list");
  const names = new Set<string>();
  for (const r of v.resources as unknown[]) {
    if (
      !isObj(r) || typeof r.name !== "string" || !Array.isArray(r.groups) || !isInt(r.size) ||
      !["list", "range", "groups", "sum"].includes(r.kind as string) ||
      !r.groups.every((g) => Array.isArray(g) && g.every((x) => typeof x === "string"))
    ) {
      fail("worker", "each resource pool needs name, kind, groups of labels and size");
    }
    if (names.has(r.name as string)) fail("worker", `resource "${r.name}" defined twice`);
    names.add(r.name as string);
  }
  if (!isInt(v.minUtilization) || (v.minUtilization as number) > 10_000) {
    fail("worker", "minUtilization must be 0..10000");
  }
  if (!isInt(v.startedAt)) fail("worker", "startedAt must be a timestamp");
  if (v.process !== undefined && !isProcessIdentity(v.process)) {
    fail("worker", "process must be {host, bootId, pidNamespace, startTicks}");
  }
  return v as unknown as WorkerConfig;
}

function isStrOrNull(v: unknown): boolean {
  return v === null || typeof v === "string";
}

function isStrList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/**
 * Validates the parameters of an automatic allocation queue: types, and the rules of
 * `hq alloc add` (backlog and workers per allocation at least 1, a positive time limit, a
 * worker time limit within it). @throws {PayloadError}
 *
 * @example Usage
 * ```ts
 * import { PayloadError, validateQueueParams } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => validateQueueParams({ manager: "lsf" }), PayloadError);
 * ```
 */
export function validateQueueParams(v: unknown): QueueParams {
  const what = "queue";
  if (!isObj(v)) fail(what, "parameters are not an object");
  if (v.manager !== "slurm" && v.manager !== "pbs") fail(what, "manager must be slurm or pbs");
  if (!isInt(v.backlog, 1)) fail(what, "backlog must be at least 1");
  if (!isInt(v.maxWorkersPerAlloc, 1)) fail(what, "max workers per allocation must be at least 1");
  if (!(v.maxWorkerCount === null || isInt(v.maxWorkerCount, 1))) {
    fail(what, "max worker count must be at least 1");
  }
  if (!isInt(v.timeLimitMs, 1)) fail(what, "time limit must be positive");
  if (!(v.workerTimeLimitMs === null || isInt(v.workerTimeLimitMs, 1))) {
    fail(what, "worker time limit must be positive");
  }
  if (v.workerTimeLimitMs !== null && (v.workerTimeLimitMs as number) > (v.timeLimitMs as number)) {
    fail(what, "worker time limit cannot be greater than the time limit");
  }
  if (!isInt(v.idleTimeoutMs)) fail(what, "idle timeout must be a duration");
  if (v.onServerLost !== "stop" && v.onServerLost !== "finish-running") {
    fail(what, "on-server-lost must be stop or finish-running");
  }
  for (const k of ["name", "workerStartCmd", "workerStopCmd", "workerWrapCmd", "cpus"]) {
    if (!isStrOrNull(v[k])) fail(what, `${k} must be a string or null`);
  }
  for (const k of ["workerArgs", "resources", "additionalArgs"]) {
    if (!isStrList(v[k])) fail(what, `${k} must be a list of strings`);
  }
  if (!isInt(v.minUtilization) || (v.minUtilization as number) > 10_000) {
    fail(what, "min utilization must be 0..10000");
  }
  return v as unknown as QueueParams;
}
