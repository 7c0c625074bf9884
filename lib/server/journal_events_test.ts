import assert from "node:assert/strict";
import { batchEvents, newStreamTracker } from "./journal_events.ts";
import { jobSubmit, testState } from "../scheduler/testdata/fixtures.ts";
import { onSubmit } from "../scheduler/job_events.ts";
import { stopUnfinished } from "../scheduler/reactor.ts";
import { takeBatch } from "../journal/mod.ts";

Deno.test("batchEvents() tells a canceled job's never-started tasks, journaled in bulk, as one event", () => {
  const s = testState();
  const id = onSubmit(s, jobSubmit("cpus=1", 5000), 1);
  const tracker = newStreamTracker();
  batchEvents(s, takeBatch(s), tracker);
  stopUnfinished(s, s.jobs.get(id)!, "canceled", 7, new Map());
  const batch = takeBatch(s);
  assert.equal(batch.tasks.length, 0);
  const canceled = batchEvents(s, batch, tracker).filter((e) => e.type === "task-canceled");
  assert.equal(canceled.length, 1);
  const event = canceled[0] as { at: number; job: number; tasks: number[] };
  assert.deepEqual([event.at, event.job, event.tasks.length, event.tasks[4999]], [
    7,
    id,
    5000,
    4999,
  ]);
});
