/**
 * Server directory checks shared by every role: resolving `--server-dir`,
 * permission and ownership checks, the `hq-current` link, identity and lease.
 *
 * @module
 */
import { joinPath as join } from "../../common/mod.ts";
import { machineIdentity, pidGone, processGone } from "../../common/io/mod.ts";
import {
  CURRENT_LINK,
  type InstanceLayout,
  instanceLayout,
  type Lease,
  type ProcessIdentity,
  PROTOCOL_VERSION,
  type ServerIdentity,
} from "../mod.ts";

export type { Lease, ServerIdentity };

/**
 * The server directory cannot be used (not a directory, someone else's, or writable by
 * others); the message says why and how to fix it.
 */
export class ServerDirError extends Error {
  /** `message` names the directory and the problem. */
  constructor(message: string) {
    super(message);
    this.name = "ServerDirError";
  }
}

/**
 * No live server uses the directory. Clients print its message as HyperQueue does
 * (`No running instance of HQ found at ...`).
 */
export class ServerNotRunningError extends Error {
  /** `message` is the whole one-line text. */
  constructor(message: string) {
    super(message);
    this.name = "ServerNotRunningError";
  }
}

/** HyperQueue's error for a server directory without a live server, on one line. */
function noServer(dir: string, cause: string): ServerNotRunningError {
  const flag = dir === defaultServerDir() ? "" : ` --server-dir ${dir}`;
  return new ServerNotRunningError(
    `No running instance of HQ found at "${dir}". Try to start the server: \`hq server start${flag}\` or use a different server directory. Caused by: ${cause}`,
  );
}

function defaultServerDir(): string {
  return join(Deno.env.get("HOME") ?? "/", ".hq-server");
}

/**
 * Resolves the server directory from the flag, `HQ_SERVER_DIR`, or `~/.hq-server`, in that
 * order; a relative path is taken from the current directory.
 *
 * @example Usage
 * ```ts
 * import { resolveServerDir } from "./server_dir.ts";
 * import assert from "node:assert/strict";
 * assert.equal(resolveServerDir("/srv/hq"), "/srv/hq");
 * assert.equal(resolveServerDir("hq-dir"), `${Deno.cwd()}/hq-dir`);
 * ```
 */
export function resolveServerDir(flag: string | undefined): string {
  const dir = flag ?? Deno.env.get("HQ_SERVER_DIR") ?? defaultServerDir();
  return dir.startsWith("/") ? dir : join(Deno.cwd(), dir);
}

/**
 * The local host name, as the server writes it to `server.json` and the lease (a lease of
 * this machine is checked by pid and process start time, see {@link holderOnThisMachine}).
 */
export function localHostname(): string {
  return Deno.hostname();
}

/**
 * Checks that `dir` is a directory owned by us and not writable by group or
 * others. Returns false when it does not exist.
 *
 * @example Usage
 * ```ts
 * import { checkServerDir, ServerDirError } from "./server_dir.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir(); // mode 0700
 * try {
 *   assert.equal(checkServerDir(dir), true);
 *   assert.equal(checkServerDir(`${dir}/missing`), false);
 *   await Deno.chmod(dir, 0o777);
 *   assert.throws(() => checkServerDir(dir), ServerDirError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @throws {ServerDirError} When it is unsafe or not a directory.
 */
export function checkServerDir(dir: string): boolean {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw new ServerDirError(`Cannot use server directory "${dir}": ${(e as Error).message}`);
  }
  if (!info.isDirectory) {
    throw new ServerDirError(`Cannot use server directory "${dir}": not a directory`);
  }
  const uid = Deno.uid();
  if (uid !== null && info.uid !== null && info.uid !== uid) {
    throw new ServerDirError(
      `Cannot use server directory "${dir}": owned by uid ${info.uid}, not by you (uid ${uid})`,
    );
  }
  const mode = info.mode ?? 0;
  if ((mode & 0o022) !== 0) {
    throw new ServerDirError(
      `Cannot use server directory "${dir}": it is writable by group or others (mode ${
        (mode & 0o777).toString(8)
      }); run chmod 700 "${dir}"`,
    );
  }
  return true;
}

