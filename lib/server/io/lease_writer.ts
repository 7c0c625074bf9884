/**
 * The decisions of the server's lease writer, apart from its thread (see
 * `lease_keeper.ts`): the file read and write and the clock are injected.
 *
 * Every rewrite first reads the lease file back:
 *
 * - our own lease (same host, pid and start time): rewritten with the next `seq`;
 * - another holder's lease: someone claimed the instance, so this server has
 *   lost it (`taken`) and never writes again;
 * - a missing or unreadable file: logged once, then written again.
 *
 * A rewrite that fails is logged once per cause. When no rewrite succeeded
 * for `failLimitMs` (chosen below the age at which another machine declares
 * the lease stale, {@link leaseStaleAfterMs}), the server has lost the
 * instance (`failing`): it must stop before anyone can take over. The age
 * counts from the end of the last successful write, since an observer sees a
 * change no earlier; a rewrite that hangs counts the same way (ticks keep
 * coming while it hangs), and so does a pause of the whole process.
 *
 * The main thread "checks in" by bumping a counter; when the counter has not
 * moved for `armMs`, the main thread is stuck, the writer stops refreshing
 * and the instance is lost (`stalled`): a server that comes back after that
 * must not write its journal, because another may have taken over.
 *
 * @module
 */
import { type Lease, leaseStaleAfterMs } from "../../protocol/io/mod.ts";

/** What a read of the lease file found. */
export type LeaseFileRead =
  | { kind: "missing" }
  | { kind: "unreadable"; cause: string }
  | { kind: "lease"; lease: Lease };

/** Why a server lost its instance. */
export type LeaseLostCode = "taken" | "failing" | "stalled";

/** A lost instance, with a one-line reason for the log. */
export interface LeaseLost {
  /** The cause. */
  code: LeaseLostCode;
  /** One line, naming the cause. */
  reason: string;
}

/** What one tick did: lines to log and, once, the loss of the instance. */
export interface LeaseTickResult {
  /** Lines for the server log. */
  logs: string[];
  /** Set by the tick that found the instance lost; null otherwise. */
  lost: LeaseLost | null;
}

/** File operations and clock of a {@link LeaseWriter}. */
export interface LeaseWriterIo {
  /** Reads the lease file. */
  read(): LeaseFileRead;
  /** Replaces the lease file atomically. */
  write(lease: Lease): Promise<void>;
  /** The time, ms since epoch. */
  now(): number;
}

/** Options of a {@link LeaseWriter}. */
export interface LeaseWriterOptions {
  /** The lease as last written (by the main thread's first write). */
  lease: Lease;
  /** Path of the lease, for log lines. */
  path: string;
  /** Longest time the main thread may go without checking in, ms. */
  armMs: number;
  /**
   * Longest time without a successful rewrite, ms.
   * @default leaseStaleAfterMs(intervalMs) - 2 * intervalMs, at least one interval
   */
  failLimitMs?: number;
}

/** Whether `lease` was written by the holder of `mine` (same host, pid and start time). */
export function sameHolder(lease: Lease, mine: Lease): boolean {
  return lease.host === mine.host && lease.pid === mine.pid && lease.startedAt === mine.startedAt;
}

/**
 * How long a lease writer may go without a successful rewrite before it gives
 * the instance up: two intervals less than the age at which another machine
 * takes the lease for stale, at least one interval.
 *
 * @example Usage
 * ```ts
 * import { leaseFailLimitMs } from "./lease_writer.ts";
 * import assert from "node:assert/strict";
 * assert.equal(leaseFailLimitMs(1000), 3000);
 * ```
 */
export function leaseFailLimitMs(intervalMs: number): number {
  return Math.max(leaseStaleAfterMs(intervalMs) - 2 * intervalMs, intervalMs);
}

/**
 * The lease writer's state machine: `tick` at least twice an interval; it
 * rewrites once an interval has passed since the last rewrite.
 *
 * @example Usage
 * ```ts
 * import { LeaseWriter } from "./lease_writer.ts";
 * import assert from "node:assert/strict";
 * const mine = { host: "a", pid: 1, startedAt: 5, seq: 1, at: 0, intervalMs: 1000, stopped: false };
 * let file = mine;
 * let time = 0;
 * const writer = new LeaseWriter({
 *   read: () => ({ kind: "lease", lease: file }),
 *   write: (l) => { file = l; return Promise.resolve(); },
 *   now: () => time,
 * }, { lease: mine, path: "lease", armMs: 60_000 });
 * time = 1000;
 * await writer.tick(1);
 * assert.equal(file.seq, 2);
 * file = { ...file, pid: 2 }; // another server claimed the instance
 * time = 2000;
 * assert.equal((await writer.tick(2)).lost?.code, "taken");
 * ```
 */
