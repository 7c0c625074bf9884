/**
 * Keeps two servers from writing one `--journal` at once: the owner writes
 * `<journal>.owner` (host, pid, server dir) and removes it on a clean stop; a
 * server finding an owner file whose process still runs on this host
 * refuses to start. An owner file left by a dead server is taken over.
 *
 * @module
 */
import { localHostname, readJsonFile, writeFileAtomic } from "../../protocol/io/mod.ts";

/** Content of the owner file. */
interface JournalOwner {
  host: string;
  pid: number;
  serverDir: string;
}

/** Another live server writes the journal. */
export class JournalInUseError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "JournalInUseError";
  }
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Path of the owner file of a journal. */
export function journalOwnerPath(journal: string): string {
  return `${journal}.owner`;
}

/**
 * Takes the journal for this process.
 *
 * @throws {JournalInUseError} When a live server on this host owns it.
 */
export async function lockJournal(journal: string, serverDir: string): Promise<() => void> {
  const path = journalOwnerPath(journal);
  const owner = readJsonFile<JournalOwner>(path);
  const host = localHostname();
  if (
    owner && typeof owner.pid === "number" && owner.pid !== Deno.pid && owner.host === host &&
    alive(owner.pid)
  ) {
    throw new JournalInUseError(
      `Cannot use journal "${journal}": the server of "${owner.serverDir}" (pid ${owner.pid}) writes it`,
    );
  }
  const mine: JournalOwner = { host, pid: Deno.pid, serverDir };
  await writeFileAtomic(path, JSON.stringify(mine));
  return () => {
    const now = readJsonFile<JournalOwner>(path);
    if (now?.pid === Deno.pid && now.host === host) {
      try {
        Deno.removeSync(path);
      } catch {
        // already gone
      }
    }
  };
}
