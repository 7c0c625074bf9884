/**
 * `#HQ` directives: `hq submit` flags written in the header of a script, and
 * {@link prepareSubmit}, which gathers everything a submit reads (the script's
 * directives, `--each-line`/`--from-json` files, stdin) through an injected
 * reader and builds the job.
 *
 * The header rules are HyperQueue's (`submit/directives.rs`):
 * - only the first 32 KiB of the script is read;
 * - `#HQ <flags>` lines count while only comments (`#...`, a shebang included)
 *   and blank lines come before them; the first other line ends the header;
 * - the flags of all `#HQ` lines are joined, then parsed with the same option
 *   specs as the command line, minus the ones that only make sense there
 *   ({@link NON_DIRECTIVE_OPTIONS});
 * - flags on the command line win over single-value directives; repeatable
 *   flags (`--resource`, `--env`) are merged; `--each-line` and `--from-json`
 *   count as one flag (either on the command line replaces either in the
 *   directives). HyperQueue also takes `--array` with them as one group; here
 *   a command-line `--array` keeps a directive's file, so resubmitting some
 *   tasks with `--array "$(hq job task-ids ...)"` keeps their entries;
 * - a shebang on the first line of a script file becomes the interpreter:
 *   `#!/bin/bash -l` turns `job.sh a` into `/bin/bash -l job.sh a` (not with
 *   `--stdin`).
 *
 * Pure: reading files and stdin goes through {@link SubmitIo}.
 *
 * @module
 */
import { escapeControl, quote } from "../common/mod.ts";
import { type CommandSpec, type OptionSpec, parseCommandLine, UsageError } from "./args.ts";
import { buildSubmit, type BuiltSubmit, type SubmitFlags, submitFlags } from "./submit_args.ts";
import {
  LARGE_INPUT_FILE_BYTES,
  LARGE_INPUT_FILE_WARNING,
  parseEachLine,
  parseJsonEntries,
  type SubmitInputs,
} from "./task_inputs.ts";

/** Where directives are read from (`--directives`). */
export type DirectivesMode = "auto" | "file" | "stdin" | "off";

/** The values of `--directives`; `auto` reads a first command word ending in `.sh`. */
export const DIRECTIVES_MODES: readonly DirectivesMode[] = ["auto", "file", "stdin", "off"];

/** How much of a script is searched for directives (32 KiB). */
export const DIRECTIVES_MAX_BYTES = 32 * 1024;

/** Options of `hq submit` that a directive cannot give (long names). */
export const NON_DIRECTIVE_OPTIONS: readonly string[] = [
  "wait",
  "progress",
  "stdin",
  "directives",
  "job",
  "on-notify",
];

/** The directive part of a script's header, unparsed. */
export interface ScriptHeader {
  /** Text after `#HQ ` of each directive line, trimmed, empty ones left out. */
  directives: string[];
  /** Text after `#!` on the first line, trimmed; null without a shebang. */
  shebang: string | null;
}

/**
 * Finds the `#HQ` lines and the shebang in the first 32 KiB of a script.
 *
 * @example Usage
 * ```ts
 * import { scanScriptHeader } from "./directives.ts";
 * import assert from "node:assert/strict";
 * const script = "#!/bin/bash\n\n# a comment\n#HQ --cpus 2\n  #HQ --name x\nsleep 1\n#HQ --late\n";
 * assert.deepEqual(scanScriptHeader(script), {
 *   directives: ["--cpus 2", "--name x"],
 *   shebang: "/bin/bash",
 * });
 * ```
 */
export function scanScriptHeader(script: Uint8Array | string): ScriptHeader {
  const bytes = typeof script === "string" ? new TextEncoder().encode(script) : script;
  const text = new TextDecoder().decode(bytes.subarray(0, DIRECTIVES_MAX_BYTES));
  const header: ScriptHeader = { directives: [], shebang: null };
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.replace(/\r$/, "").trimStart();
    if (line.startsWith("#HQ ")) {
      const value = line.slice(4).trim();
      if (value !== "") header.directives.push(value);
      continue;
    }
    if (index === 0 && line.startsWith("#!")) header.shebang = line.slice(2).trim();
    if (line !== "" && !line.startsWith("#")) break;
  }
  return header;
}

