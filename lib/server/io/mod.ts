/**
 * The server process: opening an instance directory and keeping its lease,
 * the journal's owner lock, the channels to workers and clients, and the
 * timed loop around `serverRound`.
 *
 * @module
 */
export * from "./instance.ts";
export * from "./journal_lock.ts";
export * from "./links.ts";
export * from "./run.ts";
