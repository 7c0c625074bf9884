/**
 * Library API for TypeScript programs: connect to a server directory,
 * submit jobs, list them and wait for them, over files only.
 *
 * @example Usage
 * ```ts
 * import { buildSubmit, HqClient } from "./mod.ts";
 * import { runServer } from "./lib/server/io/run.ts";
 * import assert from "node:assert/strict";
 * const serverDir = await Deno.makeTempDir();
 * try {
 *   // Usually `hq server start` runs elsewhere; here a server runs in this process.
 *   const { promise: ready, resolve } = Promise.withResolvers<void>();
 *   const server = runServer({ serverDir, log: () => {}, onReady: () => resolve() });
 *   await ready;
 *   const client = await HqClient.connect(serverDir);
 *   try {
 *     const { job } = buildSubmit({ array: "1-10" }, ["echo", "hi"], Deno.cwd());
 *     const id = await client.submit(job);
 *     // No worker runs here, so cancel the job; `wait` then answers at once.
 *     await client.cancel(String(id));
 *     const [done] = await client.wait(String(id));
 *     assert.equal(done?.task_stats.canceled, 10);
 *     await client.stopServer();
 *   } finally {
 *     await client.close();
 *   }
 *   await server;
 * } finally {
 *   await Deno.remove(serverDir, { recursive: true });
 * }
 * ```
 *
 * @module
 */
export { HqClient, RequestError } from "./lib/client/io/mod.ts";
export type { ConnectOptions } from "./lib/client/io/mod.ts";
export { buildSubmit } from "./lib/cli/mod.ts";
export type { BuiltSubmit, SubmitFlags } from "./lib/cli/mod.ts";
export type { JobSubmit, TaskTemplate } from "./lib/protocol/mod.ts";
export type { JobDetailView, JobInfoView, TaskView, WorkerView } from "./lib/protocol/mod.ts";
export { ServerNotRunningError } from "./lib/protocol/io/mod.ts";
