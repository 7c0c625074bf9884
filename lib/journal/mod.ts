/**
 * The journal port (what the server keeps durable), pure: the records and
 * batches of `store.ts`, and `restore.ts`, which folds stored records into a
 * fresh server state and collects what a round changed. The LMDB adapter is
 * in `io/`.
 *
 * @module
 */
export * from "./restore.ts";
export * from "./store.ts";
