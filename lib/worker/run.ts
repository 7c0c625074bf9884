/**
 * The worker process shell: registers through the inbox, reads its
 * `to-worker` channel, runs tasks on free CPUs (keeping a local queue of
 * prefilled tasks), and reports starts, ends and heartbeats in batches.
 *
 * @module
 */
import type { JobId, TaskId } from "../ids.ts";
import { randomToken } from "../ids.ts";
import type {
  FromWorkerMsg,
  TaskTemplate,
  TaskUpdate,
  WorkerConfig,
  WorkerStopReason,
} from "../fsproto/messages.ts";
import { decodeToWorker, encodeFromWorker } from "../fsproto/codec.ts";
import { ChannelReader, ChannelWriter } from "../fsproto/channel_file.ts";
import { CHANNEL, workerDir } from "../fsproto/layout.ts";
import { postToInbox } from "../fsproto/inbox.ts";
import { isNetworkFs, Waiter } from "../fsproto/waiter.ts";
import { connectInstance, type Lease, readJsonFile } from "../fsproto/server_dir.ts";
import { ensureDirMode } from "../fsproto/fs_util.ts";
import { FRACTIONS_PER_UNIT } from "../resources/amount.ts";
import { assertNever } from "../_assert_never.ts";
import { killTree, launchTask, type RunningProcess, taskPaths } from "./launcher.ts";

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  serverDir: string;
  config: Omit<WorkerConfig, "pid" | "startedAt">;
  pollOnly?: boolean;
  maxPollMs?: number;
  log: (line: string) => void;
  stopSignal?: Promise<void>;
}

interface QueuedTask {
  jobId: JobId;
  taskId: TaskId;
  instance: number;
  submitDir: string;
  template: TaskTemplate;
}

