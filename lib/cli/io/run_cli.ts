/**
 * Shared command-line plumbing of the role files: HyperQueue's global
 * options, the command type, and the runner that parses, prints help, runs
 * the command and turns errors into HyperQueue's exit codes (1 for errors of
 * the command, 2 for usage errors).
 *
 * @module
 */
// The files themselves rather than the package's `mod.ts`: the query parts
// (`query_*/mod.ts`) load this module without the rest of the presentation.
import { type CommandSpec, parseCommandLine, type Parsed, UsageError } from "../args.ts";
import { optFlag, optString } from "../parsed_values.ts";
import { formatJson, type JsonValue } from "../json.ts";
import { GLOBAL_OPTIONS } from "../globals.ts";
import { Output, type OutputMode } from "./output.ts";

export { UsageError };

/** What a command handler gets. */
export interface CommandContext {
  /** Parsed command line. */
  readonly parsed: Parsed;
  /** Printer in the chosen output mode. */
  readonly out: Output;
  /** `--server-dir` (or `HQ_SERVER_DIR`) as given, unresolved. */
  readonly serverDir: string | undefined;
}

/** A command handler; its number is the exit code (0 when it returns nothing). */
export type Handler = (ctx: CommandContext) => Promise<number | void> | number | void;

/** A command of the CLI tree. */
export type Command = CommandSpec<Handler>;

/** Version printed by `hq --version`. */
export const HQ_VERSION = "0.1.0";

function colorsEnabled(policy: string | undefined): boolean {
  if (policy === "always") return true;
  if (policy === "never" || Deno.env.get("NO_COLOR")) return false;
  try {
    return Deno.stdout.isTerminal();
  } catch {
    return false;
  }
}

/**
 * Runs a command tree on `argv` and returns the exit code. Errors of the
 * command print as one line (`{"error": ...}` in JSON mode) with exit code 1;
 * usage errors print `error: ...` on stderr with exit code 2. Reads the environment for
 * options with `env`.
 *
 * @example Usage
 * ```ts
 * import { type CommandContext, runCommandLine } from "./run_cli.ts";
 * import assert from "node:assert/strict";
 * const seen: string[] = [];
 * const root = {
 *   name: "hq",
 *   about: "",
 *   subcommands: [{
 *     name: "ping",
 *     about: "",
 *     run: (ctx: CommandContext) => {
 *       seen.push(ctx.out.mode);
 *       return 3;
 *     },
 *   }],
 * };
 * assert.equal(await runCommandLine(root, ["ping", "--output-mode", "quiet"]), 3);
 * assert.deepEqual(seen, ["quiet"]);
 * ```
 */
export async function runCommandLine(
  root: Command,
  argv: readonly string[],
  options: { version?: boolean } = {},
): Promise<number> {
  let out = new Output("cli", false, false);
  try {
    const outcome = parseCommandLine(root, argv, {
      globals: GLOBAL_OPTIONS,
      env: (name) => Deno.env.get(name),
      version: options.version ?? false,
    });
    if (outcome.kind === "help") {
      out.text(outcome.text);
      return 0;
    }
    if (outcome.kind === "version") {
      out.text(`hyperqueue ${HQ_VERSION}`);
      return 0;
    }
    const p = outcome.parsed;
    out = new Output(
      (optString(p, "output-mode") ?? "cli") as OutputMode,
      colorsEnabled(optString(p, "colors")),
      optFlag(p, "debug"),
      (v) => formatJson(v as JsonValue),
    );
    const code = await outcome.command.run!({
      parsed: p,
      out,
      serverDir: optString(p, "server-dir"),
    });
    out.finish();
    return code ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      out.usageError(e.message);
      return e.exitCode;
    }
    out.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

/** A top-level command of `hq` as the umbrella lists it before loading it. */
export interface RoleInfo {
  /** Command word (`job`, `worker`, ...). */
  readonly name: string;
  /** One line for `hq --help`. */
  readonly about: string;
}

/** What `hq --help` says `hq` is. */
export const HQ_ABOUT = "HyperQueue-compatible task scheduler that coordinates through files";

/**
 * Runs `hq` on `argv` with the top-level commands `roles`, of which `own` are
 * loaded (a role file passes its own commands; the others are listed by name
 * and description only). Returns the exit code.
 *
 * @example Usage
 * ```ts
 * import { type CommandContext, runUmbrella } from "./run_cli.ts";
 * import assert from "node:assert/strict";
 * const roles = [{ name: "job", about: "Jobs" }, { name: "worker", about: "Workers" }];
 * const job = {
 *   name: "job",
 *   about: "Jobs",
 *   subcommands: [{ name: "list", about: "", run: (_: CommandContext) => 7 }],
 * };
 * assert.equal(await runUmbrella([job], ["--output-mode=quiet", "job", "list"], roles), 7);
 * ```
 */
export function runUmbrella(
  own: readonly Command[],
  argv: readonly string[],
  roles: readonly RoleInfo[],
): Promise<number> {
  const subcommands = roles.map((r) => own.find((c) => c.name === r.name) ?? { ...r });
  return runCommandLine({ name: "hq", about: HQ_ABOUT, subcommands }, argv, { version: true });
}
