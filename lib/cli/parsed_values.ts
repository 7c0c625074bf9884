/**
 * The values of a parsed command line (`parseCommandLine` in `args.ts`), by
 * option or argument name, as the commands read them. Pure.
 *
 * @module
 */
import type { Parsed } from "./args.ts";

/**
 * The text of a string option, or undefined (also for a flag or a repeated option).
 * See `parseCommandLine` for an example.
 */
export function optString(p: Parsed, long: string): string | undefined {
  const v = p.options.get(long);
  return typeof v === "string" ? v : undefined;
}

/**
 * Whether a flag was given (or enabled by its env variable); a counted flag counts once given.
 *
 * @example Usage
 * ```ts
 * import { parseCommandLine } from "./args.ts";
 * import { optFlag } from "./parsed_values.ts";
 * import assert from "node:assert/strict";
 * const root = { name: "hq", about: "", options: [{ long: "wait", help: "" }] };
 * const run = (argv: string[]) => {
 *   const outcome = parseCommandLine(root, argv, { globals: [] });
 *   return outcome.kind === "run" && optFlag(outcome.parsed, "wait");
 * };
 * assert.equal(run(["--wait"]), true);
 * assert.equal(run([]), false);
 * ```
 */
export function optFlag(p: Parsed, long: string): boolean {
  const v = p.options.get(long);
  return v === true || (typeof v === "number" && v > 0);
}

/**
 * The values of a repeatable option, in order (empty when absent). See `parseCommandLine`
 * for an example.
 */
export function optList(p: Parsed, long: string): string[] {
  const v = p.options.get(long);
  if (Array.isArray(v)) return v;
  return typeof v === "string" ? [v] : [];
}

/**
 * How many times a counted flag was given.
 *
 * @example Usage
 * ```ts
 * import { parseCommandLine } from "./args.ts";
 * import { optCount } from "./parsed_values.ts";
 * import assert from "node:assert/strict";
 * const verbose = { long: "verbose", short: "v", count: true, help: "" };
 * const root = { name: "hq", about: "", options: [verbose] };
 * const outcome = parseCommandLine(root, ["-vv", "--verbose"], { globals: [] });
 * assert.equal(outcome.kind === "run" ? optCount(outcome.parsed, "verbose") : 0, 3);
 * ```
 */
export function optCount(p: Parsed, long: string): number {
  const v = p.options.get(long);
  return typeof v === "number" ? v : v === true ? 1 : 0;
}

/**
 * A single positional value, or undefined when it was not given.
 *
 * @example Usage
 * ```ts
 * import { parseCommandLine } from "./args.ts";
 * import { argString } from "./parsed_values.ts";
 * import assert from "node:assert/strict";
 * const root = { name: "hq", about: "", args: [{ name: "SELECTOR", help: "" }] };
 * const outcome = parseCommandLine(root, ["last"], { globals: [] });
 * assert.equal(outcome.kind === "run" ? argString(outcome.parsed, "SELECTOR") : undefined, "last");
 * ```
 */
export function argString(p: Parsed, name: string): string | undefined {
  const v = p.args.get(name);
  return typeof v === "string" ? v : undefined;
}

/**
 * The words of a trailing positional (empty when absent). See `parseCommandLine` for an
 * example.
 */
export function argList(p: Parsed, name: string): string[] {
  const v = p.args.get(name);
  if (Array.isArray(v)) return v;
  return typeof v === "string" ? [v] : [];
}
