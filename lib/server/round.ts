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
import { type WorkerId } from "../common/mod.ts";
import { decodeFromWorker, type FromWorkerMsg } from "../protocol/mod.ts";
import { type JournalBatch } from "../journal/mod.ts";
import {
  awaitingReattach,
  endReattachIfDone,
  expireReattach,
  onTick,
  onWorkerLost,
  schedule,
  sendToWorker,
} from "../scheduler/mod.ts";
import { autoallocStep } from "./alloc_round.ts";
import { streamReplies } from "./journal_requests.ts";
import type { RoundInputs, RoundOutput, ServerSession } from "./session.ts";
import {
  answerWaits,
  applyInboxItem,
  applyRecord,
  forgetExpired,
  journalBatch,
  stopAllWorkers,
} from "./round_steps.ts";

export * from "./session.ts";

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
