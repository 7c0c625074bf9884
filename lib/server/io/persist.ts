/**
 * Writing a round's journal batch when the disk may be full: a failed commit
 * or flush (ENOSPC, EDQUOT, an I/O error) is logged once per cause and tried
 * again until it succeeds, and nothing of the round (replies, messages to
 * workers, inbox removals) goes out before. The server stalls instead of
 * dying or losing what it was about to acknowledge; only a lost lease (another
 * server owns the instance) ends it.
 *
 * @module
 */
import type { JournalBatch, JournalStore } from "../../journal/mod.ts";
import { LeaseLostError } from "./lease_keeper.ts";

/** How soon a failed journal write is tried again, ms. */
export const PERSIST_RETRY_MS = 500;

/** Options of {@link persist}. */
export interface PersistOptions {
  /** Log sink (one line per new cause, one when it succeeds again). */
  log: (line: string) => void;
  /** Whether to stop retrying (the server is asked to stop): the round is then not written. */
  giveUp: () => boolean;
  /** Pause between tries, ms. @default PERSIST_RETRY_MS */
  retryMs?: number;
}

/**
 * Commits `batch` (when not null) and, with `flush`, forces the journal to disk; retries
 * until both succeeded. Returns false when it gave up.
 *
 * @throws {LeaseLostError} When another server owns the instance.
 */
export async function persist(
  store: JournalStore,
  batch: JournalBatch | null,
  flush: boolean,
  options: PersistOptions,
): Promise<boolean> {
  let committed = batch === null;
  let cause: string | null = null;
  for (;;) {
    try {
      if (!committed) {
        store.commit(batch!);
        committed = true;
      }
      if (flush) await store.flush();
      if (cause !== null) options.log("[server] the journal is written again");
      return true;
    } catch (e) {
      if (e instanceof LeaseLostError) throw e;
      const text = (e as Error).message;
      // LMDB's messages carry changing details (buffer addresses): the cause is the part
      // before the first colon.
      const key = text.split(":")[0]!;
      if (key !== cause) {
        options.log(
          `[server] could not write the journal (${committed ? "flush" : "commit"}): ${text}; ` +
            "holding this round's answers and trying again",
        );
        cause = key;
      }
    }
    // Wait for the store to be ready again; a commit is tried only once it reopened.
    let reopenError: string | null = null;
    for (;;) {
      if (options.giveUp()) return false;
      await new Promise((r) => setTimeout(r, options.retryMs ?? PERSIST_RETRY_MS));
      if (committed || !store.recover) break;
      try {
        await store.recover();
        break;
      } catch (e) {
        const text = (e as Error).message;
        if (text !== reopenError) options.log(`[server] could not reopen the journal: ${text}`);
        reopenError = text;
      }
    }
  }
}
