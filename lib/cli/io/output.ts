/**
 * Where the CLI writes: results on stdout in the chosen output mode, log
 * lines on stderr in HyperQueue's format (`2026-06-02T16:28:00Z INFO Job 1
 * canceled`), and errors as HyperQueue prints them (the message alone on
 * stderr, or `{"error": ...}` on stdout in JSON mode).
 *
 * @module
 */
import { runIdleWork } from "../../common/io/mod.ts";

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

/** Something written to synchronously: `Deno.stdout` or `Deno.stderr`. */
interface SyncWriter {
  writeSync(p: Uint8Array): number;
}

const ENCODER = new TextEncoder();
const closed = new Set<SyncWriter>();

/**
 * Writes `bytes` whole on `stream`, directly rather than with `console.log`, whose
 * first call costs a short command about half a millisecond; like `console.log`, it stops
 * quietly when the reader went away (`hq job list | head -1`).
 */
function writeAll(stream: SyncWriter, bytes: Uint8Array): void {
  // Nothing is printed before the work put off for a wait is done (see `idle_work.ts`).
  runIdleWork();
  if (closed.has(stream)) return;
  try {
    for (let done = 0; done < bytes.length;) done += stream.writeSync(bytes.subarray(done));
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    closed.add(stream);
  }
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
    writeAll(Deno.stdout, ENCODER.encode(`${text}\n`));
  }

  /** Writes text on stdout as it is (no newline added): for lines redrawn in place. */
  write(text: string): void {
    this.#printed = true;
    writeAll(Deno.stdout, ENCODER.encode(text));
  }

  /** Writes bytes on stdout as they are (raw task output, which may not be UTF-8). */
  writeBytes(bytes: Uint8Array): void {
    this.#printed = true;
    writeAll(Deno.stdout, bytes);
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
    writeAll(Deno.stdout, ENCODER.encode(`${this.#format(value)}\n`));
  }

  /** Prints a log line on stderr (in every output mode, as HyperQueue does). */
  log(level: LogLevel, message: string): void {
    if (level === "DEBUG" && !this.debug) return;
    writeAll(
      Deno.stderr,
      ENCODER.encode(`${formatLogLine(level, message, Date.now(), this.colors)}\n`),
    );
  }

  /** Prints each line with {@link Output.log}. */
  logAll(lines: readonly { level: LogLevel; message: string }[]): void {
    for (const l of lines) this.log(l.level, l.message);
  }

  /** Prints an error the way HyperQueue does: the message on stderr, or `{"error"}` in JSON mode. */
  error(message: string): void {
    if (this.mode === "json") this.json({ error: message });
    else writeAll(Deno.stderr, ENCODER.encode(`${message}\n`));
  }

  /** Prints a usage error (clap's, never JSON) on stderr. */
  usageError(message: string): void {
    writeAll(Deno.stderr, ENCODER.encode(`error: ${message}\n`));
  }

  /** Ends the command: in JSON mode a command that printed nothing prints `{}`. */
  finish(): void {
    if (this.mode === "json" && !this.#printed) this.json({});
  }
}
