/**
 * The command-line grammar of `hq`, as HyperQueue's clap definitions have it:
 * a tree of commands, options in `--opt value`, `--opt=value` and `-o value`
 * forms, global options accepted before, between and after subcommands (the
 * deepest occurrence wins), `--` as the end of options, and trailing
 * arguments (`hq submit <command>...`) that take everything after the first
 * bare word literally.
 *
 * The help texts are in `help_text.ts`, the accessors of parsed values in
 * `parsed_values.ts`.
 *
 * Pure: no I/O. The parser is written here rather than taken from a package
 * because loading one costs more than the whole client command should
 * (see README, "start-up").
 *
 * @module
 */
import { escapeControl, quote } from "../common/mod.ts";
import { isOptionToken } from "./globals.ts";
import { argLabel, HELP, helpText } from "./help_text.ts";

/** One option of a command. */
export interface OptionSpec {
  /** Long name without dashes, e.g. `server-dir`. */
  readonly long: string;
  /** One-letter short name, e.g. `v`. */
  readonly short?: string;
  /** Value name shown in help and errors (`SERVER_DIR`); absent for a flag. */
  readonly value?: string;
  /** Whether the option may repeat (its values are collected in order). */
  readonly multiple?: boolean;
  /** A flag counted each time it appears (`-vv`). */
  readonly count?: boolean;
  /** Allowed values. */
  readonly choices?: readonly string[];
  /** Environment variable read when the option is absent. */
  readonly env?: string;
  /** Default value text, applied when neither the option nor its env variable is given. */
  readonly default?: string;
  /** Long names of options this one cannot be used with. */
  readonly conflicts?: readonly string[];
  /** Validates the value; a throw becomes `invalid value '<v>' for '<opt>': <message>`. */
  readonly check?: (value: string) => void;
  readonly help: string;
  /** Left out of the help listing. */
  readonly hidden?: boolean;
}

/** One positional argument of a command. */
export interface ArgSpec {
  /** Name shown in help and errors (`SELECTOR`). */
  readonly name: string;
  /** Whether it must be given. */
  readonly required?: boolean;
  /** Takes every remaining word from its first one on, options included (`hq submit`). */
  readonly trailing?: boolean;
  /** A trailing argument that may also start with an option this command does not know. */
  readonly hyphenValues?: boolean;
  /** Validates the value; a throw becomes `invalid value '<v>' for '<NAME>': <message>`. */
  readonly check?: (value: string) => void;
  readonly help: string;
}

/** What a leaf command receives. */
export interface Parsed {
  /** Command names from the root, e.g. `["hq", "job", "list"]`. */
  readonly path: readonly string[];
  /** Option values by long name (the last level that gave a global wins). */
  readonly options: ReadonlyMap<string, OptionValue>;
  /** Positional values by name; a trailing argument holds every word it took. */
  readonly args: ReadonlyMap<string, string | string[]>;
}

/** Value of a parsed option: text, texts of a repeated option, a flag, or a count. */
export type OptionValue = string | string[] | boolean | number;

/** A command of the tree; a leaf has `run`, an inner node `subcommands`. */
export interface CommandSpec<TRun = unknown> {
  /** Name as typed. */
  readonly name: string;
  /** One-line description, shown in help. */
  readonly about: string;
  /** Options of this command (globals come separately). */
  readonly options?: readonly OptionSpec[];
  /** Positional arguments, in order. */
  readonly args?: readonly ArgSpec[];
  readonly subcommands?: readonly CommandSpec<TRun>[];
  /** What runs it (leaves only); the parser hands it back untouched. */
  readonly run?: TRun;
}

/**
 * Bad command-line input; printed as one line, exit code 2 (clap's usage error code).
 *
 * @example Usage
 * ```ts
 * import { parseCommandLine, UsageError } from "./args.ts";
 * import assert from "node:assert/strict";
 * const root = { name: "hq", about: "", subcommands: [{ name: "job", about: "" }] };
 * assert.throws(() => parseCommandLine(root, ["jbo"], { globals: [] }), {
 *   name: "UsageError",
 *   message: "unrecognized subcommand 'jbo'",
 * });
 * ```
 */
export class UsageError extends SyntaxError {
  /** Exit code of a usage error. */
  readonly exitCode = 2;
  /** `message` is clap's wording, without the `error: ` prefix. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The outcome of parsing: a command to run, or help or version text to print. */
export type ParseOutcome<TRun> =
  | { readonly kind: "run"; readonly command: CommandSpec<TRun>; readonly parsed: Parsed }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "version" };

/** Options of {@link parseCommandLine}. */
export interface ParseOptions {
  /** Options every command accepts, at any level. */
  readonly globals: readonly OptionSpec[];
  /** Environment lookup for options with `env`. @default none */
  readonly env?: (name: string) => string | undefined;
  /** Whether the root accepts `-V`/`--version`. @default false */
  readonly version?: boolean;
}

