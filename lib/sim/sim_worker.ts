/**
 * A simulated worker process: the real {@link WorkerCore} plus what the
 * shell around it does (launch, kill, stop at the time limit), with a shadow
 * of its queued (prefilled) tasks to check that they start in priority order.
 * Time and randomness come from the {@link Simulation}.
 *
 * @module
 */
import type { WorkerId } from "../common/mod.ts";
import type { FromWorkerMsg, TaskUpdate, ToWorkerMsg, WorkerConfig } from "../protocol/mod.ts";
import { type StartOrder, WorkerCore } from "../worker/mod.ts";
import { checkWorkerAllocations, InvariantError } from "./invariants.ts";
import type { SimWorkerSpec } from "./scenario.ts";

/** What the core asked for after an event. */
export interface WorkerEffects {
  /** Tasks launched, each with the token of its run. */
  starts: { order: StartOrder; token: number }[];
  /** Runs to kill: task key and run token. */
  kills: { key: string; token: number }[];
  /** Updates to report. */
  updates: TaskUpdate[];
}

/** One simulated worker. */
export class SimWorker {
  /** Its plan. */
  readonly spec: SimWorkerSpec;
  /** Directory key. */
  readonly key: string;
  /** Config sent at registration. */
  readonly config: WorkerConfig;
  /** The real worker core. */
  readonly core: WorkerCore;
  /** Id from the server, once registered. */
  id: WorkerId | null = null;
  /** Whether the process runs. */
  alive = false;
  /** Arrival time of its last batch to the server (FIFO channel). */
  lastArrival = 0;
  /** Arrival time of the server's last batch to it (FIFO channel). */
  lastDelivery = 0;
  #tokens = new Map<string, number>();
  #queued = new Map<string, { priority: number; classKey: string }>();

  /** Creates the worker (not yet started). */
  constructor(spec: SimWorkerSpec, key: string, heartbeatMs: number) {
    this.spec = spec;
    this.key = key;
    this.config = {
      hostname: `${key}.sim.example`,
      pid: 1,
      heartbeatMs,
      idleTimeoutMs: null,
      timeLimitMs: spec.timeLimitMs,
      workDir: "/sim",
      onServerLost: "stop",
      group: spec.group ?? "default",
      resources: spec.pools,
      minUtilization: spec.minUtilization,
      manager: null,
      startedAt: spec.startAt,
    };
    this.core = new WorkerCore(spec.pools);
  }

  /** The `sentAt` of the newest tasks received, echoed with the next updates (round trips). */
  echo: number | null = null;

  /** Keys of the tasks it runs. */
  get runningKeys(): IterableIterator<string> {
    return this.#tokens.keys();
  }

  /** Applies one server record to the core; returns its kind for the caller's own handling. */
  receive(msg: ToWorkerMsg, now: number): ToWorkerMsg["kind"] {
    if (msg.kind === "computeTasks") {
      this.echo = Math.max(this.echo ?? msg.sentAt, msg.sentAt);
      const classKey = JSON.stringify(msg.template.requests);
      for (const t of msg.tasks) {
        if (t.variant !== null) continue;
        this.#queued.set(`${msg.jobId}:${t.id}`, { priority: msg.template.priority, classKey });
      }
    }
    if (msg.kind === "computeTasks" || msg.kind === "cancelTasks" || msg.kind === "retractTasks") {
      this.core.onMessage(msg, now);
    }
    return msg.kind;
  }

  /** Whether `token` is the current run of `key`. */
  isRun(key: string, token: number): boolean {
    return this.#tokens.get(key) === token;
  }

  /** Stops at the time limit: gives back queued tasks, kills the running ones, says goodbye. */
  stopAtTimeLimit(now: number): FromWorkerMsg[] {
    this.core.returnAll(now);
    for (const key of [...this.core.running.keys()]) {
      this.core.onEnded(key, { kind: "canceled" }, now);
    }
    this.core.takeStarts();
    return [
      { kind: "taskUpdates", updates: this.core.takeUpdates() },
      { kind: "stopping", reason: "timeLimit" },
    ];
  }

  /** The process ends; returns the keys of the tasks that died with it. */
  die(): string[] {
    this.alive = false;
    const keys = [...this.#tokens.keys()];
    this.#tokens.clear();
    return keys;
  }

  /**
   * Collects what the core did since the last call: starts (each given a
   * token from `nextToken`), kills and updates. Checks that queued tasks
   * start in priority order and that no allocation over-commits a pool.
   */
  drain(nextToken: () => number): WorkerEffects & { ended: string[] } {
    const core = this.core;
    const ended: string[] = [];
    for (const key of [...this.#tokens.keys()]) {
      if (!core.running.has(key)) {
        this.#tokens.delete(key);
        ended.push(key);
      }
    }
    const starts: WorkerEffects["starts"] = [];
    for (const order of core.takeStarts()) {
      const key = `${order.jobId}:${order.taskId}`;
      this.#checkQueueOrder(key);
      const token = nextToken();
      this.#tokens.set(key, token);
      starts.push({ order, token });
    }
    const kills: WorkerEffects["kills"] = [];
    for (const key of core.takeKills()) {
      const token = this.#tokens.get(key);
      if (token !== undefined) kills.push({ key, token });
    }
    const updates = core.takeUpdates();
    for (const u of updates) {
      if (u.kind === "returned" || u.kind === "canceled") this.#queued.delete(`${u.jobId}:${u.id}`);
    }
    checkWorkerAllocations(`worker ${this.id}`, this.spec.pools, core.running, null);
    return { starts, kills, updates, ended };
  }

  #checkQueueOrder(key: string): void {
    const queued = this.#queued.get(key);
    if (!queued) return;
    this.#queued.delete(key);
    for (const [other, q] of this.#queued) {
      if (q.classKey === queued.classKey && q.priority > queued.priority) {
        throw new InvariantError(
          `worker ${this.id} started queued task ${key} (priority ${queued.priority}) ` +
            `before queued task ${other} (priority ${q.priority})`,
        );
      }
    }
  }
}
