/**
 * The server process shell: reads the inbox and the worker channels, applies
 * them through the reactors, schedules, commits one journal transaction per
 * round, and only then sends what the round decided.
 *
 * @module
 */
import { join } from "node:path";
import { copyFile } from "node:fs/promises";
import type { WorkerId } from "../ids.ts";
import { randomToken } from "../ids.ts";
import type { InboxEnvelope, ToClientMsg } from "../fsproto/messages.ts";
import { PROTOCOL_VERSION } from "../fsproto/messages.ts";
import { decodeFromWorker, encodeToClient, encodeToWorker } from "../fsproto/codec.ts";
import { ChannelReader, ChannelWriter } from "../fsproto/channel_file.ts";
import { CHANNEL, clientDir, isValidKey, workerDir, workerOutboxDir } from "../fsproto/layout.ts";
import { readInbox, rejectInboxFile, removeInboxFile } from "../fsproto/inbox.ts";
import { isNetworkFs, Waiter } from "../fsproto/waiter.ts";
import { localHostname, type ServerIdentity } from "../fsproto/server_dir.ts";
import { writeFileAtomic } from "../fsproto/fs_util.ts";
import { LmdbJournalStore } from "../journal/lmdb_store.ts";
import { restoreState, takeBatch } from "../journal/restore.ts";
import type { JournalBatch } from "../journal/store.ts";
import { DEFAULT_SCHEDULER_CONFIG, type ServerState } from "../scheduler/state.ts";
import { onTaskUpdates, type Outbox } from "../scheduler/reactor.ts";
import { onTick, onWorkerLost, onWorkerRegistered } from "../scheduler/worker_events.ts";
import { schedule } from "../scheduler/schedule.ts";
import { lockJournal } from "./journal_lock.ts";
import { resolvePath } from "../path.ts";
import { LeaseKeeper, linkCurrent, openInstance, unlinkCurrent } from "./instance.ts";
import { handleClientMsg, type PendingWait } from "./client_requests.ts";
import { jobListData, jobsComplete } from "./queries.ts";
import { assertNever } from "../_assert_never.ts";
import { validateWorkerConfig } from "../scheduler/validate.ts";
import { machineIdentity, processGone } from "../worker/liveness.ts";

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
}

interface WorkerChannels {
  reader: ChannelReader;
  writer: ChannelWriter;
}

