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
  encodeToClient,
  encodeToWorker,
  type InstanceLayout,
  isValidKey,
  type ToClientMsg,
  workerDir,
  workerOutboxDir,
} from "../../protocol/mod.ts";
import { ChannelReader, ChannelWriter } from "../../protocol/io/mod.ts";
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

  /** Links under `layout`; `keepOpen` keeps segments open between calls (local filesystems). */
  constructor(layout: InstanceLayout, keepOpen: boolean, log: (line: string) => void) {
    this.#layout = layout;
    this.#keepOpen = keepOpen;
    this.#log = log;
  }

  /** Opens the channels of a newly registered worker; false when they are open already. */
  open(workerId: WorkerId, key: string): boolean {
    if (this.#workers.has(workerId)) return false;
    const keepOpen = this.#keepOpen;
    this.#workers.set(workerId, {
      reader: new ChannelReader(workerDir(this.#layout, key), CHANNEL.toServer, undefined, {
        keepOpen,
      }),
      writer: new ChannelWriter(workerOutboxDir(this.#layout, key), CHANNEL.toWorker, {
        keepOpen,
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

  /**
   * Appends each worker's messages to its channel. A write that fails is logged and the
   * others still go out: one broken channel must not stop the server.
   */
  async send(outbox: Outbox): Promise<void> {
    for (const [workerId, msgs] of outbox) {
      const ch = this.#workers.get(workerId);
      if (!ch) continue;
      try {
        await ch.writer.append(msgs.map(encodeToWorker));
      } catch (e) {
        this.#log(
          `[server] worker ${workerId}: could not write its channel: ${(e as Error).message}`,
        );
      }
    }
  }

  /** Closes the channels of ended workers. */
  close(workerIds: Iterable<WorkerId>): void {
    for (const workerId of workerIds) {
      const ch = this.#workers.get(workerId);
      if (!ch) continue;
      ch.reader.close();
      ch.writer.close();
      this.#workers.delete(workerId);
    }
  }

  /** Closes every worker channel. */
  closeAll(): void {
    this.close([...this.#workers.keys()]);
  }

  /** Appends a reply to a client's reply channel; a client that is gone is skipped. */
  async reply(client: string | null, msg: ToClientMsg): Promise<void> {
    if (client === null || !isValidKey(client)) return;
    let writer = this.#clients.get(client);
    if (!writer) {
      const dir = clientDir(this.#layout, client);
      try {
        Deno.statSync(dir);
      } catch {
        return; // the client is gone
      }
      writer = new ChannelWriter(dir, CHANNEL.reply);
    }
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
    } catch (e) {
      // A client that gave up and removed its directory, a full disk: its answer is lost,
      // the server goes on.
      this.#log(`[server] could not answer client ${client}: ${(e as Error).message}`);
      writer.close();
      this.#clients.delete(client);
    }
  }
}
