/**
 * The LMDB adapter of the journal: the only module that imports `lmdb`.
 *
 * @module
 */
export * from "./lmdb_store.ts";
