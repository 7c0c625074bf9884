/**
 * The server's files to its workers and clients: per worker, the channel it
 * writes (read here, decoded into round inputs) and the channel the server
 * writes to it; per client, the reply channel. I/O only; what to read, send
 * and close is decided by the round and the loop in `run.ts`.
 *
 * @module
 */
import type { WorkerId } from "../../common/mod.ts";
import {
  CHANNEL,
  clientDir,
  decodeToWorker,
  encodeToClient,
  encodeToWorker,
  type InstanceLayout,
  isValidKey,
  type TaskRef,
  type ToClientMsg,
  type ToWorkerMsg,
  workerDir,
  workerOutboxDir,
} from "../../protocol/mod.ts";
import { type ChannelPosition, ChannelReader, ChannelWriter } from "../../protocol/io/mod.ts";
import type { Outbox, ServerState } from "../../scheduler/mod.ts";
import { type ChannelInput, decodeWorkerRecords } from "../mod.ts";

/** Reply writers kept for clients that may ask again; every `hq` command is a new client. */
const MAX_CLIENT_WRITERS = 256;

interface WorkerChannels {
  reader: ChannelReader;
  writer: ChannelWriter;
}

/** Open channels of running workers and reply channels of clients. */
export class ServerLinks {
  readonly #layout: InstanceLayout;
  readonly #keepOpen: boolean;
  readonly #log: (line: string) => void;
  readonly #workers = new Map<WorkerId, WorkerChannels>();
  readonly #clients = new Map<string, ChannelWriter>();
  readonly #unsent = new Map<WorkerId, ToWorkerMsg[]>();
  readonly #closing = new Set<WorkerId>();
  readonly #unsentReplies = new Map<string, ToClientMsg[]>();
  /** Last failure cause per worker or client, so that each is logged once. */
  readonly #causes = new Map<string, string>();

  /** Links under `layout`; `keepOpen` keeps segments open between calls (local filesystems). */
  constructor(layout: InstanceLayout, keepOpen: boolean, log: (line: string) => void) {
    this.#layout = layout;
    this.#keepOpen = keepOpen;
    this.#log = log;
  }

