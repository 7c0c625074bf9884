// deno-lint-ignore-file no-console
/**
 * Shared command-line plumbing: global flags, output modes, error exits.
 *
 * @module
 */
import { Command, CommanderError, Option } from "commander";

/** Output mode of every command. */
export type OutputMode = "cli" | "json" | "quiet";

/** Global flags accepted by every command. */
export interface GlobalOptions {
  serverDir?: string;
  outputMode: OutputMode;
  colors: string;
  debug: boolean;
}

/** Adds the global flags to a command. */
export function withGlobals(cmd: Command): Command {
  return cmd
    .option("--server-dir <path>", "server directory (env HQ_SERVER_DIR, default ~/.hq-server)")
    .addOption(
      new Option("--output-mode <mode>", "output format").choices(["cli", "json", "quiet"]).default(
        Deno.env.get("HQ_OUTPUT_MODE") ?? "cli",
      ),
    )
    .addOption(
      new Option("--colors <when>", "color policy").choices(["auto", "always", "never"]).default(
        "auto",
      ),
    )
    .option("--debug", "more detailed logging", Deno.env.get("HQ_DEBUG") === "1");
}

/** Reads the global flags of a parsed command. */
export function globals(cmd: Command): GlobalOptions {
  const o = cmd.opts();
  return {
    serverDir: o.serverDir,
    outputMode: o.outputMode as OutputMode,
    colors: o.colors,
    debug: !!o.debug,
  };
}

/** Prints a JSON value (pretty, as HyperQueue does). */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Raised for invalid command-line input; printed as one line, exit code 1. */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Configures a root command for one-line errors and no process exit inside commander. */
export function configureRoot(cmd: Command): Command {
  cmd.exitOverride();
  cmd.configureOutput({
    writeErr: (s) => Deno.stderr.writeSync(new TextEncoder().encode(s.split("\n")[0] + "\n")),
  });
  cmd.showSuggestionAfterError(false);
  for (const sub of cmd.commands) configureRoot(sub);
  return cmd;
}

/**
 * Runs a commander program on `argv`; turns every error into one line on
 * stderr (or `{"error": ...}` in JSON mode) and exit code 1.
 */
export async function runCli(cmd: Command, argv: string[]): Promise<number> {
  configureRoot(cmd);
  const json =
    argv.some((a, i) =>
      a === "--output-mode=json" || (a === "--output-mode" && argv[i + 1] === "json")
    ) ||
    (Deno.env.get("HQ_OUTPUT_MODE") === "json" && !argv.includes("--output-mode"));
  try {
    await cmd.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" || e.code === "commander.help" ||
        e.code === "commander.version"
      ) return 0;
      return 1;
    }
    const message = e instanceof Error ? e.message : String(e);
    if (json) printJson({ error: message });
    else console.error(`error: ${message}`);
    return 1;
  }
}

/** Parses an integer flag. @throws {UsageError} */
export function parseIntFlag(name: string, text: string, min = 0): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`Invalid value "${text}" for ${name}: expected an integer >= ${min}`);
  }
  return Number(text);
}
