import assert from "node:assert/strict";
import fc from "fast-check";
import { ClassQueue, type IsWaiting, type QueuedTask } from "./task_queue.ts";

const ALWAYS: IsWaiting = () => true;

function drain(q: ClassQueue, isWaiting: IsWaiting = ALWAYS): [number, number, number][] {
  const got: [number, number, number][] = [];
  for (let t: QueuedTask | undefined; (t = q.pop(isWaiting));) {
    got.push([t.priority, t.jobId, t.taskId]);
  }
  return got;
}

Deno.test("ClassQueue pops by priority (higher first), then job id, then task id", () => {
  const q = new ClassQueue();
  q.addJob(3, 0, [{ start: 0, end: 1 }]);
  q.addJob(2, 5, [{ start: 7, end: 8 }]);
  q.addJob(1, 0, [{ start: 4, end: 4 }, { start: 9, end: 10 }]);
  assert.deepEqual(drain(q), [
    [5, 2, 7],
    [5, 2, 8],
    [0, 1, 4],
    [0, 1, 9],
    [0, 1, 10],
    [0, 3, 0],
    [0, 3, 1],
  ]);
  assert.equal(q.pop(ALWAYS), undefined);
});

Deno.test("ClassQueue.peek() does not take the task; pop() takes it", () => {
  const q = new ClassQueue();
  q.addJob(1, 0, [{ start: 0, end: 2 }]);
  assert.deepEqual(q.peek(ALWAYS), { jobId: 1, taskId: 0, priority: 0 });
  assert.deepEqual(q.peek(ALWAYS), { jobId: 1, taskId: 0, priority: 0 });
  assert.deepEqual(q.pop(ALWAYS), { jobId: 1, taskId: 0, priority: 0 });
  assert.deepEqual(q.peek(ALWAYS), { jobId: 1, taskId: 1, priority: 0 });
});

Deno.test("ClassQueue skips tasks that are no longer waiting, lazily", () => {
  const q = new ClassQueue();
  q.addJob(1, 0, [{ start: 0, end: 5 }]);
  q.addJob(2, 0, [{ start: 0, end: 1 }]);
  const gone = new Set(["1:0", "1:2", "1:3", "2:1"]);
  const isWaiting = (j: number, t: number) => !gone.has(`${j}:${t}`);
  assert.deepEqual(drain(q, isWaiting).map(([, j, t]) => `${j}:${t}`), [
    "1:1",
    "1:4",
    "1:5",
    "2:0",
  ]);
});

