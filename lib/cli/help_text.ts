/**
 * The help of `hq` commands as clap prints it: the usage line, and the help
 * text with the command's subcommands or arguments, its options and the
 * global options. Pure.
 *
 * @module
 */
import type { ArgSpec, CommandSpec, OptionSpec } from "./args.ts";

/** The `-h, --help` option every command has. */
export const HELP: OptionSpec = { long: "help", short: "h", help: "Print help" };

/**
 * How an argument is named in usage lines and errors: `<NAME>`, or `<NAME>...` when trailing.
 *
 * @example Usage
 * ```ts
 * import { argLabel } from "./help_text.ts";
 * import assert from "node:assert/strict";
 * assert.equal(argLabel({ name: "JOB", help: "" }), "<JOB>");
 * assert.equal(argLabel({ name: "COMMANDS", trailing: true, help: "" }), "<COMMANDS>...");
 * ```
 */
export function argLabel(a: ArgSpec): string {
  return a.trailing ? `<${a.name}>...` : `<${a.name}>`;
}

/**
 * Usage line of a command, e.g. `hq submit [OPTIONS] <COMMANDS>...`.
 *
 * @example Usage
 * ```ts
 * import { usageLine } from "./help_text.ts";
 * import assert from "node:assert/strict";
 * const wait = { name: "wait", about: "", args: [{ name: "SELECTOR", required: true, help: "" }] };
 * assert.equal(usageLine(wait, ["hq", "job", "wait"]), "Usage: hq job wait [OPTIONS] <SELECTOR>");
 * ```
 */
export function usageLine(cmd: CommandSpec<unknown>, path: readonly string[]): string {
  const parts = [...path];
  if (cmd.subcommands && cmd.subcommands.length > 0) parts.push("[OPTIONS] <COMMAND>");
  else {
    parts.push("[OPTIONS]");
    for (const a of cmd.args ?? []) parts.push(a.required ? argLabel(a) : `[${a.name}]`);
  }
  return `Usage: ${parts.join(" ")}`;
}

function optionLine(o: OptionSpec): string {
  const names = [o.short ? `-${o.short}` : "  ", `--${o.long}`];
  const left = `${o.short ? names.join(", ") : `    ${names[1]}`}${
    o.value === undefined ? "" : ` <${o.value}>`
  }`;
  const extra: string[] = [];
  if (o.env) extra.push(`[env: ${o.env}=]`);
  if (o.default !== undefined) extra.push(`[default: ${o.default}]`);
  if (o.choices) extra.push(`[possible values: ${o.choices.join(", ")}]`);
  return `  ${left.padEnd(34)} ${[o.help, ...extra].join(" ")}`;
}

/**
 * Help text of a command: about line, usage, subcommands or arguments, options, global options.
 *
 * @example Usage
 * ```ts
 * import { helpText } from "./help_text.ts";
 * import assert from "node:assert/strict";
 * const list = { name: "list", about: "List jobs" };
 * const job = { name: "job", about: "Manage jobs", subcommands: [list] };
 * const text = helpText(job, ["hq", "job"], []);
 * assert.equal(text.split("\n")[0], "Manage jobs");
 * assert.ok(text.includes("  list                 List jobs"));
 * ```
 */
export function helpText(
  cmd: CommandSpec<unknown>,
  path: readonly string[],
  globals: readonly OptionSpec[],
): string {
  const lines = [cmd.about, "", usageLine(cmd, path)];
  if (cmd.subcommands && cmd.subcommands.length > 0) {
    lines.push("", "Commands:");
    for (const c of cmd.subcommands) lines.push(`  ${c.name.padEnd(20)} ${c.about}`);
  }
  if (cmd.args && cmd.args.length > 0) {
    lines.push("", "Arguments:");
    for (const a of cmd.args) lines.push(`  ${argLabel(a).padEnd(34)} ${a.help}`);
  }
  const own = (cmd.options ?? []).filter((o) => !o.hidden);
  lines.push("", "Options:");
  for (const o of own) lines.push(optionLine(o));
  lines.push(optionLine(HELP));
  lines.push("", "Global options:");
  for (const o of globals) lines.push(optionLine(o));
  return lines.join("\n");
}
