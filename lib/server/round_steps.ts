/**
 * The steps of a server round (see `round.ts`): applying an inbox item or a
 * worker record, stopping every worker, forgetting jobs past their retention,
 * the journal batch and the answers to completed `job wait`s. Pure.
 *
 * @module
 */
import { assertNever, type WorkerId } from "../common/mod.ts";
import {
  type FromWorkerMsg,
  type InboxEnvelope,
  type InboxItem,
  isAllocMsg,
  isJournalMsg,
  isValidKey,
  validateWorkerConfig,
} from "../protocol/mod.ts";
import { type JournalBatch, takeBatch } from "../journal/mod.ts";
import {
  forgetJob,
  heldJobs,
  onTaskUpdates,
  onWorkerLost,
  onWorkerReattached,
  onWorkerRegistered,
  onWorkerSeen,
  type Outbox,
  sampleRoundTrip,
  sendToWorker,
  type ServerState,
} from "../scheduler/mod.ts";
import { handleClientMsg } from "./client_requests.ts";
import { takeQueueBatch } from "../autoalloc/mod.ts";
import { handleAllocMsg } from "./alloc_requests.ts";
import { jobListData, jobsComplete } from "./queries.ts";
import { handleJournalMsg } from "./journal_requests.ts";
import { RETENTION_CHECK_MS, type RoundOutput, type ServerSession } from "./session.ts";

/** Applies one inbox item: a registration, an `hq alloc` or `hq journal` request, or another. */
export function applyInboxItem(
  session: ServerSession,
  item: InboxItem,
  now: number,
  out: RoundOutput,
  requestsDone: JournalBatch["requestsDone"],
): void {
  const { state } = session;
  if (item.kind === "rejected") {
    out.log.push(`[server] rejected inbox file ${item.name}: ${item.reason}`);
    out.reject.push({ name: item.name, reason: item.reason });
    return;
  }
  const env = item.envelope;
  const msg = env.msg;
  if (msg.kind === "registerWorker") {
    const known = state.workerKeys.has(msg.key);
    const result = registerWorker(state, env, now, out.outbox);
    if (typeof result === "string") {
      out.log.push(`[server] rejected worker registration ${item.name}: ${result}`);
      out.reject.push({ name: item.name, reason: result });
      // Tell the worker, or it waits for its registration for ever.
      if (isValidKey(msg.key)) out.refused.push({ key: msg.key, reason: result });
      return;
    }
    // A known key is a running worker whose channel is open, or an ended one.
    if (!known) out.open.push({ workerId: result, key: msg.key });
    out.log.push(`[server] worker ${result} registered from ${msg.config.hostname}`);
  } else if (isJournalMsg(msg)) {
    const handled = handleJournalMsg(session.journal, state, { ...env, msg });
    out.replies.push({ client: env.client, msg: handled.reply });
    if (handled.flush) out.flush = true;
  } else if (isAllocMsg(msg)) {
    const handled = handleAllocMsg(session, state, env.client, env.request, msg, now);
    if (handled.reply) out.replies.push({ client: env.client, msg: handled.reply });
    out.autoalloc.push(...handled.actions);
    out.log.push(...handled.log);
  } else {
    const handled = handleClientMsg(state, { ...env, msg }, now, out.outbox, session.waits);
    if (handled.reply) out.replies.push({ client: env.client, msg: handled.reply });
    out.replies.push(...handled.notices ?? []);
    if (handled.requestKey !== undefined && handled.jobId !== undefined) {
      requestsDone.push({ key: handled.requestKey, jobId: handled.jobId });
      session.forget.set(item.name, handled.requestKey);
    }
    if (handled.stop) out.stop = true;
  }
  out.processed.push(item.name);
}

