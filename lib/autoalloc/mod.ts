/**
 * Automatic allocation, pure: queues and allocations (`queue.ts`), their
 * state and events (`state.ts`) under its settings (`settings.ts`), the pass
 * that decides what to submit (`policy.ts`), the worker's command line
 * (`worker_command.ts`) and the batch scripts around it (`script.ts`), the
 * check of the arguments passed through to them (`manager_args.ts`) and the
 * parsers of the batch systems' outputs (`manager_output.ts`). The commands
 * run in `io/`.
 *
 * @module
 */
export * from "./manager_args.ts";
export * from "./manager_output.ts";
export * from "./policy.ts";
export * from "./queue.ts";
export * from "./records.ts";
export * from "./script.ts";
export * from "./settings.ts";
export * from "./state.ts";
export * from "./submission.ts";
export * from "./walltime.ts";
export * from "./worker_command.ts";
