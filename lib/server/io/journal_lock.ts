/**
 * Keeps two servers from writing one `--journal` at once. The owner creates
 * `<journal>.owner` exclusively (host, pid, process identity, server dir)
 * and removes it on a clean stop.
 *
 * An existing owner file is judged: an owner on this machine by pid and
 * process start time (a reused pid is not the owner); an owner elsewhere by
 * the lease of its server directory's current instance (live, and held by
 * that pid). A live owner means refusal. A dead owner's file is moved aside
 * under a unique name (rename is atomic, so of several starters one moves
 * it), checked to be the file that was judged (else put back), and the
 * exclusive create is tried again.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { ownProcessIdentity, randomToken } from "../../common/io/mod.ts";
import {
  currentInstance,
  type Holder,
  holderOnThisMachine,
  isLeaseLive,
  localHostname,
  readJsonFile,
} from "../../protocol/io/mod.ts";
import type { ProcessIdentity } from "../../protocol/mod.ts";
import { createExclusive } from "./claim.ts";

/** Most attempts to replace dead owners before giving up. */
const MAX_ATTEMPTS = 5;

/** Content of the owner file. */
interface JournalOwner extends Holder {
  serverDir: string;
  /** Absent in owner files of older servers. */
  process?: ProcessIdentity;
  /** Tells the owner its own file. */
  token?: string;
}

/** Another live server writes the journal. */
export class JournalInUseError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "JournalInUseError";
  }
}

/** Path of the owner file of a journal. */
export function journalOwnerPath(journal: string): string {
  return `${journal}.owner`;
}

/** Whether the owner of a journal still lives (see the module doc). */
async function ownerLive(owner: JournalOwner): Promise<boolean> {
  const here = holderOnThisMachine(owner);
  if (here !== "unknown") return here === "alive";
  if (typeof owner.serverDir !== "string") return false;
  const layout = currentInstance(owner.serverDir);
  if (!layout) return false;
  const { live, lease } = await isLeaseLive(layout.lease);
  return live && lease?.host === owner.host && lease.pid === owner.pid;
}

function sameOwner(a: JournalOwner | undefined, b: JournalOwner): boolean {
  return a !== undefined && a.host === b.host && a.pid === b.pid && a.token === b.token &&
    a.serverDir === b.serverDir;
}

/**
 * Takes the journal for this process; resolves with the function that gives it back.
 *
 * @throws {JournalInUseError} When a live server owns it.
 */
export async function lockJournal(journal: string, serverDir: string): Promise<() => void> {
  const path = journalOwnerPath(journal);
  const mine: JournalOwner = {
    host: localHostname(),
    pid: Deno.pid,
    process: ownProcessIdentity(),
    serverDir,
    token: randomToken(8),
  };
  const unlock = () => {
    if (sameOwner(readJsonFile<JournalOwner>(path), mine)) {
      try {
        Deno.removeSync(path);
      } catch {
        // already gone
      }
    }
  };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await createExclusive(path, JSON.stringify(mine))) return unlock;
    const owner = readJsonFile<JournalOwner>(path);
    if (owner === undefined) {
      // Being written, or torn: look again shortly.
      await new Promise((r) => setTimeout(r, 100));
      if (readJsonFile<JournalOwner>(path) === undefined) await displace(path, undefined);
      continue;
    }
    if (sameOwner(owner, mine)) return unlock;
    if (typeof owner.pid === "number" && await ownerLive(owner)) {
      throw new JournalInUseError(
        `Cannot use journal "${journal}": the server of "${owner.serverDir}" (pid ${owner.pid}) writes it`,
      );
    }
    await displace(path, owner);
  }
  throw new JournalInUseError(
    `Cannot use journal "${journal}": other servers keep taking it (owner file "${path}")`,
  );
}

/** Moves the dead owner's file `path` aside; puts back a file that turns out to be another's. */
async function displace(path: string, judged: JournalOwner | undefined): Promise<void> {
  const aside = join(
    dirname(path),
    `.${path.slice(path.lastIndexOf("/") + 1)}.${randomToken(6)}.dead`,
  );
  try {
    await Deno.rename(path, aside);
  } catch {
    return; // someone else moved it
  }
  const moved = readJsonFile<JournalOwner>(aside);
  const ours = judged === undefined ? moved === undefined : sameOwner(moved, judged);
  if (!ours) {
    // A new owner's file: put it back unless yet another owner appeared meanwhile.
    await Deno.link(aside, path).catch(() => {});
  }
  await Deno.remove(aside).catch(() => {});
}