/**
 * The active instance of `serverDir`, or undefined without `hq-current`. A relative link target
 * is taken from `serverDir`.
 *
 * @example Usage
 * ```ts
 * import { currentInstance } from "./server_dir.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   assert.equal(currentInstance(dir), undefined);
 *   await Deno.symlink("001", `${dir}/hq-current`);
 *   assert.equal(currentInstance(dir)?.root, `${dir}/001`);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function currentInstance(serverDir: string): InstanceLayout | undefined {
  let target: string;
  try {
    target = Deno.readLinkSync(join(serverDir, CURRENT_LINK));
  } catch {
    return undefined;
  }
  return instanceLayout(target.startsWith("/") ? target : join(serverDir, target));
}

/**
 * Reads and parses a JSON file; undefined when missing or not JSON. The shape is not checked:
 * `T` is the caller's claim.
 *
 * @example Usage
 * ```ts
 * import { readJsonFile } from "./server_dir.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/a.json`, '{"seq":3}');
 *   await Deno.writeTextFile(`${dir}/torn.json`, '{"seq":');
 *   assert.deepEqual(readJsonFile<{ seq: number }>(`${dir}/a.json`), { seq: 3 });
 *   assert.equal(readJsonFile(`${dir}/torn.json`), undefined);
 *   assert.equal(readJsonFile(`${dir}/none.json`), undefined);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function readJsonFile<T>(path: string): T | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as T;
  } catch {
    return undefined;
  }
}

/** Longest lease rewrite interval a reader accepts, ms: a lease with a longer one is refused. */
export const MAX_LEASE_INTERVAL_MS = 60_000;

/**
 * How long a lease may stay unchanged while its holder lives, as judged by a
 * process that cannot check the holder's process (another machine): five
 * intervals, at least 5 s. The holder's lease writer runs on its own thread,
 * so a long synchronous pause of the server's main thread does not stop the
 * lease; a holder whose rewrites keep failing stops itself before this age.
 *
 * @example Usage
 * ```ts
 * import { leaseStaleAfterMs } from "./server_dir.ts";
 * import assert from "node:assert/strict";
 * assert.equal(leaseStaleAfterMs(1000), 5000);
 * assert.equal(leaseStaleAfterMs(2000), 10000);
 * ```
 */
export function leaseStaleAfterMs(intervalMs: number): number {
  return Math.max(5 * intervalMs, 5000);
}

/**
 * Reads a lease file; undefined when it is missing, torn or not a lease.
 *
 * @example Usage
 * ```ts
 * import { readLease } from "./server_dir.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/lease`, '{"host":"a","pid":1}');
 *   assert.equal(readLease(`${dir}/lease`), undefined);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function readLease(path: string): Lease | undefined {
  const l = readJsonFile<Partial<Lease>>(path);
  if (
    !l || typeof l !== "object" || typeof l.host !== "string" || typeof l.pid !== "number" ||
    typeof l.startedAt !== "number" || typeof l.seq !== "number" ||
    // An interval no server writes would make readers wait for ever for it to change.
    typeof l.intervalMs !== "number" || !(l.intervalMs > 0) || l.intervalMs > MAX_LEASE_INTERVAL_MS
  ) {
    return undefined;
  }
  return l as Lease;
}

/** Whether two leases are the same write (holder and counter). */
export function sameLeaseWrite(a: Lease | undefined, b: Lease | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.host === b.host && a.pid === b.pid && a.startedAt === b.startedAt && a.seq === b.seq;
}

/** A process that holds (or claims) an instance: the part of a lease or claim that names it. */
export interface Holder {
  /** Host name of the holder. */
  host: string;
  /** Its pid (in its own pid namespace). */
  pid: number;
  /** Its identity; absent in records of older servers. */
  process?: ProcessIdentity;
}

/**
 * What this machine can tell about a holder's process without watching its
 * lease: `alive` or `dead` when it runs (ran) on this boot of this machine in
 * this pid namespace, judged by pid plus process start time (a reused pid is
 * not the holder); `unknown` otherwise (another machine, a reboot since, a
 * record without identity whose pid still exists here).
 *
 * @example Usage
 * ```ts
 * import { holderOnThisMachine } from "./server_dir.ts";
 * import { ownProcessIdentity } from "../../common/io/mod.ts";
 * import assert from "node:assert/strict";
 * const process = ownProcessIdentity();
 * if (process.startTicks !== null && process.bootId !== null && process.pidNamespace !== null) {
 *   assert.equal(holderOnThisMachine({ host: process.host, pid: Deno.pid, process }), "alive");
 *   const reused = { ...process, startTicks: process.startTicks + 1 };
 *   assert.equal(holderOnThisMachine({ host: process.host, pid: Deno.pid, process: reused }), "dead");
 * }
 * ```
 */