/**
 * Shows an option the way clap names it in errors: `--name <NAME>` or `--flag`.
 *
 * @example Usage
 * ```ts
 * import { optionLabel } from "./args.ts";
 * import assert from "node:assert/strict";
 * assert.equal(optionLabel({ long: "cpus", value: "CPUS", help: "" }), "--cpus <CPUS>");
 * assert.equal(optionLabel({ long: "wait", help: "" }), "--wait");
 * ```
 */
export function optionLabel(o: OptionSpec): string {
  const dash = o.long === "" ? `-${o.short}` : `--${o.long}`;
  return o.value === undefined ? dash : `${dash} <${o.value}>`;
}

function checkValue(label: string, value: string, spec: OptionSpec | ArgSpec): void {
  if ("choices" in spec && spec.choices && !spec.choices.includes(value)) {
    throw new UsageError(
      `invalid value ${quote(value, "'")} for '${label}' [possible values: ${
        spec.choices.join(", ")
      }]`,
    );
  }
  if (!spec.check) return;
  try {
    spec.check(value);
  } catch (e) {
    // One line: the check's message may quote the value as typed.
    const message = escapeControl(e instanceof Error ? e.message : String(e));
    throw new UsageError(`invalid value ${quote(value, "'")} for '${label}': ${message}`);
  }
}

/** Option values seen at one level of the command path. */
class Level {
  readonly values = new Map<string, OptionValue>();

  constructor(readonly specs: readonly OptionSpec[]) {}

  find(token: string): OptionSpec | undefined {
    if (token.startsWith("--")) return this.specs.find((o) => o.long === token.slice(2));
    return this.specs.find((o) => o.short === token.slice(1));
  }

  set(spec: OptionSpec, value: string | undefined): void {
    const label = optionLabel(spec);
    if (spec.value === undefined) {
      if (value !== undefined) {
        throw new UsageError(
          `unexpected value ${quote(value, "'")} for '${label}' found; no more were expected`,
        );
      }
      if (spec.count) {
        this.values.set(spec.long, ((this.values.get(spec.long) as number | undefined) ?? 0) + 1);
        return;
      }
      if (this.values.has(spec.long)) {
        throw new UsageError(`the argument '${label}' cannot be used multiple times`);
      }
      this.values.set(spec.long, true);
      return;
    }
    if (value === undefined) {
      throw new UsageError(`a value is required for '${label}' but none was supplied`);
    }
    checkValue(label, value, spec);
    if (spec.multiple) {
      const list = (this.values.get(spec.long) as string[] | undefined) ?? [];
      list.push(value);
      this.values.set(spec.long, list);
      return;
    }
    if (this.values.has(spec.long)) {
      throw new UsageError(`the argument '${label}' cannot be used multiple times`);
    }
    this.values.set(spec.long, value);
  }
}

const VERSION: OptionSpec = { long: "version", short: "V", help: "Print version" };

/**
 * Reads an option token at `argv[i]` for `level`; returns how many words it used.
 * Returns 0 when the token is `--help`/`-h` (the caller prints help).
 */
function readOption(argv: readonly string[], i: number, level: Level): number {
  const token = argv[i]!;
  let name = token;
  let inline: string | undefined;
  if (token.startsWith("--")) {
    const eq = token.indexOf("=");
    if (eq >= 0) {
      name = token.slice(0, eq);
      inline = token.slice(eq + 1);
    }
  } else if (token.length > 2) {
    // -t1h, -t=1h, -vv
    name = token.slice(0, 2);
    const rest = token.slice(2);
    const spec = level.find(name);
    if (spec?.count && /^[a-zA-Z]+$/.test(rest) && [...rest].every((c) => c === spec.short)) {
      for (let k = 0; k <= rest.length; k++) level.set(spec, undefined);
      return 1;
    }
    inline = rest.startsWith("=") ? rest.slice(1) : rest;
  }
  const spec = level.find(name);
  if (!spec) throw new UsageError(`unexpected argument ${quote(name, "'")} found`);
  if (spec === HELP) return 0;
  if (spec.value === undefined || inline !== undefined) {
    level.set(spec, inline);
    return 1;
  }
  const next = argv[i + 1];
  // A following option is not a value (clap), but a negative number is.
  level.set(spec, next === undefined || isOptionToken(next) ? undefined : next);
  return 2;
}

/**
 * Parses `argv` against a command tree.
 *
 * @example Usage
 * ```ts
 * import { parseCommandLine } from "./args.ts";
 * import { argList, optList, optString } from "./parsed_values.ts";
 * import assert from "node:assert/strict";
 * const submit = {
 *   name: "submit",
 *   about: "Submit a job",
 *   options: [
 *     { long: "cpus", value: "CPUS", help: "Cpus per task" },
 *     { long: "env", value: "ENV", multiple: true, help: "Environment" },
 *   ],
 *   args: [{ name: "COMMANDS", required: true, trailing: true, help: "Command" }],
 * };
 * const root = { name: "hq", about: "HyperQueue", subcommands: [submit] };
 * const globals = [{ long: "output-mode", value: "MODE", default: "cli", help: "Format" }];
 * const argv = ["submit", "--cpus=2", "--env", "A=1", "--output-mode", "json", "ls", "-l"];
 * const outcome = parseCommandLine(root, argv, { globals });
 * assert.equal(outcome.kind, "run");
 * if (outcome.kind === "run") {
 *   const p = outcome.parsed;
 *   assert.deepEqual(p.path, ["hq", "submit"]);
 *   assert.equal(optString(p, "cpus"), "2");
 *   assert.deepEqual(optList(p, "env"), ["A=1"]);
 *   assert.equal(optString(p, "output-mode"), "json"); // a global after the subcommand
 *   assert.deepEqual(argList(p, "COMMANDS"), ["ls", "-l"]); // taken literally
 * }
 * assert.equal(parseCommandLine(root, ["--help"], { globals }).kind, "help");
 * ```
 *
 * @throws {UsageError} For any input the grammar does not accept, with clap's wording.
 */
