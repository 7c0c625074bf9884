/**
 * The command line's I/O: the printer of results, log lines and errors
 * (`output.ts`) and the runner that parses, runs a command and turns its
 * errors into HyperQueue's exit codes (`run_cli.ts`).
 *
 * @module
 */
export * from "./output.ts";
export * from "./run_cli.ts";
export * from "./launch.ts";
export * from "./job_commands.ts";
export * from "./job_queries.ts";
export * from "./notify.ts";
export * from "./notify_runner.ts";
export * from "./task_commands.ts";
export * from "./worker_queries.ts";
