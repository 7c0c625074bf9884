/**
 * `hq journal export <JOURNAL>`: reads a journal offline, read-only, and
 * turns it into events as a running server would for `journal replay`.
 *
 * @module
 */
import { resolvePath } from "../../common/mod.ts";
import type { JournalEventView } from "../../protocol/mod.ts";
import { LmdbJournalStore } from "../../journal/io/mod.ts";
import { restoreState } from "../../journal/mod.ts";
import { pastEvents } from "../mod.ts";

/** A journal path that holds no journal. */
export class JournalNotFoundError extends Error {
  /** `message` names the path. */
  constructor(message: string) {
    super(message);
    this.name = "JournalNotFoundError";
  }
}

/**
 * The events of the journal at `path` (an instance's `journal` directory or a
 * `--journal` file), in time order.
 *
 * @throws {JournalNotFoundError} When nothing is there.
 * @throws {JournalFormatError} When something that is not a journal is there.
 * @throws {JournalVersionError} When its format is of another major version.
 */
export function exportJournal(path: string): JournalEventView[] {
  const full = resolvePath(Deno.cwd(), path);
  let file = full;
  try {
    if (Deno.statSync(full).isDirectory) file = `${full}/data.mdb`;
    Deno.statSync(file);
  } catch {
    throw new JournalNotFoundError(`Cannot open event log file at \`${path}\`: no journal there`);
  }
  const store = new LmdbJournalStore(full, { readOnly: true });
  try {
    const data = store.load();
    // Running workers and their tasks are kept as they were last written (a far reattach).
    const { state } = restoreState(data, "", 0, undefined, Number.MAX_SAFE_INTEGER);
    const times = [...state.jobs.values()].map((j) => j.submittedAt)
      .concat([...state.workers.values()].map((w) => w.registeredAt));
    // The server's start is not stored: its first recorded act stands in, else the file's age.
    const start = times.length > 0
      ? times.reduce((a, b) => Math.min(a, b))
      : Deno.statSync(file).mtime?.getTime() ?? 0;
    return pastEvents(state, start);
  } finally {
    store.close();
  }
}
