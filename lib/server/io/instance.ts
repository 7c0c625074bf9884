/**
 * Opening a server instance directory: refusal when a live server holds it,
 * takeover of a dead server's instance, or a new numbered instance that
 * inherits the previous journal; and the lease the live server keeps fresh.
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
  localHostname,
  ServerDirError,
  writeFileAtomic,
} from "../../protocol/io/mod.ts";
import {
  CURRENT_LINK,
  formatInstanceName,
  type InstanceLayout,
  instanceLayout,
  parseInstanceName,
} from "../../protocol/mod.ts";

/** An opened instance. */
export interface OpenedInstance {
  /** Paths. */
  layout: InstanceLayout;
  /** Whether a dead server's instance was taken over. */
  takeover: boolean;
  /** Journal of the previous instance to restore from, if a new instance was made. */
  previousJournal: string | undefined;
}

/** A server already holds the directory. */
export class ServerRunningError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ServerRunningError";
  }
}

/**
 * Opens (creating) the server directory and picks the instance to run in.
 *
 * @throws {ServerRunningError} When a live server uses the directory.
 * @throws {ServerDirError} When the directory is unsafe.
 */
export async function openInstance(serverDir: string): Promise<OpenedInstance> {
  if (!checkServerDir(serverDir)) {
    await Deno.mkdir(serverDir, { recursive: true, mode: 0o700 });
    await Deno.chmod(serverDir, 0o700);
  }
  const current = currentInstance(serverDir);
  if (current) {
    const { live, lease } = await isLeaseLive(current.lease);
    if (live && lease) {
      throw new ServerRunningError(
        `Cannot start server at "${serverDir}": a server is already running there (host ${lease.host}, pid ${lease.pid})`,
      );
    }
    try {
      await Deno.stat(current.root);
      await createLayoutDirs(current);
      return { layout: current, takeover: true, previousJournal: undefined };
    } catch {
      // Dangling link: fall through to a new instance.
    }
  }
  let max = 0;
  for await (const entry of Deno.readDir(serverDir)) {
    const n = parseInstanceName(entry.name);
    if (n !== undefined && entry.isDirectory && n > max) max = n;
  }
  for (let n = max + 1;; n++) {
    const root = join(serverDir, formatInstanceName(n));
    try {
      await Deno.mkdir(root, { mode: 0o700 });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) continue;
      throw e;
    }
    const layout = instanceLayout(root);
    await createLayoutDirs(layout);
    let previousJournal: string | undefined;
    if (max > 0) {
      const prev = instanceLayout(join(serverDir, formatInstanceName(max))).journal;
      try {
        await Deno.stat(join(prev, "data.mdb"));
        previousJournal = prev;
      } catch {
        previousJournal = undefined;
      }
    }
    return { layout, takeover: false, previousJournal };
  }
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

/** Points `hq-current` at the instance (atomic replace). */
export async function linkCurrent(serverDir: string, layout: InstanceLayout): Promise<void> {
  const tmp = join(serverDir, `.${CURRENT_LINK}.${Deno.pid}.tmp`);
  try {
    await Deno.remove(tmp);
  } catch { /* absent */ }
  await Deno.symlink(layout.root.slice(serverDir.length + 1), tmp);
  await Deno.rename(tmp, join(serverDir, CURRENT_LINK));
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

/** Keeps the lease fresh while the server lives. */
export class LeaseKeeper {
  #lease: Lease;
  #path: string;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Prepares a lease for this process. */
  constructor(path: string, intervalMs: number, startedAt: number) {
    this.#path = path;
    this.#lease = {
      host: localHostname(),
      pid: Deno.pid,
      startedAt,
      seq: 0,
      at: Date.now(),
      intervalMs,
      stopped: false,
    };
  }

  /** Writes the lease now and then every interval. */
  async start(): Promise<void> {
    await this.#write();
    this.#timer = setInterval(() => {
      this.#write().catch(() => {});
    }, this.#lease.intervalMs);
  }

  async #write(): Promise<void> {
    this.#lease.seq++;
    this.#lease.at = Date.now();
    await writeFileAtomic(this.#path, JSON.stringify(this.#lease));
  }

  /** Stops refreshing; marks the lease stopped when `clean`. */
  async stop(clean: boolean): Promise<void> {
    clearInterval(this.#timer);
    if (clean) {
      this.#lease.stopped = true;
      await this.#write();
    }
  }
}

export { ServerDirError };
