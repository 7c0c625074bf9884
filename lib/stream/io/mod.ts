/**
 * Stream files on disk: the worker's batched, rotating {@link StreamWriter} and the
 * directory reader of `hq output-log`.
 *
 * @module
 */
export * from "./read_dir.ts";
export * from "./writer.ts";
