/**
 * Ready tasks of one resource-request class, ordered by priority (higher
 * first), then job id, then task id.
 *
 * A job enters as one bucket per priority holding a cursor over its id ranges, so a
 * million-task array costs one object until its tasks are taken. Tasks that
 * return to waiting go into the bucket's small heap. Entries are validated
 * lazily through the caller's `isWaiting`, so a canceled task simply is
 * skipped when reached.
 *
 * @module
 */
import { BinaryHeap, type IdSet, idSetUnion, type JobId, type TaskId } from "../common/mod.ts";

/** Tells whether a task is still waiting. */
export type IsWaiting = (jobId: JobId, taskId: TaskId) => boolean;

interface Bucket {
  jobId: JobId;
  priority: number;
  ids: IdSet;
  range: number;
  next: number;
  requeued: BinaryHeap<number>;
  /** The ids in `requeued` (a task is queued at most once, or a round could take it twice). */
  inHeap: Set<number>;
  queued: boolean;
}

function bucketBefore(a: Bucket, b: Bucket): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return a.jobId < b.jobId;
}

/** A ready task taken from a queue. */
export interface QueuedTask {
  jobId: JobId;
  taskId: TaskId;
  /** Priority of its job. */
  priority: number;
}

/** Priority queue of the ready tasks of one request class. */
export class ClassQueue {
  #heap = new BinaryHeap<Bucket>(bucketBefore);
  /** Buckets by job, then by priority (tasks of one job may differ in priority). */
  #buckets = new Map<JobId, Map<number, Bucket>>();
  #counts = new Map<number, number>();
  #size = 0;
  #lastJob: JobId = 0;

  /** Number of waiting tasks counted through {@link ClassQueue.count}. */
  get size(): number {
    return this.#size;
  }

  /** Waiting tasks at exactly `priority`. */
  countAt(priority: number): number {
    return this.#counts.get(priority) ?? 0;
  }

  /** Adjusts the waiting count at a priority (the reactor calls this on state changes). */
  count(priority: number, delta: number): void {
    const next = (this.#counts.get(priority) ?? 0) + delta;
    if (next === 0) this.#counts.delete(priority);
    else this.#counts.set(priority, next);
    this.#size += delta;
  }

  /** Distinct priorities with waiting tasks, highest first. */
  priorities(): number[] {
    return [...this.#counts.keys()].sort((a, b) => b - a);
  }

  /**
   * Adds ids of a job lazily (to those of the job not yet taken at that priority); its
   * tasks must already be counted.
   */
  addJob(jobId: JobId, priority: number, ids: IdSet): void {
    const bucket = this.#bucket(jobId, priority);
    const current = bucket.ids[bucket.range];
    const merged = current
      ? idSetUnion([
        { start: bucket.next, end: current.end },
        ...bucket.ids.slice(bucket.range + 1),
      ], ids)
      : ids;
    bucket.ids = merged;
    bucket.range = 0;
    bucket.next = merged[0]?.start ?? 0;
    this.#enqueue(bucket);
  }

  /**
   * Puts a single task (back) into the queue, unless it is queued already: still ahead of
   * its job's cursor (a restored server adopts running tasks it never took from the
   * queue), or requeued before and not taken since.
   */
  push(jobId: JobId, priority: number, taskId: TaskId): void {
    const bucket = this.#bucket(jobId, priority);
    if (bucket.inHeap.has(taskId) || ahead(bucket, taskId)) {
      this.#enqueue(bucket);
      return;
    }
    bucket.requeued.push(taskId);
    bucket.inHeap.add(taskId);
    this.#enqueue(bucket);
  }

  /** Forgets a job's bucket (its tasks are no longer waiting). */
  removeJob(jobId: JobId): void {
    for (const bucket of this.#buckets.get(jobId)?.values() ?? []) {
      bucket.ids = [];
      bucket.range = 0;
      while (bucket.requeued.size > 0) bucket.requeued.pop();
      bucket.inHeap.clear();
    }
  }

  /** The next waiting task without taking it. */
  peek(isWaiting: IsWaiting): QueuedTask | undefined {
    for (;;) {
      const bucket = this.#heap.peek();
      if (!bucket) return undefined;
      const taskId = this.#bucketPeek(bucket, isWaiting);
      if (taskId !== undefined) return { jobId: bucket.jobId, taskId, priority: bucket.priority };
      this.#heap.pop();
      bucket.queued = false;
      if (bucket.ids.length === 0) this.#drop(bucket);
    }
  }

  /** Takes the next waiting task; with `priority`, only when the task has exactly that priority. */
  pop(isWaiting: IsWaiting, priority?: number): QueuedTask | undefined {
    const top = this.peek(isWaiting);
    if (!top || (priority !== undefined && top.priority !== priority)) return undefined;
    const bucket = this.#heap.peek()!;
    if (bucket.requeued.peek() === top.taskId) this.#popHeap(bucket);
    else this.#advance(bucket);
    return top;
  }

  /**
   * Takes the next waiting task if it has exactly `priority`; returns its id,
   * or -1. Allocates nothing (the hot path of a round); the task's job is
   * then {@link ClassQueue.lastJob}.
   */
  takeAt(isWaiting: IsWaiting, priority: number): number {
    for (;;) {
      const bucket = this.#heap.peek();
      if (!bucket) return -1;
      // Exhausted buckets are dropped before the priority is compared: a stale
      // higher-priority bucket must not hide the tasks below it.
      const taskId = this.#bucketPeek(bucket, isWaiting);
      if (taskId === undefined) {
        this.#heap.pop();
        bucket.queued = false;
        if (bucket.ids.length === 0) this.#drop(bucket);
        continue;
      }
      if (bucket.priority !== priority) return -1;
      if (bucket.requeued.peek() === taskId) this.#popHeap(bucket);
      else this.#advance(bucket);
      this.#lastJob = bucket.jobId;
      return taskId;
    }
  }

  /** Job of the task last returned by {@link ClassQueue.takeAt}. */
  get lastJob(): JobId {
    return this.#lastJob;
  }

  #drop(bucket: Bucket): void {
    const byPriority = this.#buckets.get(bucket.jobId);
    if (byPriority?.get(bucket.priority) !== bucket) return;
    byPriority.delete(bucket.priority);
    if (byPriority.size === 0) this.#buckets.delete(bucket.jobId);
  }

  #bucket(jobId: JobId, priority: number): Bucket {
    let byPriority = this.#buckets.get(jobId);
    if (!byPriority) this.#buckets.set(jobId, byPriority = new Map());
    let bucket = byPriority.get(priority);
    if (!bucket) {
      bucket = {
        jobId,
        priority,
        ids: [],
        range: 0,
        next: 0,
        requeued: new BinaryHeap<number>((a, b) => a < b),
        inHeap: new Set(),
        queued: false,
      };
      byPriority.set(priority, bucket);
    }
    return bucket;
  }

