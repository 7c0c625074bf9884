/**
 * The worker's side of the files it shares with the server: registration
 * through the inbox, the `to-worker` channel it reads (woken by a watcher or
 * the poll timer), the `to-server` channel it appends to, the server's lease,
 * and the one timer that wakes the loop to flush updates.
 *
 * @module
 */
import { ownProcessIdentity, randomToken } from "../../common/io/mod.ts";
import {
  CHANNEL,
  decodeToWorker,
  encodeFromWorker,
  type FromWorkerMsg,
  type InstanceLayout,
  type ProcessIdentity,
  type ToWorkerMsg,
  type WorkerConfig,
  workerDir,
  workerOutboxDir,
} from "../../protocol/mod.ts";
import {
  ChannelReader,
  ChannelWriter,
  connectInstance,
  ensureDirMode,
  isNetworkFs,
  type Lease,
  postToInbox,
  readLease,
  Waiter,
} from "../../protocol/io/mod.ts";

const NOTHING_READ = { records: [], corrupt: [], rotatedPast: [] } as const;

/** Options of {@link openServerLink}. */
export interface ServerLinkOptions {
  /** The server directory. */
  serverDir: string;
  /** The worker's settings; pid, start time and process identity are added. */
  config: Omit<WorkerConfig, "pid" | "startedAt" | "process">;
  /** Disables watching. @default true on network filesystems */
  pollOnly?: boolean;
  /** Poll interval when idle, ms. @default 250 */
  maxPollMs?: number;
  /** Log sink. */
  log: (line: string) => void;
}

/** What {@link openServerLink} assembles for a {@link ServerLink}. */
export interface ServerLinkParts {
  /** The worker's directory name under `workers/`. */
  key: string;
  /** The worker's registered settings. */
  config: WorkerConfig;
  /** This process's identity. */
  identity: ProcessIdentity;
  /** The server's lease when the worker connected. */
  lease: Lease;
  /** The server instance's files. */
  layout: InstanceLayout;
  /** The `to-server` channel. */
  writer: ChannelWriter;
  /** The `to-worker` channel. */
  reader: ChannelReader;
  /** Wakes the loop for the `to-worker` channel. */
  waiter: Waiter;
  /** Log sink. */
  log: (line: string) => void;
}

/** One read of the `to-worker` channel. */
export interface Inbound {
  /** The server's messages, in order (undecodable records are logged and skipped). */
  messages: ToWorkerMsg[];
  /** The ack to send for segments read past, or null. */
  ack: FromWorkerMsg | null;
}

/** Connects to the live server of a directory and registers the worker through its inbox. */
export async function openServerLink(options: ServerLinkOptions): Promise<ServerLink> {
  const { layout, lease } = await connectInstance(options.serverDir);
  const startedAt = Date.now();
  const identity = ownProcessIdentity();
  const config: WorkerConfig = { ...options.config, pid: Deno.pid, startedAt, process: identity };
  const key = `${config.hostname.replace(/[^A-Za-z0-9._-]/g, "_")}-${Deno.pid}-${randomToken(4)}`;
  const dir = workerDir(layout, key);
  const outbox = workerOutboxDir(layout, key);
  await ensureDirMode(dir, 0o700);
  await ensureDirMode(outbox, 0o700);
  const local = !isNetworkFs(dir);
  const writer = new ChannelWriter(dir, CHANNEL.toServer, { keepOpen: local, syncData: !local });
  const reader = new ChannelReader(outbox, CHANNEL.toWorker, undefined, {
    keepOpen: local,
    networkFs: !local,
  });
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
  return new ServerLink({
    key,
    config,
    identity,
    lease,
    layout,
    writer,
    reader,
    waiter,
    log: options.log,
  });
}

/** The worker's channels to and from the server (made by {@link openServerLink}). */
export class ServerLink {
  /** The worker's directory name under `workers/`. */
  readonly key: string;
  /** The worker's registered settings. */
  readonly config: WorkerConfig;
  /** This process's identity. */
  readonly identity: ProcessIdentity;
  /** The server's lease when the worker connected. */
  readonly lease: Lease;
  readonly #parts: ServerLinkParts;
  #wakeTimer: ReturnType<typeof setTimeout> | undefined;

  /** Wraps what {@link openServerLink} assembled. */
  constructor(parts: ServerLinkParts) {
    this.key = parts.key;
    this.config = parts.config;
    this.identity = parts.identity;
    this.lease = parts.lease;
    this.#parts = parts;
  }

  /** Resolves on the next channel event, poll tick, {@link notify} or scheduled wake. */
  wait(): Promise<void> {
    return this.#parts.waiter.wait();
  }

  /** Wakes the loop at once. */
  notify(): void {
    this.#parts.waiter.notify();
  }

  /** Whether a wake from {@link wakeIn} is still pending. */
  get wakeScheduled(): boolean {
    return this.#wakeTimer !== undefined;
  }

  /** Wakes the loop in `ms` (to flush updates); one such wake is pending at a time. */
  wakeIn(ms: number): void {
    if (this.#wakeTimer !== undefined) return;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      this.#parts.waiter.notify();
    }, ms);
  }

  /**
   * Reads the server's new messages. A wake only to flush updates (no
   * watcher event for the channel, no poll timer) skips the read unless
   * `always`.
   */
  async read(always: boolean): Promise<Inbound> {
    const { reader, waiter, log } = this.#parts;
    const changed = waiter.takeChanged();
    const readNow = changed === null || changed.size > 0 || always;
    const res = readNow ? await reader.read() : NOTHING_READ;
    for (const c of res.corrupt) {
      log(`[worker] skipped corrupt record at ${c.segment}:${c.offset}: ${c.reason}`);
    }
    const messages: ToWorkerMsg[] = [];
    for (const rec of res.records) {
      try {
        messages.push(decodeToWorker(rec.payload));
      } catch (e) {
        log(`[worker] ${(e as Error).message}`);
      }
    }
    if (res.records.length > 0) waiter.busy();
    const ack: FromWorkerMsg | null = res.rotatedPast.length > 0
      ? { kind: "ack", segment: reader.position.segment }
      : null;
    return { messages, ack };
  }

  /** Lets the writer drop `to-server` segments before `segment` (the server read past them). */
  acknowledge(segment: number): Promise<void> {
    return this.#parts.writer.acknowledge(segment);
  }

  /** Appends messages to the `to-server` channel (nothing for none). */
  async send(msgs: FromWorkerMsg[]): Promise<void> {
    if (msgs.length === 0) return;
    await this.#parts.writer.append(msgs.map(encodeFromWorker));
    // Updates sent: the server's answer (new tasks) comes within a round trip, so polling goes
    // back to its quickest pace rather than the slow pace of an idle worker.
    if (msgs.some((m) => m.kind === "taskUpdates")) this.#parts.waiter.busy();
  }

  /** The server's lease as it is now; undefined when it cannot be read. */
  readLease(): Lease | undefined {
    return readLease(this.#parts.layout.lease);
  }

  /** Closes the channels, the watcher and the wake timer. */
  close(): void {
    clearTimeout(this.#wakeTimer);
    this.#parts.writer.close();
    this.#parts.reader.close();
    this.#parts.waiter.close();
  }
}
