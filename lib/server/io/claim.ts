/**
 * Claiming an instance directory whose server is dead, so that exactly one of
 * several servers starting at once takes it over.
 *
 * The claim is an exclusive create (`O_EXCL`, atomic on local disks and on
 * network filesystems alike) of `claims/<generation>.<attempt>` in the
 * instance directory. The generation names the lease that was judged dead
 * (its start time, pid and `seq`; `none` when there was no lease), so every
 * starter that judged the same dead lease races for the same name. The file
 * holds the claimant's identity.
 *
 * - The creator wins, provided the lease is still the one it judged dead
 *   (otherwise someone else is at work: it starts over). It writes its own
 *   lease at once ({@link LeaseKeeper.start}, which again checks that the
 *   lease is still the judged one).
 * - A starter that finds the name taken loses while the claimant may live:
 *   a claimant on this machine is judged by pid and process start time; any
 *   other by its lease, which a live claimant writes right after its claim,
 *   so a lease that does not move for {@link leaseStaleAfterMs} means a
 *   claimant that died in between. A dead claimant is superseded by the next
 *   attempt number, which again only one starter creates.
 *
 * A new instance is claimed the same way (`none.1`) by the one that made its
 * directory, before `hq-current` points at it.
 *
 * @module
 */
import { join } from "node:path";
import { ownProcessIdentity, randomToken } from "../../common/io/mod.ts";
import {
  ensureDirMode,
  type Holder,
  holderOnThisMachine,
  type Lease,
  leaseStaleAfterMs,
  localHostname,
  readJsonFile,
  readLease,
  sameLeaseWrite,
  waitLeaseChange,
} from "../../protocol/io/mod.ts";
import type { InstanceLayout, ProcessIdentity } from "../../protocol/mod.ts";

/** Most claim attempts on one dead lease before giving up. */
const MAX_ATTEMPTS = 8;

/** A server already holds the directory, or won the race to it. */
export class ServerRunningError extends Error {
  /** `message` is one line. */
  constructor(message: string) {
    super(message);
    this.name = "ServerRunningError";
  }
}

/** Content of a claim file. */
export interface Claim extends Holder {
  /** Identity of the claimant's process. */
  process: ProcessIdentity;
  /** Random token: tells the claimant its own file (a retried create that reported "exists"). */
  token: string;
  /** Claimant's clock at the claim, ms since epoch (for people; not compared). */
  at: number;
}

/** Options of {@link claimInstance}. */
export interface ClaimOptions {
  /** Server directory, for messages. */
  serverDir: string;
  /**
   * How long to watch an unchanged lease before a claimant that cannot be checked counts
   * as dead, ms. @default leaseStaleAfterMs of the judged lease's interval (at least 5 s)
   */
  stillMs?: number;
}

/** Outcome of {@link claimInstance}: `won`, or `moved` when the lease changed (judge again). */
export type ClaimResult = "won" | "moved";

/** Name of the claim of the lease `judged` (undefined: no lease). */
export function claimGeneration(judged: Lease | undefined): string {
  return judged ? `${judged.startedAt}-${judged.pid}-${judged.seq}` : "none";
}

/** Directory of the claims of an instance. */
export function claimsDir(layout: InstanceLayout): string {
  return join(layout.root, "claims");
}

/**
 * Creates `path` exclusively with `text`; false when it exists. The content is
 * synced before the file is closed.
 */
export async function createExclusive(path: string, text: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  }
  try {
    await file.write(new TextEncoder().encode(text));
    await file.sync();
  } finally {
    file.close();
  }
  return true;
}

/** This process's claim. */
export function ownClaim(): Claim {
  return {
    host: localHostname(),
    pid: Deno.pid,
    process: ownProcessIdentity(),
    token: randomToken(8),
    at: Date.now(),
  };
}

/** Reads a claim; one more read shortly after a first one finds it still empty (being written). */
async function readClaim(path: string): Promise<Claim | undefined> {
  const first = readJsonFile<Claim>(path);
  if (first) return first;
  await new Promise((r) => setTimeout(r, 50));
  return readJsonFile<Claim>(path);
}

function running(serverDir: string, layout: InstanceLayout, who: Holder | undefined): Error {
  const by = who ? ` (host ${who.host}, pid ${who.pid})` : "";
  const name = layout.root.slice(layout.root.lastIndexOf("/") + 1);
  return new ServerRunningError(
    `Cannot start server at "${serverDir}": another server${by} is taking over its instance ${name}`,
  );
}

/**
 * Claims the instance `layout` whose lease `judged` (undefined: none) was
 * found dead; resolves `won` when this process won it, `moved` when the lease
 * changed meanwhile (judge it again).
 *
 * @throws {ServerRunningError} When another live starter claimed it.
 */
export async function claimInstance(
  layout: InstanceLayout,
  judged: Lease | undefined,
  options: ClaimOptions,
): Promise<ClaimResult> {
  const dir = claimsDir(layout);
  await ensureDirMode(dir, 0o700);
  const generation = claimGeneration(judged);
  const stillMs = options.stillMs ?? leaseStaleAfterMs(judged?.intervalMs ?? 1000);
  const mine = ownClaim();
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const path = join(dir, `${generation}.${attempt}`);
    if (await createExclusive(path, JSON.stringify(mine))) {
      return sameLeaseWrite(readLease(layout.lease), judged) ? "won" : "moved";
    }
    const other = await readClaim(path);
    if (other?.token === mine.token) return "won";
    const verdict = other && typeof other.pid === "number" ? holderOnThisMachine(other) : "unknown";
    if (verdict === "alive") throw running(options.serverDir, layout, other);
    if (verdict === "unknown") {
      // A live claimant writes its lease right after its claim.
      const moved = await waitLeaseChange(layout.lease, judged, stillMs);
      if (moved) throw running(options.serverDir, layout, moved);
    }
    if (!sameLeaseWrite(readLease(layout.lease), judged)) return "moved";
  }
  throw running(options.serverDir, layout, undefined);
}

/** Removes the claims of an instance other than those of `keep`'s generation (best effort). */
export async function pruneClaims(layout: InstanceLayout, keep: string): Promise<void> {
  try {
    for await (const e of Deno.readDir(claimsDir(layout))) {
      if (!e.name.startsWith(`${keep}.`)) {
        await Deno.remove(join(claimsDir(layout), e.name)).catch(() => {});
      }
    }
  } catch {
    // no claims
  }
}
