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
import {
  fileUrlOf,
  folderOfFileUrl,
  launchCacheDir,
  moduleToLoad,
  runReadOnly,
} from "./lib/cli/io/launch.ts";

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
 * command word that the part answers, or is "all"; `writes` those among them that change
 * something (the others only read, see {@link routeFor}).
 */
export const QUERY_PARTS: Readonly<
  Record<string, {
    readonly part: string;
    readonly subcommands: readonly string[] | "all";
    readonly writes?: readonly string[];
  }>
> = {
  job: {
    part: "lib/cli/io/query_jobs/mod.ts",
    subcommands: ["list", "summary", "info", "task-ids"],
  },
  task: { part: "lib/cli/io/query_tasks/mod.ts", subcommands: "all", writes: ["notify"] },
  worker: { part: "lib/cli/io/query_workers/mod.ts", subcommands: ["list", "info"] },
};

/** Where the umbrella sends a command line (see {@link routeFor}). */
export interface Route {
  /** The file that answers it, relative to the repository. */
  readonly file: string;
  /** Whether the command only reads (a query), so that a stale bundle may start it. */
  readonly readOnly: boolean;
}

/**
 * Where `argv` goes: the part of {@link QUERY_PARTS} for its command, unless help or the
 * version is asked or an option the umbrella does not know comes before the subcommand;
 * else the role file of the command word.
 *
 * @example Usage
 * ```ts
 * import { routeFor } from "./hq.ts";
 * import assert from "node:assert/strict";
 * const jobList = { file: "lib/cli/io/query_jobs/mod.ts", readOnly: true };
 * assert.deepEqual(routeFor(["--server-dir", "/srv", "job", "list"]), jobList);
 * assert.deepEqual(routeFor(["job", "cancel", "1"]), { file: "submit.ts", readOnly: false });
 * assert.deepEqual(routeFor(["job", "list", "--help"]), { file: "submit.ts", readOnly: false });
 * assert.equal(routeFor(["task", "notify", "hi"]).readOnly, false);
 * assert.equal(routeFor(["worker", "stop", "2"]).file, "worker.ts");
 * ```
 */
export function routeFor(argv: readonly string[]): Route {
  const words = commandWords(argv, GLOBAL_OPTIONS, 2);
  const query = words?.length === 2 ? QUERY_PARTS[words[0]!] : undefined;
  const help = argv.some((t) => t === "-h" || t === "--help" || t === "-V" || t === "--version");
  if (
    query !== undefined && !help &&
    (query.subcommands === "all" || query.subcommands.includes(words![1]!))
  ) {
    return { file: query.part, readOnly: !query.writes?.includes(words![1]!) };
  }
  const word = firstPositional(argv, GLOBAL_OPTIONS);
  // Help, --version and unknown commands are answered by the client role, which lists all roles.
  return { file: (ROLES.find((r) => r.name === word) ?? ROLES[1]!).file, readOnly: false };
}

/** Runs `hq` on `argv`; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const { file, readOnly } = routeFor(argv);
  const root = folderOfFileUrl(import.meta.url);
  const roles = ROLES.map(({ name, about }) => ({ name, about }));
  const cacheDir = launchCacheDir(root);
  const run = (mod: RoleModule) => mod.hqMain(argv, roles);
  // A query may start from its bundle while the bundle's inputs are still being checked.
  if (readOnly) return await runReadOnly(root + file, cacheDir, run);
  // Not a literal specifier: Deno would load every role (and LMDB) with this file otherwise.
  return await run(await import(fileUrlOf(moduleToLoad(root + file, cacheDir))));
}

if (import.meta.main) Deno.exit(await main(Deno.args));