Deno.test("ClassQueue.push() returns a task ahead of the job's later ids", () => {
  const q = new ClassQueue();
  q.addJob(1, 0, [{ start: 0, end: 4 }]);
  assert.deepEqual(drain(q).length, 5);
  q.push(1, 0, 3);
  q.push(1, 0, 1);
  assert.deepEqual(drain(q).map(([, , t]) => t), [1, 3]);

  const r = new ClassQueue();
  r.addJob(1, 0, [{ start: 0, end: 9 }]);
  r.pop(ALWAYS);
  r.pop(ALWAYS);
  r.push(1, 0, 0); // returned before the cursor reaches id 2
  assert.deepEqual(drain(r).map(([, , t]) => t), [0, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("ClassQueue.push() of a lower-priority job waits behind higher ones", () => {
  const q = new ClassQueue();
  q.addJob(5, 1, [{ start: 0, end: 0 }]);
  q.push(2, 0, 7);
  q.addJob(9, 1, [{ start: 0, end: 0 }]);
  assert.deepEqual(drain(q), [[1, 5, 0], [1, 9, 0], [0, 2, 7]]);
});

Deno.test("ClassQueue.removeJob() forgets the job; a later push brings a task back", () => {
  const q = new ClassQueue();
  q.addJob(1, 0, [{ start: 0, end: 99 }]);
  q.addJob(2, 0, [{ start: 0, end: 0 }]);
  q.removeJob(1);
  assert.deepEqual(drain(q), [[0, 2, 0]]);
  q.push(1, 0, 50);
  assert.deepEqual(drain(q), [[0, 1, 50]]);
  q.removeJob(42); // unknown: no effect
});

Deno.test("ClassQueue counts waiting tasks per priority", () => {
  const q = new ClassQueue();
  assert.equal(q.size, 0);
  assert.deepEqual(q.priorities(), []);
  q.count(0, 10);
  q.count(5, 2);
  q.count(-1, 1);
  assert.equal(q.size, 13);
  assert.equal(q.countAt(5), 2);
  assert.equal(q.countAt(7), 0);
  assert.deepEqual(q.priorities(), [5, 0, -1]);
  q.count(5, -2);
  assert.deepEqual(q.priorities(), [0, -1]);
  assert.equal(q.size, 11);
});

Deno.test("ClassQueue matches a sorted reference under random adds, pops, returns and cancels", () => {
  const op = fc.oneof(
    fc.record({
      kind: fc.constant("add" as const),
      priority: fc.integer({ min: -2, max: 2 }),
      start: fc.integer({ min: 0, max: 20 }),
      len: fc.integer({ min: 1, max: 6 }),
      gap: fc.integer({ min: 0, max: 3 }),
    }),
    fc.record({ kind: fc.constant("pop" as const), n: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ kind: fc.constant("return" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
    const q = new ClassQueue();
    const waiting = new Map<string, [number, number, number]>(); // key -> [priority, job, task]
    const taken: [number, number, number][] = [];
    const priorityOf = new Map<number, number>();
    let nextJob = 1;
    const isWaiting = (j: number, t: number) => waiting.has(`${j}:${t}`);
    const expected = () =>
      [...waiting.values()].sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2])[0];
    for (const o of ops) {
      if (o.kind === "add") {
        const job = nextJob++;
        priorityOf.set(job, o.priority);
        const ids = [{ start: o.start, end: o.start + o.len - 1 }];
        if (o.gap > 0) {
          ids.push({ start: o.start + o.len + o.gap, end: o.start + o.len + o.gap + 1 });
        }
        for (const r of ids) {
          for (let t = r.start; t <= r.end; t++) waiting.set(`${job}:${t}`, [o.priority, job, t]);
        }
        q.addJob(job, o.priority, ids);
      } else if (o.kind === "pop") {
        for (let i = 0; i < o.n; i++) {
          const want = expected();
          const got = q.pop(isWaiting);
          assert.deepEqual(got && [got.priority, got.jobId, got.taskId], want);
          if (!want) break;
          waiting.delete(`${want[1]}:${want[2]}`);
          taken.push(want);
        }
      } else if (o.kind === "return") {
        if (taken.length === 0) continue;
        const [p, j, t] = taken.splice(o.pick % taken.length, 1)[0]!;
        waiting.set(`${j}:${t}`, [p, j, t]);
        q.push(j, priorityOf.get(j)!, t);
      } else {
        const keys = [...waiting.keys()];
        if (keys.length > 0) waiting.delete(keys[o.pick % keys.length]!);
      }
    }
    for (let want = expected(); want; want = expected()) {
      const got = q.pop(isWaiting)!;
      assert.deepEqual([got.priority, got.jobId, got.taskId], want);
      waiting.delete(`${want[1]}:${want[2]}`);
    }
    assert.equal(q.pop(isWaiting), undefined);
  }));
});

Deno.test("ClassQueue.takeAt() skips a drained higher-priority job before comparing priorities", () => {
  const q = new ClassQueue();
  const gone = new Set<number>([1, 2]); // job 1's tasks are no longer waiting (canceled)
  const isWaiting = (jobId: number, taskId: number) => !(jobId === 1 && gone.has(taskId));
  q.addJob(1, 5, [{ start: 1, end: 2 }]);
  q.addJob(2, 0, [{ start: 1, end: 2 }]);
  assert.equal(q.takeAt(isWaiting, 5), -1);
  assert.equal(q.takeAt(isWaiting, 0), 1);
  assert.equal(q.lastJob, 2);
  assert.equal(q.takeAt(isWaiting, 0), 2);
  assert.equal(q.takeAt(isWaiting, 0), -1);
});

Deno.test("ClassQueue holds a task once: a push while it is ahead of the cursor, or pushed twice", () => {
  const q = new ClassQueue();
  q.addJob(1, 0, [{ start: 0, end: 3 }, { start: 10, end: 12 }]);
  // Tasks 2 and 11 left waiting without being taken (adopted by a restored server), then
  // came back: the cursor will still reach them.
  q.push(1, 0, 2);
  q.push(1, 0, 11);
  // Task 5 is not in the ranges: pushed twice, queued once.
  q.push(1, 0, 5);
  q.push(1, 0, 5);
  assert.deepEqual(drain(q).map(([, , t]) => t), [0, 1, 2, 3, 5, 10, 11, 12]);
  // Once the cursor passed it, a push queues it again, once.
  q.push(1, 0, 2);
  q.push(1, 0, 2);
  assert.deepEqual(drain(q).map(([, , t]) => t), [2]);
});
