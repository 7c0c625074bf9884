import assert from "node:assert/strict";
import type { TaskUpdate } from "../protocol/messages.ts";
import { onTaskUpdates } from "../scheduler/reactor.ts";
import { onSubmit } from "../scheduler/job_events.ts";
import { jobDetailView, taskPage } from "./views.ts";
import { explainView, workerViews } from "./worker_views.ts";
import { registeredWorkerView } from "../protocol/mod.ts";
import {
  addWorkers,
  jobSubmit,
  multiNodeSubmit,
  round,
  testState,
  workerConfig,
} from "../scheduler/testdata/fixtures.ts";
import type { Job, ServerState } from "../scheduler/state.ts";
import { taskListData } from "./queries.ts";

function update(
  kind: "started" | "finished",
  id: number,
  at: number,
  jobId = 1,
): TaskUpdate {
  return kind === "started"
    ? { kind, jobId, id, instance: 0, at, variant: 0 }
    : { kind, jobId, id, instance: 0, at };
}

/** Every task of a job, in one page. */
function taskViews(s: ServerState, job: Job) {
  const all = { taskIds: null, states: null, after: null, limit: Infinity, scan: Infinity };
  return taskPage(s, job, all).views;
}

/** Job 1 of three tasks on worker 1 (2 CPUs): task 0 finished, task 1 running, task 2 waiting. */
function scenario(): ServerState {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=2"], hostname: "alpha" }, { pools: ["cpus=1"] }]);
  const submit = jobSubmit("cpus=2", 3);
  submit.template.program.cwd = "%{SUBMIT_DIR}/w-%{INSTANCE_ID}";
  submit.template.program.stdout = {
    path: "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout",
    rmIfFinished: false,
  };
  onSubmit(s, submit, 5);
  assert.deepEqual(round(s), { 1: ["1:0/v0"] });
  onTaskUpdates(s, 1, [update("started", 0, 100)], 100, new Map());
  onTaskUpdates(s, 1, [update("finished", 0, 200)], 200, new Map());
  round(s);
  onTaskUpdates(s, 1, [update("started", 1, 250)], 250, new Map());
  return s;
}

Deno.test("taskViews() carry times, worker host names and resolved paths once started", () => {
  const s = scenario();
  const [t0, t1, t2] = taskViews(s, s.jobs.get(1)!);
  assert.deepEqual(t0, {
    id: 0,
    state: "finished",
    instance: 0,
    crash_count: 0,
    started_at: 100,
    finished_at: 200,
    workers: [{ id: 1, hostname: "alpha" }],
    paths: { cwd: "/tmp/w-0", stdout: "/tmp/w-0/job-1/0.stdout", stderr: null },
    error: null,
  });
  assert.equal(t1!.state, "running");
  assert.equal(t1!.finished_at, null);
  assert.deepEqual(t1!.workers, [{ id: 1, hostname: "alpha" }]);
  assert.deepEqual(t2, {
    id: 2,
    state: "waiting",
    instance: 0,
    crash_count: 0,
    started_at: null,
    finished_at: null,
    workers: [],
    paths: null,
    error: null,
  });
});

Deno.test("jobDetailView() carries the submit and its raw templates", () => {
  const s = scenario();
  const d = jobDetailView(s, s.jobs.get(1)!);
  assert.equal(d.submitted_at, 5);
  assert.equal(d.completed_at, null);
  assert.deepEqual(d.submits[0]!.ids, [{ start: 0, end: 2 }]);
  assert.equal(d.submits[0]!.submit_dir, "/tmp");
  const desc = d.submits[0]!.task_desc;
  assert.equal(desc.program.stdout, "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout");
  assert.deepEqual(desc.requests, [{
    n_nodes: 0,
    min_time_ms: 0,
    weight: 10000,
    entries: [{ resource: "cpus", amount: 20000, policy: "compact" }],
  }]);
  assert.equal(d.info.task_stats.finished, 1);
  // No task list: the workers tasks ran on, and no failed or aborted task.
  assert.deepEqual(d.workers, [{ id: 1, hostname: "alpha" }]);
  assert.deepEqual([d.failed, d.aborted, d.aborted_count], [[], [], 0]);
  const weighted = onSubmit(s, jobSubmit("cpus=1", 1, { weight: 25000 }), 6);
  const w = jobDetailView(s, s.jobs.get(weighted)!).submits[0]!.task_desc.requests[0]!;
  assert.equal(w.weight, 25000);
});

