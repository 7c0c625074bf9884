/**
 * Keeps the instance directory from growing with time: the directories of
 * ended workers (once their process is gone, or after a grace period in which
 * a slow one can still read its `stop`), client directories that their
 * client left behind (killed before it cleaned up), and `inbox/tmp` files
 * whose rename never came. Every removal failure is logged once per path.
 *
 * @module
 */
import { join } from "node:path";
import type { WorkerId } from "../../common/mod.ts";
import { processGone } from "../../common/io/mod.ts";
import {
  type InstanceLayout,
  type ProcessIdentity,
  workerDir,
  workerOutboxDir,
} from "../../protocol/mod.ts";

/** How long an ended worker's directories stay when its process cannot be checked, ms. */
export const RETIRED_WORKER_GRACE_MS = 5 * 60_000;
/** Age after which an idle client directory nobody waits on is removed, ms. */
export const CLIENT_DIR_MAX_AGE_MS = 60 * 60_000;
/** Age after which an `inbox/tmp` file is taken as abandoned, ms. */
export const INBOX_TMP_MAX_AGE_MS = 10 * 60_000;
/** Least time between two sweeps of the client and inbox directories, ms. */
const SWEEP_EVERY_MS = 60_000;

interface Retired {
  key: string;
  pid: number;
  process: ProcessIdentity | undefined;
  since: number;
}

/** Options of a {@link Janitor}. */
export interface JanitorOptions {
  /** Grace for ended workers whose process cannot be checked, ms. */
  retiredGraceMs?: number;
  /** Age of abandoned client directories, ms. */
  clientMaxAgeMs?: number;
  /** Age of abandoned `inbox/tmp` files, ms. */
  inboxTmpMaxAgeMs?: number;
}

/** Removes what ended workers and vanished clients left in an instance directory. */
export class Janitor {
  readonly #layout: InstanceLayout;
  readonly #log: (line: string) => void;
  readonly #here: Omit<ProcessIdentity, "startTicks">;
  readonly #options: Required<JanitorOptions>;
  readonly #retired = new Map<WorkerId, Retired>();
  readonly #failed = new Set<string>();
  #lastSweep = 0;

  /** A janitor for `layout`, checking processes as a process on machine `here`. */
  constructor(
    layout: InstanceLayout,
    here: Omit<ProcessIdentity, "startTicks">,
    log: (line: string) => void,
    options: JanitorOptions = {},
  ) {
    this.#layout = layout;
    this.#here = here;
    this.#log = log;
    this.#options = {
      retiredGraceMs: options.retiredGraceMs ?? RETIRED_WORKER_GRACE_MS,
      clientMaxAgeMs: options.clientMaxAgeMs ?? CLIENT_DIR_MAX_AGE_MS,
      inboxTmpMaxAgeMs: options.inboxTmpMaxAgeMs ?? INBOX_TMP_MAX_AGE_MS,
    };
  }

  /** Number of ended workers whose directories are still kept. */
  get retiredCount(): number {
    return this.#retired.size;
  }

  /** An ended worker (its channels are closed): its directories go once it is surely gone. */
  retire(
    id: WorkerId,
    worker: { key: string; pid: number; process: ProcessIdentity | undefined },
    now: number,
  ): void {
    if (this.#retired.has(id)) return;
    this.#retired.set(id, { ...worker, since: now });
  }

  /**
   * Removes what may go at `now`; `busyClients` gives the clients with a pending answer or
   * stream (asked only when the client directories are looked at, about once a minute).
   */
  sweep(now: number, busyClients: () => ReadonlySet<string>): void {
    for (const [id, w] of this.#retired) {
      const gone = processGone(w.pid, w.process, this.#here);
      if (!gone && now - w.since < this.#options.retiredGraceMs) continue;
      this.#remove(workerDir(this.#layout, w.key));
      this.#remove(workerOutboxDir(this.#layout, w.key));
      this.#retired.delete(id);
    }
    if (now - this.#lastSweep < SWEEP_EVERY_MS) return;
    this.#lastSweep = now;
    const busy = busyClients();
    this.#sweepOld(this.#layout.clients, this.#options.clientMaxAgeMs, now, (name) => {
      return !busy.has(name);
    });
    this.#sweepOld(this.#layout.inboxTmp, this.#options.inboxTmpMaxAgeMs, now, () => true);
  }

  /** Entries of `dir` not modified for `maxAge` that `may` allows are removed. */
  #sweepOld(dir: string, maxAge: number, now: number, may: (name: string) => boolean): void {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch (e) {
      this.#logOnce(dir, `could not list ${dir}: ${(e as Error).message}`);
      return;
    }
    for (const entry of entries) {
      if (!may(entry.name)) continue;
      const path = join(dir, entry.name);
      let age: number;
      try {
        age = now - (newestMtime(path) ?? now);
      } catch {
        continue; // gone meanwhile
      }
      if (age >= maxAge) this.#remove(path);
    }
  }

  #remove(path: string): void {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      this.#logOnce(path, `could not remove ${path}: ${(e as Error).message}`);
    }
  }

  #logOnce(path: string, line: string): void {
    if (this.#failed.has(path)) return;
    this.#failed.add(path);
    this.#log(`[server] ${line}`);
  }
}

/** The newest modification time of `path` or of a file directly in it (a client's reply log). */
function newestMtime(path: string): number | null {
  const info = Deno.lstatSync(path);
  let newest = info.mtime?.getTime() ?? null;
  if (info.isDirectory) {
    for (const e of Deno.readDirSync(path)) {
      const t = Deno.lstatSync(join(path, e.name)).mtime?.getTime() ?? null;
      if (t !== null && (newest === null || t > newest)) newest = t;
    }
  }
  return newest;
}
