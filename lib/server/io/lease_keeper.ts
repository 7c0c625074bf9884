/**
 * The lease of a live server, kept fresh by a thread of its own.
 *
 * The server's main thread runs long synchronous steps (restoring a big
 * journal, cancelling a million tasks). A lease rewritten from the main
 * thread would stop moving during them, and a server on another machine
 * would take the instance over. So the lease is rewritten by a Deno `Worker`
 * thread (this same module, started under the name {@link LEASE_THREAD_NAME})
 * on its own timer, with the decisions of {@link LeaseWriter}.
 *
 * The two threads share a few integers (a `SharedArrayBuffer`):
 *
 * - the main thread bumps a check-in counter on a timer of its own, which
 *   fires only while its event loop turns; long loops may call
 *   {@link LeaseKeeper.checkIn} too. When the counter stands still for
 *   `armMs` ({@link LEASE_ARM_MS}), the writer stops refreshing;
 * - the writer publishes the state (running, lost, stopped) and why it was
 *   lost, so that {@link LeaseKeeper.held} answers synchronously, even right
 *   after a long step, before the thread's message arrives.
 *
 * The first write is made by the main thread at once after the instance was
 * claimed, and only while the lease file still holds what the claim
 * replaced. When the instance is lost (another server's lease in the file,
 * rewrites failing too long, a main thread stuck too long), the keeper calls
 * `onLost` once; the server must stop at once and write no more to its
 * journal ({@link LeaseKeeper.assertHeld} guards each commit).
 *
 * @module
 */
import { ownProcessIdentity } from "../../common/io/mod.ts";
import {
  type Lease,
  localHostname,
  openOwnedSync,
  readLease,
  sameLeaseWrite,
  writeAllSync,
  writeFileAtomic,
} from "../../protocol/io/mod.ts";
import {
  type LeaseFileRead,
  type LeaseLost,
  type LeaseLostCode,
  type LeaseTickResult,
  LeaseWriter,
} from "./lease_writer.ts";

/** Size every lease file is padded to (JSON allows the trailing spaces), bytes. */
const LEASE_FILE_BYTES = 1024;

/**
 * Writes the lease: a new file renamed over the old one, or, when that fails (a full disk or
 * quota has no room for the new file), the same bytes over the old file in place: leases are
 * padded to one size, so the rewrite needs no new block.
 */
export async function writeLeaseFile(path: string, lease: Lease): Promise<void> {
  const text = JSON.stringify(lease).padEnd(LEASE_FILE_BYTES, " ");
  try {
    await writeFileAtomic(path, text);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw error;
    const bytes = new TextEncoder().encode(text);
    const file = openOwnedSync(path, { write: true });
    try {
      if (file.statSync().size !== bytes.length) throw error;
      writeAllSync(file, bytes);
    } finally {
      file.close();
    }
  }
}

/** Longest time the main thread may go without checking in before its lease is left to expire, ms. */
export const LEASE_ARM_MS = 60_000;

/** Name of the lease writer thread (the module starts the thread's side under it). */
export const LEASE_THREAD_NAME = "hq-lease-writer";

// Slots of the shared Int32Array, and the writer's states.
const CHECK_INS = 0;
const STATE = 1;
const CODE = 2;
const RUNNING = 0;
const LOST = 1;
const STOPPED = 2;
const CODES: readonly LeaseLostCode[] = ["taken", "failing", "stalled"];
const GENERIC: Record<LeaseLostCode, string> = {
  taken: "another server took over the instance",
  failing: "the lease could not be rewritten in time, so another server may take over",
  stalled: "the server's main thread did not respond in time, so its lease was left to expire",
};

type ToThread =
  | { kind: "start"; path: string; lease: Lease; armMs: number; shared: SharedArrayBuffer }
  | { kind: "stop"; clean: boolean };
type FromThread =
  | { kind: "ready" }
  | { kind: "log"; line: string }
  | { kind: "lost"; lost: LeaseLost }
  | { kind: "stopped" };

