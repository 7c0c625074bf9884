/**
 * `hq alloc ...` requests in the server: queues added (after a dry run
 * unless `--no-dry-run`), listed, described, explained, paused, resumed and
 * removed, and where an allocation's files are. Pure; the batch system's
 * commands come out as actions for the shell.
 *
 * @module
 */
import {
  addQueue,
  type Allocation,
  type AutoallocAction,
  type AutoallocContext,
  type AutoallocState,
  checkAdditionalArgs,
  decideSubmissions,
  dryRunAction,
  findAllocation,
  liveAllocations,
  pauseQueue,
  type Queue,
  queueWorkerType,
  removeQueue,
  resumeQueue,
} from "../autoalloc/mod.ts";
import {
  type AllocationView,
  type AllocExplainView,
  type AllocMsg,
  type QueueParams,
  type QueueView,
  type ToClientMsg,
  validateQueueParams,
} from "../protocol/mod.ts";
import { assertNever } from "../common/mod.ts";
import type { ServerState } from "../scheduler/mod.ts";

/** A dry run waiting for the shell: who asked, and whether the queue is added after it. */
export interface PendingDryRun {
  client: string | null;
  request: number;
  params: QueueParams;
  add: boolean;
}

/** Automatic allocation's part of the server session. */
export interface AllocSession {
  readonly autoalloc: AutoallocState;
  /** What scripts need; null where nothing can be submitted (the simulation). */
  readonly autoallocContext: AutoallocContext | null;
  /** Dry runs by token. */
  readonly dryRuns: Map<number, PendingDryRun>;
}

/** What an alloc request produced. */
export interface AllocHandled {
  /** Reply now; absent when a dry run answers later. */
  reply?: ToClientMsg;
  actions: AutoallocAction[];
  log: string[];
}

/** An allocation as replies show it. */
export function allocationView(a: Allocation): AllocationView {
  return {
    id: a.id,
    queueId: a.queueId,
    workerCount: a.workerCount,
    dir: a.dir,
    state: a.state,
    queuedAt: a.queuedAt,
    startedAt: a.startedAt,
    endedAt: a.endedAt,
    connected: Object.keys(a.connected).map(Number),
    disconnected: Object.keys(a.disconnected).map(Number),
    endReason: a.endReason,
  };
}

/** A queue as replies show it. */
export function queueView(queue: Queue, now: number): QueueView {
  return {
    id: queue.id,
    params: queue.params,
    state: queue.state,
    pauseReason: queue.pauseReason,
    submitFailures: queue.submitFailures,
    allocationFailures: queue.allocationFailures,
    backoffUntil: now < queue.nextSubmitAt ? queue.nextSubmitAt : null,
    allocations: [...queue.allocations.values()].sort((a, b) => a.queuedAt - b.queuedAt)
      .map(allocationView),
  };
}

function queueOf(aa: AutoallocState, queueId: number): Queue {
  const queue = aa.queues.get(queueId);
  if (!queue) throw new RangeError(`Allocation queue ${queueId} not found`);
  return queue;
}

function explain(
  session: AllocSession,
  sched: ServerState,
  queueId: number,
  now: number,
): AllocExplainView {
  const aa = session.autoalloc;
  const queue = queueOf(aa, queueId);
  const decision = decideSubmissions(aa, sched, now).find((d) => d.queueId === queueId)!;
  const type = queueWorkerType(queue);
  return {
    queue: queueView(queue, now),
    now,
    submit: decision.submit,
    limits: decision.limits,
    demand: decision.demand.map((d) => ({
      variants: sched.classes.get(d.classId)?.variants ?? [],
      tasks: d.tasks,
    })),
    wantedWorkers: decision.wantedWorkers,
    multiNode: decision.multiNode,
    queuedAllocations: decision.queuedAllocations,
    workers: decision.workers,
    workerResources: Object.fromEntries(type.capacity),
    guessed: type.partial,
  };
}

