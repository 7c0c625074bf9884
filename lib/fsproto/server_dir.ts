/**
 * Server directory checks shared by every role: resolving `--server-dir`,
 * permission and ownership checks, the `hq-current` link, identity and lease.
 *
 * @module
 */
import { joinPath as join } from "../path.ts";
import { CURRENT_LINK, type InstanceLayout, instanceLayout } from "./layout.ts";

/** Identity written by the server to `server.json`. */
export interface ServerIdentity {
  /** Program version. */
  version: string;
  /** Protocol version. */
  protocol: number;
  /** Server uid. */
  serverUid: string;
  /** Host name of the server. */
  host: string;
  /** Process id of the server. */
  pid: number;
  /** Start time, ms since epoch. */
  startedAt: number;
  /** Instance directory name. */
  instance: string;
  /** Journal path. */
  journal: string;
}

/** Content of the lease file. */
export interface Lease {
  /** Host of the holder. */
  host: string;
  /** Pid of the holder. */
  pid: number;
  /** Start time of the holder (distinguishes pid reuse and restarts). */
  startedAt: number;
  /** Increases on every rewrite. */
  seq: number;
  /** Holder's clock at the rewrite. */
  at: number;
  /** Rewrite interval in ms. */
  intervalMs: number;
  /** Set by a clean stop. */
  stopped: boolean;
}

/** The server directory cannot be used; the message says why. */
export class ServerDirError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ServerDirError";
  }
}

/** No live server uses the directory. */
export class ServerNotRunningError extends Error {
  /** Creates the error. */
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

/** Resolves the server directory from the flag, `HQ_SERVER_DIR`, or `~/.hq-server`. */
export function resolveServerDir(flag: string | undefined): string {
  const dir = flag ?? Deno.env.get("HQ_SERVER_DIR") ?? defaultServerDir();
  return dir.startsWith("/") ? dir : join(Deno.cwd(), dir);
}

/** The local host name. */
export function localHostname(): string {
  return Deno.hostname();
}

/**
 * Checks that `dir` is a directory owned by us and not writable by group or
 * others. Returns false when it does not exist.
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

/** The active instance of `serverDir`, or undefined without `hq-current`. */
export function currentInstance(serverDir: string): InstanceLayout | undefined {
  let target: string;
  try {
    target = Deno.readLinkSync(join(serverDir, CURRENT_LINK));
  } catch {
    return undefined;
  }
  return instanceLayout(target.startsWith("/") ? target : join(serverDir, target));
}

/** Reads and validates a JSON file; undefined when missing or malformed. */
export function readJsonFile<T>(path: string): T | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as T;
  } catch {
    return undefined;
  }
}

function processExists(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decides whether the lease holder is alive. On the same host the pid is
 * checked; elsewhere the lease must change within a few intervals.
 */
export async function isLeaseLive(
  leasePath: string,
): Promise<{ live: boolean; lease: Lease | undefined }> {
  const lease = readJsonFile<Lease>(leasePath);
  if (!lease || typeof lease.seq !== "number") return { live: false, lease };
  if (lease.stopped) return { live: false, lease };
  if (lease.host === localHostname()) return { live: processExists(lease.pid), lease };
  const deadline = Date.now() + Math.max(3 * lease.intervalMs, 2000);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(250, lease.intervalMs)));
    const again = readJsonFile<Lease>(leasePath);
    if (again && (again.seq !== lease.seq || again.startedAt !== lease.startedAt)) {
      return { live: !again.stopped, lease: again };
    }
  }
  return { live: false, lease };
}

/**
 * Finds the live server of `serverDir` for a client or worker.
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
  return { layout, identity, lease };
}
