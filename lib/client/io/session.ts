/**
 * One client session per command: connect to the server of a directory,
 * run `fn`, and always remove the client's reply directory again.
 *
 * @module
 */
import { HqClient } from "./client.ts";
import { resolveServerDir } from "../../protocol/io/mod.ts";

/**
 * Runs `fn` with a client connected to the server of `serverDir` (`--server-dir`
 * as given; `HQ_SERVER_DIR` or `~/.hq-server` when undefined), closing it afterwards.
 *
 * @example Usage
 * ```ts
 * import { withClient } from "./session.ts";
 * import { runServer } from "../../server/io/run.ts";
 * import { ServerNotRunningError } from "../../protocol/io/server_dir.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await assert.rejects(withClient(dir, (c) => c.listJobs()), ServerNotRunningError);
 *   const { promise: ready, resolve } = Promise.withResolvers<void>();
 *   const server = runServer({ serverDir: dir, log: () => {}, onReady: () => resolve() });
 *   await ready;
 *   assert.deepEqual(await withClient(dir, (c) => c.listJobs()), []);
 *   await withClient(dir, (c) => c.stopServer());
 *   await server;
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @throws {ServerNotRunningError} When no server runs there.
 */
export async function withClient<T>(
  serverDir: string | undefined,
  fn: (client: HqClient) => Promise<T>,
): Promise<T> {
  const client = await HqClient.connect(resolveServerDir(serverDir));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