  /**
   * Opens the channels of a newly registered worker, or of a restored one reading on
   * from `start` (its journaled offset); false when they are open already.
   */
  open(workerId: WorkerId, key: string, start?: ChannelPosition): boolean {
    if (this.#workers.has(workerId)) return false;
    const keepOpen = this.#keepOpen;
    this.#workers.set(workerId, {
      reader: new ChannelReader(workerDir(this.#layout, key), CHANNEL.toServer, start, {
        keepOpen,
        networkFs: !keepOpen,
      }),
      writer: new ChannelWriter(workerOutboxDir(this.#layout, key), CHANNEL.toWorker, {
        keepOpen,
        syncData: !keepOpen,
      }),
    });
    return true;
  }

  /**
   * Reads the channels of running workers that `select` picks, decoded; a
   * channel with neither records nor a rotation is left out. Corrupt and
   * undecodable records are logged and skipped.
   */
  async read(
    state: ServerState,
    select: (key: string, workerId: WorkerId) => boolean,
  ): Promise<ChannelInput[]> {
    const inputs: ChannelInput[] = [];
    for (const [workerId, ch] of this.#workers) {
      const worker = state.workers.get(workerId);
      if (!worker || worker.state !== "running" || !select(worker.key, workerId)) continue;
      const res = await ch.reader.read();
      for (const c of res.corrupt) {
        this.#log(
          `[server] worker ${workerId}: skipped corrupt record at ${c.segment}:${c.offset}: ${c.reason}`,
        );
      }
      if (res.records.length === 0 && res.rotatedPast.length === 0) continue;
      const decoded = decodeWorkerRecords(workerId, res.records.map((r) => r.payload));
      for (const line of decoded.log) this.#log(line);
      const rotated = res.rotatedPast.length > 0;
      inputs.push({ workerId, records: decoded.records, position: ch.reader.position, rotated });
    }
    return inputs;
  }

  /** Lets a worker's writer drop the segments before `segment` (the worker read them). */
  async acknowledge(workerId: WorkerId, segment: number): Promise<void> {
    try {
      await this.#workers.get(workerId)?.writer.acknowledge(segment);
    } catch (e) {
      this.#log(
        `[server] worker ${workerId}: could not drop old segments: ${(e as Error).message}`,
      );
    }
  }

  /** Whether messages or replies wait for a failed write to be retried. */
  get pending(): boolean {
    return this.#unsent.size > 0 || this.#unsentReplies.size > 0;
  }

  /**
   * Appends each worker's messages to its channel, after those a failed write kept. A write
   * that fails (a full disk) keeps its messages for the next call and is logged once per
   * cause; the others still go out. A worker whose directory is gone loses them.
   */
  async send(outbox: Outbox): Promise<void> {
    // Every round sends: a set of both is only made while a failed write waits.
    const ids = this.#unsent.size === 0
      ? outbox.keys()
      : new Set([...this.#unsent.keys(), ...outbox.keys()]);
    for (const workerId of ids) {
      const ch = this.#workers.get(workerId);
      const msgs = [...(this.#unsent.get(workerId) ?? []), ...(outbox.get(workerId) ?? [])];
      this.#unsent.delete(workerId);
      if (!ch) continue;
      const what = `worker ${workerId}`;
      try {
        await ch.writer.append(msgs.map(encodeToWorker));
        this.#recovered(what);
        if (this.#closing.delete(workerId)) this.close([workerId]);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          this.#log(`[server] ${what}: its channel is gone: ${(e as Error).message}`);
          continue;
        }
        this.#unsent.set(workerId, msgs);
        this.#failed(what, `could not write its channel, will retry: ${(e as Error).message}`);
      }
    }
  }

  /** Closes the channels of ended workers (once their last messages are written). */
  close(workerIds: Iterable<WorkerId>): void {
    for (const workerId of workerIds) {
      const ch = this.#workers.get(workerId);
      if (!ch) continue;
      if (this.#unsent.has(workerId)) {
        this.#closing.add(workerId);
        continue;
      }
      ch.reader.close();
      ch.writer.close();
      this.#workers.delete(workerId);
    }
  }

  /**
   * Tells a worker whose registration was refused why, through the channel it reads (it has
   * no id, so no open channel); a worker directory that is not there is left alone.
   */
  async refuse(key: string, reason: string): Promise<void> {
    const dir = workerOutboxDir(this.#layout, key);
    try {
      Deno.statSync(dir);
      const writer = new ChannelWriter(dir, CHANNEL.toWorker);
      await writer.append([encodeToWorker({ kind: "refused", reason })]);
      writer.close();
    } catch (e) {
      this.#log(`[server] could not tell worker ${key} it was refused: ${(e as Error).message}`);
    }
  }

  /** Writes the replies a failed write kept; returns the clients found gone meanwhile. */
  async retryReplies(): Promise<string[]> {
    const gone: string[] = [];
    for (const client of [...this.#unsentReplies.keys()]) {
      const msgs = this.#unsentReplies.get(client)!;
      this.#unsentReplies.delete(client);
      for (const msg of msgs) {
        if ((await this.reply(client, msg)) === "gone") {
          gone.push(client);
          break;
        }
      }
    }
    return gone;
  }

  #failed(what: string, line: string): void {
    const cause = line.split(":")[0]!;
    if (this.#causes.get(what) === cause) return;
    this.#causes.set(what, cause);
    this.#log(`[server] ${what}: ${line}`);
  }

  #recovered(what: string): void {
    if (this.#causes.delete(what)) this.#log(`[server] ${what}: written again`);
  }

  /** Closes every worker channel. */
  closeAll(): void {
    this.close([...this.#workers.keys()]);
  }

  /**
   * Appends a reply to a client's reply channel: `sent`, `queued` (a failed write, tried
   * again by {@link retryReplies}) or `gone` (no such client, or its directory is gone).
   */
  async reply(client: string | null, msg: ToClientMsg): Promise<"sent" | "queued" | "gone"> {
    if (client === null || !isValidKey(client)) return "gone";
    const queued = this.#unsentReplies.get(client);
    if (queued) {
      queued.push(msg); // after the ones waiting, in order
      return "queued";
    }
    let writer = this.#clients.get(client);
    const fresh = writer === undefined;
    writer ??= new ChannelWriter(clientDir(this.#layout, client), CHANNEL.reply);
    // Most recently used last; the oldest beyond the cap are dropped (a client that
    // comes back gets a new writer, which finds the channel's end again).
    this.#clients.delete(client);
    this.#clients.set(client, writer);
    for (const [old, w] of this.#clients) {
      if (this.#clients.size <= MAX_CLIENT_WRITERS) break;
      w.close();
      this.#clients.delete(old);
    }
    try {
      await writer.append([encodeToClient(msg)]);
      this.#recovered(`client ${client}`);
      return "sent";
    } catch (e) {
      writer.close();
      this.#clients.delete(client);
      if (e instanceof Deno.errors.NotFound) {
        // A client that gave up and removed its directory: its answer is not needed (and
        // one gone before its first answer is not worth a line).
        if (!fresh) {
          this.#log(`[server] could not answer client ${client}: ${(e as Error).message}`);
        }
        return "gone";
      }
      // A full disk: the answer waits, the server goes on.
      this.#unsentReplies.set(client, [msg]);
      this.#failed(`client ${client}`, `could not answer, will retry: ${(e as Error).message}`);
      return "queued";
    }
  }
}

/**
 * The tasks a server sent to a worker that are still in its `to-worker` channel (segments the
 * worker has not acknowledged yet): what a dead server may have handed it after its last
 * commit. Undecodable records are skipped.
 */
export async function sentTasks(layout: InstanceLayout, key: string): Promise<TaskRef[]> {
  const dir = workerOutboxDir(layout, key);
  let lowest: number | undefined;
  try {
    for (const e of Deno.readDirSync(dir)) {
      const m = /^to-worker\.(\d+)\.log$/.exec(e.name);
      if (m) lowest = Math.min(lowest ?? Infinity, Number(m[1]));
    }
  } catch {
    return [];
  }
  if (lowest === undefined) return [];
  const reader = new ChannelReader(dir, CHANNEL.toWorker, { segment: lowest, offset: 0 });
  const refs: TaskRef[] = [];
  try {
    for (const rec of (await reader.read()).records) {
      try {
        const msg = decodeToWorker(rec.payload);
        if (msg.kind !== "computeTasks") continue;
        for (const t of msg.tasks) refs.push({ jobId: msg.jobId, id: t.id, instance: t.instance });
      } catch {
        // not a message of this version: nothing this server sent
      }
    }
  } finally {
    reader.close();
  }
  return refs;
}
