/**
 * How a worker notices that its server is gone without being told: the
 * server rewrites its lease file every `intervalMs`, and the worker reads it
 * at most once a {@link LEASE_CHECK_MS}.
 *
 * - A lease with a new `startedAt` is another server that took over the
 *   instance: `replaced` (the worker waits for its `serverRestarted`).
 * - A lease marked `stopped` (a clean stop): `stopped`.
 * - A lease that stays unchanged for ten intervals (at least 15 s): `gone`.
 *   An unreadable lease (a rename seen half-way on a network mount) is not
 *   evidence by itself; only time without a change is.
 * - A lease on this host that stopped moving for two intervals is `gone` at
 *   once if the server's pid is gone (killed). A moving lease is never
 *   doubted that way: the pid may be another pid namespace's.
 *
 * A gone server may come back (a restart on the same instance): the worker
 * decides how long it waits (`--server-lost-timeout`).
 *
 * Pure: the file read and the pid check are injected, time is passed in.
 *
 * @module
 */
import type { Lease } from "../protocol/mod.ts";
import { assertNever } from "../common/mod.ts";

/** Least time between two reads of the lease, ms. */
export const LEASE_CHECK_MS = 1000;

/** The last change of the server's lease the worker saw. */
export interface LeaseSeen {
  /** The lease's rewrite counter. */
  seq: number;
  /** The server's start time (a new one means another server). */
  startedAt: number;
  /** When the worker saw this change (worker clock). */
  at: number;
}

/** What a read of the lease says about the server. */
export type LeaseVerdict =
  | { kind: "alive" }
  | { kind: "gone" }
  | { kind: "stopped" }
  | { kind: "replaced" }
  /** The server on this host is gone if process `pid` is gone. */
  | { kind: "goneIfPidGone"; pid: number };

/** What the worker knows about its server after a check. */
export type ServerLiveness = "alive" | "gone" | "stopped" | "replaced";

/** A verdict and the lease change seen after it. */
export interface LeaseJudgement {
  verdict: LeaseVerdict;
  /** The change to judge the next read against. */
  seen: LeaseSeen;
}

/**
 * Judges a read `lease` (undefined when unreadable) against the last change
 * `seen`, at `now`, by a worker on host `here`.
 *
 * @example Usage
 * ```ts
 * import { judgeLease } from "./lease_watch.ts";
 * import assert from "node:assert/strict";
 * const seen = { seq: 1, startedAt: 100, at: 0 };
 * const lease = { host: "a", pid: 1, startedAt: 100, seq: 2, at: 0, intervalMs: 500, stopped: false };
 * assert.deepEqual(judgeLease(seen, lease, 1000, "b").verdict, { kind: "alive" });
 * ```
 */
export function judgeLease(
  seen: LeaseSeen,
  lease: Lease | undefined,
  now: number,
  here: string,
): LeaseJudgement {
  if (lease?.stopped) {
    return { verdict: { kind: "stopped" }, seen: { ...seen, seq: lease.seq, at: now } };
  }
  if (lease && (lease.seq !== seen.seq || lease.startedAt !== seen.startedAt)) {
    return {
      verdict: lease.startedAt !== seen.startedAt ? { kind: "replaced" } : { kind: "alive" },
      seen: { seq: lease.seq, startedAt: lease.startedAt, at: now },
    };
  }
  if (now - seen.at > Math.max(10 * (lease?.intervalMs ?? 1000), 15_000)) {
    return { verdict: { kind: "gone" }, seen };
  }
  if (lease && now - seen.at > 2 * lease.intervalMs && lease.host === here) {
    return { verdict: { kind: "goneIfPidGone", pid: lease.pid }, seen };
  }
  return { verdict: { kind: "alive" }, seen };
}

/** Options of a {@link LeaseWatch}. */
export interface LeaseWatchOptions {
  /** The lease read when the worker connected. */
  first: Lease;
  /** This machine's host name, to compare with the lease's. */
  here: string;
  /** Reads the lease file; undefined when it cannot be read. */
  read: () => Lease | undefined;
  /** Whether no live process has this pid on this host. */
  pidGone: (pid: number) => boolean;
}

/** Watches the server's lease for a lost or restarted server. */
export class LeaseWatch {
  readonly #options: LeaseWatchOptions;
  #seen: LeaseSeen;
  #lastCheck: number;
  #last: ServerLiveness = "alive";

  /** Starts watching at `now`. */
  constructor(options: LeaseWatchOptions, now: number) {
    this.#options = options;
    this.#seen = { seq: options.first.seq, startedAt: options.first.startedAt, at: now };
    this.#lastCheck = now;
  }

  /**
   * Follows the server that started at `startedAt` (its `serverRestarted` arrived, maybe
   * before its lease was read): its lease is not news any more.
   */
  follow(startedAt: number, now: number): void {
    if (this.#seen.startedAt === startedAt) return;
    this.#seen = { seq: -1, startedAt, at: now };
    this.#last = "alive";
  }

  /**
   * The server's state; reads the lease only when {@link LEASE_CHECK_MS} passed, and
   * answers what the last read said otherwise. `replaced` is answered once, by the read
   * that saw the new server.
   */
  check(now: number): ServerLiveness {
    if (now - this.#lastCheck < LEASE_CHECK_MS) {
      return this.#last === "replaced" ? "alive" : this.#last;
    }
    this.#lastCheck = now;
    const { verdict, seen } = judgeLease(this.#seen, this.#options.read(), now, this.#options.here);
    this.#seen = seen;
    switch (verdict.kind) {
      case "alive":
      case "gone":
      case "stopped":
      case "replaced":
        this.#last = verdict.kind;
        break;
      case "goneIfPidGone":
        this.#last = this.#options.pidGone(verdict.pid) ? "gone" : "alive";
        break;
      default:
        assertNever(verdict, "lease verdict");
    }
    return this.#last;
  }
}
