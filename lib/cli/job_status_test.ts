import assert from "node:assert/strict";
import {
  filterJobList,
  jobState,
  jobStatus,
  jobSummaryCounts,
  jobWaitCounts,
  missingIds,
} from "./job_status.ts";
import type { JobInfoView } from "../protocol/mod.ts";

const stats = (s: Partial<JobInfoView["task_stats"]>) => ({
  running: 0,
  finished: 0,
  failed: 0,
  canceled: 0,
  aborted: 0,
  waiting: 0,
  ...s,
});

function job(id: number, s: Partial<JobInfoView["task_stats"]>, isOpen = false): JobInfoView {
  return {
    id,
    name: "j",
    task_count: 1,
    is_open: isOpen,
    task_stats: stats(s),
    cancel_reason: null,
  };
}

Deno.test("jobState() applies HyperQueue's rules in order", () => {
  assert.equal(jobState(stats({ running: 1, waiting: 1, failed: 1 })), "RUNNING");
  assert.equal(jobState(stats({ waiting: 1, failed: 1 })), "WAITING");
  assert.equal(jobState(stats({ failed: 1, aborted: 1, canceled: 1 })), "FAILED");
  assert.equal(jobState(stats({ aborted: 1, canceled: 1 })), "ABORTED");
  assert.equal(jobState(stats({ canceled: 1, finished: 1 })), "CANCELED");
  assert.equal(jobState(stats({ finished: 1 })), "FINISHED");
  assert.equal(jobState(stats({})), "FINISHED");
  assert.equal(jobStatus(job(1, {}, true)), "OPENED");
  assert.equal(jobStatus(job(1, { running: 1 }, true)), "RUNNING");
});

Deno.test("filterJobList() shows waiting, running and open jobs by default", () => {
  const jobs = [
    job(1, { finished: 1 }),
    job(2, { running: 1 }),
    job(3, { waiting: 1 }),
    job(4, { failed: 1 }),
    job(5, { failed: 1 }, true),
  ];
  assert.deepEqual(filterJobList(jobs).map((j) => j.id), [2, 3, 5]);
  assert.deepEqual(filterJobList(jobs, { all: true }).map((j) => j.id), [1, 2, 3, 4, 5]);
  assert.deepEqual(filterJobList(jobs, { states: ["FAILED"] }).map((j) => j.id), [4, 5]);
});

Deno.test("jobSummaryCounts() starts every summary state at 0 and adds OPENED only when seen", () => {
  assert.deepEqual([...jobSummaryCounts([job(1, { waiting: 1 })])], [
    ["RUNNING", 0],
    ["WAITING", 1],
    ["FINISHED", 0],
    ["FAILED", 0],
    ["ABORTED", 0],
    ["CANCELED", 0],
  ]);
  assert.equal(jobSummaryCounts([job(1, {}, true)]).get("OPENED"), 1);
});

Deno.test("jobWaitCounts() counts outcomes and invalid ids", () => {
  assert.deepEqual(
    jobWaitCounts([job(1, { finished: 1 }), job(2, { aborted: 1 }), job(3, { canceled: 1 })], 2),
    { finished: 1, failed: 1, canceled: 1, invalid: 2 },
  );
});

Deno.test("missingIds() lists ids of an id selector that were not found", () => {
  assert.deepEqual(missingIds("1-4,7", [1, 3]), [2, 4, 7]);
  assert.deepEqual(missingIds("last", []), []);
  assert.deepEqual(missingIds("all", []), []);
  assert.equal(missingIds("0-100000", []).length, 10_000);
});