/** The server no longer holds its instance; the message says why. */
export class LeaseLostError extends Error {
  /** `message` is one line. */
  constructor(message: string) {
    super(message);
    this.name = "LeaseLostError";
  }
}

/** Options of a {@link LeaseKeeper}. */
export interface LeaseKeeperOptions {
  /** Rewrite interval, ms. */
  intervalMs: number;
  /** Called once, on the main thread, when the instance is lost: stop at once. */
  onLost: (reason: string) => void;
  /** Log sink for rewrite problems (one line per call). @default none */
  log?: (line: string) => void;
  /** Longest time without a check-in of the main thread, ms. @default LEASE_ARM_MS */
  armMs?: number;
  /** The lease the claim replaced (a dead server's), or undefined when there was none. */
  replaces?: Lease | undefined;
}

/** Reads the lease file, telling a missing file from an unreadable one. */
export function readLeaseFile(path: string): LeaseFileRead {
  try {
    Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { kind: "missing" };
    return { kind: "unreadable", cause: (e as Error).message };
  }
  const lease = readLease(path);
  return lease ? { kind: "lease", lease } : { kind: "unreadable", cause: "not a lease" };
}

/**
 * Keeps the lease of this server fresh from a thread of its own, and says when
 * the instance was lost.
 */
export class LeaseKeeper {
  readonly #path: string;
  readonly #options: LeaseKeeperOptions;
  readonly #lease: Lease;
  readonly #shared = new Int32Array(new SharedArrayBuffer(3 * 4));
  #worker: Worker | undefined;
  #checkInTimer: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #lostReason: string | undefined;
  #waiting: { resolve: () => void; reject: (e: Error) => void } | undefined;

