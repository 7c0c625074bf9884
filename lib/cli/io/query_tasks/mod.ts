/**
 * The `task` commands as a part of their own (`hq task list|info|explain|notify`): the
 * umbrella loads this part (one bundle, see `importPart`) instead of the whole client role
 * for them, with the very same command tree, so the grammar, texts and exit codes are the
 * role's.
 *
 * Imports the modules it needs directly, never the package's `mod.ts`, which would bring the
 * whole presentation into its bundle.
 *
 * @module
 */
import { type RoleInfo, runUmbrella } from "../run_cli.ts";
import { taskCommand } from "../task_commands.ts";

/** Entry point of the umbrella for `hq task ...`. */
export function hqMain(argv: readonly string[], roles: readonly RoleInfo[]): Promise<number> {
  return runUmbrella([taskCommand], argv, roles);
}
