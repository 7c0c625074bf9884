/**
 * The umbrella CLI: `hq server|worker|submit|job|task|alloc ...`. It finds
 * the command word and loads only the role file that answers it, so a
 * client command never loads the server (or LMDB); `hq <role> ...` and
 * `deno run -A <role>.ts ...` behave the same. A role file is loaded from
 * the start-up cache (one bundled file, see `lib/cli/launch.ts`) while that
 * is fresh, else from its sources.
 *
 * @module
 */
import { firstPositional, GLOBAL_OPTIONS } from "./lib/cli/globals.ts";
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

/** Runs `hq` on `argv`; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const word = firstPositional(argv, GLOBAL_OPTIONS);
  // Help, --version and unknown commands are answered by the client role, which lists all roles.
  const file = (ROLES.find((r) => r.name === word) ?? ROLES[1]!).file;
  const root = folderOfFileUrl(import.meta.url);
  const path = moduleToLoad(root + file, launchCacheDir(root));
  // Not a literal specifier: Deno would load every role (and LMDB) with this file otherwise.
  const mod: RoleModule = await import(fileUrlOf(path));
  return await mod.hqMain(argv, ROLES.map(({ name, about }) => ({ name, about })));
}

if (import.meta.main) Deno.exit(await main(Deno.args));
