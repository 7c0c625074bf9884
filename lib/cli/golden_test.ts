/**
 * Golden files of every JSON document and the main `cli`/`quiet` texts,
 * built from the views in `testdata/fixtures.ts`. A changed shape or text
 * fails here; after checking the change against HyperQueue, rewrite the
 * files with `UPDATE_GOLDEN=1 deno test -A lib/cli/golden_test.ts`.
 */
import assert from "node:assert/strict";
import { formatJson, formatJsonLine, type JsonValue } from "./json.ts";
import type { TaskView } from "../protocol/mod.ts";
import {
  emptyJson,
  errorJson,
  jobDetailsJson,
  jobListJson,
  jobSummaryJson,
  jobWaitJson,
  submitJson,
  taskIdsJson,
  taskInfoJson,
  taskListJson,
} from "./hq_json.ts";
import {
  explainJson,
  hwdetectJson,
  serverInfoJson,
  workerInfoJson,
  workerListJson,
} from "./hq_json_workers.ts";
import {
  renderJobInfo,
  renderJobList,
  renderJobSummary,
  renderJobWait,
  submitText,
} from "./render_jobs.ts";
import { renderTaskInfo, renderTaskList } from "./render_tasks.ts";
import { renderExplain } from "./render_explain.ts";
import {
  renderHwdetect,
  renderServerInfo,
  renderWorkerInfo,
  renderWorkerList,
} from "./render_workers.ts";
import {
  quietJobList,
  quietJobSummary,
  quietServerStart,
  quietSubmit,
  quietWorkerList,
} from "./quiet.ts";
import { cancelLogLines, stopLogLines } from "./messages.ts";
import {
  allocationsJson,
  allocExplainJson,
  queueListJson,
  renderAllocations,
  renderAllocExplain,
  renderQueueList,
} from "./render_alloc.ts";
import { journalEventJson } from "./journal_json.ts";
import { outputLogSummaryJson } from "../stream/mod.ts";
import { ALLOC_EXPLAIN, ALLOCATIONS, PAUSED_QUEUE, queueViewFixture } from "./testdata/alloc.ts";
import { JOURNAL_EVENTS } from "./testdata/journal.ts";
import {
  EXPLAIN_BLOCKED,
  EXPLAIN_READY,
  JOB_FOUR,
  JOB_ONE,
  JOB_ONE_TASKS,
  JOB_TWO,
  JOB_TWO_TASKS,
  JOBS,
  NOW,
  POOLS,
  SERVER,
  TASKS_BY_JOB,
  WORKERS,
} from "./testdata/fixtures.ts";

const DIR = new URL("./testdata/golden/", import.meta.url);
const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

async function golden(name: string, text: string): Promise<void> {
  const url = new URL(name, DIR);
  // Files hold what the command prints: the text and console.log's newline.
  const printed = `${text}\n`;
  if (UPDATE) {
    await Deno.writeTextFile(url, printed);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(url);
  } catch {
    throw new Error(`Golden file ${name} is missing: run with UPDATE_GOLDEN=1 to create it`);
  }
  assert.equal(printed, expected, `output differs from testdata/golden/${name}`);
}

/** Tasks that never started: waiting, canceled and aborted before their start. */
const PENDING_TASKS: TaskView[] = (["waiting", "canceled", "aborted"] as const).map((
  state,
  id,
) => ({
  id,
  state,
  instance: 0,
  crash_count: 0,
  started_at: null,
  finished_at: state === "waiting" ? null : NOW,
  workers: [],
  paths: null,
  error: null,
}));

const JSON_CASES: [string, () => JsonValue][] = [
  ["job_list.json", () => jobListJson(JOBS)],
  ["job_list_empty.json", () => jobListJson([])],
  ["job_info.json", () => jobDetailsJson([JOB_ONE, JOB_TWO, JOB_FOUR], TASKS_BY_JOB)],
  ["job_summary.json", () => jobSummaryJson(JOBS)],
  [
    "task_list.json",
    () => taskListJson({ "10": [], "2": JOB_TWO_TASKS, "1": JOB_ONE_TASKS }),
  ],
  ["task_list_pending.json", () => taskListJson({ "3": PENDING_TASKS })],
  ["task_info.json", () => taskInfoJson(JOB_TWO_TASKS.slice(0, 3))],
  ["task_ids.json", () => taskIdsJson({ "2": [3, 1, 2], "10": [] })],
  ["worker_list.json", () => workerListJson(WORKERS)],
  ["worker_info.json", () => workerInfoJson(WORKERS)],
  ["hwdetect.json", () => hwdetectJson(POOLS)],
  ["server_info.json", () => serverInfoJson(SERVER, null)],
  ["server_start.json", () => serverInfoJson(SERVER, "/home/u/.hq-server")],
  ["explain.json", () => explainJson(EXPLAIN_BLOCKED)],
  ["job_wait.json", () => jobWaitJson({ finished: 1, failed: 2, canceled: 0, invalid: 1 }, 1503)],
  ["submit.json", () => submitJson(7)],
  ["empty.json", () => emptyJson()],
  ["alloc_list.json", () => queueListJson([queueViewFixture(), PAUSED_QUEUE])],
  ["alloc_info.json", () => allocationsJson(ALLOCATIONS)],
  ["alloc_explain.json", () => allocExplainJson(ALLOC_EXPLAIN)],
  [
    "output_log_summary.json",
    () => ({
      filename: "/home/u/work/log",
      summary: outputLogSummaryJson({
        nFiles: 2,
        nJobs: 1,
        nTasks: 20,
        nStreams: 21,
        nOpened: 1,
        stdoutSize: 2_048,
        stderrSize: 17,
        nSuperseded: 1,
        supersededStdoutSize: 30,
        supersededStderrSize: 0,
      }),
    }),
  ],
  ["error.json", () => errorJson("Job 7 not found\n\nCaused by:\n    x")],
];

