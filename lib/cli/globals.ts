/**
 * HyperQueue's global options as data, and the one piece of the grammar the umbrella needs
 * before it loads a command: which token is an option, and which word names the command.
 * A module of its own, so that the umbrella reads them without loading the parser.
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

/** Whether `token` is an option (`-x`, `--long`) rather than a value; `-` and negative numbers are values. */
export function isOptionToken(token: string): boolean {
  return token.startsWith("-") && token !== "-" && !/^-\d/.test(token);
}

/**
 * The first word of `argv` that is not an option or an option's value, given
 * the options that may come before it (used to pick a top-level command
 * before loading it).
 *
 * @example Usage
 * ```ts
 * import { firstPositional } from "./globals.ts";
 * import assert from "node:assert/strict";
 * const globals = [{ long: "server-dir", value: "DIR", help: "" }, { long: "debug", help: "" }];
 * const argv = ["--server-dir", "/srv", "--debug", "job", "list"];
 * assert.equal(firstPositional(argv, globals), "job");
 * assert.equal(firstPositional(["--server-dir=/srv"], globals), undefined);
 * ```
 */
export function firstPositional(
  argv: readonly string[],
  options: readonly OptionSpec[],
): string | undefined {
  return scanWords(argv, options, 1, false)![0];
}

/**
 * The first `n` words of `argv` that are not options or their values (fewer when `argv` has
 * fewer), or null when an option other than `options` (or a help flag) comes before them:
 * the umbrella then leaves the command line to the role's own parser.
 *
 * @example Usage
 * ```ts
 * import { commandWords } from "./globals.ts";
 * import assert from "node:assert/strict";
 * const globals = [{ long: "server-dir", value: "DIR", help: "" }];
 * assert.deepEqual(commandWords(["--server-dir", "/srv", "job", "list", "--all"], globals, 2), [
 *   "job",
 *   "list",
 * ]);
 * assert.deepEqual(commandWords(["job"], globals, 2), ["job"]);
 * assert.equal(commandWords(["job", "--all", "list"], globals, 2), null);
 * ```
 */
export function commandWords(
  argv: readonly string[],
  options: readonly OptionSpec[],
  n: number,
): string[] | null {
  return scanWords(argv, options, n, true);
}

/**
 * The first `n` words of `argv`, skipping `options` and their values. An option not in
 * `options` is skipped too, or when `strict` ends the scan with null, as `--` does then;
 * otherwise the word after `--` is taken as it is.
 */
function scanWords(
  argv: readonly string[],
  options: readonly OptionSpec[],
  n: number,
  strict: boolean,
): string[] | null {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < n; i++) {
    const token = argv[i]!;
    if (token === "--") {
      if (strict) return null;
      words.push(...argv.slice(i + 1, i + 1 + n - words.length));
      break;
    }
    if (!isOptionToken(token)) {
      words.push(token);
      continue;
    }
    const spec = token.startsWith("--")
      ? options.find((o) => o.long === token.slice(2).split("=")[0])
      : undefined;
    if (spec === undefined) {
      if (strict) return null;
    } else if (spec.value !== undefined && !token.includes("=")) i++;
  }
  return words;
}
