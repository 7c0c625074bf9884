/**
 * One server round, written once: the server shell (`run.ts`) and the
 * simulation (`lib/scheduler/sim/harness.ts`) both call {@link serverRound}.
 * It takes what the shell read (inbox items, decoded channel records, workers
 * found dead on this host, a stop signal) and `now`, applies them in a fixed
 * order, and says what the shell must do. No I/O, no clock, no randomness.
 *
 * Order within a round:
 * 1. inbox items in name order: registrations, client requests;
 * 2. channel records, per worker in the order given, of workers still running;
 * 3. workers whose process is gone (after what they wrote before dying);
 * 4. periodic checks (`onTick`): heartbeats, idle timeouts, lapsed reservations;
 * 5. a stop (signal or `server stop`) ends every worker;
 * 6. after a takeover, workers that did not reattach in time are lost;
 * 7. a scheduling pass when one is needed and no restored worker is still reattaching;
 * 8. the journal batch, then the answers to `job wait`s that completed.
 *
 * The shell then commits the batch and only after that sends the outbox,
 * closes the channels of ended workers, replies and removes inbox files.
 *
 * @module
 */
import { assertNever, type WorkerId } from "../common/mod.ts";
import {
  decodeFromWorker,
  type FromWorkerMsg,
  type InboxEnvelope,
  type InboxItem,
  isAllocMsg,
  isJournalMsg,
  isValidKey,
  type TaskUpdate,
  type ToClientMsg,
  validateWorkerConfig,
} from "../protocol/mod.ts";
import { type JournalBatch, takeBatch } from "../journal/mod.ts";
import {
  awaitingReattach,
  endReattachIfDone,
  expireReattach,
  forgetJob,
  heldJobs,
  onTaskUpdates,
  onTick,
  onWorkerLost,
  onWorkerReattached,
  onWorkerRegistered,
  onWorkerSeen,
  type Outbox,
  schedule,
  sendToWorker,
  type ServerState,
} from "../scheduler/mod.ts";
import { handleClientMsg, type PendingWait } from "./client_requests.ts";
import {
  type AutoallocAction,
  type AutoallocContext,
  type AutoallocEvent,
  type AutoallocState,
  createAutoallocState,
  takeQueueBatch,
} from "../autoalloc/mod.ts";
import { type AllocSession, handleAllocMsg, type PendingDryRun } from "./alloc_requests.ts";
import { autoallocStep } from "./alloc_round.ts";
import { jobListData, jobsComplete } from "./queries.ts";
import {
  createJournalSession,
  handleJournalMsg,
  type JournalSession,
  streamReplies,
} from "./journal_requests.ts";

/** Hooks between a round's phases, for the simulation's invariant checks. */
export interface RoundProbe {
  /** After a phase that changed something: the inbox, the channel records, the periodic checks. */
  afterPhase?(phase: "inbox" | "records" | "tick"): void;
  /** After one batch of task updates from a worker. */
  afterUpdates?(workerId: WorkerId, updates: readonly TaskUpdate[]): void;
}

/** What the server keeps between rounds besides the scheduler state. */
export interface ServerSession extends AllocSession {
  /** Scheduler state, applied submits included. */
  readonly state: ServerState;
  /** `job wait` requests not answered yet. */
  readonly waits: PendingWait[];
  /**
   * Inbox files of applied submits, with their request keys: the journal forgets a key in
   * the first round after its file was removed.
   */
  readonly forget: Map<string, string>;
  /** Checks between phases (simulation only). */
  readonly probe?: RoundProbe;
  /** Journal events: the server's start and the clients streaming them. */
  readonly journal: JournalSession;
  /** Completed jobs' retention (null: kept) and when it was last applied. */
  readonly retention: { ms: number | null; lastCheck: number };
}

/** Automatic allocation of a new session. */
export interface SessionAutoalloc {
  /** Restored state; empty by default. */
  state?: AutoallocState;
  /** What scripts need; without it nothing is submitted (the simulation). */
  context?: AutoallocContext | null;
}

/** Options of a new session besides its state. */
export interface SessionOptions {
  /** When the server started (its journal's `server-start` event). @default 0 */
  startedAt?: number;
  /**
   * How long a completed job is kept before it is forgotten as by `hq job forget`
   * (`server start --job-retention`), ms. @default null (kept until forgotten)
   */
  jobRetentionMs?: number | null;
}

/** Least time between two looks for jobs past their retention, ms. */
const RETENTION_CHECK_MS = 1000;

