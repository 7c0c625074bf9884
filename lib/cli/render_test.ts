import assert from "node:assert/strict";
import { renderJobInfo, renderJobList, submitText } from "./render_jobs.ts";
import { renderTaskIds, renderTaskList } from "./render_tasks.ts";
import { renderExplain } from "./render_explain.ts";
import { JOB_ONE, JOB_ONE_TASKS, JOB_TWO_TASKS, JOBS } from "./testdata/fixtures.ts";

Deno.test("renderJobList() marks open jobs and explains the star", () => {
  // deno-lint-ignore camelcase -- the view's snake_case name
  const open = { ...JOBS[0]!, is_open: true };
  const text = renderJobList([open, JOBS[3]!], { total: 2 });
  assert.match(text, /\| \*1 \| echo +\| OPENED +\| 1 +\|/);
  assert.match(text, /\| 10 \| stopped/);
  assert.ok(text.endsWith("\n* = Open jobs"), text);
});

Deno.test("renderJobInfo() shows a Cancel Reason row after State", () => {
  const text = renderJobInfo(
    { ...JOB_ONE, info: { ...JOB_ONE.info, cancel_reason: "oops" } },
    { now: 0 },
  );
  assert.match(text, /\| State +\| FINISHED +\|\n\| Cancel Reason +\| oops +\|\n\| Session /);
});

Deno.test("renderTaskList() reports whether an error was cut", () => {
  assert.equal(renderTaskList({ "2": JOB_TWO_TASKS }, { now: 0 }).truncated, true);
  assert.equal(renderTaskList({ "2": JOB_TWO_TASKS }, { now: 0, verbose: true }).truncated, false);
  assert.equal(renderTaskList({ "1": JOB_ONE_TASKS }, { now: 0 }).truncated, false);
});

Deno.test("renderExplain() without workers prints only the two sentences", () => {
  assert.equal(
    renderExplain({
      job_id: 1,
      task_id: 2,
      state: "waiting",
      n_task_deps: 2,
      n_waiting_deps: 1,
      workers: [],
    }),
    "Task 1@2 is not ready to run, because 1/2 dependencies are not finished.\n" +
      "There is no worker where the task can run.",
  );
});

Deno.test("renderExplain() gives a worker without items one blank row", () => {
  const text = renderExplain({
    job_id: 1,
    task_id: 0,
    state: "waiting",
    n_task_deps: 0,
    n_waiting_deps: 0,
    workers: [{ worker_id: 4, runnable: true, variants: [[]] }],
  });
  assert.match(text, /The task can run on 1 worker: 4\n/);
  assert.match(text, /\| 4 +\| Yes +\| +\| +\| +\| +\|/);
});

Deno.test("submitText() is HyperQueue's submit line", () => {
  assert.equal(submitText(1), "Job submitted successfully, job ID: 1");
});

Deno.test("renderTaskIds() prints one id array, or one line per job", () => {
  assert.equal(renderTaskIds({ "3": [9, 2, 7, 20, 21, 22] }), "2,7,9,20-22");
  assert.equal(renderTaskIds({ "3": [] }), "");
  assert.equal(renderTaskIds({ "10": [1], "2": [0, 1] }), "2: 0-1\n10: 1");
});
