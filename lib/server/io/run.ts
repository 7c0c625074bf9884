/**
 * The server process shell: reads the inbox and the worker channels, runs
 * the pure {@link serverRound} over what it read, commits one journal
 * transaction per round, and only then sends what the round decided. It
 * owns only files, timers and the clock.
 *
 * @module
 */
import { resolvePath, type WorkerId } from "../../common/mod.ts";
import { machineIdentity, processGone, randomToken } from "../../common/io/mod.ts";
import { CHANNEL, PROTOCOL_VERSION } from "../../protocol/mod.ts";
import {
  isNetworkFs,
  localHostname,
  readInbox,
  rejectInboxFile,
  removeInboxFile,
  type ServerIdentity,
  Waiter,
  writeFileAtomic,
} from "../../protocol/io/mod.ts";
import { restoreState, takeBatch } from "../../journal/mod.ts";
import { DEFAULT_SCHEDULER_CONFIG, type Outbox, REATTACH_WAIT_MS } from "../../scheduler/mod.ts";
import { lockJournal } from "./journal_lock.ts";
import { linkCurrent, openInstance, pruneOldInstances, unlinkCurrent } from "./instance.ts";
import { openGuardedJournal } from "./guarded_journal.ts";
import { createServerSession, dropStreams, serverRound, type ServerSession } from "../mod.ts";
import { Janitor } from "./janitor.ts";
import { persist } from "./persist.ts";
import { sentTasks, ServerLinks } from "./links.ts";
import { restoreAutoalloc, settingsFromEnv } from "../../autoalloc/mod.ts";
import { AutoallocDriver } from "../../autoalloc/io/mod.ts";

/** Least time between two rounds, so that bursts of records share a round (HyperQueue: 20 ms). */
const MIN_ROUND_GAP_MS = 10;
/** Longest time between two rounds that read every channel, whatever the watcher said. */
const SWEEP_EVERY_MS = 500;
/** Longest time committed state may wait before it is forced to disk. */
const FLUSH_EVERY_MS = 1000;
/** How often the processes of workers on this machine are checked for life. */
const LIVENESS_EVERY_MS = 250;

/** Program version reported by `server info`. */
export const VERSION = "0.1.0";

/** Options of {@link runServer}. */
export interface ServerOptions {
  /** Server directory. */
  serverDir: string;
  /** Turn watching off. @default auto (network filesystems poll only) */
  pollOnly?: boolean;
  /** Longest poll interval, ms. @default 250 */
  maxPollMs?: number;
  /** Lease rewrite interval, ms. @default 1000 */
  leaseIntervalMs?: number;
  /** Prefill bound per worker. @default 40 */
  prefillMax?: number;
  /** Idle timeout for workers that set none, ms. */
  idleTimeoutMs?: number | null;
  /** Log sink (one line per call). */
  log: (line: string) => void;
  /** Called once the server accepts requests. */
  onReady?: (identity: ServerIdentity) => void;
  /** Resolves when the server should stop (signals). */
  stopSignal?: Promise<void>;
  /**
   * Journal path (`--journal`): restored from when it exists and written
   * there. @default the instance's own journal, carried over from the previous instance
   */
  journalPath?: string;
  /** Longest time committed state waits before it is forced to disk, ms. @default 1000 */
  journalFlushPeriodMs?: number;
  /**
   * After taking over a crashed server's instance, how long scheduling waits for its
   * workers to reattach, ms. @default REATTACH_WAIT_MS
   */
  reattachWaitMs?: number;
  /** How long completed jobs are kept before they are forgotten, ms. @default null (kept) */
  jobRetentionMs?: number | null;
  /**
   * Words that start a worker in an allocation (absolute paths), e.g. Deno and the bundled
   * worker. Without them, `hq alloc add` is refused.
   */
  workerProgram?: readonly string[];
}

/** Clients the server still owes an answer or a stream: their directories stay. */
function busyClients(session: ServerSession): Set<string> {
  const busy = new Set<string>();
  for (const w of session.waits) if (w.client !== null) busy.add(w.client);
  for (const s of session.journal.streams) busy.add(s.client);
  for (const d of session.dryRuns.values()) if (d.client !== null) busy.add(d.client);
  return busy;
}