/** Runs a server until `server stop` or the stop signal. */
export async function runServer(options: ServerOptions): Promise<void> {
  const { log } = options;
  const journalPath = options.journalPath === undefined
    ? undefined
    : resolvePath(Deno.cwd(), options.journalPath);
  const flushEveryMs = options.journalFlushPeriodMs ?? FLUSH_EVERY_MS;
  const opened = await openInstance(options.serverDir);
  const layout = opened.layout;
  const unlockJournal = journalPath === undefined
    ? () => {}
    : await lockJournal(journalPath, options.serverDir);
  if (opened.previousJournal && journalPath === undefined) {
    await copyFile(join(opened.previousJournal, "data.mdb"), join(layout.journal, "data.mdb"));
  }
  const store = new LmdbJournalStore(journalPath ?? layout.journal);
  const now0 = Date.now();
  const data = store.load();
  const restored = restoreState(data, randomToken(6), now0, {
    ...DEFAULT_SCHEDULER_CONFIG,
    prefillMax: options.prefillMax ?? DEFAULT_SCHEDULER_CONFIG.prefillMax,
    workerIdleTimeoutMs: options.idleTimeoutMs ?? null,
  });
  const state = restored.state;
  if (state.jobs.size > 0 || restored.lostWorkers > 0) {
    log(
      `[server] restored ${state.jobs.size} jobs (${restored.requeued} tasks requeued, ${restored.lostWorkers} workers lost)`,
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
  const lease = new LeaseKeeper(layout.lease, options.leaseIntervalMs ?? 1000, now0);
  await writeFileAtomic(layout.serverJson, JSON.stringify(identity, null, 2));
  await lease.start();
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

  const channels = new Map<WorkerId, WorkerChannels>();
  const clientWriters = new Map<string, ChannelWriter>();
  const waits: PendingWait[] = [];
  const doneRequests = new Map<string, string>(); // inbox file name -> request key to forget
  let stopRequested = false;
  options.stopSignal?.then(() => {
    stopRequested = true;
    waiter.notify();
  });

  const openChannels = (
    workerId: WorkerId,
    key: string,
    start?: { segment: number; offset: number },
  ) => {
    const dir = workerDir(layout, key);
    channels.set(workerId, {
      reader: new ChannelReader(dir, CHANNEL.toServer, start, { keepOpen: !networkFs }),
      writer: new ChannelWriter(workerOutboxDir(layout, key), CHANNEL.toWorker, {
        keepOpen: !networkFs,
      }),
    });
  };

  const reply = async (client: string | null, msg: ToClientMsg) => {
    if (client === null || !isValidKey(client)) return;
    let writer = clientWriters.get(client);
    if (!writer) {
      const dir = clientDir(layout, client);
      try {
        await Deno.stat(dir);
      } catch {
        return; // the client is gone
      }
      clientWriters.set(client, writer = new ChannelWriter(dir, CHANNEL.reply));
    }
    await writer.append([encodeToClient(msg)]);
  };

  const here = machineIdentity();
  let lastRound = 0;
  let lastSweep = 0;
  let lastLiveness = 0;
  let dirtySince: number | null = null;
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
    const out: Outbox = new Map();
    const replies: { client: string | null; msg: ToClientMsg }[] = [];
    const batchExtra: Pick<JournalBatch, "offsets" | "requestsDone" | "requestsForget"> = {
      offsets: [],
      requestsDone: [],
      requestsForget: [],
    };
    const processed: string[] = [];
    let activity = false;

    const sweep = changed === null || now - lastSweep >= SWEEP_EVERY_MS;
    if (sweep) lastSweep = now;
    const inboxDirty = sweep || [...changed!].some((p) => p.startsWith(layout.inboxNew));
    // Workers on this machine whose process is gone (SIGKILL, crash) are lost
    // connections, once everything they wrote before dying is read below.
    const dead = new Set<WorkerId>();
    if (now - lastLiveness >= LIVENESS_EVERY_MS) {
      lastLiveness = now;
      for (const w of state.workers.values()) {
        if (w.state === "running" && processGone(w.config.pid, w.config.process, here)) {
          dead.add(w.id);
        }
      }
    }
    const dirtyKeys = new Set<string>();
    if (!sweep) {
      for (const p of changed!) {
        if (p.startsWith(layout.workers + "/")) {
          dirtyKeys.add(p.slice(layout.workers.length + 1).split("/")[0]!);
        }
      }
    }

    for (const item of inboxDirty ? await readInbox(layout, Deno.uid()) : []) {
      activity = true;
      if (item.kind === "rejected") {
        log(`[server] rejected inbox file ${item.name}: ${item.reason}`);
        await rejectInboxFile(layout, item.name, item.reason);
        continue;
      }
      const env: InboxEnvelope = item.envelope;
      const msg = env.msg;
      if (msg.kind === "registerWorker") {
        const result = registerWorker(state, env, now, out);
        if (typeof result === "string") {
          log(`[server] rejected worker registration ${item.name}: ${result}`);
          await rejectInboxFile(layout, item.name, result);
          continue;
        }
        if (!channels.has(result)) openChannels(result, msg.key);
        log(`[server] worker ${result} registered from ${msg.config.hostname}`);
      } else {
        const handled = handleClientMsg(state, env, now, out, waits);
        if (handled.reply) replies.push({ client: env.client, msg: handled.reply });
        if (handled.requestKey !== undefined && handled.jobId !== undefined) {
          batchExtra.requestsDone.push({ key: handled.requestKey, jobId: handled.jobId });
          doneRequests.set(item.name, handled.requestKey);
        }
        if (handled.stop) stopRequested = true;
      }
      processed.push(item.name);
    }

    for (const [workerId, ch] of channels) {
      const worker = state.workers.get(workerId);
      if (!worker || worker.state !== "running") continue;
      if (!sweep && !dirtyKeys.has(worker.key) && !dead.has(workerId)) continue;
      const res = await ch.reader.read();
      for (const c of res.corrupt) {
        log(
          `[server] worker ${workerId}: skipped corrupt record at ${c.segment}:${c.offset}: ${c.reason}`,
        );
      }
      if (res.records.length === 0 && res.rotatedPast.length === 0) continue;
      activity = true;
      for (const rec of res.records) {
        let msg;
        try {
          msg = decodeFromWorker(rec.payload);
        } catch (e) {
          log(`[server] worker ${workerId}: ${(e as Error).message}`);
          continue;
        }
        worker.lastSeen = now;
        switch (msg.kind) {
          case "heartbeat":
            break;
          case "taskUpdates":
            onTaskUpdates(state, workerId, msg.updates, now, out);
            break;
          case "stopping":
            log(`[server] worker ${workerId} stopping: ${msg.reason}`);
            onWorkerLost(state, workerId, msg.reason, now);
            break;
          case "ack":
            await ch.writer.acknowledge(msg.segment);
            break;
          default:
            assertNever(msg, "worker record");
        }
      }
      batchExtra.offsets.push({ workerId, ...ch.reader.position });
      if (res.rotatedPast.length > 0) {
        const list = out.get(workerId) ?? [];
        list.push({ kind: "ack", segment: ch.reader.position.segment });
        out.set(workerId, list);
      }
    }

    for (const id of dead) {
      if (state.workers.get(id)?.state !== "running") continue;
      onWorkerLost(state, id, "connectionLost", now);
      log(`[server] worker ${id} lost: its process is gone`);
    }

    const lostBefore = new Set(
      [...state.workers.values()].filter((w) => w.state !== "running").map((w) => w.id),
    );
    onTick(state, now, out);
    for (const w of state.workers.values()) {
      if (w.state !== "running" && !lostBefore.has(w.id)) {
        log(`[server] worker ${w.id} lost: ${w.state}`);
      }
    }
    if (stopRequested) stopAllWorkers(state, now, out);
    if (state.needsSchedule) schedule(state, now, out);

    for (const [name, key] of doneRequests) {
      if (!processed.includes(name)) {
        batchExtra.requestsForget.push(key);
        doneRequests.delete(name);
      }
    }
    const batch = { ...takeBatch(state), ...batchExtra };
    if (
      batch.meta || batch.jobs.length || batch.tasks.length || batch.workers.length ||
      batch.offsets.length || batch.requestsDone.length || batch.requestsForget.length
    ) {
      store.commit(batch);
      dirtySince ??= now;
    }
    if (
      batch.requestsDone.length > 0 || (dirtySince !== null && now - dirtySince >= flushEveryMs)
    ) {
      // A submit is acknowledged only once it is on disk; the rest is flushed about once a second.
      await store.flush();
      dirtySince = null;
    }

    // Committed: now tell the world.
    for (const [workerId, msgs] of out) {
      const ch = channels.get(workerId);
      if (ch) await ch.writer.append(msgs.map(encodeToWorker));
    }
    // Channels of ended workers are dropped only now, after their last
    // messages (a `stop`) went out.
    for (const [workerId, ch] of channels) {
      if (state.workers.get(workerId)?.state === "running") continue;
      ch.reader.close();
      ch.writer.close();
      channels.delete(workerId);
    }
    for (const r of replies) await reply(r.client, r.msg);
    for (let i = waits.length - 1; i >= 0; i--) {
      const w = waits[i]!;
      if (stopRequested || jobsComplete(state, w.jobIds)) {
        const infos = jobListData(state).filter((j) => w.jobIds.includes(j.id));
        await reply(w.client, { kind: "data", request: w.request, data: infos });
        waits.splice(i, 1);
      }
    }
    for (const name of processed) await removeInboxFile(layout, name);
    if (activity || out.size > 0) {
      waiter.busy();
      lastRound = now;
    }
    if (stopRequested) break;
  }

  waiter.close();
  for (const ch of channels.values()) {
    ch.reader.close();
    ch.writer.close();
  }
  await store.flush();
  await lease.stop(true);
  await unlinkCurrent(options.serverDir, layout);
  await store.close();
  unlockJournal();
  log("[server] stopped");
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
    const list = out.get(w.id) ?? [];
    list.push({ kind: "stop", reason: "serverStopped" });
    out.set(w.id, list);
    onWorkerLost(state, w.id, "stopped", now);
  }
  state.needsSchedule = false;
}
