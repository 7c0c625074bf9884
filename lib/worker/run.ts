/**
 * The worker process shell: registers through the inbox, reads its
 * `to-worker` channel, runs tasks on free CPUs (keeping a local queue of
 * prefilled tasks), and reports starts, ends and heartbeats in batches.
 *
 * @module
 */
import { randomToken } from "../ids.ts";
import type { FromWorkerMsg, WorkerConfig } from "../fsproto/messages.ts";
import { decodeToWorker, encodeFromWorker } from "../fsproto/codec.ts";
import { ChannelReader, ChannelWriter } from "../fsproto/channel_file.ts";
import { CHANNEL, workerDir, workerOutboxDir } from "../fsproto/layout.ts";
import { postToInbox } from "../fsproto/inbox.ts";
import { isNetworkFs, Waiter } from "../fsproto/waiter.ts";
import { connectInstance, type Lease, readJsonFile } from "../fsproto/server_dir.ts";
import { ensureDirMode } from "../fsproto/fs_util.ts";
import { assertNever } from "../_assert_never.ts";
import { ownProcessIdentity, pidGone } from "./liveness.ts";
import { WorkerCore, workerTaskKey } from "./core.ts";
import { type LaunchContext, TaskProcesses } from "./processes.ts";
import { LeaseWatch } from "./lease_watch.ts";
import { Lifetime } from "./lifetime.ts";
import { SendSchedule } from "./send_schedule.ts";
import { endForStop, killsOnEnd, reportedReason, type WorkerEnd } from "./worker_end.ts";

export type { WorkerEnd } from "./worker_end.ts";

const NOTHING_READ = { records: [], corrupt: [], rotatedPast: [] } as const;

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  serverDir: string;
  /** How often queued tasks are checked against the remaining lifetime, ms. @default 30000 */
  retractCheckIntervalMs?: number;
  /** Called once the server has registered the worker (for `worker start`'s info table). */
  onRegistered?: (workerId: number, config: WorkerConfig, at: number) => void;
  config: Omit<WorkerConfig, "pid" | "startedAt" | "process">;
  pollOnly?: boolean;
  maxPollMs?: number;
  log: (line: string) => void;
  /** Resolves on SIGINT or SIGTERM: the worker ends as interrupted. */
  stopSignal?: Promise<void>;
}

