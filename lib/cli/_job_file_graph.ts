/**
 * The `[[task]]` tables of a job file as a {@link TaskGraph}: ids (explicit
 * or automatic, as HyperQueue assigns them), dependencies checked against the
 * file, tasks sorted so that each dependency comes before its dependents, and
 * identical task definitions stored once.
 *
 * @module
 */
import type { GraphTask, TaskGraph, TaskTemplate } from "../protocol/mod.ts";
import type { IdRange, JobId, TaskId } from "../common/mod.ts";
import { BinaryHeap, idSetFromIds, MAX_ID, quote } from "../common/mod.ts";
import { readTemplate, TASK_CONFIG_KEYS } from "./_job_file_template.ts";
import {
  checkKeys,
  fail,
  readId,
  readTableList,
  type TomlTable,
  typeError,
} from "./_job_file_values.ts";

/** Keys a `[[task]]` table may have. */
export const TASK_KEYS: readonly string[] = ["id", "deps", ...TASK_CONFIG_KEYS];

const IN_FILE_DEP_REGEXP = /^\d+$/;
const EXTERNAL_DEP_REGEXP = /^(\d+):(\d+)$/;
/** Most tasks of a dependency cycle its message lists. */
const MAX_SHOWN_CYCLE = 10;

/** A dependency on a task of another job (`deps = ["7:3"]`). */
interface ExternalDep {
  jobId: JobId;
  id: TaskId;
}

/** One `[[task]]` table, read. */
interface TaskDef {
  /** Explicit `id`, if given. */
  id: TaskId | undefined;
  /** In-file dependencies, each once, in file order. */
  deps: TaskId[];
  externalDeps: ExternalDep[];
  template: TaskTemplate;
}

/** What a graph job adds to the job: its ids, first template and the graph. */
export interface GraphPart {
  ids: IdRange[];
  template: TaskTemplate;
  graph: TaskGraph;
}

function readIdText(text: string, key: string): TaskId {
  return readId(BigInt(text), key);
}

function readDeps(v: unknown, key: string): Pick<TaskDef, "deps" | "externalDeps"> {
  if (v === undefined) return { deps: [], externalDeps: [] };
  if (!Array.isArray(v)) typeError(key, 'an array of task ids or "JOB:TASK" strings', v);
  const deps = new Set<TaskId>();
  const external = new Map<string, ExternalDep>();
  v.forEach((item, i) => {
    const at = `${key}[${i}]`;
    if (typeof item === "bigint") deps.add(readId(item, at));
    else if (typeof item === "string" && IN_FILE_DEP_REGEXP.test(item)) {
      deps.add(readIdText(item, at));
    } else if (typeof item === "string" && EXTERNAL_DEP_REGEXP.test(item)) {
      const [, job, task] = EXTERNAL_DEP_REGEXP.exec(item)!;
      const dep = { jobId: readIdText(job!, at), id: readIdText(task!, at) };
      external.set(`${dep.jobId}:${dep.id}`, dep);
    } else if (typeof item === "string") {
      fail(at, `expected a task id or "JOB:TASK" (a task of another job), found ${quote(item)}`);
    } else typeError(at, 'a task id or a "JOB:TASK" string', item);
  });
  return { deps: [...deps], externalDeps: [...external.values()] };
}

function readTaskDef(table: TomlTable, index: number, stream?: string): TaskDef {
  const prefix = `task[${index}]`;
  checkKeys(table, TASK_KEYS, prefix);
  const id = table.id === undefined ? undefined : readId(table.id, `${prefix}.id`);
  return {
    id,
    ...readDeps(table.deps, `${prefix}.deps`),
    template: readTemplate(table, prefix, stream),
  };
}

/**
 * HyperQueue's ids: a task without `id` gets the next id above the largest explicit id of
 * the whole file (above 0 when there is none), in file order.
 */
function assignIds(defs: TaskDef[]): TaskId[] {
  let max = 0;
  for (const def of defs) if (def.id !== undefined && def.id > max) max = def.id;
  return defs.map((def, i) => {
    if (def.id !== undefined) return def.id;
    if (max >= MAX_ID) fail(`task[${i}]`, `no task id is left above ${max} to assign`);
    return ++max;
  });
}

/** Index in the file of each id; rejects an id used twice. */
function indexIds(ids: TaskId[]): Map<TaskId, number> {
  const byId = new Map<TaskId, number>();
  ids.forEach((id, i) => {
    const first = byId.get(id);
    if (first !== undefined) {
      fail(`task[${i}].id`, `task id ${id} is already used by task[${first}]`);
    }
    byId.set(id, i);
  });
  return byId;
}

