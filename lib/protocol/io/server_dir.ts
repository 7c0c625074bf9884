/**
 * Server directory checks shared by every role: resolving `--server-dir`,
 * permission and ownership checks, the `hq-current` link, identity and lease.
 *
 * @module
 */
import { joinPath as join } from "../../common/mod.ts";
import {
  CURRENT_LINK,
  type InstanceLayout,
  instanceLayout,
  type Lease,
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
 * The local host name, as the server writes it to `server.json` and the lease (a lease of the
 * same host is checked by pid).
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
 * checked (in `/proc`); elsewhere the lease must change within a few intervals,
 * so the call can take up to `max(3 * intervalMs, 2 s)`.
 *
 * @example Usage
 * ```ts
 * import { isLeaseLive, localHostname } from "./server_dir.ts";
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
 *   };
 *   await Deno.writeTextFile(`${dir}/lease`, JSON.stringify(lease));
 *   // This process holds it; on Linux its pid shows in /proc.
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