/** Runs a worker until it ends; resolves with how it ended. */
export async function runWorker(options: WorkerOptions): Promise<WorkerEnd> {
  const { log } = options;
  const { layout, lease: firstLease } = await connectInstance(options.serverDir);
  const startedAt = Date.now();
  const identity = ownProcessIdentity();
  const here = identity.host;
  const config: WorkerConfig = { ...options.config, pid: Deno.pid, startedAt, process: identity };
  const key = `${config.hostname.replace(/[^A-Za-z0-9._-]/g, "_")}-${Deno.pid}-${randomToken(4)}`;
  const dir = workerDir(layout, key);
  const outbox = workerOutboxDir(layout, key);
  await ensureDirMode(dir, 0o700);
  await ensureDirMode(outbox, 0o700);
  const local = !isNetworkFs(dir);
  const writer = new ChannelWriter(dir, CHANNEL.toServer, { keepOpen: local });
  const reader = new ChannelReader(outbox, CHANNEL.toWorker, undefined, { keepOpen: local });
  await postToInbox(layout, key, {
    client: null,
    request: 0,
    sentAt: startedAt,
    msg: { kind: "registerWorker", key, config },
  });
  const waiter = new Waiter({
    paths: [outbox],
    pollOnly: options.pollOnly ?? isNetworkFs(outbox),
    maxMs: options.maxPollMs ?? 250,
    filter: (p) => p.includes(`/${CHANNEL.toWorker}.`),
  });

  const core = new WorkerCore(config.resources);
  const context: LaunchContext = { workDir: config.workDir, serverUid: "", workerId: 0 };
  let registered = false;
  let stopReason: WorkerEnd | null = null;
  const schedule = new SendSchedule(config.heartbeatMs);
  const lifetime = new Lifetime({
    startedAt,
    timeLimitMs: config.timeLimitMs,
    retractEveryMs: options.retractCheckIntervalMs ?? 30_000,
  }, Date.now());
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  const lease = new LeaseWatch({
    first: firstLease,
    here,
    read: () => readJsonFile<Lease>(layout.lease),
    pidGone,
  }, Date.now());
  options.stopSignal?.then(() => {
    stopReason ??= "interrupted";
    waiter.notify();
  });

  const requestFlush = () => {
    if (flushTimer !== undefined) return;
    const load = { prefilled: core.prefilled, meanRunMs: procs.meanRunMs, running: procs.size };
    const delay = schedule.flushDelayMs(load, Date.now());
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      waiter.notify();
    }, delay);
  };

  const procs = new TaskProcesses((key, outcome) => {
    core.onEnded(key, outcome, Date.now());
    if (stopReason === null) launchStarts();
    requestFlush();
  });
  const launchStarts = () => {
    for (const order of core.takeStarts()) {
      const failure = procs.launch(order, context);
      if (failure) core.onEnded(workerTaskKey(order.jobId, order.taskId), failure, Date.now());
    }
  };

  const send = async (msgs: FromWorkerMsg[]) => {
    if (msgs.length > 0) await writer.append(msgs.map(encodeFromWorker));
  };

  log(`[worker] registering with the server at ${options.serverDir} as ${key}`);
  while (true) {
    await waiter.wait();
    const now = Date.now();
    // A wake only to flush updates (no watcher event for the channel, no poll
    // timer) skips reading the channel.
    const changed = waiter.takeChanged();
    const readNow = changed === null || changed.size > 0 || stopReason !== null;
    const res = readNow ? await reader.read() : NOTHING_READ;
    for (const c of res.corrupt) {
      log(`[worker] skipped corrupt record at ${c.segment}:${c.offset}: ${c.reason}`);
    }
    const control: FromWorkerMsg[] = [];
    for (const rec of res.records) {
      let msg;
      try {
        msg = decodeToWorker(rec.payload);
      } catch (e) {
        log(`[worker] ${(e as Error).message}`);
        continue;
      }
      switch (msg.kind) {
        case "registered":
          registered = true;
          context.workerId = msg.workerId;
          context.serverUid = msg.serverUid;
          log(`[worker] registered as worker ${msg.workerId}`);
          options.onRegistered?.(msg.workerId, config, now);
          break;
        case "computeTasks":
        case "cancelTasks":
        case "retractTasks":
          core.onMessage(msg, now);
          for (const key of core.takeKills()) procs.cancel(key);
          break;
        case "stop":
          stopReason ??= endForStop(msg.reason);
          break;
        case "ack":
          await writer.acknowledge(msg.segment);
          break;
        default:
          assertNever(msg, "server record");
      }
    }
    if (res.rotatedPast.length > 0) control.push({ kind: "ack", segment: reader.position.segment });
    if (res.records.length > 0) waiter.busy();

    if (lease.lost(now)) stopReason ??= "connectionLost";

    if (stopReason === null && registered) {
      launchStarts();
      const step = lifetime.step(now);
      if (step.kind === "expired") stopReason = "timeLimit";
      else if (step.kind === "retractCheck") {
        const n = core.returnOverdue(step.remainingMs, now);
        if (n > 0) log(`[worker] returned ${n} queued tasks whose time request no longer fits`);
      }
    }

    const updates = core.takeUpdates();
    if (updates.length > 0) control.push({ kind: "taskUpdates", updates });
    await send(schedule.seal(control, now));

    if (stopReason !== null) break;
  }

  log(`[worker] stopping: ${stopReason}`);
  core.returnAll(Date.now());
  if (killsOnEnd(stopReason, config.onServerLost)) procs.cancelAll();
  await procs.idle();
  clearTimeout(flushTimer);
  const reported = reportedReason(stopReason);
  if (reported !== null) {
    await send([{ kind: "taskUpdates", updates: core.takeUpdates() }, {
      kind: "stopping",
      reason: reported,
    }]);
  }
  writer.close();
  reader.close();
  waiter.close();
  return stopReason;
}
