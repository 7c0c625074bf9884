/**
 * Opening a server instance directory: one server per instance, whatever
 * number of `server start` race for it.
 *
 * - `hq-current` points at an instance whose lease is live: refused
 *   ({@link ServerRunningError}).
 * - It points at an instance whose server is dead (or stopped without
 *   removing the link): that instance is taken over, by exactly one starter,
 *   through an exclusive claim (`claim.ts`); workers still polling it find
 *   the new server there.
 * - No `hq-current` (a fresh directory, or a clean stop): a new numbered
 *   instance is made (exclusive `mkdir`), claimed, and `hq-current` is
 *   created pointing at it; a symlink cannot be created over an existing
 *   name, so of several starters one links and the others remove their
 *   directory and are refused.
 * - `hq-current` pointing at a directory that does not exist: refused; the
 *   message says to remove the link (no silent start from older state).
 *
 * The winner writes its lease at once and keeps it fresh from a thread of its
 * own ({@link LeaseKeeper}), before the journal is copied or restored. Which
 * journal the instance starts from is decided before anything is created
 * (`instance_journal.ts`): a broken or missing newest journal is refused.
 *
 * @module
 */
import { join } from "node:path";
import {
  checkServerDir,
  currentInstance,
  ensureDirMode,
  isLeaseLive,
  type Lease,
  ServerDirError,
} from "../../protocol/io/mod.ts";
import {
  CURRENT_LINK,
  formatInstanceName,
  type InstanceLayout,
  instanceLayout,
  parseInstanceName,
} from "../../protocol/mod.ts";
import {
  claimGeneration,
  claimInstance,
  claimsDir,
  createExclusive,
  ownClaim,
  pruneClaims,
  ServerRunningError,
} from "./claim.ts";
import { LeaseKeeper, LeaseLostError } from "./lease_keeper.ts";
import { planInstanceJournal } from "./instance_journal.ts";

/** Most times the instance is judged again after a lease changed under a claim. */
const MAX_ROUNDS = 5;

/** An opened instance, claimed and with its lease kept. */
export interface OpenedInstance {
  /** Paths. */
  layout: InstanceLayout;
  /** Whether a dead server's instance was taken over. */
  takeover: boolean;
  /** Journal directory of an earlier instance to copy into this one before opening it. */
  previousJournal: string | undefined;
  /** The lease, written and kept fresh; stop it when the server stops. */
  lease: LeaseKeeper;
}

/** Options of {@link openInstance}. */
export interface OpenInstanceOptions {
  /** Lease rewrite interval, ms. @default 1000 */
  leaseIntervalMs?: number;
  /** Called once when the instance is lost to another server: stop at once. */
  onLost: (reason: string) => void;
  /** Log sink for lease problems. @default none */
  log?: (line: string) => void;
  /** The journal lives elsewhere (`--journal`): no instance journal is planned. @default false */
  externalJournal?: boolean;
  /** Longest time the main thread may go without checking in, ms. @default LEASE_ARM_MS */
  leaseArmMs?: number;
}

function runningThere(serverDir: string, lease: Lease): ServerRunningError {
  return new ServerRunningError(
    `Cannot start server at "${serverDir}": a server is already running there (host ${lease.host}, pid ${lease.pid})`,
  );
}

/**
 * Opens (creating) the server directory, claims the instance to run in and
 * starts its lease.
 *
 * @throws {ServerRunningError} When a live server uses the directory or another starter won it.
 * @throws {InstanceJournalError} When the newest journal is missing or broken.
 * @throws {ServerDirError} When the directory is unsafe.
 */
export async function openInstance(
  serverDir: string,
  options: OpenInstanceOptions,
): Promise<OpenedInstance> {
  if (!checkServerDir(serverDir)) {
    await Deno.mkdir(serverDir, { recursive: true, mode: 0o700 });
    await Deno.chmod(serverDir, 0o700);
  }
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const current = currentInstance(serverDir);
    const opened = current
      ? await takeOver(serverDir, current, options)
      : await openNew(serverDir, options);
    if (opened) return opened;
  }
  throw new ServerRunningError(
    `Cannot start server at "${serverDir}": other servers keep taking over its instance`,
  );
}

/** Takes over the instance of a dead server; undefined when its lease changed meanwhile. */
async function takeOver(
  serverDir: string,
  layout: InstanceLayout,
  options: OpenInstanceOptions,
): Promise<OpenedInstance | undefined> {
  try {
    Deno.statSync(layout.root);
  } catch {
    throw new ServerDirError(
      `Cannot start server at "${serverDir}": ${CURRENT_LINK} points at "${layout.root}", which does not exist; remove "${
        join(serverDir, CURRENT_LINK)
      }" to start a new instance from the newest journal`,
    );
  }
  const { live, lease } = await isLeaseLive(layout.lease);
  if (live && lease) throw runningThere(serverDir, lease);
  const n = parseInstanceName(layout.root.slice(layout.root.lastIndexOf("/") + 1)) ?? 0;
  const previousJournal = options.externalJournal || n === 0
    ? undefined
    : await planInstanceJournal(serverDir, n);
  if (await claimInstance(layout, lease, { serverDir }) === "moved") return undefined;
  await createLayoutDirs(layout);
  const keeper = await startLease(serverDir, layout, lease, options);
  await pruneClaims(layout, claimGeneration(lease));
  return { layout, takeover: true, previousJournal, lease: keeper };
}

