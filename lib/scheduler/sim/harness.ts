/**
 * Deterministic simulation of the scheduler: the real reactors and
 * `schedule()` on the server side, the real {@link WorkerCore} on each
 * simulated worker, a simulated clock, and channels that deliver each batch
 * after a random delay in FIFO order per channel. Faults: workers crash
 * silently (the server notices missing heartbeats), stop at their time limit,
 * join late; cancel and retract records are sometimes duplicated, and update
 * batches sometimes read twice. Invariants are checked after every server
 * phase and every worker event; a failure names the seed.
 *
 * @module
 */
import type { JobId, WorkerId } from "../../ids.ts";
import type { FromWorkerMsg, ToWorkerMsg } from "../../fsproto/messages.ts";
import { createServerState, type ServerState } from "../state.ts";
import { onSubmit, onTaskUpdates, type Outbox, stopUnfinished } from "../reactor.ts";
import { onTick, onWorkerLost, onWorkerRegistered, onWorkerSeen } from "../worker_events.ts";
import { schedule } from "../schedule.ts";
import { takeBatch } from "../../journal/restore.ts";
import { BinaryHeap } from "../_heap.ts";
import { assertNever } from "../../_assert_never.ts";
import { Rng } from "./_rng.ts";
import {
  DEFAULT_SIM_OPTIONS,
  type Scenario,
  type SimJobSpec,
  type SimOptions,
  type SimResult,
} from "./scenario.ts";
import { SimWorker } from "./sim_worker.ts";
import {
  checkAfterBatch,
  checkServerState,
  checkWorkerAllocations,
  InvariantError,
} from "./invariants.ts";
import {
  checkFinished,
  checkPriorities,
  checkWorkConservation,
  describeStuck,
  placementsOf,
} from "./progress.ts";

type SimEvent =
  | { kind: "serverTick" }
  | { kind: "workerStart"; worker: SimWorker }
  | { kind: "toWorker"; worker: SimWorker; msgs: ToWorkerMsg[] }
  | { kind: "toServer"; worker: SimWorker; msgs: FromWorkerMsg[] }
  | { kind: "inbox"; item: InboxItem }
  | { kind: "taskEnd"; worker: SimWorker; key: string; token: number; fail: boolean }
  | { kind: "kill"; worker: SimWorker; key: string; token: number }
  | { kind: "heartbeat"; worker: SimWorker }
  | { kind: "crash"; worker: SimWorker }
  | { kind: "timeLimit"; worker: SimWorker };

type InboxItem =
  | { kind: "register"; worker: SimWorker }
  | { kind: "submit"; spec: SimJobSpec }
  | { kind: "cancel"; spec: SimJobSpec };

interface Queued {
  at: number;
  seq: number;
  event: SimEvent;
}

