/**
 * Ready tasks ordered by priority (higher first), then job id, then task id.
 *
 * A binary heap with lazy deletion: entries whose task is no longer waiting
 * are skipped by the caller's `isLive` check when popped.
 *
 * @module
 */
import type { JobId, TaskId } from "../ids.ts";

/** One queued task. */
export interface ReadyEntry {
  /** User priority. */
  priority: number;
  /** Job id. */
  jobId: JobId;
  /** Task id. */
  taskId: TaskId;
}

function before(a: ReadyEntry, b: ReadyEntry): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.jobId !== b.jobId) return a.jobId < b.jobId;
  return a.taskId < b.taskId;
}

/** Priority queue of ready tasks. */
export class ReadyQueue {
  #heap: ReadyEntry[] = [];

  /** Number of entries, stale ones included. */
  get size(): number {
    return this.#heap.length;
  }

  /** Adds an entry. */
  push(entry: ReadyEntry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** The first entry without removing it. */
  peek(): ReadyEntry | undefined {
    return this.#heap[0];
  }

  /** Removes and returns the first entry. */
  pop(): ReadyEntry | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < heap.length && before(heap[l]!, heap[best]!)) best = l;
        if (r < heap.length && before(heap[r]!, heap[best]!)) best = r;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best]!, heap[i]!];
        i = best;
      }
    }
    return top;
  }
}
