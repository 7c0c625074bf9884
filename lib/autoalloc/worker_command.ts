/**
 * The shell line that starts one worker of an allocation, as HyperQueue
 * builds it, and the shell quoting it and the submit scripts use. Pure.
 *
 * @module
 */
import { formatDuration } from "../common/mod.ts";
import type { QueueParams } from "./queue.ts";
import { LINE_BREAK_REGEXP } from "./_directive_text.ts";

const SAFE_WORD_REGEXP = /^[A-Za-z0-9_@%+=:,./-]+$/;
const ENV_NAME_REGEXP = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Quotes a word for a POSIX shell: bare when it holds only
 * `[A-Za-z0-9_@%+=:,./-]`, else in single quotes with each `'` written
 * `'\''`. The empty word is `''`.
 *
 * @example Usage
 * ```ts
 * import { shellQuote } from "./worker_command.ts";
 * import assert from "node:assert/strict";
 * assert.equal(shellQuote("/usr/bin/deno"), "/usr/bin/deno");
 * assert.equal(shellQuote("my dir"), "'my dir'");
 * assert.equal(shellQuote("it's"), "'it'\\''s'");
 * assert.equal(shellQuote(""), "''");
 * ```
 *
 * @param word The word to quote.
 * @returns The word as the shell must read it.
 */
export function shellQuote(word: string): string {
  if (SAFE_WORD_REGEXP.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Double-quotes a value for the shell (`"..."` with `\`, `"`, `$` and backquotes escaped). */
function doubleQuote(value: string): string {
  return `"${value.replace(/[\\"$`]/g, "\\$&")}"`;
}

/** The fields of {@link QueueParams} that shape the worker's command line. */
export type WorkerCommandParams = Pick<
  QueueParams,
  | "manager"
  | "idleTimeoutMs"
  | "workerArgs"
  | "onServerLost"
  | "timeLimitMs"
  | "workerTimeLimitMs"
  | "workerStartCmd"
  | "workerStopCmd"
  | "workerWrapCmd"
>;

/** Options of {@link workerCommand}. */
export interface WorkerCommandOptions {
  /**
   * Words that run this project's worker or `hq` umbrella, e.g.
   * `["/usr/bin/deno", "run", "-A", "/repo/dist/hq-worker.js"]`.
   */
  program: readonly string[];
  /**
   * Words between the program and the worker's options.
   *
   * @default {["start"]} when the program's last word ends with `worker`, `worker.js` or `worker.ts`, else `["worker", "start"]`
   */
  subcommand?: readonly string[];
  /** The server directory the worker reads (`--server-dir`). */
  serverDir: string;
  /**
   * Environment variables set for the worker only, written `NAME=value`
   * before the wrap command (as HyperQueue passes `RUST_LOG`).
   *
   * @default {{}}
   */
  env?: Readonly<Record<string, string>>;
}

function defaultSubcommand(program: readonly string[]): readonly string[] {
  const last = program[program.length - 1] ?? "";
  // The worker role (`worker.ts`, its bundle, a compiled `hq-worker`) takes `start`; `hq` both.
  return /worker(\.[jt]s)?$/.test(last) ? ["start"] : ["worker", "start"];
}

/**
 * The shell line that starts one worker of an allocation, as HyperQueue
 * builds it (reference 5.4):
 *
 * `[start-cmd && ][NAME=value ][wrap-cmd ]<program> <subcommand> --idle-timeout "<dur>"
 * --manager "<slurm|pbs>" --server-dir "<dir>" <worker args> --on-server-lost "<policy>"
 * --time-limit "<dur>"[; stop-cmd]`
 *
 * The time limit is the worker's own, else the queue's; durations are
 * humantime text (`5m`, `1h 30m`) that `parseDuration` reads back. Program
 * words and worker arguments are shell-quoted; the start, stop and wrap
 * commands are shell text and go in as given.
 *
 * @example Usage
 * ```ts
 * import { workerCommand } from "./worker_command.ts";
 * import assert from "node:assert/strict";
 * const params = {
 *   manager: "slurm" as const,
 *   idleTimeoutMs: 300_000,
 *   workerArgs: ["--cpus", "4"],
 *   onServerLost: "finish-running" as const,
 *   timeLimitMs: 3_600_000,
 *   workerTimeLimitMs: null,
 *   workerStartCmd: "module load x",
 *   workerStopCmd: null,
 *   workerWrapCmd: null,
 * };
 * assert.equal(
 *   workerCommand(params, { program: ["/bin/hq"], serverDir: "/home/u/.hq-server/001" }),
 *   'module load x && /bin/hq worker start --idle-timeout "5m" --manager "slurm"' +
 *     ' --server-dir "/home/u/.hq-server/001" --cpus 4 --on-server-lost "finish-running"' +
 *     ' --time-limit "1h"',
 * );
 * ```
 *
 * @param params The queue's parameters (only the worker's fields are read).
 * @param options The program, its subcommand, the server directory and extra environment.
 * @returns One shell line, without a trailing newline.
 * @throws {RangeError} When the program is empty, a word or command holds a line break, or an environment name is not a shell name.
 */
export function workerCommand(params: WorkerCommandParams, options: WorkerCommandOptions): string {
  const { program, serverDir } = options;
  if (program.length === 0) {
    throw new RangeError("Cannot build the worker command: the program is empty");
  }
  const subcommand = options.subcommand ?? defaultSubcommand(program);
  const env = options.env ?? {};
  const texts = [
    ...program,
    ...subcommand,
    serverDir,
    ...params.workerArgs,
    ...Object.values(env),
    params.workerStartCmd ?? "",
    params.workerStopCmd ?? "",
    params.workerWrapCmd ?? "",
  ];
  const broken = texts.find((t) => LINE_BREAK_REGEXP.test(t));
  if (broken !== undefined) {
    throw new RangeError(
      `Cannot build the worker command: ${JSON.stringify(broken)} holds a line break`,
    );
  }
  const parts: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME_REGEXP.test(name)) {
      throw new RangeError(
        `Cannot build the worker command: "${name}" is not a valid environment variable name`,
      );
    }
    parts.push(`${name}=${shellQuote(value)}`);
  }
  if (params.workerWrapCmd !== null && params.workerWrapCmd.trim() !== "") {
    parts.push(params.workerWrapCmd.trim());
  }
  parts.push(...program.map(shellQuote), ...subcommand.map(shellQuote));
  parts.push(
    "--idle-timeout",
    doubleQuote(formatDuration(params.idleTimeoutMs)),
    "--manager",
    doubleQuote(params.manager),
    "--server-dir",
    doubleQuote(serverDir),
    ...params.workerArgs.map(shellQuote),
    "--on-server-lost",
    doubleQuote(params.onServerLost),
    "--time-limit",
    doubleQuote(formatDuration(params.workerTimeLimitMs ?? params.timeLimitMs)),
  );
  let line = parts.join(" ");
  if (params.workerStartCmd !== null && params.workerStartCmd.trim() !== "") {
    line = `${params.workerStartCmd.trim()} && ${line}`;
  }
  if (params.workerStopCmd !== null && params.workerStopCmd.trim() !== "") {
    line = `${line}; ${params.workerStopCmd.trim()}`;
  }
  return line;
}