/** Runs a server until `server stop` or the stop signal. */
export async function runServer(options: ServerOptions): Promise<void> {
  const { log } = options;
  const journalPath = options.journalPath === undefined
    ? undefined
    : resolvePath(Deno.cwd(), options.journalPath);
  const flushEveryMs = options.journalFlushPeriodMs ?? FLUSH_EVERY_MS;
  const unlockJournal = journalPath === undefined
    ? () => {}
    : await lockJournal(journalPath, options.serverDir);
  // Claims the instance (one server per instance) and starts its lease, kept by a thread.
  const opened = await openInstance(options.serverDir, {
    leaseIntervalMs: options.leaseIntervalMs ?? 1000,
    externalJournal: journalPath !== undefined,
    log: (line) => log(`[server] ${line}`),
    onLost: (reason) => {
      // Another server may own the instance now: stop as if killed (the journal is whole
      // at every commit) and write nothing more.
      log(`[server] lost the instance: ${reason}; stopping at once`);
      Deno.exit(1);
    },
  }).catch((e) => {
    unlockJournal();
    throw e;
  });
  const { layout, lease } = opened;
  // Every commit checks the lease first (see guarded_journal.ts).
  const store = await openGuardedJournal(journalPath ?? layout.journal, {
    lease,
    copyFrom: opened.previousJournal,
  });
  if (!opened.takeover) {
    const removed = pruneOldInstances(options.serverDir, layout, log);
    if (removed.length > 0) log(`[server] removed old instances ${removed.join(", ")}`);
  }
  // The server started when it claimed the instance: its lease says so to the workers.
  const now0 = lease.startedAt;
  const data = store.load();
  // Workers of a crashed server's instance still poll it: they reattach.
  const reattachUntil = opened.takeover
    ? now0 + (options.reattachWaitMs ?? REATTACH_WAIT_MS)
    : undefined;
  const restored = restoreState(data, randomToken(6), now0, {
    ...DEFAULT_SCHEDULER_CONFIG,
    prefillMax: options.prefillMax ?? DEFAULT_SCHEDULER_CONFIG.prefillMax,
    workerIdleTimeoutMs: options.idleTimeoutMs ?? null,
  }, reattachUntil);
  const state = restored.state;
  const reattaching = [...state.workers.values()].filter((w) => w.reattaching);
  if (state.jobs.size > 0 || restored.lostWorkers > 0 || reattaching.length > 0) {
    log(
      `[server] restored ${state.jobs.size} jobs (${restored.requeued} tasks requeued, ${restored.lostWorkers} workers lost, ${reattaching.length} workers reattaching)`,
    );
  }
  const identity: ServerIdentity = {
    version: VERSION,
    protocol: PROTOCOL_VERSION,
    serverUid: state.serverUid,
    host: localHostname(),
    pid: Deno.pid,
    startedAt: now0,
    instance: layout.root,
    journal: journalPath ?? layout.journal,
  };
  await writeFileAtomic(layout.serverJson, JSON.stringify(identity, null, 2));
  await linkCurrent(options.serverDir, layout);
  store.commit(takeBatch(state));

  const networkFs = isNetworkFs(layout.root);
  const pollOnly = options.pollOnly ?? networkFs;
  const waiter = new Waiter({
    paths: [layout.inboxNew, layout.workers],
    pollOnly,
    maxMs: options.maxPollMs ?? 250,
    filter: (p) => p.startsWith(layout.inboxNew) || p.includes(`/${CHANNEL.toServer}.`),
  });
  log(
    `[server] started at ${options.serverDir} (instance ${layout.root}, ${
      waiter.watching ? "watch + poll" : "poll only"
    })`,
  );
  options.onReady?.(identity);

  const autoalloc = restoreAutoalloc(
    data.queues ?? [],
    data.nextQueueId ?? 1,
    settingsFromEnv((name) => Deno.env.get(name)),
  );
  if (autoalloc.queues.size > 0) {
    log(`[server] restored ${autoalloc.queues.size} allocation queues`);
  }
  const session = createServerSession(state, undefined, {
    state: autoalloc,
    context: options.workerProgram === undefined ? null : {
      program: options.workerProgram,
      serverDir: options.serverDir,
      instanceRoot: layout.root,
    },
  }, { startedAt: now0, jobRetentionMs: options.jobRetentionMs ?? null });
  const driver = new AutoallocDriver({ onEvent: () => waiter.notify(), log });
  if (options.workerProgram) {
    log(`[server] allocations start workers with ${options.workerProgram.join(" ")}`);
  }
  const links = new ServerLinks(layout, !networkFs, log);
  // Restored workers read on from their journaled offsets; the first record they get from
  // this server tells them that what came before is the dead server's.
  const offsets = new Map(data.offsets.map((o) => [o.workerId, o]));
  const restartNotes: Outbox = new Map();
  for (const w of reattaching) {
    state.sentBeforeRestart.set(w.id, await sentTasks(layout, w.key));
    const at = offsets.get(w.id);
    links.open(w.id, w.key, at && { segment: at.segment, offset: at.offset });
    restartNotes.set(w.id, [{ kind: "serverRestarted", serverStartedAt: now0 }]);
  }
  await links.send(restartNotes);
  let stopSignal = false;
  options.stopSignal?.then(() => {
    stopSignal = true;
    waiter.notify();
  });

  const here = machineIdentity();
  const janitor = new Janitor(layout, here, log);
  const retire = (id: WorkerId, now: number) => {
    const w = state.workers.get(id);
    if (w) janitor.retire(id, { key: w.key, pid: w.config.pid, process: w.config.process }, now);
  };
  // Workers that ended before this server started may have left their directories.
  for (const w of state.workers.values()) if (w.state !== "running") retire(w.id, now0);
  let lastRound = 0;
  let lastSweep = 0;
  let lastLiveness = 0;
  let dirtySince: number | null = null;
  // Channels opened last round: read in the next one.
  let fresh = new Set<WorkerId>(reattaching.map((w) => w.id));
  while (true) {
    await waiter.wait();
    // With a watcher, only the inbox and channels it reported are read; a wake by
    // the poll timer (writes from other hosts raise no events) reads everything.
    const changed = waiter.takeChanged();
    // The gap lets bursts of worker records share a round; it counts from the last
    // round that did work, and a client request alone (a wake by the inbox only) is
    // answered at once.
    const onlyInbox = changed !== null && changed.size > 0 &&
      [...changed].every((p) => p.startsWith(layout.inboxNew));
    const gap = Date.now() - lastRound;
    if (!onlyInbox && gap < MIN_ROUND_GAP_MS) {
      await new Promise((r) => setTimeout(r, MIN_ROUND_GAP_MS - gap));
    }
    const now = Date.now();
    const sweep = changed === null || now - lastSweep >= SWEEP_EVERY_MS;
    if (sweep) lastSweep = now;
    const inboxDirty = sweep || [...changed!].some((p) => p.startsWith(layout.inboxNew));
    // Workers on this machine whose process is gone (SIGKILL, crash) are lost
    // connections, once everything they wrote before dying is read.
    const dead: WorkerId[] = [];
    if (now - lastLiveness >= LIVENESS_EVERY_MS) {
      lastLiveness = now;
      janitor.sweep(now, () => busyClients(session));
      for (const w of state.workers.values()) {
        if (w.state === "running" && processGone(w.config.pid, w.config.process, here)) {
          dead.push(w.id);
        }
      }
    }
    const dirtyKeys = new Set<string>();
    for (const p of sweep ? [] : changed!) {
      if (p.startsWith(layout.workers + "/")) {
        dirtyKeys.add(p.slice(layout.workers.length + 1).split("/")[0]!);
      }
    }
    const inbox = inboxDirty ? await readInbox(layout, Deno.uid()) : [];
    const channels = await links.read(
      state,
      (key, id) => sweep || dirtyKeys.has(key) || dead.includes(id) || fresh.has(id),
    );

    const events = driver.take();
    const round = serverRound(
      session,
      { inbox, channels, dead, stopSignal, autoalloc: events },
      now,
    );
    for (const line of round.log) log(line);
    for (const r of round.reject) {
      await rejectInboxFile(layout, r.name, r.reason).catch((e) =>
        log(`[server] could not move inbox file ${r.name} to rejected/: ${(e as Error).message}`)
      );
    }
    for (const a of round.acks) await links.acknowledge(a.workerId, a.segment);
    fresh = new Set(round.open.filter((o) => links.open(o.workerId, o.key)).map((o) => o.workerId));
    if (round.batch) dirtySince ??= now;
    // A submit is acknowledged only once it is on disk; the rest is flushed about once a second.
    const flush = (round.batch?.requestsDone.length ?? 0) > 0 || round.flush ||
      (dirtySince !== null && now - dirtySince >= flushEveryMs);
    const written = await persist(store, round.batch, flush, {
      log,
      giveUp: () => stopSignal,
    });
    if (!written) {
      log("[server] stopping without writing the last round: the journal cannot be written");
      break;
    }
    if (flush) dirtySince = null;

    // Committed: now tell the world.
    await links.send(round.outbox);
    // Channels of ended workers are dropped only now, after their last
    // messages (a `stop`) went out.
    links.close(round.close);
    for (const id of round.close) retire(id, now);
    for (const r of round.refused) await links.refuse(r.key, r.reason);
    // A client that went away stops streaming journal events.
    for (const client of await links.retryReplies()) dropStreams(session.journal, client);
    for (const r of round.replies) {
      if ((await links.reply(r.client, r.msg)) === "gone" && r.client !== null) {
        dropStreams(session.journal, r.client);
      }
    }
    for (const name of round.processed) {
      await removeInboxFile(layout, name).catch((e) =>
        log(`[server] could not remove inbox file ${name}: ${(e as Error).message}`)
      );
    }
    for (const action of round.autoalloc) driver.run(action);
    if (round.busy) {
      waiter.busy();
      lastRound = now;
    }
    if (round.stop) break;
  }

  // Allocations are cancelled before the server goes.
  await driver.idle();
  waiter.close();
  links.closeAll();
  await store.flush().catch((e) =>
    log(`[server] could not flush the journal at the end: ${(e as Error).message}`)
  );
  // The link goes first: a starter then makes a new instance rather than taking this one over.
  await unlinkCurrent(options.serverDir, layout);
  await lease.stop(true);
  await store.close();
  unlockJournal();
  log("[server] stopped");
}