/** One simulation run of a scenario. */
export class Simulation {
  /** Server state (inspect after {@link Simulation.run}). */
  readonly state: ServerState;
  readonly #rng: Rng;
  readonly #opts: SimOptions;
  readonly #scenario: Scenario;
  readonly #events = new BinaryHeap<Queued>((a, b) =>
    a.at < b.at || (a.at === b.at && a.seq < b.seq)
  );
  #seq = 0;
  #now = 0;
  #inbox: InboxItem[] = [];
  #received = new Map<WorkerId, FromWorkerMsg[][]>();
  #byId = new Map<WorkerId, SimWorker>();
  #workers: SimWorker[] = [];
  #jobOf = new Map<SimJobSpec, JobId>();
  #specOf = new Map<JobId, SimJobSpec>();
  /** Which live simulated worker runs each task right now. */
  #runningOn = new Map<string, SimWorker>();
  /** Runs (`job:task:instance`) that a worker finished successfully. */
  #finishedRuns = new Set<string>();
  #result: SimResult = { endTimeMs: 0, rounds: 0, runs: 0, rejections: 0, returned: 0, counts: {} };

  /** Prepares a run of `scenario`, drawing delays and durations from `seed`. */
  constructor(scenario: Scenario, seed: number, options: Partial<SimOptions> = {}) {
    this.#rng = new Rng(seed ^ 0x5eed);
    this.#opts = { ...DEFAULT_SIM_OPTIONS, ...options };
    this.#scenario = scenario;
    this.state = createServerState("sim", this.#opts.scheduler);
  }

  /** Runs until every job is complete; throws {@link InvariantError} on a broken invariant. */
  run(): SimResult {
    this.#scenario.workers.forEach((spec, i) => {
      const worker = new SimWorker(spec, `w${i}`, this.#opts.heartbeatMs);
      this.#workers.push(worker);
      this.#at(spec.startAt, { kind: "workerStart", worker });
    });
    for (const spec of this.#scenario.jobs) {
      this.#at(spec.submitAt, { kind: "inbox", item: { kind: "submit", spec } });
      if (spec.cancelAt !== null) {
        this.#at(Math.max(spec.cancelAt, spec.submitAt + 1), {
          kind: "inbox",
          item: { kind: "cancel", spec },
        });
      }
    }
    this.#at(0, { kind: "serverTick" });
    for (;;) {
      const next = this.#events.pop();
      if (!next) throw new InvariantError("event queue ran dry");
      this.#now = next.at;
      if (this.#now > this.#opts.maxTimeMs) {
        throw new InvariantError(
          `liveness: not done at ${this.#now} ms; ${describeStuck(this.state)}`,
        );
      }
      try {
        if (next.event.kind === "serverTick" && this.#serverStep()) break;
        if (next.event.kind !== "serverTick") this.#workerEvent(next.event);
      } catch (e) {
        if (!(e instanceof InvariantError)) throw e;
        throw new InvariantError(
          `at ${this.#now} ms (${next.event.kind}, after ${this.#result.rounds} rounds): ${e.message}`,
        );
      }
    }
    this.#result.endTimeMs = this.#now;
    return this.#result;
  }

  #at(at: number, event: SimEvent): void {
    this.#events.push({ at, seq: this.#seq++, event });
  }

  #delay(): number {
    return this.#rng.int(1, this.#opts.maxDelayMs);
  }

  /** One server loop iteration; true when every job is complete and nothing is pending. */
  #serverStep(): boolean {
    const now = this.#now;
    const state = this.state;
    const out: Outbox = new Map();
    const inbox = this.#inbox.splice(0);
    for (const item of inbox) {
      switch (item.kind) {
        case "register": {
          const id = onWorkerRegistered(state, item.worker.key, item.worker.config, now, out);
          item.worker.id = id;
          this.#byId.set(id, item.worker);
          break;
        }
        case "submit": {
          const id = onSubmit(state, item.spec.submit, now);
          this.#jobOf.set(item.spec, id);
          this.#specOf.set(id, item.spec);
          break;
        }
        case "cancel": {
          const job = state.jobs.get(this.#jobOf.get(item.spec)!)!;
          stopUnfinished(state, job, "canceled", now, out);
          break;
        }
        default:
          assertNever(item, "inbox item");
      }
    }
    if (inbox.length > 0) checkServerState(state);
    let records = 0;
    for (const [workerId, batches] of this.#received) {
      for (const msgs of batches) {
        for (const msg of msgs) {
          onWorkerSeen(state, workerId, now);
          switch (msg.kind) {
            case "heartbeat":
            case "ack":
              break;
            case "taskUpdates":
              for (const u of msg.updates) {
                if (u.kind === "rejected") this.#result.rejections++;
                if (u.kind === "returned") this.#result.returned++;
              }
              onTaskUpdates(state, workerId, msg.updates, now, out);
              checkAfterBatch(state, workerId, msg.updates);
              records++;
              break;
            case "stopping":
              onWorkerLost(state, workerId, msg.reason, now);
              records++;
              break;
            default:
              assertNever(msg, "worker record");
          }
        }
      }
    }
    this.#received.clear();
    if (records > 0) checkServerState(state);
    const live = this.#liveWorkers();
    onTick(state, now, out);
    if (this.#liveWorkers() !== live) checkServerState(state);
    if (state.needsSchedule) {
      const roundOut: Outbox = new Map();
      schedule(state, now, roundOut);
      this.#result.rounds++;
      checkServerState(state);
      checkPriorities(state, placementsOf(roundOut), now);
      for (const [id, msgs] of roundOut) out.set(id, [...(out.get(id) ?? []), ...msgs]);
    }
    checkWorkConservation(state, now);
    this.#checkWorkers();
    for (const [workerId, msgs] of out) this.#sendToWorker(this.#byId.get(workerId)!, msgs);
    takeBatch(state); // what the server would commit; clears the dirty sets
    if (this.#done()) return true;
    this.#at(now + this.#opts.serverTickMs, { kind: "serverTick" });
    return false;
  }

  #liveWorkers(): number {
    let n = 0;
    for (const w of this.state.workers.values()) if (w.state === "running") n++;
    return n;
  }

  #sendToWorker(worker: SimWorker, msgs: ToWorkerMsg[]): void {
    const at = Math.max(worker.lastDelivery, this.#now + this.#delay());
    worker.lastDelivery = at;
    const copy = msgs.flatMap((m) =>
      (m.kind === "cancelTasks" || m.kind === "retractTasks") &&
        this.#rng.chance(this.#opts.duplicateRate)
        ? [m, m]
        : [m]
    );
    this.#at(at, { kind: "toWorker", worker, msgs: copy });
  }

  #sendToServer(worker: SimWorker, msgs: FromWorkerMsg[]): void {
    const at = Math.max(worker.lastArrival, this.#now + this.#delay());
    worker.lastArrival = at;
    this.#at(at, { kind: "toServer", worker, msgs });
  }

  #workerEvent(event: Exclude<SimEvent, { kind: "serverTick" }>): void {
    if (event.kind === "inbox") {
      this.#inbox.push(event.item);
      return;
    }
    if (event.kind === "toServer") {
      // Written before a crash or not, records on the channel stay readable.
      const id = event.worker.id!;
      let list = this.#received.get(id);
      if (!list) this.#received.set(id, list = []);
      list.push(event.msgs);
      const updates = event.msgs.find((m) => m.kind === "taskUpdates");
      if (updates && this.#rng.chance(this.#opts.duplicateRate)) list.push([updates]);
      return;
    }
    const worker = event.worker;
    if (event.kind === "workerStart") {
      worker.alive = true;
      this.#at(this.#now + this.#delay(), {
        kind: "inbox",
        item: { kind: "register", worker },
      });
      if (worker.spec.crashAt !== null) this.#at(worker.spec.crashAt, { kind: "crash", worker });
      if (worker.spec.timeLimitMs !== null) {
        this.#at(this.#now + worker.spec.timeLimitMs, { kind: "timeLimit", worker });
      }
      return;
    }
    if (!worker.alive) return;
    const now = this.#now;
    switch (event.kind) {
      case "toWorker":
        for (const msg of event.msgs) {
          const kind = worker.receive(msg, now);
          if (kind === "registered") this.#at(now, { kind: "heartbeat", worker });
          if (kind === "stop") {
            this.#die(worker);
            return;
          }
        }
        break;
      case "taskEnd": {
        if (!worker.isRun(event.key, event.token)) return;
        this.#result.runs++;
        const order = worker.core.running.get(event.key)!;
        if (!event.fail) this.#finishedRuns.add(`${order.jobId}:${order.taskId}:${order.instance}`);
        const outcome = event.fail
          ? { kind: "failed" as const, error: "sim" }
          : { kind: "finished" as const };
        worker.core.onEnded(event.key, outcome, now);
        break;
      }
      case "kill":
        if (!worker.isRun(event.key, event.token)) return;
        worker.core.onEnded(event.key, { kind: "canceled" }, now);
        break;
      case "heartbeat":
        this.#sendToServer(worker, [{ kind: "heartbeat", at: now }]);
        this.#at(now + this.#opts.heartbeatMs, { kind: "heartbeat", worker });
        return;
      case "crash":
        this.#die(worker);
        return;
      case "timeLimit":
        this.#sendToServer(worker, worker.stopAtTimeLimit(now));
        this.#die(worker);
        return;
      default:
        assertNever(event, "simulation event");
    }
    this.#afterCore(worker);
  }

  /** Launches what the core started, schedules kills, sends its updates. */
  #afterCore(worker: SimWorker): void {
    const now = this.#now;
    const { starts, kills, updates, ended } = worker.drain(() => this.#seq);
    for (const key of ended) this.#runningOn.delete(key);
    for (const { order, token } of starts) {
      const key = `${order.jobId}:${order.taskId}`;
      const other = this.#runningOn.get(key);
      if (other && other !== worker) {
        throw new InvariantError(`task ${key} runs on workers ${other.id} and ${worker.id}`);
      }
      this.#runningOn.set(key, worker);
      const spec = this.#specOf.get(order.jobId)!;
      const duration = this.#rng.int(spec.durationMs[0], spec.durationMs[1]);
      const fail = this.#rng.chance(spec.failRate);
      this.#at(now + duration, { kind: "taskEnd", worker, key, token, fail });
    }
    for (const { key, token } of kills) {
      this.#at(now + this.#rng.int(1, 20), { kind: "kill", worker, key, token });
    }
    if (updates.length > 0) this.#sendToServer(worker, [{ kind: "taskUpdates", updates }]);
  }

  #die(worker: SimWorker): void {
    for (const key of worker.die()) this.#runningOn.delete(key);
  }

  /** Worker-side allocations against the server's accounting (a). */
  #checkWorkers(): void {
    for (const worker of this.#workers) {
      if (!worker.alive || worker.id === null) continue;
      const server = this.state.workers.get(worker.id) ?? null;
      checkWorkerAllocations(`worker ${worker.id}`, worker.spec.pools, worker.core.running, server);
    }
  }

  #done(): boolean {
    if (this.#jobOf.size < this.#scenario.jobs.length) return false;
    for (const job of this.state.jobs.values()) {
      if (job.counts.waiting + job.counts.assigned + job.counts.running > 0) return false;
    }
    for (const w of this.state.workers.values()) {
      if (w.state === "running" && w.tasks.size > 0) return false;
    }
    this.#checkEnd();
    return true;
  }

  /** Final state: idle workers, and every finished task really finished on some worker. */
  #checkEnd(): void {
    for (const worker of this.#workers) {
      if (worker.alive && (worker.core.running.size > 0 || worker.core.prefilled > 0)) {
        throw new InvariantError(`worker ${worker.id} still has tasks after the end`);
      }
    }
    checkFinished(this.state, this.#finishedRuns);
    const counts: Record<string, number> = {};
    for (const job of this.state.jobs.values()) {
      for (const [s, n] of Object.entries(job.counts)) counts[s] = (counts[s] ?? 0) + n;
    }
    this.#result.counts = counts;
  }
}
