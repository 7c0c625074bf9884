/**
 * The worker process shell: registers through the inbox, reads its
 * `to-worker` channel, runs tasks on free CPUs (keeping a local queue of
 * prefilled tasks), and reports starts, ends and heartbeats in batches.
 *
 * @module
 */
import { resolve } from "node:path";
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
import {
  launchTask,
  type MultiNodeSpec,
  removeTaskDir,
  taskPaths,
  terminateTree,
} from "./launcher.ts";
import { taskErrorText } from "./exec_errors.ts";
import { ownProcessIdentity, pidGone } from "./liveness.ts";
import { type TaskOutcome, WorkerCore, workerTaskKey } from "./core.ts";
import { LeaseWatch } from "./lease_watch.ts";
import { Lifetime } from "./lifetime.ts";
import { nextMeanRunMs, SendSchedule } from "./send_schedule.ts";
import { endForStop, killsOnEnd, reportedReason, type WorkerEnd } from "./worker_end.ts";

export type { WorkerEnd } from "./worker_end.ts";

const NOTHING_READ = { records: [], corrupt: [], rotatedPast: [] } as const;

/** A running task process. */
interface ProcEntry {
  pid: number;
  /** Ended by a cancel or the worker's end: reported as canceled. */
  canceled: boolean;
  /** Ended by its time limit. */
  timedOut: boolean;
  /** The time limit timer. */
  timer?: ReturnType<typeof setTimeout>;
  /** The SIGKILL that follows a SIGINT. */
  killTimer?: ReturnType<typeof setTimeout>;
}

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
  const procs = new Map<string, ProcEntry>();
  let workerId: number | null = null;
  let serverUid = "";
  let stopReason: WorkerEnd | null = null;
  const schedule = new SendSchedule(config.heartbeatMs);
  const lifetime = new Lifetime({
    startedAt,
    timeLimitMs: config.timeLimitMs,
    retractEveryMs: options.retractCheckIntervalMs ?? 30_000,
  }, Date.now());
  let meanRunMs = 0;
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
    const load = { prefilled: core.prefilled, meanRunMs, running: procs.size };
    const delay = schedule.flushDelayMs(load, Date.now());
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      waiter.notify();
    }, delay);
  };

  // SIGINT now, SIGKILL a second later (once per process).
  const terminate = (entry: ProcEntry) => {
    entry.killTimer ??= terminateTree(entry.pid);
  };

  const launchStarts = () => {
    for (const order of core.takeStarts()) {
      const key = workerTaskKey(order.jobId, order.taskId);
      const multiNode: MultiNodeSpec | undefined = order.nodes === null ? undefined : {
        nodes: order.nodes,
        taskDir: resolve(
          config.workDir,
          "tasks",
          `${order.jobId}-${order.taskId}-${order.instance}`,
        ),
      };
      const spec = {
        jobId: order.jobId,
        taskId: order.taskId,
        instance: order.instance,
        submitDir: order.submitDir,
        serverUid,
        template: order.template,
        variant: order.variant,
        allocation: order.allocation,
        workerId: workerId ?? 0,
        ...(multiNode ? { multiNode } : {}),
      };
      let paths;
      let proc;
      try {
        paths = taskPaths(spec);
        proc = launchTask(spec, paths);
      } catch (e) {
        if (multiNode) removeTaskDir(multiNode.taskDir);
        core.onEnded(
          key,
          { kind: "failed", error: taskErrorText((e as Error).message) },
          Date.now(),
        );
        continue;
      }
      const entry: ProcEntry = { pid: proc.pid, canceled: false, timedOut: false };
      procs.set(key, entry);
      if (order.template.timeLimitMs !== null) {
        entry.timer = setTimeout(() => {
          entry.timedOut = true;
          terminate(entry);
        }, order.template.timeLimitMs);
      }
      const rm = [order.template.program.stdout, order.template.program.stderr];
      const files = [paths.stdout, paths.stderr];
      const launchedAt = Date.now();
      proc.done.then((end) => {
        meanRunMs = nextMeanRunMs(meanRunMs, Date.now() - launchedAt);
        clearTimeout(entry.timer);
        clearTimeout(entry.killTimer);
        procs.delete(key);
        if (multiNode) removeTaskDir(multiNode.taskDir);
        let outcome: TaskOutcome;
        if (entry.canceled) outcome = { kind: "canceled" };
        else if (entry.timedOut) outcome = { kind: "failed", error: "Time limit reached" };
        else if (end.kind === "finished") {
          for (let i = 0; i < 2; i++) {
            if (rm[i]?.rmIfFinished && files[i]) {
              try {
                Deno.removeSync(files[i]!);
              } catch {
                // Already gone.
              }
            }
          }
          outcome = { kind: "finished" };
        } else outcome = end;
        core.onEnded(key, outcome, Date.now());
        if (stopReason === null) launchStarts();
        requestFlush();
      });
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
          workerId = msg.workerId;
          serverUid = msg.serverUid;
          log(`[worker] registered as worker ${workerId}`);
          options.onRegistered?.(msg.workerId, config, now);
          break;
        case "computeTasks":
        case "cancelTasks":
        case "retractTasks":
          core.onMessage(msg, now);
          for (const key of core.takeKills()) {
            const p = procs.get(key);
            if (p) {
              p.canceled = true;
              terminate(p);
            }
          }
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

    if (stopReason === null && workerId !== null) {
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
  const pending = () =>
    new Promise<void>((resolve) => {
      const check = () => (procs.size === 0 ? resolve() : setTimeout(check, 20));
      check();
    });
  core.returnAll(Date.now());
  if (killsOnEnd(stopReason, config.onServerLost)) {
    for (const p of procs.values()) {
      p.canceled = true;
      terminate(p);
    }
  }
  await pending();
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
