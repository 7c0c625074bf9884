/**
 * Presentation of the `hq` command line, pure: the argument grammar
 * (`args.ts`), HyperQueue's JSON documents (`hq_json*.ts`, printed by
 * `json.ts` as serde_json does), its `cli` tables (`render_*.ts`, `table.ts`),
 * quiet lines and log messages, and `submit_args.ts`, which turns `hq submit`
 * options into a job. The printer and the command runner are in `io/`.
 *
 * @module
 */
export * from "./arg_checks.ts";
export * from "./args.ts";
export * from "./dates.ts";
export * from "./directives.ts";
export * from "./globals.ts";
export * from "./help_text.ts";
export * from "./hq_json.ts";
export * from "./hq_json_workers.ts";
export * from "./job_status.ts";
export * from "./journal_json.ts";
export * from "./launch.ts";
export * from "./json.ts";
export * from "./messages.ts";
export * from "./parsed_values.ts";
export * from "./progress.ts";
export * from "./quiet.ts";
export * from "./render_alloc.ts";
export * from "./render_explain.ts";
export * from "./render_jobs.ts";
export * from "./render_progress.ts";
export * from "./render_tasks.ts";
export * from "./render_workers.ts";
export * from "./resource_text.ts";
export * from "./submit_args.ts";
export * from "./submit_options.ts";
export * from "./submit_values.ts";
export * from "./table.ts";
export * from "./task_inputs.ts";
export * from "./text_util.ts";
export * from "./worker_options.ts";
export * from "./state_args.ts";
