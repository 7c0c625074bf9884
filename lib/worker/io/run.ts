/**
 * The worker process shell: registers through the inbox, reads its
 * `to-worker` channel, runs tasks on free CPUs (keeping a local queue of
 * prefilled tasks), and reports starts, ends and heartbeats in batches.
 *
 * Each round of the loop waits for the channel (or a flush wake), hands the
 * server's messages to the pure {@link WorkerCore}, checks the server's lease
 * and the worker's lifetime, launches what the core starts and sends one
 * batch. The pieces live beside it: {@link ServerLink} (files shared with the
 * server), {@link TaskProcesses} (task processes), {@link SendSchedule} (flush
 * gap and heartbeat), {@link LeaseWatch} (a lost server), {@link Lifetime}
 * (time limit and retract check) and `worker_end.ts` (how the worker ends).
 * With `zeroWorker`, started tasks are reported finished at once instead of
 * launched ({@link finishStartsAtOnce}).
 *
 * @module
 */
import type { FromWorkerMsg, ToWorkerMsg, WorkerConfig } from "../../protocol/mod.ts";
import { assertNever, formatDurationExact } from "../../common/mod.ts";
import { pidGone } from "../../common/io/mod.ts";
import {
  endForStop,
  finishStartsAtOnce,
  killsOnEnd,
  LeaseWatch,
  Lifetime,
  reportedReason,
  SendSchedule,
  WorkerCore,
  type WorkerEnd,
  workerTaskKey,
} from "../mod.ts";
import { openServerLink, type ServerLink } from "./server_link.ts";
import { type LaunchContext, TaskProcesses } from "./processes.ts";

export type { WorkerEnd } from "../mod.ts";

/** How soon a failed write to the server is tried again, ms. */
const RETRY_SEND_MS = 200;
/**
 * How long a worker waits for the `serverRestarted` of a server that took over its
 * instance; one that does not send it does not know the worker.
 */
const RESTART_NOTE_WAIT_MS = 30_000;
/** Default of `--server-lost-timeout`, ms. */
export const DEFAULT_SERVER_LOST_TIMEOUT_MS = 5 * 60_000;

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** The server directory. */
  serverDir: string;
  /** How often queued tasks are checked against the remaining lifetime, ms. @default 30000 */
  retractCheckIntervalMs?: number;
  /** Called once the server has registered the worker (for `worker start`'s info table). */
  onRegistered?: (workerId: number, config: WorkerConfig, at: number) => void;
  /** The worker's settings; pid, start time and process identity are added at registration. */
  config: Omit<WorkerConfig, "pid" | "startedAt" | "process">;
  /** Disables watching the channel. @default true on network filesystems */
  pollOnly?: boolean;
  /** Poll interval when idle, ms. @default 250 */
  maxPollMs?: number;
  /** Log sink. */
  log: (line: string) => void;
  /** Resolves on SIGINT or SIGTERM: the worker ends as interrupted. */
  stopSignal?: Promise<void>;
  /**
   * How long a worker whose server died waits for a server to come back to the same
   * instance before it follows `--on-server-lost`, ms. @default DEFAULT_SERVER_LOST_TIMEOUT_MS
   */
  serverLostTimeoutMs?: number;
  /**
   * Zero-worker mode (`--zero-worker`): every task is reported finished as soon as it
   * starts, without a process, output files or a task directory. For benchmarks of the
   * server and the file protocol. @default false
   */
  zeroWorker?: boolean;
}