/** File indices of each task's dependencies; rejects self and dangling dependencies. */
function depIndices(defs: TaskDef[], ids: TaskId[], byId: Map<TaskId, number>): number[][] {
  return defs.map((def, i) =>
    def.deps.map((dep) => {
      if (dep === ids[i]) fail(`task[${i}].deps`, `task ${dep} depends on itself`);
      const index = byId.get(dep);
      if (index === undefined) {
        fail(
          `task[${i}].deps`,
          `task ${ids[i]} depends on task ${dep}, which is not defined in this file`,
        );
      }
      return index;
    })
  );
}

/** The smallest number (without spreading a large collection into arguments). */
function smallest(numbers: Iterable<number>): number {
  let min = Infinity;
  for (const n of numbers) if (n < min) min = n;
  return min;
}

/** A dependency cycle among the tasks not sorted (each has an unsorted dependency). */
function cycleError(deps: number[][], ids: TaskId[], unsorted: Set<number>): never {
  const start = smallest(unsorted);
  const position = new Map<number, number>();
  const path: number[] = [];
  let current = start;
  while (!position.has(current)) {
    position.set(current, path.length);
    path.push(current);
    current = deps[current]!.find((d) => unsorted.has(d))!;
  }
  const cycle = path.slice(position.get(current));
  const first = cycle.indexOf(smallest(cycle));
  const ordered = [...cycle.slice(first), ...cycle.slice(0, first)];
  const members = ordered.length > MAX_SHOWN_CYCLE ? ordered.slice(0, MAX_SHOWN_CYCLE) : ordered;
  const more = ordered.length > members.length ? " -> ..." : "";
  const shown = `${members.map((i) => ids[i]).join(" -> ")}${more} -> ${ids[ordered[0]!]}`;
  const size = more === "" ? "" : `, ${ordered.length} tasks`;
  fail(
    `task[${ordered[0]}].deps`,
    `task ${
      ids[ordered[0]!]
    } is part of a dependency cycle: ${shown} (each depends on the next${size})`,
  );
}

/** File indices in an order where dependencies come first, else in file order. */
function sortTopologically(deps: number[][], ids: TaskId[]): number[] {
  const waiting = deps.map((d) => d.length);
  const dependents: number[][] = deps.map(() => []);
  deps.forEach((d, i) => d.forEach((dep) => dependents[dep]!.push(i)));
  const ready = new BinaryHeap<number>((a, b) => a < b);
  waiting.forEach((n, i) => n === 0 && ready.push(i));
  const order: number[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    order.push(i);
    for (const d of dependents[i]!) if (--waiting[d]! === 0) ready.push(d);
  }
  if (order.length < deps.length) {
    const sorted = new Set(order);
    const unsorted = new Set<number>();
    deps.forEach((_, i) => sorted.has(i) || unsorted.add(i));
    cycleError(deps, ids, unsorted);
  }
  return order;
}

/** Distinct templates in file order, and each task's index among them. */
function dedupTemplates(defs: TaskDef[]): { templates: TaskTemplate[]; indexOf: number[] } {
  const templates: TaskTemplate[] = [];
  const byJson = new Map<string, number>();
  const indexOf = defs.map((def) => {
    const json = JSON.stringify(def.template);
    let index = byJson.get(json);
    if (index === undefined) {
      index = templates.push(def.template) - 1;
      byJson.set(json, index);
    }
    return index;
  });
  return { templates, indexOf };
}

/**
 * The `task` array of a job file as a graph; rejects bad ids, dependencies and cycles. With
 * the job's `stream` directory, channels a task does not set are streamed.
 */
export function readGraph(v: unknown, stream?: string): GraphPart {
  const tables = readTableList(v, "task", "task");
  if (tables.length === 0) fail("task", "no tasks defined");
  const defs = tables.map((table, i) => readTaskDef(table, i, stream));
  const ids = assignIds(defs);
  const deps = depIndices(defs, ids, indexIds(ids));
  const order = sortTopologically(deps, ids);
  const { templates, indexOf } = dedupTemplates(defs);
  const tasks = order.map((i): GraphTask => {
    const def = defs[i]!;
    const task: GraphTask = { id: ids[i]!, template: indexOf[i]!, deps: def.deps };
    if (def.externalDeps.length > 0) task.externalDeps = def.externalDeps;
    return task;
  });
  return { ids: [...idSetFromIds(ids)], template: templates[0]!, graph: { templates, tasks } };
}
