/**
 * The server process: claiming an instance directory (one server per
 * instance) and keeping its lease from a thread of its own, the journal it
 * starts from, the journal's owner lock, the channels to workers and clients, and the
 * timed loop around `serverRound`.
 *
 * @module
 */
export * from "./claim.ts";
export * from "./guarded_journal.ts";
export * from "./instance.ts";
export * from "./instance_journal.ts";
export * from "./journal_export.ts";
export * from "./journal_lock.ts";
export * from "./lease_keeper.ts";
export * from "./lease_writer.ts";
export * from "./links.ts";
export * from "./run.ts";
