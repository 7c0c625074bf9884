// deno-lint-ignore-file camelcase -- HyperQueue's JSON field names are snake_case
import assert from "node:assert/strict";
import { renderExplain, renderJobList, resourcesText } from "./render.ts";
import type { ExplainView, JobInfoView, TaskDescView } from "../scheduler/views.ts";

const stats = { running: 0, finished: 0, failed: 0, canceled: 2, aborted: 0, waiting: 0 };

Deno.test("renderJobList() adds the Cancel Reason column with --verbose", () => {
  const jobs: JobInfoView[] = [
    { id: 1, name: "a", task_count: 2, is_open: false, task_stats: stats, cancel_reason: "oops" },
  ];
  const plain = renderJobList(jobs, 1);
  assert.ok(!plain.includes("Cancel Reason"));
  const verbose = renderJobList(jobs, 1, true);
  assert.match(verbose, /\| ID \| Name \| State +\| Tasks \| Cancel Reason \|/);
  assert.match(verbose, /\| 1 +\| a +\| CANCELED \| 2 +\| oops +\|/);
});

Deno.test("resourcesText() prints one block per variant with time requests", () => {
  const desc = (resources: TaskDescView["resources"]) => ({ resources }) as TaskDescView;
  const one = desc([{
    n_nodes: 0,
    resources: [{ resource: "cpus", request: "2 compact" }],
    min_time: 0,
    weight: 1,
  }]);
  assert.equal(resourcesText(one), "cpus: 2 compact");
  const two = desc([
    {
      n_nodes: 0,
      resources: [{ resource: "cpus", request: "2 compact" }, {
        resource: "gpus",
        request: "1 compact",
      }],
      min_time: 3600,
      weight: 1,
    },
    { n_nodes: 0, resources: [{ resource: "cpus", request: "8 compact" }], min_time: 0, weight: 1 },
  ]);
  assert.equal(
    resourcesText(two),
    "# Variant 1\ncpus: 2 compact\ngpus: 1 compact\nTime request: 1h\n# Variant 2\ncpus: 8 compact",
  );
});

Deno.test("resourcesText() prints the node count of a multi-node task", () => {
  const desc = { resources: [{ n_nodes: 3, resources: [], min_time: 60, weight: 1 }] };
  assert.equal(resourcesText(desc as unknown as TaskDescView), "nodes: 3\nTime request: 1m");
});

Deno.test("renderExplain() lists blockers per worker and variant", () => {
  const e: ExplainView = {
    job_id: 3,
    task_id: 0,
    state: "waiting",
    n_waiting_deps: 0,
    n_deps: 0,
    workers: [
      {
        worker_id: 1,
        runnable: false,
        variants: [{
          variant: 0,
          blockers: [{ type: "Resources", provides: "cpus: 2", request: "cpus: 8" }],
        }],
      },
      { worker_id: 2, runnable: true, variants: [{ variant: 0, blockers: [] }] },
    ],
  };
  const text = renderExplain(e);
  assert.match(text, /runnable on 1 of 2 workers/);
  assert.match(text, /\| Worker Id \| Runnable \| Variant \| Type +\| Provides \| Request +\|/);
  assert.match(text, /\| 1 +\| no +\| 1 +\| Resources \| cpus: 2 +\| cpus: 8 \|/);
  assert.match(text, /\| 2 +\| yes +\| 1 +\| +\| +\| +\|/);
});
