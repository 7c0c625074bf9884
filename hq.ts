/**
 * The umbrella CLI: `hq server|worker|submit|job|task|alloc ...`. Only the
 * role named on the command line is loaded, so a client command never loads
 * the server (or LMDB) and starts fast; `hq <role> ...` and
 * `deno run -A <role>.ts ...` behave the same.
 *
 * @module
 */
import { firstPositional } from "./lib/cli/mod.ts";
import { type Command, GLOBAL_OPTIONS, runCommandLine } from "./lib/cli/io/mod.ts";

/**
 * Loads a role file. The specifier is not a literal on purpose: Deno loads
 * every literal `import()` of a module with the module itself, which would
 * load all roles (and LMDB) for every command.
 */
async function loadRole(file: string, name: string): Promise<Command> {
  const mod = await import(new URL(file, import.meta.url).href);
  return mod[name] as Command;
}

/** Top-level commands: description, file and export of each. */
const ROLES: Record<string, { about: string; file: string; name: string }> = {
  server: { about: "Commands for the server", file: "./server.ts", name: "serverCommand" },
  job: { about: "Commands for jobs", file: "./submit.ts", name: "jobCommand" },
  task: { about: "Commands for tasks", file: "./submit.ts", name: "taskCommand" },
  submit: { about: "Submit a job to HyperQueue", file: "./submit.ts", name: "submitCommand" },
  worker: { about: "Commands for workers", file: "./worker.ts", name: "workerCommand" },
  alloc: {
    about: "Commands for automatic allocation",
    file: "./alloc.ts",
    name: "allocCommand",
  },
};

/** Runs `hq` on `argv`; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const found = firstPositional(argv, GLOBAL_OPTIONS);
  const role = found === undefined ? undefined : ROLES[found];
  const subcommands: Command[] = role
    ? [await loadRole(role.file, role.name)]
    : Object.entries(ROLES).map(([name, r]) => ({ name, about: r.about }));
  const root: Command = {
    name: "hq",
    about: "HyperQueue-compatible task scheduler that coordinates through files",
    subcommands,
  };
  return await runCommandLine(root, argv, { version: true });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
