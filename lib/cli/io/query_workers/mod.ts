/**
 * The `worker` queries as a part of their own: `hq worker list|info`. The umbrella loads
 * this part (one bundle, see `importPart`) instead of the whole worker role for them; the
 * role lists the very same command definitions in its `worker` tree, so the grammar, texts
 * and exit codes are the role's.
 *
 * Imports the modules it needs directly, never the package's `mod.ts`, which would bring the
 * whole presentation into its bundle.
 *
 * @module
 */
import { type Command, type RoleInfo, runUmbrella } from "../run_cli.ts";
import { WORKER_ABOUT, workerInfoCommand, workerListCommand } from "../worker_queries.ts";

/** The `worker` tree with the subcommands this part answers. */
export const WORKER_QUERIES: Command = {
  name: "worker",
  about: WORKER_ABOUT,
  subcommands: [workerListCommand, workerInfoCommand],
};

/** Entry point of the umbrella for the subcommands of {@link WORKER_QUERIES}. */
export function hqMain(argv: readonly string[], roles: readonly RoleInfo[]): Promise<number> {
  return runUmbrella([WORKER_QUERIES], argv, roles);
}
