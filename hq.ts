/**
 * The umbrella CLI: `hq server|worker|submit|job|task|alloc ...`. It finds
 * the command word and loads only the role file that answers it, so a
 * client command never loads the server (or LMDB); `hq <role> ...` and
 * `deno run -A <role>.ts ...` behave the same. Queries of jobs and workers
 * and the task commands are answered by smaller parts of their own
 * ({@link QUERY_PARTS}). A role file or part is loaded from the start-up
 * cache (one bundled file, see `lib/cli/launch.ts`) while that is fresh,
 * else from its sources.
 *
 * @module
 */
import { commandWords, firstPositional, GLOBAL_OPTIONS } from "./lib/cli/globals.ts";
import { fileUrlOf, folderOfFileUrl, launchCacheDir, moduleToLoad } from "./lib/cli/io/launch.ts";

/** What a role file offers the umbrella. */
interface RoleModule {
  hqMain(
    argv: readonly string[],
    roles: readonly { name: string; about: string }[],
  ): Promise<number>;
}

/** Top-level commands: description and the role file that answers each. */
const ROLES: readonly { name: string; about: string; file: string }[] = [
  { name: "server", about: "Commands for the server", file: "server.ts" },
  { name: "job", about: "Commands for jobs", file: "submit.ts" },
  { name: "task", about: "Commands for tasks", file: "submit.ts" },
  { name: "submit", about: "Submit a job to HyperQueue", file: "submit.ts" },
  { name: "worker", about: "Commands for workers", file: "worker.ts" },
  { name: "alloc", about: "Commands for automatic allocation", file: "alloc.ts" },
  { name: "journal", about: "Manage events and journal data", file: "server.ts" },
  {
    name: "output-log",
    about: "Read the output of tasks streamed with `--stream`",
    file: "output_log.ts",
  },
];

/**
 * Commands answered by a part of their own rather than their role file: the `job` and
 * `worker` queries and the `task` commands, which scripts call in loops. Each part is a bundle
 * much smaller than the role's, so these start faster. `subcommands` lists those of the
 * command word that the part answers, or is "all".
 */
export const QUERY_PARTS: Readonly<
  Record<string, { readonly part: string; readonly subcommands: readonly string[] | "all" }>
> = {
  job: {
    part: "lib/cli/io/query_jobs/mod.ts",
    subcommands: ["list", "summary", "info", "task-ids"],
  },
  task: { part: "lib/cli/io/query_tasks/mod.ts", subcommands: "all" },
  worker: { part: "lib/cli/io/query_workers/mod.ts", subcommands: ["list", "info"] },
};

/**
 * The file (relative to the repository) that answers `argv`: the part of
 * {@link QUERY_PARTS} for its command, unless help or the version is asked or an option the
 * umbrella does not know comes before the subcommand; else the role file of the command word.
 *
 * @example Usage
 * ```ts
 * import { fileFor } from "./hq.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fileFor(["--server-dir", "/srv", "job", "list"]), "lib/cli/io/query_jobs/mod.ts");
 * assert.equal(fileFor(["job", "cancel", "1"]), "submit.ts");
 * assert.equal(fileFor(["job", "list", "--help"]), "submit.ts");
 * assert.equal(fileFor(["worker", "stop", "2"]), "worker.ts");
 * ```
 */
export function fileFor(argv: readonly string[]): string {
  const words = commandWords(argv, GLOBAL_OPTIONS, 2);
  const query = words?.length === 2 ? QUERY_PARTS[words[0]!] : undefined;
  const help = argv.some((t) => t === "-h" || t === "--help" || t === "-V" || t === "--version");
  if (
    query !== undefined && !help &&
    (query.subcommands === "all" || query.subcommands.includes(words![1]!))
  ) {
    return query.part;
  }
  const word = firstPositional(argv, GLOBAL_OPTIONS);
  // Help, --version and unknown commands are answered by the client role, which lists all roles.
  return (ROLES.find((r) => r.name === word) ?? ROLES[1]!).file;
}

/** Runs `hq` on `argv`; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const file = fileFor(argv);
  const root = folderOfFileUrl(import.meta.url);
  const path = moduleToLoad(root + file, launchCacheDir(root));
  // Not a literal specifier: Deno would load every role (and LMDB) with this file otherwise.
  const mod: RoleModule = await import(fileUrlOf(path));
  return await mod.hqMain(argv, ROLES.map(({ name, about }) => ({ name, about })));
}

if (import.meta.main) Deno.exit(await main(Deno.args));
