/**
 * The records of one job's tasks, by task id, with the part of the `Map`
 * interface the server uses. A job whose ids form one range (the usual
 * array) keeps its records in a dense array indexed by `id - first`, which
 * is much cheaper to fill than a hash map when a round assigns 100,000
 * tasks; other jobs use a `Map`. Iteration follows insertion order.
 *
 * @module
 */
import type { IdSet, TaskId } from "../common/mod.ts";
import type { TaskRecord } from "./task.ts";

/** Task records of a job, keyed by task id. */
export class TaskTable {
  readonly #first: number;
  readonly #span: number;
  #dense: (TaskRecord | undefined)[] | null = null;
  #order: TaskId[] = [];
  readonly #map: Map<TaskId, TaskRecord> | null;

  /** An empty table for a job with task ids `ids`. */
  constructor(ids: IdSet) {
    const single = ids.length === 1 ? ids[0]! : null;
    this.#first = single?.start ?? 0;
    this.#span = single ? single.end - single.start + 1 : 0;
    this.#map = single ? null : new Map();
  }

  /** Whether records are kept in the dense array (a job of one id range). */
  get isDense(): boolean {
    return this.#map === null;
  }

  /** A copy in the map form, which takes any id (a job that grows). */
  toMapForm(): TaskTable {
    const table = new TaskTable([]);
    for (const [id, record] of this.entries()) table.set(id, record);
    return table;
  }

  /** Number of records. */
  get size(): number {
    return this.#map ? this.#map.size : this.#order.length;
  }

  /** The record of a task, if it has one. */
  get(id: TaskId): TaskRecord | undefined {
    if (this.#map) return this.#map.get(id);
    const i = id - this.#first;
    return i >= 0 && i < this.#span && this.#dense ? this.#dense[i] : undefined;
  }

  /** Whether a task has a record. */
  has(id: TaskId): boolean {
    return this.get(id) !== undefined;
  }

  /**
   * Stores a record.
   *
   * @throws {RangeError} When the id is outside the job's range.
   */
  set(id: TaskId, record: TaskRecord): this {
    if (this.#map) {
      this.#map.set(id, record);
      return this;
    }
    const i = id - this.#first;
    if (!(i >= 0 && i < this.#span)) {
      throw new RangeError(`Cannot store task ${id}: it is not in the job`);
    }
    this.#dense ??= new Array(this.#span);
    if (this.#dense[i] === undefined) this.#order.push(id);
    this.#dense[i] = record;
    return this;
  }

  /** `[id, record]` pairs in insertion order. */
  *entries(): IterableIterator<[TaskId, TaskRecord]> {
    if (this.#map) {
      yield* this.#map.entries();
      return;
    }
    for (const id of this.#order) yield [id, this.#dense![id - this.#first]!];
  }

  /** Task ids with a record, in insertion order. */
  *keys(): IterableIterator<TaskId> {
    for (const [id] of this.entries()) yield id;
  }

  /** Records in insertion order. */
  *values(): IterableIterator<TaskRecord> {
    for (const [, record] of this.entries()) yield record;
  }

  /** Same as {@link TaskTable.entries}. */
  [Symbol.iterator](): IterableIterator<[TaskId, TaskRecord]> {
    return this.entries();
  }
}