interface ActiveTask extends QueuedTask {
  cpus: string[];
  proc: RunningProcess | null;
  canceled: boolean;
  timedOut: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Runs a worker until stopped; resolves with the reason. */
export async function runWorker(options: WorkerOptions): Promise<WorkerStopReason> {
  const { log } = options;
  const { layout, lease: firstLease } = await connectInstance(options.serverDir);
  const startedAt = Date.now();
  const config: WorkerConfig = { ...options.config, pid: Deno.pid, startedAt };
  const key = `${config.hostname.replace(/[^A-Za-z0-9._-]/g, "_")}-${Deno.pid}-${randomToken(4)}`;
  const dir = workerDir(layout, key);
  await ensureDirMode(dir, 0o700);
  const writer = new ChannelWriter(dir, CHANNEL.toServer);
  const reader = new ChannelReader(dir, CHANNEL.toWorker);
  await postToInbox(layout, key, {
    client: null,
    request: 0,
    sentAt: startedAt,
    msg: { kind: "registerWorker", key, config },
  });
  const waiter = new Waiter({
    paths: [dir],
    pollOnly: options.pollOnly ?? isNetworkFs(dir),
    maxMs: options.maxPollMs ?? 250,
    filter: (p) => p.includes(`/${CHANNEL.toWorker}.`),
  });

  const allCpus = config.resources.find((r) => r.name === "cpus")?.groups.flat() ?? [];
  const freeCpus = [...allCpus];
  const queue: QueuedTask[] = [];
  const active = new Map<string, ActiveTask>();
  const outgoing: TaskUpdate[] = [];
  let workerId: number | null = null;
  let serverUid = "";
  let stopReason: WorkerStopReason | null = null;
  let lastHeartbeat = 0;
  let lastLeaseCheck = Date.now();
  let leaseSeen = { seq: firstLease.seq, startedAt: firstLease.startedAt, at: Date.now() };
  options.stopSignal?.then(() => {
    stopReason ??= "stopped";
    waiter.notify();
  });

  const finish = (t: ActiveTask, update: TaskUpdate) => {
    clearTimeout(t.timer);
    active.delete(`${t.jobId}:${t.taskId}`);
    freeCpus.push(...t.cpus);
    outgoing.push(update);
    waiter.notify();
  };

  const start = async (q: QueuedTask, cpus: string[]) => {
    const t: ActiveTask = {
      ...q,
      cpus,
      proc: null,
      canceled: false,
      timedOut: false,
      timer: undefined,
    };
    active.set(`${q.jobId}:${q.taskId}`, t);
    const base = { jobId: q.jobId, id: q.taskId, instance: q.instance };
    const spec = {
      jobId: q.jobId,
      taskId: q.taskId,
      instance: q.instance,
      submitDir: q.submitDir,
      serverUid,
      template: q.template,
      cpus,
      workerId: workerId ?? 0,
    };
    let paths;
    try {
      paths = taskPaths(spec);
      t.proc = await launchTask(spec, paths);
    } catch (e) {
      finish(t, { kind: "failed", ...base, at: Date.now(), error: (e as Error).message });
      return;
    }
    outgoing.push({ kind: "started", ...base, at: Date.now() });
    if (q.template.timeLimitMs !== null) {
      t.timer = setTimeout(() => {
        t.timedOut = true;
        terminate(t);
      }, q.template.timeLimitMs);
    }
    const end = await t.proc.done;
    const at = Date.now();
    if (t.canceled) finish(t, { kind: "canceled", ...base, at });
    else if (t.timedOut) finish(t, { kind: "failed", ...base, at, error: "Time limit reached" });
    else if (end.kind === "finished") {
      for (
        const [spec0, path] of [[q.template.program.stdout, paths.stdout], [
          q.template.program.stderr,
          paths.stderr,
        ]] as const
      ) {
        if (spec0?.rmIfFinished && path) await Deno.remove(path).catch(() => {});
      }
      finish(t, { kind: "finished", ...base, at });
    } else finish(t, { kind: "failed", ...base, at, error: end.error });
  };

  const terminate = (t: ActiveTask) => {
    if (!t.proc) return;
    const pid = t.proc.pid;
    killTree(pid, "SIGTERM");
    setTimeout(() => killTree(pid, "SIGKILL"), 1000);
  };

  const needCpus = (template: TaskTemplate): number => {
    const entry = template.request.entries.find((e) => e.resource === "cpus");
    if (!entry) return 0;
    if (entry.policy === "all") return allCpus.length;
    return Math.ceil(entry.amount / FRACTIONS_PER_UNIT);
  };

  const send = async (msgs: FromWorkerMsg[]) => {
    if (msgs.length > 0) await writer.append(msgs.map(encodeFromWorker));
  };

  log(`[worker] registering with the server at ${options.serverDir} as ${key}`);
  while (true) {
    await waiter.wait();
    const now = Date.now();
    const res = await reader.read();
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
          break;
        case "computeTasks":
          for (const a of msg.tasks) {
            queue.push({
              jobId: msg.jobId,
              taskId: a.id,
              instance: a.instance,
              submitDir: msg.submitDir,
              template: msg.template,
            });
          }
          break;
        case "cancelTasks":
          for (const c of msg.tasks) {
            const qi = queue.findIndex((q) =>
              q.jobId === c.jobId && q.taskId === c.id && q.instance === c.instance
            );
            if (qi >= 0) queue.splice(qi, 1);
            const t = active.get(`${c.jobId}:${c.id}`);
            if (t && t.instance === c.instance) {
              t.canceled = true;
              terminate(t);
            }
          }
          break;
        case "stop":
          stopReason = msg.reason;
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

    if (now - lastLeaseCheck >= 1000) {
      lastLeaseCheck = now;
      const lease = readJsonFile<Lease>(layout.lease);
      if (lease && (lease.seq !== leaseSeen.seq || lease.startedAt !== leaseSeen.startedAt)) {
        if (lease.startedAt !== leaseSeen.startedAt || lease.stopped) {
          stopReason ??= "connectionLost";
        }
        leaseSeen = { seq: lease.seq, startedAt: lease.startedAt, at: now };
      } else if (now - leaseSeen.at > Math.max(10 * (lease?.intervalMs ?? 1000), 15_000)) {
        // An unreadable lease (a rename seen half-way on a network mount) is not a loss;
        // only a lease that stays unchanged this long is.
        stopReason ??= "connectionLost";
      }
    }

    if (stopReason === null && workerId !== null) {
      while (queue.length > 0) {
        const need = needCpus(queue[0]!.template);
        if (need > allCpus.length) {
          const q = queue.shift()!;
          outgoing.push({
            kind: "failed",
            jobId: q.jobId,
            id: q.taskId,
            instance: q.instance,
            at: now,
            error: "Task needs more CPUs than the worker has",
          });
          continue;
        }
        if (need > freeCpus.length) break;
        freeCpus.sort((a, b) => Number(a) - Number(b));
        const q = queue.shift()!;
        start(q, freeCpus.splice(0, need));
      }
      if (config.timeLimitMs !== null && now - startedAt >= config.timeLimitMs) {
        stopReason = "timeLimit";
      }
    }

    if (outgoing.length > 0) control.push({ kind: "taskUpdates", updates: outgoing.splice(0) });
    if (now - lastHeartbeat >= config.heartbeatMs || control.length > 0) {
      if (control.length === 0 || now - lastHeartbeat >= config.heartbeatMs) {
        control.push({ kind: "heartbeat", at: now });
      }
      lastHeartbeat = now;
    }
    await send(control);

    if (stopReason !== null) break;
  }

  log(`[worker] stopping: ${stopReason}`);
  const lost = stopReason === "connectionLost";
  if (lost && config.onServerLost === "finish-running") {
    queue.length = 0;
    await Promise.all([...active.values()].map((t) => t.proc?.done));
  } else {
    for (const t of active.values()) {
      t.canceled = true;
      terminate(t);
    }
    await Promise.all([...active.values()].map((t) => t.proc?.done));
  }
  if (!lost && stopReason !== "serverStopped" && stopReason !== "idleTimeout") {
    await send([{ kind: "taskUpdates", updates: outgoing.splice(0) }, {
      kind: "stopping",
      reason: stopReason,
    }]);
  } else if (!lost) {
    await send([{ kind: "stopping", reason: stopReason }]);
  }
  waiter.close();
  return stopReason;
}
