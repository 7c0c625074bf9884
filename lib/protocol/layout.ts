/**
 * Names of everything inside a server directory (pure path building).
 *
 * ```text
 * <server-dir>/hq-current -> 001
 * <server-dir>/001/server.json  lease  journal/  inbox/{tmp,new}/  rejected/
 * <server-dir>/001/workers/<key>/to-server.N.log    written by the worker
 * <server-dir>/001/outbox/<key>/to-worker.N.log     written by the server
 * <server-dir>/001/clients/<key>/reply.N.log        written by the server
 * ```
 *
 * Each side's channel files sit in a folder only the other side watches, so
 * no watcher wakes its own process for the writes that process makes.
 *
 * @module
 */
import { joinPath as join } from "../common/mod.ts";

/** Name of the symlink in a server directory that points to the active instance. */
export const CURRENT_LINK = "hq-current";

/** Paths of one server instance directory. */
export interface InstanceLayout {
  /** The instance directory itself. */
  root: string;
  /** The server's identity (`ServerIdentity` in `server_dir.ts`). */
  serverJson: string;
  /** Lease file rewritten by the live server. */
  lease: string;
  /** LMDB environment directory (unless `server start --journal` puts it elsewhere). */
  journal: string;
  /** Where inbox files are written before the rename that delivers them. */
  inboxTmp: string;
  /** Delivered inbox files, which the server reads. */
  inboxNew: string;
  /** Where malformed or foreign files are moved. */
  rejected: string;
  /** Parent of worker directories (files the workers write). */
  workers: string;
  /** Parent of worker outbox directories (files the server writes to workers). */
  outbox: string;
  /** Parent of client directories. */
  clients: string;
}

/**
 * Builds the layout of instance directory `root`; creates nothing.
 *
 * @example Usage
 * ```ts
 * import { clientDir, instanceLayout, workerDir } from "./layout.ts";
 * import assert from "node:assert/strict";
 * const layout = instanceLayout("/srv/hq/001");
 * assert.equal(layout.inboxNew, "/srv/hq/001/inbox/new");
 * assert.equal(workerDir(layout, "node1-42-ab12"), "/srv/hq/001/workers/node1-42-ab12");
 * assert.equal(clientDir(layout, "c7-ff00"), "/srv/hq/001/clients/c7-ff00");
 * ```
 */
export function instanceLayout(root: string): InstanceLayout {
  return {
    root,
    serverJson: join(root, "server.json"),
    lease: join(root, "lease"),
    journal: join(root, "journal"),
    inboxTmp: join(root, "inbox", "tmp"),
    inboxNew: join(root, "inbox", "new"),
    rejected: join(root, "rejected"),
    workers: join(root, "workers"),
    outbox: join(root, "outbox"),
    clients: join(root, "clients"),
  };
}

/** Directory of the worker with key `key`: the files it writes (its channel to the server). */
export function workerDir(layout: InstanceLayout, key: string): string {
  return join(layout.workers, key);
}

/** Directory of the server's channel to the worker with key `key`. */
export function workerOutboxDir(layout: InstanceLayout, key: string): string {
  return join(layout.outbox, key);
}

/** Directory of the client with key `key`. */
export function clientDir(layout: InstanceLayout, key: string): string {
  return join(layout.clients, key);
}

/**
 * Channel base names: `toServer` in a worker's directory, `toWorker` in its outbox
 * directory, `reply` in a client's directory.
 */
export const CHANNEL = {
  toServer: "to-server",
  toWorker: "to-worker",
  reply: "reply",
} as const;

/**
 * The name of instance directory `n`: the number zero-padded to three digits (`001`).
 *
 * @example Usage
 * ```ts
 * import { formatInstanceName, parseInstanceName } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatInstanceName(7), "007");
 * assert.equal(parseInstanceName(formatInstanceName(1234)), 1234);
 * ```
 */
export function formatInstanceName(n: number): string {
  return String(n).padStart(3, "0");
}

/**
 * Parses an instance directory name (three or more digits), or returns undefined for any other
 * entry of the server directory.
 *
 * @example Usage
 * ```ts
 * import { parseInstanceName } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseInstanceName("002"), 2);
 * assert.equal(parseInstanceName("hq-current"), undefined);
 * ```
 */
export function parseInstanceName(name: string): number | undefined {
  return /^\d{3,}$/.test(name) ? Number(name) : undefined;
}

const KEY_REGEXP = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Whether `key` is safe as a directory name for a worker or client: 1 to 128 letters,
 * digits, `.`, `_` or `-`, and not `.` or `..`.
 *
 * @example Usage
 * ```ts
 * import { isValidKey } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isValidKey("node1-4242-ab12cd34"), true);
 * assert.equal(isValidKey("../etc"), false);
 * assert.equal(isValidKey(".."), false);
 * ```
 */
export function isValidKey(key: string): boolean {
  return KEY_REGEXP.test(key) && key !== "." && key !== "..";
}

/**
 * Inbox file name: sortable by time (`sentAt` in ms, zero-padded), unique per sender and
 * request number.
 *
 * @example Usage
 * ```ts
 * import { inboxFileName } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.equal(inboxFileName(1_700_000_000_000, "c1", 3), "01700000000000-c1-3.json");
 * ```
 */
export function inboxFileName(sentAt: number, sender: string, request: number): string {
  return `${String(sentAt).padStart(14, "0")}-${sender}-${request}.json`;
}
