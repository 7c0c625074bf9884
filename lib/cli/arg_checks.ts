/**
 * Value checks for command-line options and arguments: each throws with the
 * reason, which the parser reports as `invalid value '<v>' for '<opt>': <reason>`.
 *
 * @module
 */
import { parseDuration, parseIdSet, parseSelector } from "../common/mod.ts";
import type { OptionSpec } from "./args.ts";

/** Notice for options and commands that only make sense with sockets. */
export const NO_NETWORK = "is not needed: this server uses no network";

/**
 * Checks a duration (`1h 5m`, `90s`, `01:30:00`).
 *
 * @example Usage
 * ```ts
 * import { durationArg } from "./arg_checks.ts";
 * import assert from "node:assert/strict";
 * durationArg("1h 5m");
 * assert.throws(() => durationArg("5 parsecs"), SyntaxError);
 * ```
 */
export function durationArg(value: string): void {
  parseDuration(value);
}

/**
 * A check for an integer of at least `min` (digits only: no sign, no fraction).
 *
 * @example Usage
 * ```ts
 * import { intArg } from "./arg_checks.ts";
 * import assert from "node:assert/strict";
 * const atLeastOne = intArg(1);
 * atLeastOne("8");
 * assert.throws(() => atLeastOne("0"), { message: "expected an integer >= 1" });
 * assert.throws(() => atLeastOne("2.5"), RangeError);
 * ```
 */
export function intArg(min: number): (value: string) => void {
  return (value) => {
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
      throw new RangeError(`expected an integer >= ${min}`);
    }
  };
}

/**
 * Checks an id set such as `1-10:2,15` (`--array`).
 *
 * @example Usage
 * ```ts
 * import { idSetArg } from "./arg_checks.ts";
 * import assert from "node:assert/strict";
 * idSetArg("1-10:2,15");
 * assert.throws(() => idSetArg("10-1"), RangeError);
 * ```
 */
export function idSetArg(value: string): void {
  parseIdSet(value);
}

/**
 * Checks a selector: `last`, `all` or an id set.
 *
 * @example Usage
 * ```ts
 * import { selectorArg } from "./arg_checks.ts";
 * import assert from "node:assert/strict";
 * selectorArg("all");
 * assert.throws(() => selectorArg("first"), SyntaxError);
 * ```
 */
export function selectorArg(value: string): void {
  parseSelector(value);
}

/**
 * Checks a selector without `all`: `last` or an id set.
 *
 * @example Usage
 * ```ts
 * import { lastOrIdsArg } from "./arg_checks.ts";
 * import assert from "node:assert/strict";
 * lastOrIdsArg("last");
 * assert.throws(() => lastOrIdsArg("all"), RangeError);
 * ```
 */
export function lastOrIdsArg(value: string): void {
  if (parseSelector(value).kind === "all") throw new RangeError("`all` is not supported here");
}

/**
 * Checks a single job id or `last`.
 *
 * @example Usage
 * ```ts
 * import { singleIdArg } from "./arg_checks.ts";
 * import assert from "node:assert/strict";
 * singleIdArg("7");
 * assert.throws(() => singleIdArg("1-2"), { message: "expected a single id or `last`" });
 * ```
 */
export function singleIdArg(value: string): void {
  const sel = parseSelector(value);
  if (sel.kind === "all") throw new RangeError("expected a single id or `last`");
  if (sel.kind === "ids" && (sel.ids.length !== 1 || sel.ids[0]!.start !== sel.ids[0]!.end)) {
    throw new RangeError("expected a single id or `last`");
  }
}

/** `--poll-only` and `--max-poll`, shared by `server start` and `worker start`. */
export const POLL_OPTIONS: readonly OptionSpec[] = [
  { long: "poll-only", help: "Never watch files; poll (for network filesystems)" },
  {
    long: "max-poll",
    value: "MAX_POLL",
    default: "250ms",
    check: durationArg,
    help: "Longest poll interval",
  },
];