export class LeaseWriter {
  readonly #io: LeaseWriterIo;
  readonly #options: LeaseWriterOptions;
  readonly #failLimitMs: number;
  #lease: Lease;
  #lastOk: number;
  #lastWrite: number;
  #checkIns = -1;
  #checkInAt: number;
  #inFlight = false;
  #lost: LeaseLost | null = null;
  /** Causes of failed rewrites logged since the last success. */
  #failures = new Set<string>();
  /** Notes about the file logged since it last read as ours. */
  #notes = new Set<string>();

  /** Starts now, right after the first write. */
  constructor(io: LeaseWriterIo, options: LeaseWriterOptions) {
    const now = io.now();
    this.#io = io;
    this.#options = options;
    this.#lease = options.lease;
    this.#failLimitMs = options.failLimitMs ?? leaseFailLimitMs(options.lease.intervalMs);
    this.#lastOk = now;
    this.#lastWrite = now;
    this.#checkInAt = now;
  }

  /** The loss of the instance, once found. */
  get lost(): LeaseLost | null {
    return this.#lost;
  }

  /** The lease as last written. */
  get lease(): Lease {
    return this.#lease;
  }

  /** Whether a write is under way. */
  get busy(): boolean {
    return this.#inFlight;
  }

  /**
   * One step; `checkIns` is the main thread's counter. Rewrites the lease
   * when an interval passed since the last rewrite.
   */
  async tick(checkIns: number): Promise<LeaseTickResult> {
    const now = this.#io.now();
    const out: LeaseTickResult = { logs: [], lost: null };
    if (this.#lost) return out;
    if (checkIns !== this.#checkIns) {
      this.#checkIns = checkIns;
      this.#checkInAt = now;
    } else if (now - this.#checkInAt > this.#options.armMs) {
      return this.#lose(
        out,
        "stalled",
        `the server's main thread did not respond for ${
          secs(now - this.#checkInAt)
        } s, so its lease was left to expire`,
      );
    }
    // Another machine declares the lease stale that long after it saw the last
    // change, which is after that write completed (`#lastOk`).
    if (now - this.#lastOk >= this.#failLimitMs) {
      const how = this.#inFlight
        ? "a rewrite hangs"
        : this.#failures.size > 0
        ? "rewrites fail"
        : "the process was paused";
      return this.#lose(
        out,
        "failing",
        `the lease "${this.#options.path}" was not rewritten for ${
          secs(now - this.#lastOk)
        } s (${how}), so another server may take over`,
      );
    }
    if (this.#inFlight || now - this.#lastWrite < this.#lease.intervalMs) return out;
    if (!this.#mayWrite(out)) return out;
    await this.#write({ ...this.#lease, seq: this.#lease.seq + 1, at: now }, now, out);
    return out;
  }

  /**
   * The last write of a clean stop: the lease marked `stopped`, unless the
   * instance was lost. Waits for a write under way first.
   */
  async stop(): Promise<LeaseTickResult> {
    const out: LeaseTickResult = { logs: [], lost: null };
    while (this.#inFlight) await new Promise((r) => setTimeout(r, 10));
    if (this.#lost || !this.#mayWrite(out)) return out;
    const t = this.#io.now();
    await this.#write({ ...this.#lease, seq: this.#lease.seq + 1, at: t, stopped: true }, t, out);
    return out;
  }

  /** Reads the file back; false (and the loss noted) when another holder wrote it. */
  #mayWrite(out: LeaseTickResult): boolean {
    const read = this.#io.read();
    switch (read.kind) {
      case "lease":
        if (sameHolder(read.lease, this.#lease)) {
          this.#notes.clear();
          return true;
        }
        this.#lose(
          out,
          "taken",
          `another server (host ${read.lease.host}, pid ${read.lease.pid}) took over the instance: its lease is in "${this.#options.path}"`,
        );
        return false;
      case "missing":
        logOnce(this.#notes, out, `the lease "${this.#options.path}" vanished; writing it again`);
        return true;
      case "unreadable":
        logOnce(
          this.#notes,
          out,
          `the lease "${this.#options.path}" is unreadable (${read.cause}); writing it again`,
        );
        return true;
    }
  }

  async #write(next: Lease, now: number, out: LeaseTickResult): Promise<void> {
    this.#inFlight = true;
    this.#lastWrite = now;
    try {
      await this.#io.write(next);
      this.#lease = next;
      this.#lastOk = this.#io.now();
      if (this.#failures.size > 0) {
        out.logs.push(`the lease "${this.#options.path}" is rewritten again`);
        this.#failures.clear();
      }
    } catch (e) {
      logOnce(
        this.#failures,
        out,
        `cannot rewrite the lease "${this.#options.path}": ${(e as Error).message}`,
      );
    } finally {
      this.#inFlight = false;
    }
  }

  #lose(out: LeaseTickResult, code: LeaseLostCode, reason: string): LeaseTickResult {
    this.#lost = { code, reason };
    out.lost = this.#lost;
    return out;
  }
}

function logOnce(seen: Set<string>, out: LeaseTickResult, line: string): void {
  if (seen.has(line)) return;
  seen.add(line);
  out.logs.push(line);
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(1);
}
