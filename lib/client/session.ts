/**
 * One client session per command: connect to the server of a directory,
 * run `fn`, and always remove the client's reply directory again.
 *
 * @module
 */
import { HqClient } from "./client.ts";
import { resolveServerDir } from "../fsproto/server_dir.ts";

/**
 * Runs `fn` with a client connected to the server of `serverDir` (`--server-dir`
 * as given; `HQ_SERVER_DIR` or `~/.hq-server` when undefined), closing it afterwards.
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
