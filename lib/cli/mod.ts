/**
 * Pure text helpers for the `hq` command line, compatible with HyperQueue:
 *
 * - {@link parseIdSet} / {@link formatIdSet}: id arrays such as `1-10:2,15`
 *   kept as sorted inclusive ranges ({@link IdSet}).
 * - {@link parseSelector} / {@link resolveSelector}: `last`, `all` or an id
 *   set, for job and worker arguments.
 * - {@link parseDuration} / {@link formatDuration}: humantime durations
 *   (`1h 5m`, `15days 2min 2s`) and `HH:MM:SS`, in milliseconds.
 * - {@link fillPlaceholdersAfterSubmit} / {@link fillPlaceholdersInPaths}: `%{JOB_ID}`-style
 *   placeholders in task paths, filled as HyperQueue fills them.
 * - {@link renderTable} / {@link renderVerticalTable}: the ASCII table layout
 *   of the `cli` output mode, and {@link truncateMiddle} for long names.
 * - {@link renderProgressBar} / {@link formatStateLines}: the `job info`
 *   progress bar and per-state task counts.
 * - {@link formatJson}: JSON exactly as `serde_json::to_string_pretty` prints
 *   it (sorted keys, f64 values as {@link JsonFloat}).
 * - {@link formatJsonDatetime} and friends: HyperQueue's date and time texts.
 *
 * HyperQueue's documents and tables for each command are in `hq_json.ts`,
 * `hq_json_workers.ts`, `render_jobs.ts`, `render_tasks.ts`,
 * `render_workers.ts`, `quiet.ts` and `messages.ts`.
 *
 * Nothing here does I/O or reads the clock.
 *
 * @module
 */

export * from "./id_set.ts";
export * from "./selector.ts";
export * from "./duration.ts";
export * from "./placeholders.ts";
export * from "./table.ts";
export * from "./progress.ts";
export * from "./json.ts";
export * from "./dates.ts";