/** A session around `state`, with no pending waits. */
export function createServerSession(
  state: ServerState,
  probe?: RoundProbe,
  autoalloc: SessionAutoalloc = {},
  options: SessionOptions = {},
): ServerSession {
  return {
    state,
    waits: [],
    forget: new Map(),
    journal: createJournalSession(options.startedAt ?? 0),
    retention: { ms: options.jobRetentionMs ?? null, lastCheck: 0 },
    ...(probe ? { probe } : {}),
    autoalloc: autoalloc.state ?? createAutoallocState(),
    autoallocContext: autoalloc.context ?? null,
    dryRuns: new Map<number, PendingDryRun>(),
  };
}

/** Where a channel reader stands: segment number and byte offset. */
export interface ChannelPosition {
  segment: number;
  /** Byte offset within the segment. */
  offset: number;
}

/** What one worker's channel held this round. */
export interface ChannelInput {
  /** The worker. */
  workerId: WorkerId;
  /** Its records, decoded, in channel order. */
  records: readonly FromWorkerMsg[];
  /** Where the reader stands after them (journaled). */
  position: ChannelPosition;
  /** Whether the reader moved past a segment (the worker may drop old segments). */
  rotated: boolean;
}

/** What the shell read for a round. */
export interface RoundInputs {
  /** Inbox files in name order, decoded or rejected by the reader. */
  inbox: readonly InboxItem[];
  /** Channels that had records or rotated, in the shell's order. */
  channels: readonly ChannelInput[];
  /** Running workers on this host whose process is gone. */
  dead: readonly WorkerId[];
  /** Whether a stop signal arrived. */
  stopSignal: boolean;
  /** Reports of the batch system commands the shell ran (none when absent). */
  autoalloc?: readonly AutoallocEvent[];
}

/** A reply to a client, sent after the commit. */
export interface ClientReply {
  /** Client key (null: nobody to answer). */
  client: string | null;
  /** The reply. */
  msg: ToClientMsg;
}

/** What a round decided; the shell commits, then acts on the rest. */
export interface RoundOutput {
  /** Messages per worker, sent after the commit. */
  outbox: Outbox;
  /** Replies after the commit: to requests first, then to completed `job wait`s. */
  replies: ClientReply[];
  /** What to commit, or null when nothing durable changed. */
  batch: JournalBatch | null;
  /** Channels to open for workers registered this round (before sending). */
  open: { workerId: WorkerId; key: string }[];
  /** Workers that ended this round: their channels close after the outbox went out. */
  close: WorkerId[];
  /** Segments the workers acknowledged reading: older ones of their channel may go. */
  acks: { workerId: WorkerId; segment: number }[];
  /** Inbox files to move to `rejected/`, with the reason. */
  reject: { name: string; reason: string }[];
  /** Inbox files applied: removed after the commit. */
  processed: string[];
  /** Log lines, in order. */
  log: string[];
  /** Whether the round did work (the next one waits the round gap). */
  busy: boolean;
  /** Whether the server stops after this round. */
  stop: boolean;
  /** Whether a scheduling pass ran. */
  scheduled: boolean;
  /** Batch system commands to run, after the commit. */
  autoalloc: AutoallocAction[];
  /** Whether the journal must be forced to disk before the replies (`journal flush|prune`). */
  flush: boolean;
  /** Registrations refused: the worker with this key is told why (it has no id). */
  refused: { key: string; reason: string }[];
}

/** Decodes one worker's channel records; undecodable ones become log lines. */
export function decodeWorkerRecords(
  workerId: WorkerId,
  payloads: readonly string[],
): { records: FromWorkerMsg[]; log: string[] } {
  const records: FromWorkerMsg[] = [];
  const log: string[] = [];
  for (const payload of payloads) {
    try {
      records.push(decodeFromWorker(payload));
    } catch (e) {
      log.push(`[server] worker ${workerId}: ${(e as Error).message}`);
    }
  }
  return { records, log };
}