Deno.test("workerViews() report runtime info and the last task started", () => {
  const s = scenario();
  const [w1, w2] = workerViews(s);
  assert.deepEqual(w1!.runtime_info, {
    kind: "singleNode",
    assigned_tasks: 1,
    running_tasks: 1,
    is_reserved: false,
  });
  assert.deepEqual(w1!.last_task_started, { job_id: 1, task_id: 1, time: 250 });
  assert.equal(w1!.configuration.hostname, "alpha");
  assert.equal(w2!.last_task_started, null);
  // Once the task left the worker, the time is matched against the task records.
  onTaskUpdates(s, 1, [update("finished", 1, 300)], 300, new Map());
  assert.deepEqual(workerViews(s)[0]!.last_task_started, { job_id: 1, task_id: 1, time: 250 });
  assert.equal(workerViews(s)[0]!.runtime_info?.kind, "singleNode");
});

Deno.test("explainView() lists every requested resource and the time request per worker", () => {
  const s = testState();
  addWorkers(s, [
    { pools: ["cpus=4"], timeLimitMs: 1000 },
    { pools: ["cpus=1", "gpus=[0]"] },
  ]);
  const id = onSubmit(s, jobSubmit("cpus=2 gpus=1 | cpus=1", 1, { timeRequestMs: 2000 }), 0);
  const e = explainView(s, s.jobs.get(id)!, 0, 500);
  assert.equal(e.n_task_deps, 0);
  assert.deepEqual(e.workers[0], {
    worker_id: 1,
    runnable: false,
    variants: [
      [
        { kind: "time", min_time_ms: 2000, remaining_time_ms: 500 },
        { kind: "resources", resource: "cpus", request_amount: 20000, worker_amount: 40000 },
        { kind: "resources", resource: "gpus", request_amount: 10000, worker_amount: 0 },
      ],
      [
        { kind: "time", min_time_ms: 2000, remaining_time_ms: 500 },
        { kind: "resources", resource: "cpus", request_amount: 10000, worker_amount: 40000 },
      ],
    ],
  });
  assert.equal(e.workers[1]!.runnable, true);
  assert.deepEqual(e.workers[1]!.variants[0]![0], {
    kind: "time",
    min_time_ms: 2000,
    remaining_time_ms: null,
  });
});

Deno.test("explainView() gives multi-node variants a worker-group item", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=1"], group: "g" }, { pools: ["cpus=1"], group: "g" }]);
  const id = onSubmit(s, multiNodeSubmit(3, 1), 0);
  const e = explainView(s, s.jobs.get(id)!, 0, 0);
  assert.deepEqual(e.workers.map((w) => [w.runnable, w.variants]), [
    [false, [[{ kind: "workerGroup", n_nodes: 3, group_size: 2 }]]],
    [false, [[{ kind: "workerGroup", n_nodes: 3, group_size: 2 }]]],
  ]);
});

Deno.test("workerViews() show the multi-node run on each of its workers", () => {
  const s = testState();
  addWorkers(s, [
    { pools: ["cpus=1"], group: "g", hostname: "a" },
    { pools: ["cpus=1"], group: "g", hostname: "b" },
  ]);
  const id = onSubmit(s, multiNodeSubmit(2, 1), 0);
  round(s);
  onTaskUpdates(s, 1, [update("started", 0, 10, id)], 10, new Map());
  assert.deepEqual(workerViews(s).map((w) => w.runtime_info), [
    { kind: "multiNode", main_node: true },
    { kind: "multiNode", main_node: false },
  ]);
  const [task] = taskViews(s, s.jobs.get(id)!);
  assert.deepEqual(task!.workers, [{ id: 1, hostname: "a" }, { id: 2, hostname: "b" }]);
});