/** Makes, claims and links a new instance. */
async function openNew(
  serverDir: string,
  options: OpenInstanceOptions,
): Promise<OpenedInstance | undefined> {
  let max = 0;
  for await (const entry of Deno.readDir(serverDir)) {
    const n = parseInstanceName(entry.name);
    if (n !== undefined && entry.isDirectory && n > max) max = n;
  }
  let n = max + 1;
  for (;; n++) {
    try {
      await Deno.mkdir(join(serverDir, formatInstanceName(n)), { mode: 0o700 });
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
  const layout = instanceLayout(join(serverDir, formatInstanceName(n)));
  const removeOurs = () => Deno.remove(layout.root, { recursive: true }).catch(() => {});
  let previousJournal: string | undefined;
  try {
    previousJournal = options.externalJournal ? undefined : await planInstanceJournal(serverDir, n);
    await ensureDirMode(claimsDir(layout), 0o700);
    await createExclusive(
      join(claimsDir(layout), `${claimGeneration(undefined)}.1`),
      JSON.stringify(ownClaim()),
    );
    await createLayoutDirs(layout);
    await Deno.symlink(formatInstanceName(n), join(serverDir, CURRENT_LINK));
  } catch (e) {
    await removeOurs();
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new ServerRunningError(
        `Cannot start server at "${serverDir}": another server started there at the same time`,
      );
    }
    throw e;
  }
  const keeper = await startLease(serverDir, layout, undefined, options);
  return { layout, takeover: false, previousJournal, lease: keeper };
}

async function startLease(
  serverDir: string,
  layout: InstanceLayout,
  replaces: Lease | undefined,
  options: OpenInstanceOptions,
): Promise<LeaseKeeper> {
  const keeper = new LeaseKeeper(layout.lease, {
    intervalMs: options.leaseIntervalMs ?? 1000,
    onLost: options.onLost,
    replaces,
    ...(options.log ? { log: options.log } : {}),
    ...(options.leaseArmMs === undefined ? {} : { armMs: options.leaseArmMs }),
  });
  try {
    await keeper.start();
  } catch (e) {
    if (e instanceof LeaseLostError) {
      throw new ServerRunningError(`Cannot start server at "${serverDir}": ${e.message}`);
    }
    throw e;
  }
  return keeper;
}

async function createLayoutDirs(layout: InstanceLayout): Promise<void> {
  for (
    const dir of [
      layout.inboxTmp,
      layout.inboxNew,
      layout.rejected,
      layout.workers,
      layout.outbox,
      layout.clients,
      layout.journal,
    ]
  ) {
    await ensureDirMode(dir, 0o700);
  }
}

/**
 * Checks that `hq-current` points at the instance ({@link openInstance} made
 * or found it so).
 *
 * @throws {ServerRunningError} When it points elsewhere or is gone: the instance was lost.
 */
export function linkCurrent(serverDir: string, layout: InstanceLayout): Promise<void> {
  const cur = currentInstance(serverDir);
  if (cur?.root !== layout.root) {
    return Promise.reject(
      new ServerRunningError(
        `Cannot start server at "${serverDir}": ${CURRENT_LINK} no longer points at instance "${layout.root}"`,
      ),
    );
  }
  return Promise.resolve();
}

/** Removes `hq-current` if it still points at `layout`. */
export async function unlinkCurrent(serverDir: string, layout: InstanceLayout): Promise<void> {
  const cur = currentInstance(serverDir);
  if (cur && cur.root === layout.root) {
    try {
      await Deno.remove(join(serverDir, CURRENT_LINK));
    } catch { /* already gone */ }
  }
}

/** How many instance directories (the running one included) a new server keeps. */
export const KEPT_INSTANCES = 3;

/**
 * Removes instance directories older than the newest `keep` ones up to `current` (their journals
 * were carried forward; the newest stay for `hq journal export`). Failures are logged; returns
 * the names removed.
 */
export function pruneOldInstances(
  serverDir: string,
  current: InstanceLayout,
  log: (line: string) => void,
  keep = KEPT_INSTANCES,
): string[] {
  const currentName = current.root.slice(current.root.lastIndexOf("/") + 1);
  const currentN = parseInstanceName(currentName);
  if (currentN === undefined) return [];
  const removed: string[] = [];
  for (const entry of Deno.readDirSync(serverDir)) {
    const n = parseInstanceName(entry.name);
    if (n === undefined || !entry.isDirectory || n > currentN - keep) continue;
    try {
      Deno.removeSync(join(serverDir, entry.name), { recursive: true });
      removed.push(entry.name);
    } catch (e) {
      log(`[server] could not remove the old instance ${entry.name}: ${(e as Error).message}`);
    }
  }
  return removed.sort();
}
