/**
 * The simulation's server shell: what `lib/server/run.ts` does around
 * {@link serverRound}, over in-memory files. Posts become inbox files through
 * the inbox codec, channel records are decoded by the server's own decoder,
 * and replies cross the codec before the simulated client reads them. The
 * round itself is the server's, unchanged.
 *
 * @module
 */
import { assertNever, type JobId, type WorkerId } from "../common/mod.ts";
import {
  decodeInbox,
  decodeToClient,
  encodeInbox,
  encodeToClient,
  type FromClientMsg,
  type InboxItem,
  type RegisterWorkerMsg,
} from "../protocol/mod.ts";
import type { ServerState } from "../scheduler/mod.ts";
import {
  type ChannelInput,
  createServerSession,
  decodeWorkerRecords,
  type RoundOutput,
  type RoundProbe,
  serverRound,
  type ServerSession,
} from "../server/mod.ts";
import { InvariantError } from "./invariants.ts";
import type { SimJobSpec } from "./scenario.ts";
import type { SimWorker } from "./sim_worker.ts";

/** What a simulated process posts to the inbox; encoded when the server reads it. */
export type InboxPost =
  | { kind: "register"; worker: SimWorker }
  | { kind: "submit"; spec: SimJobSpec }
  | { kind: "cancel"; spec: SimJobSpec };

/** The server side of a simulation: the real round between in-memory files. */
export class SimServer {
  /** What the server keeps between rounds. */
  readonly session: ServerSession;
  /** Job of each submitted spec, once the submit was answered. */
  readonly jobOf = new Map<SimJobSpec, JobId>();
  /** Spec of each job. */
  readonly specOf = new Map<JobId, SimJobSpec>();
  #inbox: InboxPost[] = [];
  /** Records on each worker's channel not read yet, with how many were read before. */
  #channels = new Map<WorkerId, { records: string[]; read: number }>();
  /** Submits waiting for their reply, by request number. */
  #submits = new Map<number, SimJobSpec>();
  #files = 0;

  /** A server over `state`; `probe` checks invariants between the round's phases. */
  constructor(state: ServerState, probe: RoundProbe) {
    this.session = createServerSession(state, probe);
  }

  /** Delivers an inbox file (read at the next round). */
  post(post: InboxPost): void {
    this.#inbox.push(post);
  }

  /** Appends encoded records to a worker's channel (read at the next round). */
  append(workerId: WorkerId, records: readonly string[]): void {
    let ch = this.#channels.get(workerId);
    if (!ch) this.#channels.set(workerId, ch = { records: [], read: 0 });
    ch.records.push(...records);
  }

  /** Runs one round at `now` over what arrived; throws when the server rejected a file. */
  round(now: number): RoundOutput {
    const round = serverRound(this.session, {
      inbox: this.#takeInbox(now),
      channels: this.#takeChannels(),
      dead: [],
      stopSignal: false,
    }, now);
    if (round.reject.length > 0) {
      throw new InvariantError(`the server rejected ${round.reject.map((r) => r.reason)}`);
    }
    this.#readReplies(round);
    return round;
  }

  /** The inbox files posted so far. A cancel waits until its submit was answered. */
  #takeInbox(now: number): InboxItem[] {
    const items: InboxItem[] = [];
    const later: InboxPost[] = [];
    for (const post of this.#inbox) {
      let msg: FromClientMsg | RegisterWorkerMsg;
      switch (post.kind) {
        case "register":
          msg = { kind: "registerWorker", key: post.worker.key, config: post.worker.config };
          break;
        case "submit":
          msg = { kind: "submit", job: post.spec.submit };
          this.#submits.set(this.#files, post.spec);
          break;
        case "cancel": {
          const jobId = this.jobOf.get(post.spec);
          if (jobId === undefined) {
            later.push(post);
            continue;
          }
          msg = { kind: "jobCancel", selector: String(jobId), reason: null };
          break;
        }
        default:
          assertNever(post, "inbox post");
      }
      const request = this.#files++;
      const client = post.kind === "register" ? null : "sim";
      const text = encodeInbox({ client, request, sentAt: now, msg });
      const name = `${String(request).padStart(10, "0")}-sim.json`;
      items.push({ kind: "message", name, envelope: decodeInbox(text) });
    }
    this.#inbox = later;
    return items;
  }

  /** What each worker's channel holds, decoded as the server decodes it. */
  #takeChannels(): ChannelInput[] {
    const inputs: ChannelInput[] = [];
    for (const [workerId, ch] of this.#channels) {
      if (ch.records.length === 0) continue;
      const { records, log } = decodeWorkerRecords(workerId, ch.records);
      if (log.length > 0) throw new InvariantError(log.join("; "));
      ch.read += ch.records.length;
      ch.records = [];
      inputs.push({ workerId, records, position: { segment: 0, offset: ch.read }, rotated: false });
    }
    return inputs;
  }

  /** The round's replies, through the codec: submits learn their job id. */
  #readReplies(round: RoundOutput): void {
    for (const { msg } of round.replies) {
      const reply = decodeToClient(encodeToClient(msg));
      if (reply.kind === "error") throw new InvariantError(`request failed: ${reply.message}`);
      if (reply.kind !== "submitted") continue;
      const spec = this.#submits.get(reply.request)!;
      this.#submits.delete(reply.request);
      this.jobOf.set(spec, reply.jobId);
      this.specOf.set(reply.jobId, spec);
    }
  }
}