for (const [name, build] of JSON_CASES) {
  Deno.test(`golden: ${name}`, async () => {
    await golden(name, formatJson(build()));
  });
}

const TEXT_CASES: [string, () => string][] = [
  ["job_list.txt", () => renderJobList(JOBS.slice(1, 3), { total: 4 })],
  ["job_list_all_verbose.txt", () => renderJobList(JOBS, { total: 4, verbose: true })],
  ["job_list_one_of_one.txt", () => renderJobList([], { total: 1 })],
  ["job_summary.txt", () => renderJobSummary(JOBS)],
  ["job_info_one.txt", () => renderJobInfo(JOB_ONE, { now: NOW })],
  ["job_info_two.txt", () => renderJobInfo(JOB_TWO, { now: NOW })],
  ["job_info_four.txt", () => renderJobInfo(JOB_FOUR, { now: NOW })],
  [
    "task_list.txt",
    () => renderTaskList({ "2": JOB_TWO_TASKS, "1": JOB_ONE_TASKS }, { now: NOW }).text,
  ],
  [
    "task_list_verbose.txt",
    () => renderTaskList({ "2": JOB_TWO_TASKS }, { now: NOW, verbose: true }).text,
  ],
  [
    "task_info.txt",
    () =>
      [0, 1, 4, 5].map((i) =>
        renderTaskInfo(JOB_TWO, JOB_TWO_TASKS[i]!, { now: NOW, utcOffset: () => 60 }).text
      ).join("\n"),
  ],
  ["explain_blocked.txt", () => renderExplain(EXPLAIN_BLOCKED)],
  ["explain_ready.txt", () => renderExplain(EXPLAIN_READY)],
  ["worker_list.txt", () => renderWorkerList(WORKERS)],
  ["worker_info.txt", () => WORKERS.map((w) => renderWorkerInfo(w)).join("\n")],
  ["worker_start.txt", () => renderWorkerInfo(WORKERS[0]!, { runtime: false })],
  ["hwdetect.txt", () => renderHwdetect(POOLS)],
  ["server_info.txt", () => renderServerInfo(SERVER, null)],
  ["server_start.txt", () => renderServerInfo(SERVER, "/home/u/.hq-server")],
  [
    "job_wait.txt",
    () =>
      renderJobWait({ finished: 1, failed: 1, canceled: 0, invalid: 2 }, 1_003.441012, [JOB_TWO]),
  ],
  ["submit.txt", () => submitText(7)],
  ["alloc_list.txt", () => renderQueueList([queueViewFixture(), PAUSED_QUEUE])],
  ["alloc_info.txt", () => renderAllocations(ALLOCATIONS)],
  ["alloc_explain.txt", () => renderAllocExplain(ALLOC_EXPLAIN)],
  // `hq journal export|replay|stream`: one JSON document per line.
  [
    "journal_events.jsonl",
    () => JOURNAL_EVENTS.map((e) => formatJsonLine(journalEventJson(e))).join("\n"),
  ],
  [
    "quiet.txt",
    () =>
      [
        ...quietSubmit(7),
        ...quietJobList(JOBS),
        ...quietJobSummary(JOBS),
        ...quietWorkerList(WORKERS),
        ...quietServerStart("/home/u/.hq-server"),
      ].join("\n"),
  ],
  [
    "log_lines.txt",
    () =>
      [
        ...cancelLogLines([
          { id: 4, result: "notFound" },
          { id: 1, result: "canceled", canceled: 2, alreadyFinished: 3 },
          { id: 2, result: "alreadyFinished" },
        ]),
        ...cancelLogLines([]),
        ...stopLogLines([
          { id: 3, result: "alreadyStopped" },
          { id: 1, result: "stopped" },
          { id: 4, result: "notFound" },
        ]),
      ].map((l) => `${l.level} ${l.message}`).join("\n"),
  ],
];

for (const [name, build] of TEXT_CASES) {
  Deno.test(`golden: ${name}`, async () => {
    await golden(name, build());
  });
}

Deno.test("golden: every file in testdata/golden has a case", async () => {
  const names = new Set([...JSON_CASES, ...TEXT_CASES].map(([n]) => n));
  for await (const e of Deno.readDir(DIR)) {
    assert.ok(names.has(e.name), `testdata/golden/${e.name} has no test case`);
  }
});
