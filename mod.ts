/**
 * Library API for TypeScript programs: connect to a server directory,
 * submit jobs, list them and wait for them, over files only.
 *
 * ```ts ignore
 * import { HqClient, buildSubmit } from "./mod.ts";
 * const client = await HqClient.connect("/path/to/server-dir");
 * const { job } = buildSubmit({ array: "1-10" }, ["echo", "hi"], Deno.cwd());
 * const id = await client.submit(job);
 * await client.wait(String(id));
 * await client.close();
 * ```
 *
 * @module
 */
export { HqClient, RequestError } from "./lib/client/client.ts";
export type { ConnectOptions } from "./lib/client/client.ts";
export { buildSubmit } from "./lib/cli/submit_args.ts";
export type { BuiltSubmit, SubmitFlags } from "./lib/cli/submit_args.ts";
export type { JobSubmit, TaskTemplate } from "./lib/fsproto/messages.ts";
export type { JobDetailView, JobInfoView, TaskView, WorkerView } from "./lib/scheduler/views.ts";
export { ServerNotRunningError } from "./lib/fsproto/server_dir.ts";