/** Applies one worker record; true when it changed task or worker state. */
export function applyRecord(
  session: ServerSession,
  workerId: WorkerId,
  msg: FromWorkerMsg,
  now: number,
  out: RoundOutput,
): boolean {
  const { state, probe } = session;
  onWorkerSeen(state, workerId, now);
  switch (msg.kind) {
    case "heartbeat":
      return false;
    case "taskUpdates": {
      // The worker's answer to tasks sent at `echo`: one round trip, for its prefill cap.
      const worker = state.workers.get(workerId);
      if (worker && msg.echo !== undefined) sampleRoundTrip(worker, now - msg.echo);
      onTaskUpdates(state, workerId, msg.updates, now, out.outbox);
      probe?.afterUpdates?.(workerId, msg.updates);
      return true;
    }
    case "stopping":
      out.log.push(`[server] worker ${workerId} stopping: ${msg.reason}`);
      onWorkerLost(state, workerId, msg.reason, now);
      return true;
    case "ack":
      out.acks.push({ workerId, segment: msg.segment });
      return false;
    case "reattached":
      onWorkerReattached(state, workerId, msg.running, now, out.outbox);
      out.log.push(
        `[server] worker ${workerId} reattached with ${msg.running.length} running tasks`,
      );
      return true;
    default:
      return assertNever(msg, "worker record");
  }
}

/** Validates and applies a registration; returns the worker's id, or why it was refused. */
export function registerWorker(
  state: ServerState,
  env: InboxEnvelope,
  now: number,
  out: Outbox,
): WorkerId | string {
  const msg = env.msg;
  if (msg.kind !== "registerWorker") return "not a registration";
  if (!isValidKey(msg.key)) return `invalid worker key "${msg.key}"`;
  let config;
  try {
    config = validateWorkerConfig(msg.config);
  } catch (e) {
    return (e as Error).message;
  }
  return onWorkerRegistered(state, msg.key, config, now, out);
}

/** Ends every running worker as the server stops, telling each. */
export function stopAllWorkers(state: ServerState, now: number, out: Outbox): void {
  for (const w of state.workers.values()) {
    if (w.state !== "running") continue;
    sendToWorker(out, w.id, { kind: "stop", reason: "serverStopped" });
    onWorkerLost(state, w.id, "stopped", now);
  }
  state.needsSchedule = false;
}

/** Forgets the jobs that completed longer ago than the retention allows. */
export function forgetExpired(session: ServerSession, now: number, out: RoundOutput): void {
  const { retention, state } = session;
  if (retention.ms === null || now - retention.lastCheck < RETENTION_CHECK_MS) return;
  retention.lastCheck = now;
  let n = 0;
  let held: Set<number> | undefined;
  for (const job of [...state.jobs.values()]) {
    if (job.completedAt !== null && now - job.completedAt >= retention.ms) {
      held ??= heldJobs(state);
      if (forgetJob(state, job.id, held)) n++;
    }
  }
  if (n > 0) out.log.push(`[server] forgot ${n} completed jobs past their retention`);
}

/** The round's journal batch, or null when it would be empty. */
export function journalBatch(
  session: ServerSession,
  offsets: JournalBatch["offsets"],
  requestsDone: JournalBatch["requestsDone"],
  processed: ReadonlySet<string>,
): JournalBatch | null {
  const requestsForget: string[] = [];
  for (const [name, key] of session.forget) {
    if (processed.has(name)) continue;
    requestsForget.push(key);
    session.forget.delete(name);
  }
  const batch = {
    ...takeBatch(session.state),
    offsets,
    requestsDone,
    requestsForget,
    ...takeQueueBatch(session.autoalloc),
  };
  const empty = !batch.meta && batch.jobs.length === 0 && batch.tasks.length === 0 &&
    !batch.bulk &&
    batch.workers.length === 0 && offsets.length === 0 && requestsDone.length === 0 &&
    requestsForget.length === 0 && batch.queues.length === 0 && !batch.jobsRemoved &&
    !batch.workersRemoved &&
    batch.queuesRemoved.length === 0 && batch.nextQueueId === undefined;
  return empty ? null : batch;
}

/** Answers the `job wait`s whose jobs completed (all of them when the server stops). */
export function answerWaits(session: ServerSession, out: RoundOutput): void {
  const { state, waits } = session;
  for (let i = waits.length - 1; i >= 0; i--) {
    const w = waits[i]!;
    if (!out.stop && !jobsComplete(state, w.jobIds, w.withoutClose)) continue;
    const infos = jobListData(state).filter((j) => w.jobIds.includes(j.id));
    out.replies.push({ client: w.client, msg: { kind: "data", request: w.request, data: infos } });
    waits.splice(i, 1);
  }
}
