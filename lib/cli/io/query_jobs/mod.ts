/**
 * The `job` queries as a part of their own: `hq job list|summary|info|task-ids`, the
 * commands scripts call in loops. The umbrella loads this part (one bundle, see
 * `importPart`) instead of the whole client role for them; the role lists the very same
 * command definitions in its `job` tree, so the grammar, texts and exit codes are the role's.
 *
 * Imports the modules it needs directly, never the package's `mod.ts`, which would bring the
 * whole presentation into its bundle.
 *
 * @module
 */
import {
  JOB_ABOUT,
  jobInfoCommand,
  jobListCommand,
  jobSummaryCommand,
  jobTaskIdsCommand,
} from "../job_queries.ts";
import { type Command, type RoleInfo, runUmbrella } from "../run_cli.ts";

/** The `job` tree with the subcommands this part answers. */
export const JOB_QUERIES: Command = {
  name: "job",
  about: JOB_ABOUT,
  subcommands: [jobListCommand, jobSummaryCommand, jobInfoCommand, jobTaskIdsCommand],
};

/** Entry point of the umbrella for the subcommands of {@link JOB_QUERIES}. */
export function hqMain(argv: readonly string[], roles: readonly RoleInfo[]): Promise<number> {
  return runUmbrella([JOB_QUERIES], argv, roles);
}
