/**
 * The values of `hq submit` options (and of job files' same keys), parsed
 * and checked one by one: output paths, weight, crash limit, node count,
 * max fails and job name. Pure.
 *
 * @module
 */
import type { CrashLimit, StdioSpec } from "../protocol/mod.ts";
import { quote } from "../common/mod.ts";
import { parseAmount } from "../resources/mod.ts";
import { UsageError } from "./args.ts";
import type { SubmitFlags } from "./submit_args.ts";

/**
 * Parses `--stdout`/`--stderr` values: `none`, `path`, `path:rm-if-finished`, `:rm-if-finished`;
 * `fallback` is the default path template, used when the value is absent or has no path.
 *
 * @example Usage
 * ```ts
 * import { parseStdio } from "./submit_values.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseStdio("none", "x"), null);
 * assert.deepEqual(parseStdio(":rm-if-finished", "default.out"), {
 *   path: "default.out",
 *   rmIfFinished: true,
 * });
 * assert.deepEqual(parseStdio(undefined, "default.out"), {
 *   path: "default.out",
 *   rmIfFinished: false,
 * });
 * ```
 *
 * @throws {UsageError} For an empty path.
 */
export function parseStdio(text: string | undefined, fallback: string): StdioSpec {
  if (text === undefined) return { path: fallback, rmIfFinished: false };
  if (text === "none") return null;
  const suffix = ":rm-if-finished";
  if (text.endsWith(suffix)) {
    const path = text.slice(0, -suffix.length);
    return { path: path === "" ? fallback : path, rmIfFinished: true };
  }
  if (text === "") throw new UsageError('Invalid value "" for --stdout/--stderr: empty path');
  return { path: text, rmIfFinished: false };
}

/**
 * Parses `--weight` (a number > 0, at most 4 decimal places) into fixed point.
 *
 * @example Usage
 * ```ts
 * import { parseWeight } from "./submit_values.ts";
 * import { UsageError } from "./args.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseWeight("2.5"), 25000);
 * assert.throws(() => parseWeight("0"), UsageError);
 * ```
 *
 * @throws {UsageError} When the text is not such a number.
 * @throws {RangeError} When the weight is too large for a fixed-point amount.
 */
export function parseWeight(text: string): number {
  if (!/^\d+(\.\d{1,4})?$/.test(text) || Number(text) <= 0) {
    throw new UsageError(
      `Invalid value ${
        quote(text)
      } for --weight: expected a number > 0 with at most 4 decimal places`,
    );
  }
  return parseAmount(text);
}

/**
 * Parses `--crash-limit`: a positive integer, `never-restart` or `unlimited`; 5 when absent.
 *
 * @example Usage
 * ```ts
 * import { parseCrashLimit } from "./submit_values.ts";
 * import { UsageError } from "./args.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseCrashLimit(undefined), 5);
 * assert.equal(parseCrashLimit("unlimited"), "unlimited");
 * assert.throws(() => parseCrashLimit("0"), UsageError);
 * ```
 *
 * @throws {UsageError} For any other text.
 */
export function parseCrashLimit(text: string | undefined): CrashLimit {
  if (text === undefined) return 5;
  if (text === "never-restart" || text === "unlimited") return text;
  if (!/^\d+$/.test(text) || Number(text) === 0 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(
      `Invalid value ${
        quote(text)
      } for --crash-limit: expected a positive integer, "never-restart" or "unlimited"`,
    );
  }
  return Number(text);
}

/**
 * Parses `--nodes` (default 0: single node) and rejects the flags it conflicts with.
 *
 * @example Usage
 * ```ts
 * import { parseNodes } from "./submit_values.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseNodes({ nodes: "2" }), 2);
 * assert.equal(parseNodes({}), 0);
 * assert.throws(() => parseNodes({ nodes: "2", cpus: "4" }), {
 *   message: "Cannot use --nodes with --cpus: a multi-node task takes whole workers",
 * });
 * ```
 *
 * @throws {UsageError} For a bad number, or `--cpus`, `--resource` or `--pin` with N > 0.
 */
export function parseNodes(flags: SubmitFlags): number {
  if (flags.nodes === undefined) return 0;
  if (!/^\d+$/.test(flags.nodes) || !Number.isSafeInteger(Number(flags.nodes))) {
    throw new UsageError(
      `Invalid value ${quote(flags.nodes)} for --nodes: expected an integer >= 0`,
    );
  }
  const n = Number(flags.nodes);
  if (n === 0) return 0;
  const conflicts: [string, boolean][] = [
    ["--cpus", flags.cpus !== undefined],
    ["--resource", (flags.resource ?? []).length > 0],
    ["--pin", flags.pin !== undefined],
  ];
  for (const [flag, given] of conflicts) {
    if (given) {
      throw new UsageError(
        `Cannot use --nodes with ${flag}: a multi-node task takes whole workers`,
      );
    }
  }
  return n;
}

/**
 * `--max-fails`: an integer >= 0, or null when not given.
 *
 * @throws {UsageError} For anything else.
 */
export function parseMaxFails(text: string | undefined): number | null {
  if (text === undefined) return null;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`Invalid value ${quote(text)} for --max-fails: expected an integer >= 0`);
  }
  return Number(text);
}

/**
 * A job name (`--name`), checked: not empty, no newline or tab.
 *
 * @throws {UsageError} For a name that is not.
 */
export function checkJobName(name: string): string {
  if (name === "" || /[\n\t]/.test(name)) {
    throw new UsageError(`Invalid value ${quote(name)} for --name: no newlines or tabs allowed`);
  }
  return name;
}
