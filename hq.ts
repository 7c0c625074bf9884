/**
 * The umbrella CLI: `hq server|worker|submit|job|task|alloc ...`. Only the
 * role named on the command line is loaded, so a client command never loads
 * the server (or LMDB) and starts fast; `hq <role> ...` and
 * `deno run -A <role>.ts ...` behave the same.
 *
 * @module
 */
import { firstPositional } from "./lib/cli/args.ts";
import { type Command, GLOBAL_OPTIONS, runCommandLine } from "./lib/cli/common.ts";

/** Top-level commands: description and loader of each. */
const ROLES: Record<string, { about: string; load: () => Promise<Command> }> = {
  server: {
    about: "Commands for the server",
    load: async () => (await import("./server.ts")).serverCommand,
  },
  job: { about: "Commands for jobs", load: async () => (await import("./submit.ts")).jobCommand },
  task: {
    about: "Commands for tasks",
    load: async () => (await import("./submit.ts")).taskCommand,
  },
  submit: {
    about: "Submit a job to HyperQueue",
    load: async () => (await import("./submit.ts")).submitCommand,
  },
  worker: {
    about: "Commands for workers",
    load: async () => (await import("./worker.ts")).workerCommand,
  },
  alloc: {
    about: "Commands for automatic allocation",
    load: async () => (await import("./alloc.ts")).allocCommand,
  },
};

/** Runs `hq` on `argv`; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const found = firstPositional(argv, GLOBAL_OPTIONS);
  const role = found === undefined ? undefined : ROLES[found];
  const subcommands: Command[] = role
    ? [await role.load()]
    : Object.entries(ROLES).map(([name, r]) => ({ name, about: r.about }));
  const root: Command = {
    name: "hq",
    about: "HyperQueue-compatible task scheduler that coordinates through files",
    subcommands,
  };
  return await runCommandLine(root, argv, { version: true });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
