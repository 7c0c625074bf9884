/**
 * HyperQueue's global options as data, in a module of their own: the
 * umbrella reads them to find the command word before it loads any command.
 *
 * @module
 */
import type { OptionSpec } from "./args.ts";

/** HyperQueue's global options: accepted by every command, before, between or after subcommands. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    long: "server-dir",
    value: "SERVER_DIR",
    env: "HQ_SERVER_DIR",
    help: "The path where access files are stored",
  },
  {
    long: "colors",
    value: "COLORS",
    choices: ["auto", "always", "never"],
    default: "auto",
    help: "Sets console color policy",
  },
  {
    long: "output-mode",
    value: "OUTPUT_MODE",
    choices: ["cli", "json", "quiet"],
    env: "HQ_OUTPUT_MODE",
    default: "cli",
    help: "Sets output formatting",
  },
  { long: "debug", env: "HQ_DEBUG", help: "Enables more detailed log output" },
];