/** Runs one round over `inputs` at time `now`; mutates the session's state. */
export function serverRound(
  session: ServerSession,
  inputs: RoundInputs,
  now: number,
): RoundOutput {
  const { state, probe } = session;
  const out: RoundOutput = {
    outbox: new Map(),
    replies: [],
    batch: null,
    open: [],
    close: [],
    acks: [],
    reject: [],
    processed: [],
    log: [],
    busy: false,
    stop: inputs.stopSignal,
    scheduled: false,
    autoalloc: [],
    flush: false,
    refused: [],
  };
  const running = new Set<WorkerId>();
  for (const w of state.workers.values()) if (w.state === "running") running.add(w.id);
  const requestsDone: JournalBatch["requestsDone"] = [];
  let activity = false;

  for (const item of inputs.inbox) {
    activity = true;
    applyInboxItem(session, item, now, out, requestsDone);
  }
  if (inputs.inbox.length > 0) probe?.afterPhase?.("inbox");

  const offsets: JournalBatch["offsets"] = [];
  let records = false;
  for (const ch of inputs.channels) {
    // A worker stopped by a request of this round is no longer read.
    if (state.workers.get(ch.workerId)?.state !== "running") continue;
    activity = true;
    for (const msg of ch.records) {
      if (applyRecord(session, ch.workerId, msg, now, out)) records = true;
    }
    offsets.push({ workerId: ch.workerId, ...ch.position });
    if (ch.rotated) {
      sendToWorker(out.outbox, ch.workerId, { kind: "ack", segment: ch.position.segment });
    }
  }
  if (records) probe?.afterPhase?.("records");

  for (const id of inputs.dead) {
    if (state.workers.get(id)?.state !== "running") continue;
    onWorkerLost(state, id, "connectionLost", now);
    out.log.push(`[server] worker ${id} lost: its process is gone`);
  }

  const runningBeforeTick = new Set<WorkerId>();
  for (const w of state.workers.values()) if (w.state === "running") runningBeforeTick.add(w.id);
  onTick(state, now, out.outbox);
  let lostInTick = false;
  for (const id of runningBeforeTick) {
    const w = state.workers.get(id)!;
    if (w.state === "running") continue;
    out.log.push(`[server] worker ${id} lost: ${w.state}`);
    lostInTick = true;
  }
  if (lostInTick) probe?.afterPhase?.("tick");

  if (out.stop) stopAllWorkers(state, now, out.outbox);
  if (state.reattachUntil !== null) {
    endReattachIfDone(state);
    for (const id of expireReattach(state, now, out.outbox)) {
      out.log.push(`[server] worker ${id} lost: it did not reattach to this server`);
    }
  }
  // Until restored workers reattach, a waiting task may be running on one of them.
  if (state.needsSchedule && !awaitingReattach(state)) {
    schedule(state, now, out.outbox);
    out.scheduled = true;
  }

  const registered = out.open.map((o) => o.workerId);
  for (const id of registered) running.add(id);
  for (const id of running) if (state.workers.get(id)?.state !== "running") out.close.push(id);
  const alloc = autoallocStep(session, state, {
    events: inputs.autoalloc ?? [],
    registered,
    ended: out.close,
    newWork: requestsDone.length > 0,
    stop: out.stop,
  }, now);
  out.autoalloc.push(...alloc.actions);
  out.replies.push(...alloc.replies);
  out.log.push(...alloc.log);
  if ((inputs.autoalloc ?? []).length > 0) activity = true;

  forgetExpired(session, now, out);
  out.batch = journalBatch(session, offsets, requestsDone, new Set(out.processed));
  if (out.batch) out.replies.push(...streamReplies(session.journal, state, out.batch));
  answerWaits(session, out);
  out.busy = activity || out.outbox.size > 0;
  return out;
}

function applyInboxItem(
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
    if (handled.requestKey !== undefined && handled.jobId !== undefined) {
      requestsDone.push({ key: handled.requestKey, jobId: handled.jobId });
      session.forget.set(item.name, handled.requestKey);
    }
    if (handled.stop) out.stop = true;
  }
  out.processed.push(item.name);
}

/** Applies one worker record; true when it changed task or worker state. */
function applyRecord(
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
    case "taskUpdates":
      onTaskUpdates(state, workerId, msg.updates, now, out.outbox);
      probe?.afterUpdates?.(workerId, msg.updates);
      return true;
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

function registerWorker(
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

function stopAllWorkers(state: ServerState, now: number, out: Outbox): void {
  for (const w of state.workers.values()) {
    if (w.state !== "running") continue;
    sendToWorker(out, w.id, { kind: "stop", reason: "serverStopped" });
    onWorkerLost(state, w.id, "stopped", now);
  }
  state.needsSchedule = false;
}

/** Forgets the jobs that completed longer ago than the retention allows. */
function forgetExpired(session: ServerSession, now: number, out: RoundOutput): void {
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
function journalBatch(
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
    batch.workers.length === 0 && offsets.length === 0 && requestsDone.length === 0 &&
    requestsForget.length === 0 && batch.queues.length === 0 && !batch.jobsRemoved &&
    !batch.workersRemoved &&
    batch.queuesRemoved.length === 0 && batch.nextQueueId === undefined;
  return empty ? null : batch;
}

/** Answers the `job wait`s whose jobs completed (all of them when the server stops). */
function answerWaits(session: ServerSession, out: RoundOutput): void {
  const { state, waits } = session;
  for (let i = waits.length - 1; i >= 0; i--) {
    const w = waits[i]!;
    if (!out.stop && !jobsComplete(state, w.jobIds)) continue;
    const infos = jobListData(state).filter((j) => w.jobIds.includes(j.id));
    out.replies.push({ client: w.client, msg: { kind: "data", request: w.request, data: infos } });
    waits.splice(i, 1);
  }
}
