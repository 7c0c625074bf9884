/**
 * Applies one client request to the server state (synchronously) and says
 * what to reply once the round is committed.
 *
 * @module
 */
import type { JobId } from "../ids.ts";
import type { InboxEnvelope, ToClientMsg } from "../fsproto/messages.ts";
import type { ServerState } from "../scheduler/state.ts";
import { onSubmit, type Outbox, sendToWorker, stopUnfinished } from "../scheduler/reactor.ts";
import { onWorkerLost } from "../scheduler/worker_events.ts";
import { validateJobSubmit } from "../scheduler/validate.ts";
import { assertNever } from "../_assert_never.ts";
import {
  jobInfoData,
  jobListData,
  selectJobs,
  selectWorkers,
  taskExplainData,
  taskListData,
  workerListData,
} from "./queries.ts";

/** A `job wait` request answered when its jobs complete. */
export interface PendingWait {
  /** Client key. */
  client: string | null;
  /** Request number. */
  request: number;
  /** Jobs waited for. */
  jobIds: JobId[];
}

/** What handling a request produced. */
export interface Handled {
  /** Reply to send after the commit. */
  reply?: ToClientMsg;
  /** Key of an applied submit (for replay safety). */
  requestKey?: string;
  /** Job created by a submit. */
  jobId?: JobId;
  /** Whether the server should stop. */
  stop?: boolean;
}

/** Replayed submits already applied: request key to job id. */
export type AppliedRequests = Map<string, JobId>;

const applied: AppliedRequests = new Map();

/** Registers submits found in the journal so a replayed inbox file is not applied twice. */
export function rememberAppliedRequests(list: readonly { key: string; jobId: JobId }[]): void {
  for (const r of list) applied.set(r.key, r.jobId);
}

/** Handles one client request. Errors in the request become error replies. */
export function handleClientMsg(
  state: ServerState,
  env: InboxEnvelope,
  now: number,
  out: Outbox,
  waits: PendingWait[],
): Handled {
  const request = env.request;
  const msg = env.msg;
  try {
    switch (msg.kind) {
      case "submit": {
        const key = `${env.client}:${request}`;
        const done = applied.get(key);
        if (done !== undefined) return { reply: { kind: "submitted", request, jobId: done } };
        const job = validateJobSubmit(msg.job);
        const jobId = onSubmit(state, job, now);
        applied.set(key, jobId);
        return { reply: { kind: "submitted", request, jobId }, requestKey: key, jobId };
      }
      case "jobList":
        return { reply: { kind: "data", request, data: jobListData(state) } };
      case "jobInfo":
        return { reply: { kind: "data", request, data: jobInfoData(state, msg.selector) } };
      case "taskList":
        return {
          reply: { kind: "data", request, data: taskListData(state, msg.selector, msg.taskIds) },
        };
      case "taskExplain":
        return {
          reply: {
            kind: "data",
            request,
            data: taskExplainData(state, msg.selector, msg.taskId, now),
          },
        };
      case "jobCancel": {
        const results = selectJobs(state, msg.selector).map((id) => {
          const job = state.jobs.get(id)!;
          const canceled = stopUnfinished(state, job, "canceled", now, out);
          if (canceled > 0 && msg.reason !== null) {
            job.cancelReason = msg.reason;
            state.dirtyJobs.add(id);
          }
          return { id, canceled };
        });
        return { reply: { kind: "data", request, data: results } };
      }
      case "jobWait": {
        const jobIds = selectJobs(state, msg.selector);
        waits.push({ client: env.client, request, jobIds });
        return {};
      }
      case "workerList":
        return { reply: { kind: "data", request, data: workerListData(state) } };
      case "workerStop": {
        const stopped: number[] = [];
        for (const id of selectWorkers(state, msg.selector)) {
          const w = state.workers.get(id)!;
          if (w.state !== "running") continue;
          sendToWorker(out, id, { kind: "stop", reason: "stopped" });
          onWorkerLost(state, id, "stopped", now);
          stopped.push(id);
        }
        return { reply: { kind: "data", request, data: stopped } };
      }
      case "serverStop":
        return { reply: { kind: "data", request, data: null }, stop: true };
      case "ping":
        return { reply: { kind: "data", request, data: { serverUid: state.serverUid } } };
      case "registerWorker":
        return {
          reply: {
            kind: "error",
            request,
            message: "Cannot handle registerWorker as a client request",
          },
        };
      default:
        return assertNever(msg, "client request");
    }
  } catch (e) {
    return { reply: { kind: "error", request, message: (e as Error).message } };
  }
}