/** Handles one `hq alloc` request. Errors become error replies. */
export function handleAllocMsg(
  session: AllocSession,
  sched: ServerState,
  client: string | null,
  request: number,
  msg: AllocMsg,
  now: number,
): AllocHandled {
  const aa = session.autoalloc;
  const data = (d: unknown): AllocHandled => ({
    reply: { kind: "data", request, data: d },
    actions: [],
    log: [],
  });
  try {
    switch (msg.kind) {
      case "allocAdd":
      case "allocDryRun": {
        const params = validateQueueParams(msg.params);
        const refused = checkAdditionalArgs(params.manager, params.additionalArgs);
        if (refused !== null) throw new RangeError(refused);
        const add = msg.kind === "allocAdd";
        if (add && !msg.dryRun) {
          const queue = addQueue(aa, params, now);
          return { ...data({ queueId: queue.id }), log: [`[autoalloc] queue ${queue.id} added`] };
        }
        const ctx = session.autoallocContext;
        if (ctx === null) throw new Error("Automatic allocation is not available here");
        const token = aa.nextDryRun++;
        session.dryRuns.set(token, { client, request, params, add });
        return { actions: [dryRunAction(params, token, ctx)], log: [] };
      }
      case "allocList":
        return data([...aa.queues.values()].map((q) => queueView(q, now)));
      case "allocInfo":
        return data(queueView(queueOf(aa, msg.queueId), now));
      case "allocExplain":
        return data(explain(session, sched, msg.queueId, now));
      case "allocPause": {
        const queue = queueOf(aa, msg.queueId);
        pauseQueue(aa, queue, "paused by the user");
        return data(null);
      }
      case "allocResume": {
        const queue = queueOf(aa, msg.queueId);
        resumeQueue(aa, queue, now);
        return { ...data(null), log: [`[autoalloc] queue ${queue.id} resumed`] };
      }
      case "allocRemove": {
        const queue = queueOf(aa, msg.queueId);
        const running = liveAllocations(queue).filter((a) => a.state === "running");
        if (running.length > 0 && !msg.force) {
          throw new Error(
            `Allocation queue ${queue.id} has running allocations (${
              running.map((a) => a.id).join(", ")
            }); use --force to cancel them`,
          );
        }
        const ids = removeQueue(aa, queue);
        const actions: AutoallocAction[] = ids.length === 0
          ? []
          : [{ kind: "cancel", manager: queue.params.manager, ids }];
        return {
          ...data({ canceled: ids }),
          actions,
          log: [`[autoalloc] queue ${queue.id} removed`],
        };
      }
      case "allocLog": {
        const found = findAllocation(aa, msg.allocationId);
        if (!found) throw new RangeError(`Allocation ${msg.allocationId} not found`);
        return data(allocationView(found.allocation));
      }
      default:
        return assertNever(msg, "alloc request");
    }
  } catch (e) {
    return {
      reply: { kind: "error", request, message: (e as Error).message },
      actions: [],
      log: [],
    };
  }
}

/** Answers a finished dry run: the queue is added (or the test reported) or the error told. */
export function finishDryRun(
  session: AllocSession,
  token: number,
  error: string | null,
  now: number,
): { client: string | null; reply: ToClientMsg; log: string[] } | null {
  const pending = session.dryRuns.get(token);
  if (!pending) return null;
  session.dryRuns.delete(token);
  const { client, request } = pending;
  if (error !== null) {
    return {
      client,
      reply: { kind: "error", request, message: `Could not submit allocation: ${error}` },
      log: [],
    };
  }
  if (!pending.add) return { client, reply: { kind: "data", request, data: null }, log: [] };
  const queue = addQueue(session.autoalloc, pending.params, now);
  return {
    client,
    reply: { kind: "data", request, data: { queueId: queue.id } },
    log: [`[autoalloc] queue ${queue.id} added`],
  };
}
