// deno-lint-ignore-file no-console
/**
 * The umbrella CLI: `hq server|worker|submit|job|task|alloc ...`, dispatching
 * to the role files so that `hq <role> ...` and `deno run -A <role>.ts ...`
 * behave the same.
 *
 * @module
 */
import { main as serverMain } from "./server.ts";
import { main as workerMain } from "./worker.ts";
import { jobMain, main as submitMain, taskMain } from "./submit.ts";
import { main as allocMain } from "./alloc.ts";

const ROLES: Record<string, (argv: string[]) => Promise<number>> = {
  server: serverMain,
  worker: workerMain,
  submit: submitMain,
  job: jobMain,
  task: taskMain,
  alloc: allocMain,
};

const USAGE = `Usage: hq <command> [options]

Commands:
  server   start, stop, info, wait
  worker   start, list, info, stop, wait
  submit   submit a job
  job      list, info, cancel, wait, summary, task-ids, submit
  task     list, info
  alloc    automatic allocation (not available yet)`;

/** Dispatches `argv` to a role. */
export async function main(argv: string[]): Promise<number> {
  const [role, ...rest] = argv;
  if (role === undefined || role === "--help" || role === "-h" || role === "help") {
    console.log(USAGE);
    return role === undefined ? 1 : 0;
  }
  const run = ROLES[role];
  if (!run) {
    console.error(`error: unknown command '${role}'`);
    return 1;
  }
  return await run(rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
