/**
 * The server's journal store, guarded by its lease: a commit is refused (and
 * the loss reported) once the instance was lost to another server, even when
 * the main thread comes back from a long synchronous step before the lease
 * thread's message arrives.
 *
 * @module
 */
import { LmdbJournalStore } from "../../journal/io/mod.ts";
import type { JournalBatch } from "../../journal/mod.ts";
import type { LeaseKeeper } from "./lease_keeper.ts";
import { copyJournal } from "./instance_journal.ts";

/** An LMDB journal store whose commits check the lease first. */
export class LeaseGuardedJournal extends LmdbJournalStore {
  readonly #lease: LeaseKeeper;

  /** Opens the store at `path` (see {@link LmdbJournalStore}), guarded by `lease`. */
  constructor(path: string, lease: LeaseKeeper) {
    super(path);
    this.#lease = lease;
  }

  /**
   * Commits `batch` while the instance is held.
   *
   * @throws {LeaseLostError} When it is not (nothing is written).
   */
  override commit(batch: JournalBatch): void {
    this.#lease.assertHeld();
    super.commit(batch);
  }
}

/** Options of {@link openGuardedJournal}. */
export interface OpenGuardedJournalOptions {
  /** The instance's lease. */
  lease: LeaseKeeper;
  /** Journal directory of an earlier instance to copy into `path` first. @default none */
  copyFrom?: string | undefined;
}

/**
 * Copies the previous journal in (when given) and opens the guarded store at
 * `path`; on failure the lease is stopped (marked stopped) before the error
 * is rethrown, so nothing keeps the instance.
 */
export async function openGuardedJournal(
  path: string,
  options: OpenGuardedJournalOptions,
): Promise<LeaseGuardedJournal> {
  try {
    if (options.copyFrom !== undefined) await copyJournal(options.copyFrom, path);
    return new LeaseGuardedJournal(path, options.lease);
  } catch (e) {
    await options.lease.stop(true);
    throw e;
  }
}
