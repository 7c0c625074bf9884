/**
 * The events `hq journal export|replay|stream` print, as the server (or the
 * offline reader) sends them to the CLI: HyperQueue's event kinds with this
 * project's views as payloads; the CLI turns them into HyperQueue's JSON.
 *
 * @module
 */
import type { IdRange, JobId, TaskId, WorkerId } from "../common/mod.ts";
import type { WorkerStopReason } from "./messages.ts";
import type { TaskDescView, WorkerView } from "./views.ts";

/** One journal event; `at` is its time (ms since epoch). */
export type JournalEventView =
  | { type: "server-start"; at: number; serverUid: string }
  | { type: "worker-connected"; at: number; worker: WorkerView }
  | { type: "worker-lost"; at: number; id: WorkerId; reason: WorkerStopReason }
  | {
    type: "job-created";
    at: number;
    job: JobId;
    name: string;
    maxFails: number | null;
    submitDir: string;
    ids: IdRange[];
    /** The first submit's task description; null for an open job without tasks yet. */
    task: TaskDescView | null;
    /** Whether the job was closed when created (not `job open`). */
    closedJob: boolean;
  }
  | {
    type: "task-started";
    at: number;
    job: JobId;
    task: TaskId;
    instance: number;
    worker: WorkerId;
  }
  | { type: "task-finished"; at: number; job: JobId; task: TaskId }
  | { type: "task-failed"; at: number; job: JobId; task: TaskId; error: string }
  | { type: "task-canceled" | "task-aborted"; at: number; job: JobId; tasks: TaskId[] }
  | { type: "job-completed"; at: number; job: JobId };