/**
 * Splits directive text into words as a shell would: blanks separate words; `"..."` groups
 * (a backslash escapes `"` and `\` in it), `'...'` groups literally, a backslash outside
 * quotes escapes the next character, and adjacent parts join (`--cpus="2 compact"`).
 *
 * @example Usage
 * ```ts
 * import { splitDirectiveWords } from "./directives.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(splitDirectiveWords(`--name "my job" --cpus='2 compact'  --env A=a\\ b`), [
 *   "--name",
 *   "my job",
 *   "--cpus=2 compact",
 *   "--env",
 *   "A=a b",
 * ]);
 * assert.throws(() => splitDirectiveWords('--name "x'), SyntaxError);
 * ```
 *
 * @throws {SyntaxError} For an unterminated quote.
 */
export function splitDirectiveWords(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === " " || c === "\t") {
      if (word !== null) words.push(word);
      word = null;
      continue;
    }
    word ??= "";
    if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
    } else if (c === "'" || c === '"') {
      const end = findClosingQuote(text, i);
      if (end < 0) {
        const kind = c === "'" ? "single" : "double";
        throw new SyntaxError(`Cannot split ${quote(text)}: unterminated ${kind} quote`);
      }
      const inner = text.slice(i + 1, end);
      word += c === "'" ? inner : inner.replace(/\\(["\\])/g, "$1");
      i = end;
    } else {
      word += c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** Index of the quote closing the one at `open`, or -1. */
function findClosingQuote(text: string, open: number): number {
  const mark = text[open];
  for (let i = open + 1; i < text.length; i++) {
    if (mark === '"' && text[i] === "\\") i++;
    else if (text[i] === mark) return i;
  }
  return -1;
}

/**
 * Merges directive flags under command-line flags: a single-value flag from the command
 * line wins; `--resource` and `--env` keep both, the directives' first (so a command-line
 * `--env` wins a duplicate key); `--task-dir` is on if either has it; `--each-line` and
 * `--from-json` come both from the command line when it has either.
 *
 * @example Usage
 * ```ts
 * import { mergeDirectiveFlags } from "./directives.ts";
 * import assert from "node:assert/strict";
 * const merged = mergeDirectiveFlags(
 *   { cpus: "4", env: ["A=cli"], fromJson: "in.json" },
 *   { cpus: "2", name: "from-script", env: ["B=x"], eachLine: "in.txt", array: "1-3" },
 * );
 * assert.deepEqual(merged, {
 *   cpus: "4",
 *   name: "from-script",
 *   array: "1-3",
 *   fromJson: "in.json",
 *   env: ["B=x", "A=cli"],
 *   resource: [],
 * });
 * ```
 */
export function mergeDirectiveFlags(cli: SubmitFlags, directives: SubmitFlags): SubmitFlags {
  const merged: SubmitFlags = { ...directives, ...cli };
  merged.resource = [...(directives.resource ?? []), ...(cli.resource ?? [])];
  merged.env = [...(directives.env ?? []), ...(cli.env ?? [])];
  if (cli.taskDir || directives.taskDir) merged.taskDir = true;
  // The two files exclude each other: one on the command line replaces either in a directive.
  const files = cli.eachLine !== undefined || cli.fromJson !== undefined ? cli : directives;
  for (const key of ["eachLine", "fromJson"] as const) {
    delete merged[key];
    if (files[key] !== undefined) merged[key] = files[key];
  }
  return merged;
}

/** Options of {@link applyDirectives}. */
export interface ApplyDirectivesOptions {
  /** Options of `hq submit` (its `SUBMIT_OPTIONS`); the directive parser uses them. */
  readonly optionSpecs: readonly OptionSpec[];
  /** The script's path, named in errors, whose shebang counts; absent for stdin. */
  readonly file?: string;
}

/** What a script's directives make of the command line's flags. */
export interface AppliedDirectives {
  /** The command line's flags merged with the directives' ({@link mergeDirectiveFlags}). */
  flags: SubmitFlags;
  /** Interpreter words of the script file's shebang, to go before the command; else null. */
  shebang: string[] | null;
}

/** Parses directive words with the specs a directive may use; defaults do not apply. */
function parseDirectiveWords(words: string[], specs: readonly OptionSpec[]): SubmitFlags {
  const options = specs.filter((o) => !NON_DIRECTIVE_OPTIONS.includes(o.long)).map((o) => {
    const { default: _default, env: _env, ...rest } = o;
    return rest;
  });
  const root: CommandSpec = { name: "#HQ", about: "", options };
  const outcome = parseCommandLine(root, words, { globals: [] });
  if (outcome.kind !== "run") {
    const token = words.find((w) => w === "-h" || w === "--help") ?? "--help";
    throw new UsageError(`unexpected argument '${token}' found`);
  }
  return submitFlags(outcome.parsed);
}

/**
 * Parses the directives of a script (its bytes or text) and merges them with the command
 * line's flags.
 *
 * @example Usage
 * ```ts
 * import { applyDirectives } from "./directives.ts";
 * import assert from "node:assert/strict";
 * const optionSpecs = [
 *   { long: "cpus", value: "CPUS", help: "" },
 *   { long: "name", value: "NAME", help: "" },
 *   { long: "wait", help: "" },
 * ];
 * const script = '#!/bin/bash -l\n#HQ --cpus 2 --name "long job"\nsleep 100\n';
 * const { flags, shebang } = applyDirectives({ cpus: "4" }, script, {
 *   optionSpecs,
 *   file: "job.sh",
 * });
 * assert.deepEqual(flags, { cpus: "4", name: "long job", resource: [], env: [] });
 * assert.deepEqual(shebang, ["/bin/bash", "-l"]);
 * assert.throws(() => applyDirectives({}, "#HQ --wait\n", { optionSpecs, file: "job.sh" }), {
 *   message: `Could not parse directives from "job.sh": unexpected argument '--wait' found`,
 * });
 * ```
 *
 * @throws {UsageError} For a directive the parser refuses, an unterminated quote or a bad
 * shebang line; one line naming the script (or stdin) and what is wrong.
 */
export function applyDirectives(
  cli: SubmitFlags,
  script: Uint8Array | string,
  options: ApplyDirectivesOptions,
): AppliedDirectives {
  const header = scanScriptHeader(script);
  const source = options.file === undefined ? "stdin" : quote(options.file);
  try {
    let shebang: string[] | null = null;
    if (options.file !== undefined && header.shebang !== null) {
      try {
        shebang = splitDirectiveWords(header.shebang);
      } catch (e) {
        throw new SyntaxError(`Cannot parse shebang line: ${(e as Error).message}`);
      }
    }
    const words = header.directives.flatMap(splitDirectiveWords);
    const flags = mergeDirectiveFlags(cli, parseDirectiveWords(words, options.optionSpecs));
    return { flags, shebang };
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw new UsageError(
      `Could not parse directives from ${source}: ${escapeControl(e.message)}`,
    );
  }
}

/** The reads a submit needs, injected (the client passes Deno's). */
export interface SubmitIo {
  /** Reads a file (relative paths from the submit directory), only its first `maxBytes` if given. */
  readFile(path: string, maxBytes?: number): Promise<Uint8Array>;
  /** Reads stdin to its end. */
  readStdin(): Promise<Uint8Array>;
}

/** Options of {@link prepareSubmit}. */
export interface PrepareSubmitOptions {
  /** The client's working directory: `%{SUBMIT_DIR}`. */
  readonly submitDir: string;
  /** Reads files and stdin. */
  readonly io: SubmitIo;
  /** Options of `hq submit` (its `SUBMIT_OPTIONS`), to parse directives with. */
  readonly optionSpecs: readonly OptionSpec[];
}

async function read(io: SubmitIo, path: string, what: string, maxBytes?: number) {
  try {
    return await io.readFile(path, maxBytes);
  } catch (e) {
    throw new Error(`${what} ${quote(path)}: ${escapeControl((e as Error).message)}`, {
      cause: e,
    });
  }
}

/**
 * Does all of `hq submit` before talking to the server: reads stdin (`--stdin`), applies
 * the directives `--directives` asks for, reads the `--each-line`/`--from-json` file, and
 * builds the job with `buildSubmit`. Warnings: an input file over 100 MB, then
 * `buildSubmit`'s.
 *
 * @example Usage
 * ```ts
 * import { prepareSubmit } from "./directives.ts";
 * import assert from "node:assert/strict";
 * const files = new Map([
 *   ["job.sh", "#!/bin/sh\n#HQ --each-line inputs.txt\nprocess $HQ_ENTRY\n"],
 *   ["inputs.txt", "a\nb\n"],
 * ]);
 * const io = {
 *   readFile: (path: string) => Promise.resolve(new TextEncoder().encode(files.get(path)!)),
 *   readStdin: () => Promise.resolve(new Uint8Array()),
 * };
 * const optionSpecs = [{ long: "each-line", value: "EACH_LINE", help: "" }];
 * const { job } = await prepareSubmit({}, ["job.sh"], { submitDir: "/home/u", io, optionSpecs });
 * assert.deepEqual(job.template.program.args, ["/bin/sh", "job.sh"]);
 * assert.deepEqual(job.entries, ["a", "b"]);
 * ```
 *
 * @throws {UsageError} For bad flags or directives, `--directives stdin` without `--stdin`,
 * or an input file `buildSubmit` cannot use.
 * @throws {Error} When a file cannot be read; the message names it.
 */
export async function prepareSubmit(
  flags: SubmitFlags,
  command: readonly string[],
  options: PrepareSubmitOptions,
): Promise<BuiltSubmit> {
  const { io, optionSpecs } = options;
  const mode = (flags.directives ?? "auto") as DirectivesMode;
  if (!DIRECTIVES_MODES.includes(mode)) {
    throw new UsageError(
      `invalid value ${quote(mode, "'")} for '--directives <DIRECTIVES>' ` +
        `[possible values: ${DIRECTIVES_MODES.join(", ")}]`,
    );
  }
  if (mode === "stdin" && !flags.stdin) {
    throw new UsageError("You have to use `--stdin` when you specify `--directives=stdin`.");
  }
  const first = command[0];
  if (first === undefined) throw new UsageError("Cannot submit: no command given");
  const stdin = flags.stdin ? await io.readStdin() : undefined;
  let script: Uint8Array | undefined;
  if (mode === "file" || (mode === "auto" && first.endsWith(".sh"))) {
    script = await read(io, first, "Could not parse directives from", DIRECTIVES_MAX_BYTES);
  } else if (mode === "stdin") {
    script = stdin;
  }
  let args = [...command];
  let merged = flags;
  if (script !== undefined) {
    const applied = applyDirectives(
      flags,
      script,
      mode === "stdin" ? { optionSpecs } : { optionSpecs, file: first },
    );
    merged = applied.flags;
    if (applied.shebang !== null && stdin === undefined) args = [...applied.shebang, ...args];
  }
  const warnings: string[] = [];
  const inputs: { -readonly [K in keyof SubmitInputs]: SubmitInputs[K] } = {};
  if (stdin !== undefined) inputs.stdin = new TextDecoder().decode(stdin);
  const path = merged.eachLine ?? merged.fromJson;
  if (path !== undefined) {
    const flag = merged.eachLine !== undefined ? "--each-line" : "--from-json";
    const data = await read(io, path, `Cannot read the ${flag} file`);
    if (data.length > LARGE_INPUT_FILE_BYTES) warnings.push(LARGE_INPUT_FILE_WARNING);
    inputs.entries = merged.eachLine !== undefined
      ? parseEachLine(data)
      : parseJsonEntries(new TextDecoder().decode(data), path);
  }
  const built = buildSubmit(merged, args, options.submitDir, inputs);
  return { job: built.job, warnings: [...warnings, ...built.warnings] };
}
