/**
 * Automatic allocation's step of a server round: the shell's reports
 * applied, workers of allocations followed as they come and go, a pass when
 * one is due, status queries when they are due, and at a stop the
 * cancellation of every allocation. Pure; actions go out for the shell.
 *
 * @module
 */
import type { WorkerId } from "../common/mod.ts";
import {
  type AutoallocAction,
  type AutoallocEvent,
  decideSubmissions,
  liveAllocations,
  type ManagerKind,
  onAllocationWorker,
  onAllocationWorkerEnded,
  onAutoallocEvent,
  passDue,
  submissionAction,
} from "../autoalloc/mod.ts";
import { type ServerState, workerCapacity } from "../scheduler/mod.ts";
import { type AllocSession, finishDryRun } from "./alloc_requests.ts";
import type { ClientReply } from "./round.ts";

/** What the round tells the autoalloc step. */
export interface AllocStepInputs {
  /** Reports of the shell. */
  events: readonly AutoallocEvent[];
  /** Workers registered this round. */
  registered: readonly WorkerId[];
  /** Workers that ended this round. */
  ended: readonly WorkerId[];
  /** Whether jobs were submitted (or anything else that adds waiting tasks happened). */
  newWork: boolean;
  /** Whether the server stops after this round. */
  stop: boolean;
}

/** What the step decided. */
export interface AllocStepOutput {
  actions: AutoallocAction[];
  replies: ClientReply[];
  log: string[];
}

/** Ids of the live allocations of every queue, by batch system. */
function liveIdsByManager(session: AllocSession): Map<ManagerKind, string[]> {
  const ids = new Map<ManagerKind, string[]>();
  for (const q of session.autoalloc.queues.values()) {
    for (const a of liveAllocations(q)) {
      const list = ids.get(q.params.manager) ?? [];
      list.push(a.id);
      ids.set(q.params.manager, list);
    }
  }
  return ids;
}

function cancelAll(session: AllocSession): AutoallocAction[] {
  return [...liveIdsByManager(session)].map(([manager, ids]) => ({ kind: "cancel", manager, ids }));
}

/** Runs automatic allocation's part of a round at `now`. */
export function autoallocStep(
  session: AllocSession,
  sched: ServerState,
  inputs: AllocStepInputs,
  now: number,
): AllocStepOutput {
  const aa = session.autoalloc;
  const out: AllocStepOutput = { actions: [], replies: [], log: [] };
  // At a stop every allocation is cancelled, also those whose workers the stop just ended.
  const cancels = inputs.stop ? cancelAll(session) : [];
  for (const event of inputs.events) {
    if (event.kind === "dryRunDone") {
      const done = finishDryRun(session, event.token, event.error, now);
      if (done) {
        out.replies.push({ client: done.client, msg: done.reply });
        out.log.push(...done.log);
      }
      continue;
    }
    out.log.push(...onAutoallocEvent(aa, event, now));
    // An allocation of a queue removed while it was being submitted is cancelled.
    if (event.kind === "submitted" && !aa.queues.has(event.queueId)) {
      out.actions.push({ kind: "cancel", manager: event.manager, ids: [event.id] });
    }
  }
  for (const id of inputs.registered) {
    const w = sched.workers.get(id);
    if (!w) continue;
    const capacity = Object.fromEntries(workerCapacity(w.config));
    onAllocationWorker(aa, id, w.config.manager, capacity, now);
  }
  for (const id of inputs.ended) {
    const w = sched.workers.get(id);
    if (!w) continue;
    const lost = w.state === "connectionLost" || w.state === "heartbeatLost";
    onAllocationWorkerEnded(aa, id, w.config.manager, w.state, lost, now);
  }
  if (inputs.newWork) aa.wanted = true;
  out.log.push(...aa.log.splice(0));
  if (aa.forgottenDirs.length > 0) {
    out.actions.push({ kind: "removeDirs", dirs: aa.forgottenDirs.splice(0) });
  }
  if (inputs.stop) {
    out.actions.push(...cancels);
    return out;
  }
  const ctx = session.autoallocContext;
  if (ctx === null) return out;
  if (passDue(aa, now)) {
    aa.lastPassAt = now;
    aa.wanted = false;
    for (const d of decideSubmissions(aa, sched, now)) {
      const queue = aa.queues.get(d.queueId)!;
      for (const workers of d.submit) {
        const list = aa.inFlight.get(queue.id) ?? [];
        list.push(workers);
        aa.inFlight.set(queue.id, list);
        aa.dirtyQueues.add(queue.id);
        try {
          out.actions.push(submissionAction(queue, workers, ctx));
        } catch (e) {
          const error = (e as Error).message;
          out.log.push(
            ...onAutoallocEvent(
              aa,
              { kind: "submitFailed", queueId: queue.id, dir: "", error, workerCount: workers },
              now,
            ),
          );
          break;
        }
      }
    }
  }
  if (aa.refreshing === 0 && now - aa.lastRefreshAt >= aa.settings.refreshMs) {
    aa.lastRefreshAt = now;
    for (const [manager, list] of liveIdsByManager(session)) {
      out.actions.push({ kind: "status", manager, ids: list });
      aa.refreshing++;
    }
  }
  return out;
}
