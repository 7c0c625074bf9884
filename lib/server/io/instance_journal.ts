/**
 * Which journal an instance starts from, and its copy into the instance.
 *
 * Without `--journal`, each instance keeps its state in `<instance>/journal/`
 * (LMDB's `data.mdb`); a new instance starts from a copy of the newest
 * earlier instance's. The rule, instance by instance from the newest down:
 *
 * - `journal/data.mdb` with LMDB's header: this is the journal to start from;
 * - `journal/data.mdb` without it (empty, truncated, foreign): refused;
 * - no `data.mdb` but a `server.json` (a server ran there and had state):
 *   refused, and when that server used `--journal PATH`, the message says
 *   to start with it;
 * - neither: the instance never held state (a server that died before its
 *   first commit, a starter that lost a race): skipped.
 *
 * No instance with state means a fresh start. A refusal is one line naming
 * the path and what to do: starting from an empty state instead would make
 * job ids restart at 1 and overwrite the outputs of old jobs.
 *
 * The journal of an earlier instance is copied only once its server ended
 * (a clean stop removes `hq-current` first, then marks its lease stopped);
 * a server that still runs there after a short wait is refused.
 *
 * A taken-over instance that has no journal of its own (its server died
 * before the copy) starts from its predecessors by the same rule.
 *
 * The copy goes to a temporary name, is synced, checked (same size and
 * SHA-256 as the source, read back from the file) and renamed into place, so
 * an instance never holds a partial journal.
 *
 * @module
 */
import { join } from "node:path";
import { createHash } from "node:crypto";
import { randomToken } from "../../common/io/mod.ts";
import {
  isLeaseLive,
  type Lease,
  readJsonFile,
  type ServerIdentity,
} from "../../protocol/io/mod.ts";
import { formatInstanceName, instanceLayout } from "../../protocol/mod.ts";
import { ServerRunningError } from "./claim.ts";

/** Name of LMDB's data file in a journal directory. */
export const JOURNAL_DATA_FILE = "data.mdb";

/** LMDB's meta page magic (`MDB_MAGIC`), little-endian, in the first page of a data file. */
const LMDB_MAGIC = [0xde, 0xc0, 0xef, 0xbe];
const CHUNK = 1 << 20;
/**
 * How long a new instance waits for the server of the instance it copies from to finish
 * (a clean stop removes `hq-current` before it marks its lease stopped), ms.
 */
const PREDECESSOR_WAIT_MS = 10_000;

/** An instance's journal is missing or broken; the message says which and what to do. */
export class InstanceJournalError extends Error {
  /** `message` is one line. */
  constructor(message: string) {
    super(message);
    this.name = "InstanceJournalError";
  }
}

/** What an instance directory holds of its state. */
export type InstanceState =
  | { kind: "journal"; path: string }
  | { kind: "broken"; path: string; why: string }
  | { kind: "missing"; path: string }
  | { kind: "external"; path: string }
  | { kind: "empty" }
  | { kind: "absent" };

function hasLmdbHeader(path: string): string | null {
  let head = new Uint8Array(64);
  try {
    const f = Deno.openSync(path, { read: true });
    try {
      head = head.subarray(0, f.readSync(head) ?? 0);
    } finally {
      f.close();
    }
  } catch (e) {
    return (e as Error).message;
  }
  if (head.length === 0) return "the file is empty";
  for (let i = 8; i + 4 <= head.length; i += 4) {
    if (LMDB_MAGIC.every((b, k) => head[i + k] === b)) return null;
  }
  return "it has no LMDB header";
}

/** Inspects the state of the instance directory `root` (see the module doc for the rule). */
export function inspectInstance(root: string): InstanceState {
  const layout = instanceLayout(root);
  const data = join(layout.journal, JOURNAL_DATA_FILE);
  try {
    Deno.statSync(root);
  } catch {
    return { kind: "absent" };
  }
  try {
    Deno.statSync(data);
    const why = hasLmdbHeader(data);
    return why === null ? { kind: "journal", path: data } : { kind: "broken", path: data, why };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      return { kind: "broken", path: data, why: (e as Error).message };
    }
  }
  const identity = readJsonFile<ServerIdentity>(layout.serverJson);
  try {
    Deno.statSync(layout.serverJson);
  } catch {
    return { kind: "empty" };
  }
  if (typeof identity?.journal === "string" && identity.journal !== layout.journal) {
    return { kind: "external", path: identity.journal };
  }
  return { kind: "missing", path: data };
}

