/**
 * Deterministic simulation of the scheduler: the server's own round
 * ({@link serverRound}, as `lib/server/run.ts` runs it) on the server side,
 * the real {@link WorkerCore} on each simulated worker, a simulated clock,
 * and channels that deliver each batch after a random delay in FIFO order per
 * channel. Every message crosses the real codec: registrations, submits and
 * cancels as inbox files, records both ways, replies. Faults: workers crash
 * silently (the server notices missing heartbeats), stop at their time limit,
 * join late; cancel and retract records are sometimes duplicated, and update
 * batches sometimes read twice. Invariants are checked after every server
 * phase and every worker event; a failure names the seed.
 *
 * @module
 */
import { assertNever, BinaryHeap, type WorkerId } from "../common/mod.ts";
import {
  decodeToWorker,
  encodeFromWorker,
  encodeToWorker,
  type FromWorkerMsg,
  type ToWorkerMsg,
} from "../protocol/mod.ts";
import { createServerState, type ServerState } from "../scheduler/mod.ts";
import { Rng } from "./_rng.ts";
import { DEFAULT_SIM_OPTIONS, type Scenario, type SimOptions, type SimResult } from "./scenario.ts";
import { SimWorker } from "./sim_worker.ts";
import { type InboxPost, SimServer } from "./sim_server.ts";
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
  | { kind: "toWorker"; worker: SimWorker; records: string[] }
  | { kind: "toServer"; worker: SimWorker; records: string[] }
  | { kind: "inbox"; post: InboxPost }
  | { kind: "taskEnd"; worker: SimWorker; key: string; token: number; fail: boolean }
  | { kind: "kill"; worker: SimWorker; key: string; token: number }
  | { kind: "heartbeat"; worker: SimWorker }
  | { kind: "crash"; worker: SimWorker }
  | { kind: "timeLimit"; worker: SimWorker };

interface Queued {
  at: number;
  seq: number;
  event: SimEvent;
}

