/**
 * Pure vocabulary shared by every part: ids, id sets (`1-10:2,15`),
 * selectors (`last`, `all`), humantime durations, path helpers, HyperQueue's
 * path placeholders and the exhaustiveness guard for switches.
 *
 * @module
 */
export * from "./assert_never.ts";
export * from "./bytes.ts";
export * from "./duration.ts";
export * from "./heap.ts";
export * from "./id_set.ts";
export * from "./ids.ts";
export * from "./path.ts";
export * from "./placeholders.ts";
export * from "./quote.ts";
export * from "./selector.ts";
export * from "./task_paths.ts";
