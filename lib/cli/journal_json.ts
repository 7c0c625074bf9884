/**
 * Journal events as HyperQueue prints them (`client/commands/journal/output.rs`):
 * one `{"time": ISO, "event": {"type": ..., ...}}` object per line.
 *
 * @module
 */
import { assertNever, formatIdSet } from "../common/mod.ts";
import type { JournalEventView } from "../protocol/mod.ts";
import { formatJsonDatetime } from "./dates.ts";
import { taskDescJson } from "./hq_json.ts";
import { workerJson } from "./hq_json_workers.ts";
import type { JsonValue } from "./json.ts";

function payload(e: JournalEventView): JsonValue {
  switch (e.type) {
    case "server-start":
      return { type: e.type, server_uid: e.serverUid };
    case "worker-connected": {
      const json = workerJson(e.worker, false) as { configuration: JsonValue };
      return { type: e.type, id: e.worker.id, configuration: json.configuration };
    }
    case "worker-lost":
      return { type: e.type, id: e.id, reason: lostReason(e.reason) };
    case "job-created":
      return {
        type: e.type,
        job: e.job,
        closed_job: e.closedJob,
        job_desc: { name: e.name, max_fails: e.maxFails },
        submit_desc: e.task === null ? null : {
          submit_dir: e.submitDir,
          stream_path: e.task.stream?.dir ?? null,
          task_desc: { ids: formatIdSet(e.ids), ...(taskDescJson(e.task) as object) },
        },
      };
    case "task-started":
      return { type: e.type, job: e.job, task: e.task, instance: e.instance, worker: e.worker };
    case "task-finished":
      return { type: e.type, job: e.job, task: e.task };
    case "task-failed":
      return { type: e.type, job: e.job, task: e.task, error: e.error };
    case "task-canceled":
    case "task-aborted":
      return { type: e.type, job: e.job, tasks: e.tasks };
    case "job-completed":
      return { type: e.type, job: e.job };
    default:
      return assertNever(e, "journal event");
  }
}

/** HyperQueue's names of worker loss reasons (`LostWorkerReason`). */
function lostReason(reason: string): string {
  switch (reason) {
    case "stopped":
      return "Stopped";
    case "heartbeatLost":
      return "HeartbeatLost";
    case "idleTimeout":
      return "IdleTimeout";
    case "timeLimit":
      return "TimeLimitReached";
    default:
      return "ConnectionLost";
  }
}

/**
 * One event as HyperQueue's journal JSON (keys sorted, as serde_json prints them).
 *
 * @example Usage
 * ```ts
 * import { journalEventJson } from "./journal_json.ts";
 * import { formatJsonLine } from "./json.ts";
 * import assert from "node:assert/strict";
 * const e = { type: "task-finished" as const, at: 0, job: 1, task: 7 };
 * assert.equal(
 *   formatJsonLine(journalEventJson(e)),
 *   '{"event":{"job":1,"task":7,"type":"task-finished"},"time":"1970-01-01T00:00:00Z"}',
 * );
 * ```
 */
export function journalEventJson(e: JournalEventView): JsonValue {
  return { time: formatJsonDatetime(e.at), event: payload(e) };
}