export function parseCommandLine<TRun>(
  root: CommandSpec<TRun>,
  argv: readonly string[],
  options: ParseOptions,
): ParseOutcome<TRun> {
  const levels: Level[] = [];
  const path: string[] = [root.name];
  let node = root;
  let i = 0;
  const levelSpecs = (cmd: CommandSpec<TRun>, top: boolean) => [
    ...options.globals,
    ...(cmd.options ?? []),
    HELP,
    ...(top && options.version ? [VERSION] : []),
  ];
  let level = new Level(levelSpecs(root, true));
  levels.push(level);

  // Inner nodes: only options, then a subcommand name.
  while (node.subcommands && node.subcommands.length > 0) {
    const token = argv[i];
    if (token === undefined) {
      throw new UsageError(
        `'${path.join(" ")}' requires a subcommand but one was not provided [subcommands: ${
          node.subcommands.map((c) => c.name).join(", ")
        }]`,
      );
    }
    if (isOptionToken(token) && token !== "--") {
      const used = readOption(argv, i, level);
      if (used === 0) return { kind: "help", text: helpText(node, path, options.globals) };
      if (level.values.has("version")) return { kind: "version" };
      i += used;
      continue;
    }
    const sub = node.subcommands.find((c) => c.name === token);
    if (!sub) throw new UsageError(`unrecognized subcommand ${quote(token, "'")}`);
    node = sub;
    path.push(sub.name);
    level = new Level(levelSpecs(sub, false));
    levels.push(level);
    i++;
  }

  // The leaf: options and positionals, interleaved until a trailing argument starts.
  const specs = node.args ?? [];
  const args = new Map<string, string | string[]>();
  let argIndex = 0;
  let afterDashDash = false;
  const positional = (word: string, from: number): boolean => {
    const spec = specs[argIndex];
    if (!spec) throw new UsageError(`unexpected argument ${quote(word, "'")} found`);
    if (spec.trailing) {
      const rest = argv.slice(from);
      if (rest[0] !== undefined) checkValue(argLabel(spec), rest[0], spec);
      args.set(spec.name, [...rest]);
      argIndex++;
      return true;
    }
    checkValue(argLabel(spec), word, spec);
    args.set(spec.name, word);
    argIndex++;
    return false;
  };
  while (i < argv.length) {
    const token = argv[i]!;
    if (!afterDashDash && token === "--") {
      afterDashDash = true;
      i++;
      continue;
    }
    if (!afterDashDash && isOptionToken(token)) {
      const pending = specs[argIndex];
      if (pending?.trailing && pending.hyphenValues && !level.find(token.split("=")[0]!)) {
        positional(token, i);
        break;
      }
      const used = readOption(argv, i, level);
      if (used === 0) return { kind: "help", text: helpText(node, path, options.globals) };
      i += used;
      continue;
    }
    if (positional(token, i)) break;
    i++;
  }
  const missing = specs.slice(argIndex).filter((a) => a.required);
  if (missing.length > 0) {
    throw new UsageError(
      `the following required arguments were not provided: ${missing.map(argLabel).join(" ")}`,
    );
  }

  // Deepest level wins for globals; then env and defaults.
  const values = new Map<string, OptionValue>();
  for (const l of levels) for (const [k, v] of l.values) values.set(k, v);
  for (const spec of [...options.globals, ...(node.options ?? [])]) {
    if (values.has(spec.long)) continue;
    const fromEnv = spec.env === undefined ? undefined : options.env?.(spec.env);
    if (fromEnv !== undefined && fromEnv !== "") {
      if (spec.value === undefined) values.set(spec.long, !/^(0|false|no|off)$/i.test(fromEnv));
      else {
        checkValue(`${optionLabel(spec)}`, fromEnv, spec);
        values.set(spec.long, spec.multiple ? [fromEnv] : fromEnv);
      }
    } else if (spec.default !== undefined) {
      values.set(spec.long, spec.multiple ? [spec.default] : spec.default);
    }
  }
  for (const spec of node.options ?? []) {
    if (!level.values.has(spec.long)) continue;
    for (const other of spec.conflicts ?? []) {
      const o = (node.options ?? []).find((x) => x.long === other);
      if (o && level.values.has(other)) {
        throw new UsageError(
          `the argument '${optionLabel(spec)}' cannot be used with '${optionLabel(o)}'`,
        );
      }
    }
  }
  return { kind: "run", command: node, parsed: { path, options: values, args } };
}
