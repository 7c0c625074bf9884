/**
 * `hq journal replay|stream|prune|flush` on the server: past events from the
 * state, live events from each round's batch to the clients that stream,
 * pruning of completed jobs and ended workers, and a forced flush. Pure.
 *
 * @module
 */
import { assertNever } from "../common/mod.ts";
import type { InboxEnvelope, JournalMsg, ToClientMsg } from "../protocol/mod.ts";
import type { JournalBatch } from "../journal/mod.ts";
import { forgetJob, heldJobs, isJobComplete, type ServerState } from "../scheduler/mod.ts";
import { batchEvents, newStreamTracker, pastEvents, type StreamTracker } from "./journal_events.ts";

/** A client streaming live events. */
export interface JournalStream {
  client: string;
  request: number;
}

/** The server's journal-event bookkeeping. */
export interface JournalSession {
  /** When this server started (the `server-start` event). */
  startedAt: number;
  /** Clients of `journal stream`. */
  streams: JournalStream[];
  /** What the streams were told; null while nobody streams. */
  tracker: StreamTracker | null;
}

/** What a journal request asks of the round. */
export interface JournalHandled {
  reply: ToClientMsg;
  /** Whether the journal must be forced to disk before the reply. */
  flush: boolean;
}

/** A session for a server that started at `startedAt`. */
export function createJournalSession(startedAt: number): JournalSession {
  return { startedAt, streams: [], tracker: null };
}

/** Handles `journalEvents`, `journalPrune` and `journalFlush`. */
export function handleJournalMsg(
  session: JournalSession,
  state: ServerState,
  env: InboxEnvelope & { msg: JournalMsg },
): JournalHandled {
  const { msg, request, client } = env;
  switch (msg.kind) {
    case "journalEvents": {
      let tracker: StreamTracker | undefined;
      if (msg.live && client !== null) {
        // One tracker serves every stream: it starts from what the state tells now.
        tracker = session.tracker ?? newStreamTracker();
        session.tracker = tracker;
        session.streams.push({ client, request });
      }
      const events = pastEvents(state, session.startedAt, tracker);
      return { reply: { kind: "data", request, data: events }, flush: false };
    }
    case "journalPrune":
      prune(state);
      return { reply: { kind: "data", request, data: null }, flush: true };
    case "journalFlush":
      return { reply: { kind: "data", request, data: null }, flush: true };
    default:
      return assertNever(msg, "journal request");
  }
}

/** Drops every completed job and every ended worker from the state and the journal. */
export function prune(state: ServerState): void {
  const held = heldJobs(state);
  for (const job of [...state.jobs.values()]) {
    if (isJobComplete(job)) forgetJob(state, job.id, held);
  }
  for (const w of [...state.workers.values()]) {
    if (w.state === "running") continue;
    state.workers.delete(w.id);
    state.workerKeys.delete(w.key);
    state.dirtyWorkers.delete(w.id);
    state.removedWorkers.add(w.id);
  }
}

/** The live events of a committed batch, one reply per streaming client. */
export function streamReplies(
  session: JournalSession,
  state: ServerState,
  batch: JournalBatch,
): { client: string; msg: ToClientMsg }[] {
  if (session.streams.length === 0 || session.tracker === null) return [];
  const events = batchEvents(state, batch, session.tracker);
  if (events.length === 0) return [];
  return session.streams.map((s) => ({
    client: s.client,
    msg: { kind: "data", request: s.request, data: events },
  }));
}

/** Forgets a client's streams (its reply channel is gone). */
export function dropStreams(session: JournalSession, client: string): void {
  session.streams = session.streams.filter((s) => s.client !== client);
  if (session.streams.length === 0) session.tracker = null;
}
