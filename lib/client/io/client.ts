/**
 * The typed client: posts requests to the server's inbox and reads replies
 * from its own reply channel. Used by `submit.ts`, the other CLI roles and
 * `mod.ts`.
 *
 * @module
 */
import type { IdRange, JobId } from "../../common/mod.ts";
import { quickToken, runIdleWork } from "../../common/io/mod.ts";
import { Replies } from "./_replies.ts";
import {
  type AllocMsg,
  clientDir,
  decodeToClient,
  type ExplainView,
  type ForgetResult,
  type ForgettableState,
  type FromClientMsg,
  type InstanceLayout,
  type JobDetailView,
  type JobInfoView,
  type JobSubmit,
  type JournalEventView,
  type TaskCursor,
  type TaskPageView,
  type TaskStateName,
  type TaskView,
  type ToClientMsg,
  unpackTaskView,
  type WorkerView,
} from "../../protocol/mod.ts";
import {
  connectInstance,
  ensureDirMode,
  type Lease,
  postToInbox,
  readLease,
  type ServerIdentity,
  ServerNotRunningError,
} from "../../protocol/io/mod.ts";
import type { CancelResult, CloseResult, DebugDump, WorkerStopResult } from "../../server/mod.ts";

/** Most tasks one `taskList` page carries. */
export const TASK_PAGE_SIZE = 20_000;

/** A task's notification as a waiting client receives it (`--on-notify`). */
export type TaskNotification = Extract<ToClientMsg, { kind: "notify" }>;

/**
 * The server answered a request with an error (an unknown job, a bad selector, ...), or with
 * a reply of the wrong kind. The message is the server's, ready to print.
 *
 * @example Usage
 * ```ts
 * import { HqClient, RequestError } from "./client.ts";
 * import { runServer } from "../../server/io/run.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const { promise: ready, resolve } = Promise.withResolvers<void>();
 *   const server = runServer({ serverDir: dir, log: () => {}, onReady: () => resolve() });
 *   await ready;
 *   const client = await HqClient.connect(dir);
 *   try {
 *     await assert.rejects(client.jobInfo("not-a-selector"), RequestError);
 *     await client.stopServer();
 *   } finally {
 *     await client.close();
 *   }
 *   await server;
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class RequestError extends Error {
  /** `message` is the server's error text. */
  constructor(message: string) {
    super(message);
    this.name = "RequestError";
  }
}

/** Options of {@link HqClient.connect}. */
export interface ConnectOptions {
  /**
   * Turn watching off and only poll for replies. @default true on a network filesystem
   * (see `isNetworkFs`), else false
   */
  pollOnly?: boolean;
}