/** One simulation run of a scenario. */
export class Simulation {
  /** Server state (inspect after {@link Simulation.run}). */
  readonly state: ServerState;
  readonly #server: SimServer;
  readonly #rng: Rng;
  readonly #opts: SimOptions;
  readonly #scenario: Scenario;
  readonly #events = new BinaryHeap<Queued>((a, b) =>
    a.at < b.at || (a.at === b.at && a.seq < b.seq)
  );
  #seq = 0;
  #now = 0;
  #byId = new Map<WorkerId, SimWorker>();
  #byKey = new Map<string, SimWorker>();
  #workers: SimWorker[] = [];
  /** Which live simulated worker runs each task right now. */
  #runningOn = new Map<string, SimWorker>();
  /** Runs (`job:task:instance`) that a worker finished successfully. */
  #finishedRuns = new Set<string>();
  #result: SimResult = {
    endTimeMs: 0,
    rounds: 0,
    runs: 0,
    rejections: 0,
    returned: 0,
    counts: {},
    lastEndByWorker: {},
  };

  /** Prepares a run of `scenario`, drawing delays and durations from `seed`. */
  constructor(scenario: Scenario, seed: number, options: Partial<SimOptions> = {}) {
    this.#rng = new Rng(seed ^ 0x5eed);
    this.#opts = { ...DEFAULT_SIM_OPTIONS, ...options };
    this.#scenario = scenario;
    this.state = createServerState("sim", this.#opts.scheduler);
    this.#server = new SimServer(this.state, {
      afterPhase: () => checkServerState(this.state),
      afterUpdates: (workerId, updates) => {
        const ends = this.#result.lastEndByWorker;
        for (const u of updates) {
          if (u.kind === "rejected") this.#result.rejections++;
          if (u.kind === "returned") this.#result.returned++;
          if (u.kind === "finished" || u.kind === "failed") {
            ends[workerId] = Math.max(ends[workerId] ?? 0, u.at);
          }
        }
        checkAfterBatch(this.state, workerId, updates);
      },
    });
  }

  /** Runs until every job is complete; throws {@link InvariantError} on a broken invariant. */
  run(): SimResult {
    this.#scenario.workers.forEach((spec, i) => {
      const worker = new SimWorker(spec, `w${i}`, this.#opts.heartbeatMs);
      this.#workers.push(worker);
      this.#byKey.set(worker.key, worker);
      this.#at(spec.startAt, { kind: "workerStart", worker });
    });
    for (const spec of this.#scenario.jobs) {
      this.#at(spec.submitAt, { kind: "inbox", post: { kind: "submit", spec } });
      if (spec.cancelAt !== null) {
        this.#at(Math.max(spec.cancelAt, spec.submitAt + 1), {
          kind: "inbox",
          post: { kind: "cancel", spec },
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

  /** A channel delay: up to the worker's own largest delay when it has one. */
  #delay(worker?: SimWorker): number {
    return this.#rng.int(1, worker?.spec.maxDelayMs ?? this.#opts.maxDelayMs);
  }

  /** One server round, as the server runs it; true when every job is complete. */
  #serverStep(): boolean {
    const now = this.#now;
    const state = this.state;
    const round = this.#server.round(now);
    for (const { workerId, key } of round.open) {
      const worker = this.#byKey.get(key)!;
      worker.id = workerId;
      this.#byId.set(workerId, worker);
    }
    if (round.scheduled) {
      this.#result.rounds++;
      checkServerState(state);
      checkPriorities(state, placementsOf(round.outbox), now);
    }
    checkWorkConservation(state, now);
    this.#checkWorkers();
    for (const [workerId, msgs] of round.outbox) {
      this.#sendToWorker(this.#byId.get(workerId)!, msgs);
    }
    if (this.#done()) return true;
    this.#at(now + this.#opts.serverTickMs, { kind: "serverTick" });
    return false;
  }

  #sendToWorker(worker: SimWorker, msgs: ToWorkerMsg[]): void {
    const at = Math.max(worker.lastDelivery, this.#now + this.#delay(worker));
    worker.lastDelivery = at;
    const records = msgs.flatMap((m) => {
      const record = encodeToWorker(m);
      const twice = (m.kind === "cancelTasks" || m.kind === "retractTasks") &&
        this.#rng.chance(this.#opts.duplicateRate);
      return twice ? [record, record] : [record];
    });
    this.#at(at, { kind: "toWorker", worker, records });
  }

  #sendToServer(worker: SimWorker, msgs: FromWorkerMsg[]): void {
    const at = Math.max(worker.lastArrival, this.#now + this.#delay(worker));
    worker.lastArrival = at;
    const records = msgs.map(encodeFromWorker);
    // An update batch is sometimes read twice.
    const updates = msgs.findIndex((m) => m.kind === "taskUpdates");
    if (updates >= 0 && this.#rng.chance(this.#opts.duplicateRate)) {
      records.push(records[updates]!);
    }
    this.#at(at, { kind: "toServer", worker, records });
  }

  #workerEvent(event: Exclude<SimEvent, { kind: "serverTick" }>): void {
    if (event.kind === "inbox") {
      this.#server.post(event.post);
      return;
    }
    if (event.kind === "toServer") {
      // Written before a crash or not, records on the channel stay readable.
      this.#server.append(event.worker.id!, event.records);
      return;
    }
    const worker = event.worker;
    if (event.kind === "workerStart") {
      worker.alive = true;
      this.#at(this.#now + this.#delay(worker), {
        kind: "inbox",
        post: { kind: "register", worker },
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
        for (const record of event.records) {
          const kind = worker.receive(decodeToWorker(record), now);
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
      const spec = this.#server.specOf.get(order.jobId)!;
      const drawn = this.#rng.int(spec.durationMs[0], spec.durationMs[1]);
      const { slowdown } = worker.spec;
      const duration = slowdown === undefined ? drawn : Math.max(1, Math.round(drawn * slowdown));
      const fail = this.#rng.chance(spec.failRate);
      this.#at(now + duration, { kind: "taskEnd", worker, key, token, fail });
    }
    for (const { key, token } of kills) {
      this.#at(now + this.#rng.int(1, 20), { kind: "kill", worker, key, token });
    }
    if (updates.length > 0) {
      const echo = worker.echo === null ? {} : { echo: worker.echo };
      worker.echo = null;
      this.#sendToServer(worker, [{ kind: "taskUpdates", updates, ...echo }]);
    }
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
    if (this.#server.jobOf.size < this.#scenario.jobs.length) return false;
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