function refusal(serverDir: string, name: string, state: InstanceState): InstanceJournalError {
  const head = `Cannot start server at "${serverDir}"`;
  const empty = "starting from an empty state would reuse job ids and overwrite old outputs";
  switch (state.kind) {
    case "broken":
      return new InstanceJournalError(
        `${head}: the journal "${state.path}" of instance ${name} cannot be used (${state.why}); restore it from a backup or start with another --server-dir: ${empty}`,
      );
    case "missing":
      return new InstanceJournalError(
        `${head}: the journal "${state.path}" of instance ${name} is missing although a server ran there; restore it from a backup or start with another --server-dir: ${empty}`,
      );
    case "external":
      return new InstanceJournalError(
        `${head}: instance ${name} kept its state in the journal "${state.path}"; start with --journal ${state.path} to continue from it, or with another --server-dir`,
      );
    default:
      return new InstanceJournalError(`${head}: instance ${name} has no journal`);
  }
}

/**
 * The journal directory that instance number `n` of `serverDir` starts from:
 * undefined for its own (or a fresh start), else an earlier instance's
 * `journal/` to copy. Instances are looked up by name from `n` down, not from
 * a listing (a network filesystem may list new names late).
 *
 * @throws {InstanceJournalError} When the newest state is missing or broken.
 * @throws {ServerRunningError} When the server of that instance still runs.
 */
export async function planInstanceJournal(
  serverDir: string,
  n: number,
): Promise<string | undefined> {
  for (let k = n; k >= 1; k--) {
    const name = formatInstanceName(k);
    const root = join(serverDir, name);
    const state = inspectInstance(root);
    switch (state.kind) {
      case "absent": // a starter that lost a race removed it, or it never was
      case "empty":
        continue;
      case "journal": {
        if (k === n) return undefined;
        const lease = await liveLeaseAfter(instanceLayout(root).lease, PREDECESSOR_WAIT_MS);
        if (lease) {
          throw new ServerRunningError(
            `Cannot start server at "${serverDir}": the server of instance ${name} still runs (host ${lease.host}, pid ${lease.pid}) although hq-current does not point at it`,
          );
        }
        return instanceLayout(root).journal;
      }
      default:
        throw refusal(serverDir, name, state);
    }
  }
  return undefined;
}

/** The lease at `path` if it is still live after `waitMs` (a stopping server ends meanwhile). */
async function liveLeaseAfter(path: string, waitMs: number): Promise<Lease | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { live, lease } = await isLeaseLive(path);
    if (!live || !lease) return undefined;
    if (Date.now() >= deadline) return lease;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function copyHashing(from: string, to: Deno.FsFile): Promise<string> {
  const hash = createHash("sha256");
  const src = await Deno.open(from, { read: true });
  try {
    const buf = new Uint8Array(CHUNK);
    for (;;) {
      const n = await src.read(buf);
      if (n === null) break;
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      for (let done = 0; done < n;) done += await to.write(chunk.subarray(done));
    }
  } finally {
    src.close();
  }
  return hash.digest("hex");
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(CHUNK);
    for (;;) {
      const n = await f.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    f.close();
  }
  return hash.digest("hex");
}

/**
 * Copies the journal in directory `fromDir` into directory `toDir`: to a
 * temporary name, synced, checked against the source (size and SHA-256 of
 * what was read), renamed into place, and the directory synced.
 *
 * @throws {InstanceJournalError} When the copy does not match its source.
 */
export async function copyJournal(fromDir: string, toDir: string): Promise<void> {
  const from = join(fromDir, JOURNAL_DATA_FILE);
  const to = join(toDir, JOURNAL_DATA_FILE);
  const tmp = join(toDir, `.${JOURNAL_DATA_FILE}.${randomToken(6)}.tmp`);
  let renamed = false;
  try {
    const out = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
    let sourceHash: string;
    try {
      sourceHash = await copyHashing(from, out);
      await out.sync();
    } finally {
      out.close();
    }
    const [size, copySize] = [(await Deno.stat(from)).size, (await Deno.stat(tmp)).size];
    const copyHash = await hashFile(tmp);
    if (size !== copySize || copyHash !== sourceHash) {
      throw new InstanceJournalError(
        `Cannot copy the journal "${from}" to "${to}": the copy does not match (${copySize} of ${size} bytes, checksum ${
          copyHash === sourceHash ? "equal" : "differs"
        })`,
      );
    }
    await Deno.rename(tmp, to);
    renamed = true;
    const dir = await Deno.open(toDir, { read: true });
    try {
      await dir.sync();
    } catch {
      // Some filesystems cannot sync a directory.
    } finally {
      dir.close();
    }
  } finally {
    if (!renamed) await Deno.remove(tmp).catch(() => {});
  }
}