/**
 * A connection to a server through its directory: requests go to the server's inbox, replies
 * come back on this client's own reply channel (`clients/<key>/`). Always
 * {@link HqClient.close} it.
 *
 * @example Usage
 * ```ts
 * import { HqClient } from "./client.ts";
 * import { buildSubmit } from "../../cli/submit_args.ts";
 * import { runServer } from "../../server/io/run.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // A server of our own in this process; a real one runs `hq server start`.
 *   const { promise: ready, resolve } = Promise.withResolvers<void>();
 *   const server = runServer({ serverDir: dir, log: () => {}, onReady: () => resolve() });
 *   await ready;
 *   const client = await HqClient.connect(dir);
 *   try {
 *     const { job } = buildSubmit({ array: "1-3" }, ["true"], dir);
 *     const jobId = await client.submit(job);
 *     const [info] = await client.listJobs();
 *     assert.equal(info?.id, jobId);
 *     assert.equal(info?.task_stats.waiting, 3); // no worker has started
 *     const [outcome] = await client.cancel(String(jobId));
 *     assert.equal(outcome?.result, "canceled");
 *     await client.stopServer();
 *   } finally {
 *     await client.close();
 *   }
 *   await server;
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class HqClient {
  #layout: InstanceLayout;
  #identity: ServerIdentity;
  #key: string;
  #dir: string;
  #replies: Replies;
  #request = 0;
  #pending = new Map<number, ToClientMsg>();
  #notifyHandlers = new Map<number, (n: TaskNotification) => void>();
  #lease: { seq: number; startedAt: number; at: number; intervalMs: number };

  private constructor(
    layout: InstanceLayout,
    identity: ServerIdentity,
    lease: Lease,
    key: string,
    pollOnly: boolean | undefined,
  ) {
    this.#layout = layout;
    this.#identity = identity;
    this.#key = key;
    this.#dir = clientDir(layout, key);
    this.#replies = new Replies(this.#dir, layout.root, pollOnly);
    this.#lease = {
      seq: lease.seq,
      startedAt: lease.startedAt,
      at: Date.now(),
      intervalMs: lease.intervalMs,
    };
  }

  /**
   * Connects to the live server of `serverDir` (an absolute path; see `resolveServerDir`)
   * and creates this client's reply directory.
   *
   * @throws {ServerNotRunningError} When none runs there.
   * @throws {ServerDirError} When the directory is unsafe (see `checkServerDir`).
   */
  static async connect(serverDir: string, options: ConnectOptions = {}): Promise<HqClient> {
    const { layout, identity, lease } = await connectInstance(serverDir);
    const key = `c${Deno.pid}-${quickToken(4)}`;
    await ensureDirMode(clientDir(layout, key), 0o700);
    return new HqClient(layout, identity, lease, key, options.pollOnly);
  }

  /** The server's identity (`server.json`). */
  get identity(): ServerIdentity {
    return this.#identity;
  }

  /**
   * Sends a request and waits for its reply, however long the server takes (`jobWait`
   * answers only when the jobs are complete).
   *
   * @throws {RequestError} When the server answers with an error.
   * @throws {ServerNotRunningError} When the server stops or its lease goes stale before it
   * answers.
   */
  async request(
    msg: FromClientMsg,
    onNotify?: (n: TaskNotification) => void,
  ): Promise<ToClientMsg> {
    const request = ++this.#request;
    const post = () =>
      postToInbox(this.#layout, this.#key, {
        client: this.#key,
        request,
        sentAt: Date.now(),
        msg,
      });
    if (onNotify) this.#notifyHandlers.set(request, onNotify);
    try {
      return await this.#awaitReply(request, post);
    } finally {
      this.#notifyHandlers.delete(request);
    }
  }

  async #awaitReply(request: number, post: () => Promise<unknown>): Promise<ToClientMsg> {
    await post();
    // The server is answering: work put off until now runs while it does (see `idle_work.ts`).
    runIdleWork();
    this.#replies.expectSoon();
    let leaseError: ServerNotRunningError | undefined;
    for (;;) {
      const res = await this.#replies.read();
      for (const rec of res.records) {
        const reply = decodeToClient(rec.payload);
        // Notifications come before their request's reply (possibly while another runs).
        if (reply.kind === "notify") {
          this.#notifyHandlers.get(reply.request)?.(reply);
          continue;
        }
        this.#pending.set(reply.request, reply);
      }
      const reply = this.#pending.get(request);
      if (reply) {
        this.#pending.delete(request);
        if (reply.kind === "error") throw new RequestError(reply.message);
        return reply;
      }
      // The server writes its last replies before it marks the lease stopped, so
      // one more read follows a stopped or stale lease before giving up.
      if (leaseError) throw leaseError;
      if (this.#replies.quickPause()) continue;
      try {
        // A server that took over the instance after a crash may never have seen the
        // request, or lost a pending wait with its memory: ask it again (a submit is
        // applied once per request key, whichever server gets it).
        if (this.#checkLease() === "restarted") await post();
      } catch (e) {
        if (!(e instanceof ServerNotRunningError)) throw e;
        leaseError = e;
        continue;
      }
      await this.#replies.wait();
    }
  }

  /** Whether the server still lives; "restarted" when another server took over the instance. */
  #checkLease(): "alive" | "restarted" {
    const lease = readLease(this.#layout.lease);
    const now = Date.now();
    if (lease && lease.stopped) {
      throw new ServerNotRunningError("The server stopped before answering");
    }
    if (lease && (lease.seq !== this.#lease.seq || lease.startedAt !== this.#lease.startedAt)) {
      const restarted = lease.startedAt !== this.#lease.startedAt;
      this.#lease = {
        seq: lease.seq,
        startedAt: lease.startedAt,
        at: now,
        intervalMs: lease.intervalMs,
      };
      return restarted ? "restarted" : "alive";
    } else if (now - this.#lease.at > Math.max(5 * this.#lease.intervalMs, 5000)) {
      throw new ServerNotRunningError("The server stopped responding (its lease is stale)");
    }
    return "alive";
  }

  async #data<T>(msg: FromClientMsg): Promise<T> {
    const reply = await this.request(msg);
    if (reply.kind !== "data") {
      throw new RequestError(`Unexpected reply "${reply.kind}" to "${msg.kind}"`);
    }
    return reply.data as T;
  }

  /**
   * Submits a job; resolves with its id once the server has committed it to the journal.
   */
  async submit(job: JobSubmit): Promise<JobId> {
    const reply = await this.request({ kind: "submit", job });
    if (reply.kind !== "submitted") {
      throw new RequestError(`Unexpected reply "${reply.kind}" to "submit"`);
    }
    return reply.jobId;
  }

  /** Every job the server knows (`hq job list`). */
  listJobs(): Promise<JobInfoView[]> {
    return this.#data({ kind: "jobList" });
  }

  /** Details of the jobs `selector` names (`3`, `1-5`, `last`, `all`): `hq job info`. */
  jobInfo(selector: string): Promise<JobDetailView[]> {
    return this.#data({ kind: "jobInfo", selector });
  }

  /**
   * Tasks of the selected jobs, keyed by job id (every selected job is a key); `taskIds`
   * null for every task, `states` null for any state. Fetched in pages of
   * {@link TASK_PAGE_SIZE}, so that neither side builds a million-task answer at once.
   */
  async taskList(
    selector: string,
    taskIds: IdRange[] | null = null,
    states: TaskStateName[] | null = null,
  ): Promise<Record<string, TaskView[]>> {
    const byJob: Record<string, TaskView[]> = {};
    let after: TaskCursor | null = null;
    do {
      const page: TaskPageView = await this.#data({
        kind: "taskList",
        selector,
        taskIds,
        states,
        after,
        limit: TASK_PAGE_SIZE,
      });
      for (const [job, tasks] of Object.entries(page.tasks)) {
        const into = byJob[job] ??= [];
        for (const t of tasks) into.push(unpackTaskView(t));
      }
      after = page.next;
    } while (after !== null);
    return byJob;
  }

  /** Why a task of a job can or cannot run on each live worker. */
  explain(selector: string, taskId: number): Promise<ExplainView> {
    return this.#data({ kind: "taskExplain", selector, taskId });
  }

  /** Cancels selected jobs; one outcome per job id the selector names. */
  cancel(selector: string, reason: string | null = null): Promise<CancelResult[]> {
    return this.#data({ kind: "jobCancel", selector, reason });
  }

  /** Every event the server's state tells of (`hq journal replay`). */
  journalEvents(): Promise<JournalEventView[]> {
    return this.#data({ kind: "journalEvents", live: false });
  }

  /**
   * Past events, then live ones as they happen (`hq journal stream`), each batch handed to
   * `onEvents`; resolves when the server stops.
   */
  async streamJournal(onEvents: (events: JournalEventView[]) => void): Promise<void> {
    const request = ++this.#request;
    await postToInbox(this.#layout, this.#key, {
      client: this.#key,
      request,
      sentAt: Date.now(),
      msg: { kind: "journalEvents", live: true },
    });
    for (;;) {
      const res = await this.#replies.read();
      for (const rec of res.records) {
        const reply = decodeToClient(rec.payload);
        if (reply.request !== request) this.#pending.set(reply.request, reply);
        else if (reply.kind === "data") onEvents(reply.data as JournalEventView[]);
        else if (reply.kind === "error") throw new RequestError(reply.message);
      }
      try {
        this.#checkLease();
      } catch (e) {
        if (e instanceof ServerNotRunningError) return;
        throw e;
      }
      await this.#replies.wait();
    }
  }

  /** Forgets completed jobs and ended workers in the server and its journal (`hq journal prune`). */
  async pruneJournal(): Promise<void> {
    await this.#data({ kind: "journalPrune" });
  }

  /** Forces the server's journal to disk (`hq journal flush`). */
  async flushJournal(): Promise<void> {
    await this.#data({ kind: "journalFlush" });
  }

  /** Forgets the selected complete jobs whose state is in `filter` (`hq job forget`). */
  forget(selector: string, filter: ForgettableState[]): Promise<ForgetResult> {
    return this.#data({ kind: "jobForget", selector, filter });
  }

  /**
   * Waits until the selected jobs are complete (with `withoutClose`, open jobs once their
   * tasks are); returns their final state.
   */
  async wait(
    selector: string,
    withoutClose = false,
    onNotify?: (n: TaskNotification) => void,
  ): Promise<JobInfoView[]> {
    const msg: FromClientMsg = {
      kind: "jobWait",
      selector,
      ...(withoutClose ? { withoutClose } : {}),
      ...(onNotify ? { notify: true } : {}),
    };
    const reply = await this.request(msg, onNotify);
    if (reply.kind !== "data") {
      throw new RequestError(`Unexpected reply "${reply.kind}" to "jobWait"`);
    }
    return reply.data as JobInfoView[];
  }

  /** Sends a running task's notification (`hq task notify`, run inside the task). */
  async notify(jobId: JobId, taskId: number, instance: number, message: string): Promise<void> {
    await this.#data({ kind: "taskNotify", jobId, taskId, instance, message });
  }

  /** Creates an empty open job (`hq job open`); resolves with its id once journaled. */
  async openJob(name: string, maxFails: number | null): Promise<JobId> {
    const reply = await this.request({ kind: "jobOpen", name, maxFails });
    if (reply.kind !== "submitted") {
      throw new RequestError(`Unexpected reply "${reply.kind}" to "jobOpen"`);
    }
    return reply.jobId;
  }

  /** Closes the selected open jobs (`hq job close`). */
  closeJobs(selector: string): Promise<CloseResult[]> {
    return this.#data({ kind: "jobClose", selector });
  }

  /** Every worker the server knows, live or ended (`hq worker list`). */
  listWorkers(): Promise<WorkerView[]> {
    return this.#data({ kind: "workerList" });
  }

  /** Stops selected workers; one outcome per worker id the selector names. */
  stopWorkers(selector: string): Promise<WorkerStopResult[]> {
    return this.#data({ kind: "workerStop", selector });
  }

  /** Sends an `hq alloc` request; resolves with the server's data (queued dry runs take a while). */
  alloc<T>(msg: AllocMsg): Promise<T> {
    return this.#data(msg);
  }

  /** The server's internal scheduler state (`hq server debug-dump`). */
  debugDump(): Promise<DebugDump> {
    return this.#data({ kind: "debugDump" });
  }

  /** Stops the server (`hq server stop`); resolves once it has answered. */
  async stopServer(): Promise<void> {
    await this.request({ kind: "serverStop" });
  }

  /** Removes this client's reply directory. */
  async close(): Promise<void> {
    this.#replies.close();
    try {
      Deno.removeSync(this.#dir, { recursive: true });
    } catch {
      // already gone
    }
    await Promise.resolve();
  }
}
