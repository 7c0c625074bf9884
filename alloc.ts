/**
 * `hq alloc ...`: automatic allocation client commands. The behaviour comes
 * in a later change; every subcommand says so clearly.
 *
 * @module
 */
import { Command } from "commander";
import { runCli, withGlobals } from "./lib/cli/common.ts";

/** Builds the `alloc` command tree. */
export function allocCommand(): Command {
  const alloc = new Command("alloc").description("automatic allocation (not available yet)");
  for (const name of ["add", "list", "info", "log", "pause", "resume", "remove", "dry-run"]) {
    withGlobals(alloc.command(name).allowUnknownOption().allowExcessArguments()).action(() => {
      throw new Error(`hq alloc ${name} is not available yet in this version`);
    });
  }
  return alloc;
}

/** Entry point: `deno run -A alloc.ts <subcommand> ...`. */
export function main(argv: string[]): Promise<number> {
  return runCli(allocCommand(), argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
