import assert from "node:assert/strict";
import { explainTask } from "./explain.ts";
import { onSubmit, onTaskUpdates } from "./reactor.ts";
import { addWorkers, jobSubmit, round, testState } from "./sim/_fixtures.ts";

Deno.test("explainTask() names time, resource and rejection blockers per worker and variant", () => {
  const s = testState();
  addWorkers(s, [
    { pools: ["cpus=4", "gpus=[0]"], timeLimitMs: 1000 },
    { pools: ["cpus=2"] },
    { pools: ["cpus=8", "gpus=[0,1]"] },
  ]);
  const id = onSubmit(s, jobSubmit("cpus=2 gpus=1 | cpus=4", 1, { timeRequestMs: 2000 }), 0);
  assert.deepEqual(round(s), { 3: ["1:0/v0"] });
  onTaskUpdates(
    s,
    3,
    [{ kind: "rejected", jobId: 1, id: 0, instance: 0, at: 1, variant: 0 }],
    1,
    new Map(),
  );
  const e = explainTask(s, s.jobs.get(id)!, 1);
  const summary = e.workers.map((w) => ({
    worker: w.workerId,
    runnable: w.runnable,
    blockers: w.variants.map((v) => v.blockers.map((b) => b.type)),
  }));
  assert.deepEqual(summary, [
    { worker: 1, runnable: false, blockers: [["Time"], ["Time"]] },
    { worker: 2, runnable: false, blockers: [["Resources"], ["Resources"]] },
    { worker: 3, runnable: true, blockers: [["Rejected"], []] },
  ]);
  assert.deepEqual(e.workers[1]!.variants[0]!.blockers[0], {
    type: "Resources",
    provides: "gpus: 0",
    request: "gpus: 1",
  });
});