/** Runs a worker until it ends; resolves with how it ended. */
export async function runWorker(options: WorkerOptions): Promise<WorkerEnd> {
  const { log } = options;
  const link = await openServerLink(options);
  const { config } = link;
  const core = new WorkerCore(config.resources);
  const context: LaunchContext = { workDir: config.workDir, serverUid: "", workerId: 0 };
  const schedule = new SendSchedule(config.heartbeatMs);
  const started = Date.now();
  const lifetime = new Lifetime({
    startedAt: config.startedAt,
    timeLimitMs: config.timeLimitMs,
    retractEveryMs: options.retractCheckIntervalMs ?? 30_000,
  }, started);
  const lease = new LeaseWatch({
    first: link.lease,
    here: link.identity.host,
    read: () => link.readLease(),
    pidGone,
  }, started);
  let registered = false;
  let end: WorkerEnd | null = null;
  const serverLostTimeoutMs = options.serverLostTimeoutMs ?? DEFAULT_SERVER_LOST_TIMEOUT_MS;
  // Since when the server has been gone (null: it is there), and since when a server that
  // took over the instance has been seen without its `serverRestarted` yet.
  let goneSince: number | null = null;
  let replacedAt: number | null = null;
  let reattach = false;
  let lastLoop = Date.now();
  options.stopSignal?.then(() => {
    end ??= "interrupted";
    link.notify();
  });

  const requestFlush = () => {
    if (link.wakeScheduled) return;
    const load = { prefilled: core.prefilled, meanRunMs: procs.meanRunMs, running: procs.size };
    link.wakeIn(schedule.flushDelayMs(load, Date.now()));
  };
  const procs = new TaskProcesses((key, outcome) => {
    // A process that was stopped (SIGSTOP) may have been declared lost meanwhile: it
    // starts nothing before its loop has read the server's news.
    if (Date.now() - lastLoop > config.heartbeatMs) core.setHeld(true, Date.now());
    core.onEnded(key, outcome, Date.now());
    if (end === null) launchStarts();
    requestFlush();
  });
  const launchStarts = () => {
    if (options.zeroWorker) {
      finishStartsAtOnce(core, Date.now());
      return;
    }
    for (const order of core.takeStarts()) {
      const failure = procs.launch(order, context);
      if (failure) core.onEnded(workerTaskKey(order.jobId, order.taskId), failure, Date.now());
    }
  };
  // The `sentAt` of the newest tasks read, echoed with the next updates (round trips).
  let echo: number | null = null;
  const handle = (msg: Exclude<ToWorkerMsg, { kind: "ack" }>, now: number) => {
    if (msg.kind === "computeTasks") echo = Math.max(echo ?? msg.sentAt, msg.sentAt);
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
        end ??= endForStop(msg.reason);
        break;
      case "refused":
        log(`[worker] the server refused this worker: ${msg.reason}`);
        end ??= "refused";
        break;
      case "serverRestarted":
        // Everything read before came from the server that died: its queued tasks are
        // waiting again in the new server, which hears what runs here.
        log("[worker] the server was restarted; reattaching");
        core.dropQueued();
        lease.follow(msg.serverStartedAt, now);
        goneSince = null;
        replacedAt = null;
        reattach = true;
        break;
      default:
        assertNever(msg, "server record");
    }
  };
  const checkLifetime = (now: number) => {
    const step = lifetime.step(now);
    if (step.kind === "expired") end = "timeLimit";
    else if (step.kind === "retractCheck") {
      const n = core.returnOverdue(step.remainingMs, now);
      if (n > 0) log(`[worker] returned ${n} queued tasks whose time request no longer fits`);
    }
  };

  // A dead server may come back on the same instance within the timeout: running tasks
  // run on meanwhile, nothing new starts, and the worker reattaches to the new server.
  const watchServer = (now: number) => {
    switch (lease.check(now)) {
      case "alive":
        if (goneSince !== null && replacedAt === null) log("[worker] the server is back");
        if (replacedAt === null) goneSince = null;
        break;
      case "gone":
        if (goneSince === null) {
          log(
            `[worker] the server is gone; waiting ${
              formatDurationExact(serverLostTimeoutMs)
            } for it to come back`,
          );
        }
        goneSince ??= now;
        break;
      case "replaced":
        replacedAt ??= now;
        goneSince ??= now;
        break;
      case "stopped":
        end ??= "connectionLost";
        break;
    }
    if (goneSince !== null && now - goneSince >= serverLostTimeoutMs) end ??= "connectionLost";
    if (replacedAt !== null && now - replacedAt >= RESTART_NOTE_WAIT_MS) {
      log("[worker] the server that took over the instance does not know this worker");
      end ??= "declaredLost";
    }
  };

  log(`[worker] registering with the server at ${options.serverDir} as ${link.key}`);
  // Messages a failed write could not deliver go out first with the next batch.
  let unsent: FromWorkerMsg[] = [];
  let sendError: string | null = null;
  try {
    do {
      await link.wait();
      const now = Date.now();
      lastLoop = now;
      const inbound = await link.read(end !== null);
      for (const msg of inbound.messages) {
        if (msg.kind === "ack") await link.acknowledge(msg.segment).catch(() => {});
        else handle(msg, now);
      }
      watchServer(now);
      core.setHeld(goneSince !== null, now);
      if (end === null && registered) {
        launchStarts();
        checkLifetime(now);
      }
      const batch: FromWorkerMsg[] = inbound.ack ? [inbound.ack] : [];
      const updates = core.takeUpdates();
      if (updates.length > 0) {
        batch.push({ kind: "taskUpdates", updates, ...(echo === null ? {} : { echo }) });
        echo = null;
      }
      if (reattach) {
        batch.push({ kind: "reattached", running: core.runningRefs() });
        reattach = false;
      }
      const msgs = [...unsent, ...schedule.seal(batch, now)];
      try {
        await link.send(msgs);
        unsent = [];
        sendError = null;
      } catch (e) {
        // A full disk or quota: keep everything for the next try, log once per cause.
        unsent = msgs;
        const text = (e as Error).message;
        if (text !== sendError) log(`[worker] could not write to the server, will retry: ${text}`);
        sendError = text;
        link.wakeIn(RETRY_SEND_MS);
      }
    } while (end === null);
  } catch (e) {
    // Never leave task processes behind.
    log(`[worker] failed: ${(e as Error).message}; killing its tasks`);
    procs.cancelAll();
    await procs.idle();
    await procs.closeStreams();
    link.close();
    throw e;
  }

  if (unsent.length > 0) await link.send(unsent).catch(() => {});
  log(`[worker] stopping: ${end}`);
  await stop(end, { link, core, procs, stopSignal: options.stopSignal });
  return end;
}

/** What the stop sequence works on. */
interface StopParts {
  link: ServerLink;
  core: WorkerCore;
  procs: TaskProcesses;
  /** Resolves on SIGINT or SIGTERM. */
  stopSignal: Promise<void> | undefined;
}

/**
 * Ends the worker: queued tasks go back, running ones are killed (unless a
 * lost server lets them finish) and awaited, and a server still there hears
 * the last updates and why the worker stops.
 *
 * Tasks left to finish are killed after all on SIGINT or SIGTERM (even one
 * that came earlier): each runs in a session of its own, out of reach of a
 * batch system that ends the worker's job by signalling its process group.
 */
async function stop(end: WorkerEnd, parts: StopParts): Promise<void> {
  const { link, core, procs, stopSignal } = parts;
  core.returnAll(Date.now());
  if (killsOnEnd(end, link.config.onServerLost)) procs.cancelAll();
  else stopSignal?.then(() => procs.cancelAll());
  await procs.idle();
  await procs.closeStreams();
  const reported = reportedReason(end);
  if (reported !== null) {
    await link.send([
      { kind: "taskUpdates", updates: core.takeUpdates() },
      { kind: "stopping", reason: reported },
    ]).catch(() => {});
  }
  link.close();
}