  /** Prepares the lease of this process at `path`; nothing is written before {@link start}. */
  constructor(path: string, options: LeaseKeeperOptions) {
    this.#path = path;
    this.#options = options;
    const now = Date.now();
    this.#lease = {
      host: localHostname(),
      pid: Deno.pid,
      startedAt: now,
      seq: 1,
      at: now,
      intervalMs: options.intervalMs,
      stopped: false,
      process: ownProcessIdentity(),
    };
  }

  /** The lease's start time: the server's start (workers follow a server by it). */
  get startedAt(): number {
    return this.#lease.startedAt;
  }

  /**
   * Writes the lease now (only over what the claim replaced), then starts the
   * writer thread.
   *
   * @throws {LeaseLostError} When another server wrote the lease since the claim.
   */
  async start(): Promise<void> {
    const read = readLeaseFile(this.#path);
    const replaces = this.#options.replaces;
    const ok = read.kind === "lease"
      ? replaces !== undefined && sameLeaseWrite(read.lease, replaces)
      : replaces === undefined;
    if (!ok) {
      const who = read.kind === "lease" ? ` (host ${read.lease.host}, pid ${read.lease.pid})` : "";
      throw new LeaseLostError(`another server${who} wrote the lease "${this.#path}" first`);
    }
    await writeLeaseFile(this.#path, this.#lease);
    const worker = new Worker(import.meta.url, { type: "module", name: LEASE_THREAD_NAME });
    this.#worker = worker;
    worker.onmessage = (e: MessageEvent<FromThread>) => this.#onMessage(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      const reason = `the lease writer thread failed: ${e.message}`;
      Atomics.store(this.#shared, STATE, LOST);
      if (this.#waiting) this.#waiting.reject(new LeaseLostError(reason));
      else this.#lose(reason);
    };
    const ready = this.#expect();
    const start: ToThread = {
      kind: "start",
      path: this.#path,
      lease: this.#lease,
      armMs: this.#options.armMs ?? LEASE_ARM_MS,
      shared: this.#shared.buffer as SharedArrayBuffer,
    };
    worker.postMessage(start);
    try {
      await ready;
    } catch (e) {
      worker.terminate();
      throw e;
    }
    this.#started = true;
    this.#checkInTimer = setInterval(
      () => this.checkIn(),
      Math.max(Math.floor(this.#options.intervalMs / 2), 25),
    );
  }

  /** Tells the writer that the main thread makes progress (long synchronous loops may call it). */
  checkIn(): void {
    Atomics.add(this.#shared, CHECK_INS, 1);
  }

  /** Whether this server still holds its instance (synchronous: no message needed). */
  held(): boolean {
    return this.#started && Atomics.load(this.#shared, STATE) === RUNNING;
  }

  /**
   * Throws unless the instance is still held; a loss found here is reported
   * through `onLost` first. Call it before every journal commit.
   *
   * @throws {LeaseLostError} When the instance is lost.
   */
  assertHeld(): void {
    if (this.held()) return;
    const state = Atomics.load(this.#shared, STATE);
    const code = CODES[Atomics.load(this.#shared, CODE)];
    const reason = this.#lostReason ??
      (state === LOST && code ? GENERIC[code] : "the server's lease is not kept any more");
    this.#lose(reason);
    throw new LeaseLostError(reason);
  }

  /**
   * Stops the writer thread; when `clean`, it first marks the lease stopped
   * (clients and workers then give up at once). Without `clean` the lease is
   * left to age.
   */
  async stop(clean: boolean): Promise<void> {
    clearInterval(this.#checkInTimer);
    this.#checkInTimer = undefined;
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    this.#started = false;
    const stopped = this.#expect();
    const msg: ToThread = { kind: "stop", clean };
    worker.postMessage(msg);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      stopped.catch(() => {}),
      new Promise((r) => (timer = setTimeout(r, Math.max(3 * this.#options.intervalMs, 2000)))),
    ]);
    clearTimeout(timer);
    this.#waiting = undefined;
    worker.terminate();
  }

  #expect(): Promise<void> {
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }));
  }

  #onMessage(msg: FromThread): void {
    switch (msg.kind) {
      case "ready":
      case "stopped":
        this.#waiting?.resolve();
        this.#waiting = undefined;
        return;
      case "log":
        this.#options.log?.(msg.line);
        return;
      case "lost":
        this.#lose(msg.lost.reason);
        return;
    }
  }

  #lose(reason: string): void {
    if (this.#lostReason !== undefined) return;
    this.#lostReason = reason;
    this.#options.onLost(reason);
  }
}

/** The thread's side: a {@link LeaseWriter} on a timer, reporting through messages and `shared`. */
function runLeaseThread(): void {
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent<ToThread>) => void) | null;
    postMessage(msg: FromThread): void;
  };
  let writer: LeaseWriter | undefined;
  let shared: Int32Array | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const report = (r: LeaseTickResult) => {
    for (const line of r.logs) scope.postMessage({ kind: "log", line });
    if (r.lost && shared) {
      Atomics.store(shared, CODE, CODES.indexOf(r.lost.code));
      Atomics.store(shared, STATE, LOST);
      scope.postMessage({ kind: "lost", lost: r.lost });
    }
  };
  scope.onmessage = async (e) => {
    const msg = e.data;
    if (msg.kind === "start") {
      const s = new Int32Array(msg.shared);
      shared = s;
      const path = msg.path;
      const w = new LeaseWriter({
        read: () => readLeaseFile(path),
        write: (lease) => writeLeaseFile(path, lease),
        now: () => Date.now(),
      }, { lease: msg.lease, path, armMs: msg.armMs });
      writer = w;
      timer = setInterval(async () => {
        if (Atomics.load(s, STATE) !== RUNNING) return;
        report(await w.tick(Atomics.load(s, CHECK_INS)));
      }, Math.max(Math.floor(msg.lease.intervalMs / 2), 25));
      scope.postMessage({ kind: "ready" });
      return;
    }
    clearInterval(timer);
    if (writer && shared && msg.clean && Atomics.load(shared, STATE) === RUNNING) {
      report(await writer.stop());
    }
    if (shared) Atomics.compareExchange(shared, STATE, RUNNING, STOPPED);
    scope.postMessage({ kind: "stopped" });
  };
}

if ((globalThis as { name?: unknown }).name === LEASE_THREAD_NAME) runLeaseThread();