  #popHeap(bucket: Bucket): void {
    const id = bucket.requeued.pop();
    if (id !== undefined) bucket.inHeap.delete(id);
  }

  #enqueue(bucket: Bucket): void {
    if (bucket.queued) return;
    bucket.queued = true;
    this.#heap.push(bucket);
  }

  #advance(bucket: Bucket): void {
    const range = bucket.ids[bucket.range];
    if (!range) return;
    if (bucket.next < range.end) {
      bucket.next++;
    } else {
      bucket.range++;
      const following = bucket.ids[bucket.range];
      if (following) bucket.next = following.start;
      else bucket.ids = [];
    }
  }

  #bucketPeek(bucket: Bucket, isWaiting: IsWaiting): TaskId | undefined {
    while (bucket.requeued.size > 0 && !isWaiting(bucket.jobId, bucket.requeued.peek()!)) {
      this.#popHeap(bucket);
    }
    while (bucket.range < bucket.ids.length && !isWaiting(bucket.jobId, bucket.next)) {
      this.#advance(bucket);
    }
    const fromHeap = bucket.requeued.peek();
    const fromRanges = bucket.range < bucket.ids.length ? bucket.next : undefined;
    if (fromHeap === undefined) return fromRanges;
    if (fromRanges === undefined) return fromHeap;
    return fromHeap < fromRanges ? fromHeap : fromRanges;
  }
}

/** Whether `taskId` is one of the bucket's ids the cursor has not passed yet. */
function ahead(bucket: Bucket, taskId: TaskId): boolean {
  const { ids } = bucket;
  if (bucket.range >= ids.length) return false;
  const current = ids[bucket.range]!;
  if (taskId >= bucket.next && taskId <= current.end) return true;
  let lo = bucket.range + 1;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = ids[mid]!;
    if (taskId < r.start) hi = mid - 1;
    else if (taskId > r.end) lo = mid + 1;
    else return true;
  }
  return false;
}
