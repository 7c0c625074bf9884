/**
 * Names of everything inside a server directory (pure path building).
 *
 * ```
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
import { joinPath as join } from "../path.ts";

/** Name of the link to the active instance. */
export const CURRENT_LINK = "hq-current";

/** Paths of one server instance directory. */
export interface InstanceLayout {
  /** The instance directory itself. */
  root: string;
  /** Identity file. */
  serverJson: string;
  /** Lease file rewritten by the live server. */
  lease: string;
  /** LMDB environment directory. */
  journal: string;
  /** Inbox staging directory. */
  inboxTmp: string;
  /** Inbox delivery directory. */
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

/** Builds the layout of instance directory `root`. */
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

/** Directory of the worker with key `key`. */
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

/** Channel base names. */
export const CHANNEL = {
  toServer: "to-server",
  toWorker: "to-worker",
  reply: "reply",
} as const;

/** Instance directory names are zero-padded numbers (`001`). */
export function formatInstanceName(n: number): string {
  return String(n).padStart(3, "0");
}

/** Parses an instance directory name, or returns undefined. */
export function parseInstanceName(name: string): number | undefined {
  return /^\d{3,}$/.test(name) ? Number(name) : undefined;
}

const KEY_REGEXP = /^[A-Za-z0-9._-]{1,128}$/;

/** Whether `key` is safe as a directory name for a worker or client. */
export function isValidKey(key: string): boolean {
  return KEY_REGEXP.test(key) && key !== "." && key !== "..";
}

/** Inbox file name: sortable by time, unique per sender. */
export function inboxFileName(sentAt: number, sender: string, request: number): string {
  return `${String(sentAt).padStart(14, "0")}-${sender}-${request}.json`;
}
