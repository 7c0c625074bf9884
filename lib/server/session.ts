/**
 * What the server keeps between rounds (`ServerSession`), what a round reads
 * (`RoundInputs`) and what it decides (`RoundOutput`).
 *
 * @module
 */
import { type WorkerId } from "../common/mod.ts";
import {
  type FromWorkerMsg,
  type InboxItem,
  type TaskUpdate,
  type ToClientMsg,
} from "../protocol/mod.ts";
import { type JournalBatch } from "../journal/mod.ts";
import { type Outbox, type ServerState } from "../scheduler/mod.ts";
import { type PendingWait } from "./client_requests.ts";
import {
  type AutoallocAction,
  type AutoallocContext,
  type AutoallocEvent,
  type AutoallocState,
  createAutoallocState,
} from "../autoalloc/mod.ts";
import { type AllocSession, type PendingDryRun } from "./alloc_requests.ts";
import { createJournalSession, type JournalSession } from "./journal_requests.ts";

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
export const RETENTION_CHECK_MS = 1000;

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