export function holderOnThisMachine(
  holder: Holder,
  here: Omit<ProcessIdentity, "startTicks"> = machineIdentity(),
): "alive" | "dead" | "unknown" {
  const p = holder.process;
  if (p === undefined || typeof p !== "object" || p === null) {
    // Records of older servers: a missing pid on this host is a dead holder; a present
    // one may be a reuse (after a reboot) and is judged by the lease moving.
    return holder.host === here.host && pidGone(holder.pid) ? "dead" : "unknown";
  }
  if (
    p.bootId === null || p.pidNamespace === null || p.bootId !== here.bootId ||
    p.pidNamespace !== here.pidNamespace
  ) {
    return "unknown";
  }
  if (processGone(holder.pid, p, here)) return "dead";
  return p.startTicks === null ? "unknown" : "alive";
}

/**
 * Watches the lease at `leasePath` for a write other than `seen` (undefined: no
 * lease) for up to `withinMs`; returns the new lease, or undefined when none came.
 */
export async function waitLeaseChange(
  leasePath: string,
  seen: Lease | undefined,
  withinMs: number,
): Promise<Lease | undefined> {
  const deadline = Date.now() + withinMs;
  const step = Math.min(250, seen?.intervalMs ?? 100);
  for (;;) {
    const again = readLease(leasePath);
    if (again && !sameLeaseWrite(again, seen)) return again;
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, step));
  }
}

/** Options of {@link isLeaseLive}. */
export interface IsLeaseLiveOptions {
  /**
   * How long an unchanged lease of a holder this machine cannot check counts as live.
   * @default leaseStaleAfterMs(lease.intervalMs)
   */
  stillMs?: number;
}

/**
 * Decides whether the lease holder is alive. A holder on this machine (same
 * boot, same pid namespace) is judged at once by its pid and process start
 * time; any other must rewrite the lease within {@link leaseStaleAfterMs}, so
 * the call can take that long. A stopped lease is not live.
 *
 * @example Usage
 * ```ts
 * import { isLeaseLive, localHostname } from "./server_dir.ts";
 * import { ownProcessIdentity } from "../../common/io/mod.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const lease = {
 *     host: localHostname(),
 *     pid: Deno.pid,
 *     startedAt: Date.now(),
 *     seq: 1,
 *     at: Date.now(),
 *     intervalMs: 1000,
 *     stopped: false,
 *     process: ownProcessIdentity(),
 *   };
 *   await Deno.writeTextFile(`${dir}/lease`, JSON.stringify(lease));
 *   // This process holds it; on Linux /proc tells its pid and start time.
 *   if (Deno.build.os === "linux") assert.equal((await isLeaseLive(`${dir}/lease`)).live, true);
 *   await Deno.writeTextFile(`${dir}/lease`, JSON.stringify({ ...lease, stopped: true }));
 *   assert.equal((await isLeaseLive(`${dir}/lease`)).live, false);
 *   assert.deepEqual(await isLeaseLive(`${dir}/none`), { live: false, lease: undefined });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function isLeaseLive(
  leasePath: string,
  options: IsLeaseLiveOptions = {},
): Promise<{ live: boolean; lease: Lease | undefined }> {
  const lease = readLease(leasePath);
  if (!lease || lease.stopped) return { live: false, lease };
  const here = holderOnThisMachine(lease);
  if (here !== "unknown") return { live: here === "alive", lease };
  const moved = await waitLeaseChange(
    leasePath,
    lease,
    options.stillMs ?? leaseStaleAfterMs(lease.intervalMs),
  );
  return moved ? { live: !moved.stopped, lease: moved } : { live: false, lease };
}

/**
 * Finds the live server of `serverDir` for a client or worker.
 *
 * @example Usage
 * ```ts
 * import { connectInstance, ServerNotRunningError } from "./server_dir.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // A directory that no server has used yet.
 *   await assert.rejects(connectInstance(dir), ServerNotRunningError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @throws {ServerDirError} For unsafe directories.
 * @throws {ServerNotRunningError} When no live server uses it.
 */
export async function connectInstance(
  serverDir: string,
): Promise<{ layout: InstanceLayout; identity: ServerIdentity; lease: Lease }> {
  if (!checkServerDir(serverDir)) throw noServer(serverDir, "the directory does not exist");
  const layout = currentInstance(serverDir);
  if (!layout) throw noServer(serverDir, `no ${CURRENT_LINK} link: the server is not running`);
  const identity = readJsonFile<ServerIdentity>(layout.serverJson);
  const { live, lease } = await isLeaseLive(layout.lease);
  if (!identity || !live || !lease) {
    throw noServer(serverDir, "the server's lease is stale: the server stopped or died");
  }
  // Requests of another protocol version would be rejected unanswered: say so instead.
  if (identity.protocol !== PROTOCOL_VERSION) {
    throw new ServerDirError(
      `The server at "${serverDir}" speaks protocol version ${identity.protocol}, this program ${PROTOCOL_VERSION}: run the same version of hq for the server, its workers and clients`,
    );
  }
  return { layout, identity, lease };
}
