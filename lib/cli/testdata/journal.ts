/**
 * Journal events of every kind, as `hq journal export|replay|stream` receive
 * them, for the golden file of their JSON lines.
 *
 * @module
 */
import type { JournalEventView } from "../../protocol/mod.ts";
import { JOB_FOUR, JOB_ONE, T0, WORKERS } from "./fixtures.ts";

/** One event of each kind, in time order, with every shape of `job-created`. */
export const JOURNAL_EVENTS: JournalEventView[] = [
  { type: "server-start", at: T0, serverUid: "a1b2c3" },
  { type: "worker-connected", at: T0 + 100, worker: WORKERS[0]! },
  {
    type: "job-created",
    at: T0 + 200,
    job: 1,
    name: "echo",
    maxFails: null,
    submitDir: "/home/u/work",
    ids: [{ start: 0, end: 3 }, { start: 7, end: 7 }],
    task: JOB_ONE.submits[0]!.task_desc,
    closedJob: true,
  },
  {
    type: "job-created",
    at: T0 + 250,
    job: 2,
    name: "open",
    maxFails: 2,
    submitDir: "/home/u/work",
    ids: [],
    task: null,
    closedJob: false,
  },
  {
    type: "job-created",
    at: T0 + 280,
    job: 4,
    name: "mn",
    maxFails: null,
    submitDir: "/home/u",
    ids: JOB_FOUR.submits[0]!.ids,
    task: JOB_FOUR.submits[0]!.task_desc,
    closedJob: true,
  },
  { type: "task-started", at: T0 + 300, job: 1, task: 0, instance: 0, worker: 1 },
  { type: "task-finished", at: T0 + 1_300, job: 1, task: 0 },
  { type: "task-started", at: T0 + 1_400, job: 1, task: 1, instance: 1, worker: 1 },
  {
    type: "task-failed",
    at: T0 + 1_500,
    job: 1,
    task: 1,
    error: "Error: Program terminated with exit code 1.",
  },
  { type: "task-canceled", at: T0 + 1_600, job: 1, tasks: [2, 3] },
  { type: "task-aborted", at: T0 + 1_600, job: 1, tasks: [7] },
  { type: "job-completed", at: T0 + 1_600, job: 1 },
  { type: "worker-lost", at: T0 + 2_000, id: 1, reason: "connectionLost" },
];
