// deno-lint-ignore-file no-console -- this module is the CLI's one writer to stdout and stderr
/**
 * Where the CLI writes: results on stdout in the chosen output mode, log
 * lines on stderr in HyperQueue's format (`2026-06-02T16:28:00Z INFO Job 1
 * canceled`), and errors as HyperQueue prints them (the message alone on
 * stderr, or `{"error": ...}` on stdout in JSON mode).
 *
 * @module
 */

/** Output mode of every command (`--output-mode`). */
export type OutputMode = "cli" | "json" | "quiet";

/** Level of a log line. */
export type LogLevel = "ERROR" | "WARN" | "INFO" | "DEBUG";

const LEVEL_COLOR: Record<LogLevel, string> = {
  ERROR: "\x1b[1;31m",
  WARN: "\x1b[1;33m",
  INFO: "\x1b[1;32m",
  DEBUG: "\x1b[1;34m",
};

/**
 * Formats a log line as HyperQueue prints it on stderr; `at` is ms since the epoch, shown
 * to the second in UTC. `color` paints the level word.
 *
 * @example Usage
 * ```ts
 * import { formatLogLine } from "./output.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatLogLine("INFO", "Job 1 canceled", Date.UTC(2026, 5, 2, 16, 28, 0, 750)),
 *   "2026-06-02T16:28:00Z INFO Job 1 canceled",
 * );
 * ```
 */
export function formatLogLine(level: LogLevel, message: string, at: number, color = false): string {
  const ts = new Date(Math.floor(at / 1000) * 1000).toISOString().replace(".000Z", "Z");
  const lvl = color ? `${LEVEL_COLOR[level]}${level}\x1b[0m` : level;
  return `${ts} ${lvl} ${message}`;
}

/** Serializer used for JSON documents (replaceable so that HQ's exact format can be plugged in). */
export type JsonFormatter = (value: unknown) => string;

/** The printer of one command run. */
export class Output {
  #printed = false;
  #format: JsonFormatter;

  /** `format` prints JSON documents (the CLI passes `formatJson`, HyperQueue's exact text). */
  constructor(
    /** Output mode. */
    readonly mode: OutputMode,
    /** Whether ANSI colors may be used. */
    readonly colors: boolean,
    /** Whether debug log lines are shown. */
    readonly debug: boolean,
    format: JsonFormatter = (v) => JSON.stringify(v, null, 2),
  ) {
    this.#format = format;
  }

  /** Prints a line (or lines) of text on stdout. */
  text(text: string): void {
    this.#printed = true;
    console.log(text);
  }

  /** Writes text on stdout as it is (no newline added): for lines redrawn in place. */
  write(text: string): void {
    this.#printed = true;
    const bytes = new TextEncoder().encode(text);
    for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
  }

  /** Writes bytes on stdout as they are (raw task output, which may not be UTF-8). */
  writeBytes(bytes: Uint8Array): void {
    this.#printed = true;
    for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
  }

  /** Whether stdout is a terminal (lines may be redrawn in place). */
  get interactive(): boolean {
    try {
      return Deno.stdout.isTerminal();
    } catch {
      return false;
    }
  }

  /** Prints one JSON document on stdout (JSON mode). */
  json(value: unknown): void {
    this.#printed = true;
    console.log(this.#format(value));
  }

  /** Prints a log line on stderr (in every output mode, as HyperQueue does). */
  log(level: LogLevel, message: string): void {
    if (level === "DEBUG" && !this.debug) return;
    console.error(formatLogLine(level, message, Date.now(), this.colors));
  }

  /** Prints each line with {@link Output.log}. */
  logAll(lines: readonly { level: LogLevel; message: string }[]): void {
    for (const l of lines) this.log(l.level, l.message);
  }

  /** Prints an error the way HyperQueue does: the message on stderr, or `{"error"}` in JSON mode. */
  error(message: string): void {
    if (this.mode === "json") this.json({ error: message });
    else console.error(message);
  }

  /** Prints a usage error (clap's, never JSON) on stderr. */
  usageError(message: string): void {
    console.error(`error: ${message}`);
  }

  /** Ends the command: in JSON mode a command that printed nothing prints `{}`. */
  finish(): void {
    if (this.mode === "json" && !this.#printed) this.json({});
  }
}
