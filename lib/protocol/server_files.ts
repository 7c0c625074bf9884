/**
 * What the server writes about itself in its instance directory: its
 * identity (`server.json`) and the lease it keeps fresh while it lives.
 * Clients and workers read both.
 *
 * @module
 */
import type { ProcessIdentity } from "./messages.ts";

/** Identity written by the server to `server.json` (what `hq server info` shows). */
export interface ServerIdentity {
  /** Program version. */
  version: string;
  /** The server's `PROTOCOL_VERSION` (`messages.ts`). */
  protocol: number;
  /** Uid of the server's state; kept across restores from the journal (`%{SERVER_UID}`). */
  serverUid: string;
  host: string;
  pid: number;
  /** Start time, ms since epoch. */
  startedAt: number;
  /** Path of the instance directory. */
  instance: string;
  /** Path of the LMDB journal: the instance's `journal/`, or `server start --journal`. */
  journal: string;
}

/**
 * Content of the lease file. Written by the live server only (its lease
 * writer thread). `process` is absent in leases of older servers: readers
 * judge those by whether the lease moves.
 */
export interface Lease {
  /** Host of the holder. */
  host: string;
  /** Pid of the holder. */
  pid: number;
  /** Start time of the holder (distinguishes pid reuse and restarts). */
  startedAt: number;
  /** Increases on every rewrite. */
  seq: number;
  /** Holder's clock at the rewrite, ms since epoch. */
  at: number;
  /** Rewrite interval in ms. */
  intervalMs: number;
  /** Set by a clean stop: clients give up at once instead of waiting for the lease to age. */
  stopped: boolean;
  /**
   * Identity of the holder's process (boot id, pid namespace, start ticks): on the same
   * machine it tells a live holder from a dead one whose pid was reused.
   */
  process?: ProcessIdentity;
}