Deno.test("registeredWorkerView() matches the server's view of a new worker, without runtime info", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=2"], hostname: "alpha" }], 7);
  const fromServer = workerViews(s)[0]!;
  const own = registeredWorkerView(1, workerConfig({ pools: ["cpus=2"], hostname: "alpha" }), 7);
  assert.deepEqual(own, { ...fromServer, runtime_info: null });
});

Deno.test("workerViews() do not count prefilled tasks as assigned", () => {
  const s = testState(4, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 3), 0);
  round(s);
  const w = s.workers.get(1)!;
  assert.ok(w.prefilled > 0, "the round prefilled the worker");
  assert.deepEqual(workerViews(s)[0]!.runtime_info, {
    kind: "singleNode",
    assigned_tasks: w.tasks.size - w.prefilled,
    running_tasks: 0,
    is_reserved: false,
  });
  assert.equal(w.tasks.size - w.prefilled, 1);
});

Deno.test("explainView() gives each worker its group's size against a multi-node request", () => {
  const s = testState();
  addWorkers(
    s,
    ["g1", "g1", "g2"].map((group, i) => ({ pools: ["cpus=4"], group, hostname: `n${i}` })),
  );
  const id = onSubmit(s, multiNodeSubmit(3, 1), 0);
  const e = explainView(s, s.jobs.get(id)!, 0, 0);
  assert.deepEqual(e.workers.map((w) => w.runnable), [false, false, false]);
  assert.deepEqual(e.workers.map((w) => w.variants), [
    [[{ kind: "workerGroup", n_nodes: 3, group_size: 2 }]],
    [[{ kind: "workerGroup", n_nodes: 3, group_size: 2 }]],
    [[{ kind: "workerGroup", n_nodes: 3, group_size: 1 }]],
  ]);
  const two = onSubmit(s, multiNodeSubmit(2, 1), 0);
  const e2 = explainView(s, s.jobs.get(two)!, 0, 0);
  assert.deepEqual(e2.workers.map((w) => w.runnable), [true, true, false]);
});

Deno.test("taskListData() pages through jobs and tasks with a cursor, filtered server-side", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 5), 1);
  onSubmit(s, jobSubmit("cpus=1", 3), 2);
  round(s);
  onTaskUpdates(s, 1, [update("started", 0, 10)], 10, new Map());
  onTaskUpdates(s, 1, [update("finished", 0, 20)], 20, new Map());
  const page = (after: { job: number; task: number } | null, limit: number, states = null) =>
    taskListData(s, { kind: "taskList", selector: "1-3", taskIds: null, states, after, limit });
  const pages = (limit: number) => {
    const all: string[][] = [];
    let after: { job: number; task: number } | null = null;
    do {
      const p = page(after, limit);
      all.push(Object.entries(p.tasks).map(([j, ts]) => `${j}:${ts.map((t) => t.id).join(",")}`));
      after = p.next;
    } while (after !== null);
    return all;
  };
  // 5 + 3 tasks: a page runs on into the next job; every job it reaches is a key.
  assert.deepEqual(pages(3), [["1:0,1,2"], ["1:3,4", "2:0"], ["2:1,2"]]);
  assert.deepEqual(pages(5), [["1:0,1,2,3,4"], ["1:", "2:0,1,2"]]);
  const finished = taskListData(s, {
    kind: "taskList",
    selector: "all",
    taskIds: [{ start: 0, end: 3 }],
    states: ["finished"],
    after: null,
    limit: 10,
  });
  assert.deepEqual(
    Object.fromEntries(Object.entries(finished.tasks).map(([j, ts]) => [j, ts.map((t) => t.id)])),
    { 1: [0], 2: [] },
  );
  assert.equal(finished.next, null);
});
