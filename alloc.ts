/**
 * `hq alloc ...`: automatic allocation client commands. The behaviour comes
 * in a later change; every subcommand says so clearly.
 *
 * @module
 */
import { type Command, type RoleInfo, runCommandLine, runUmbrella } from "./lib/cli/io/mod.ts";

const NAMES = ["add", "list", "info", "log", "pause", "resume", "remove", "dry-run"] as const;

/** The `alloc` command tree. */
export const allocCommand: Command = {
  name: "alloc",
  about: "Commands for automatic allocation",
  subcommands: NAMES.map((name) => ({
    name,
    about: "Not available yet in this version",
    args: [{ name: "ARGS", trailing: true, hyphenValues: true, help: "Arguments" }],
    run: () => {
      throw new Error(`hq alloc ${name} is not available yet in this version`);
    },
  })),
};

/** Entry point of the umbrella for `hq alloc ...`. */
export function hqMain(argv: readonly string[], roles: readonly RoleInfo[]): Promise<number> {
  return runUmbrella([allocCommand], argv, roles);
}

/** Entry point: `deno run -A alloc.ts <subcommand> ...`. */
export function main(argv: readonly string[]): Promise<number> {
  return runCommandLine({ ...allocCommand, name: "alloc.ts" }, argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
