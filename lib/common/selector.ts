/**
 * Id selectors for jobs and workers: `last`, `all`, or an id set.
 *
 * @module
 */

import { assertNever } from "./assert_never.ts";
import { type IdSet, idSetHas, parseIdSet } from "./id_set.ts";

/** What a job or worker selector on the command line picks. */
export type Selector =
  | { readonly kind: "all" }
  | { readonly kind: "last" }
  | { readonly kind: "ids"; readonly ids: IdSet };

/**
 * Parses `last`, `all`, or an id set such as `1-3,7`.
 *
 * @example Usage
 * ```ts
 * import { parseSelector } from "./selector.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseSelector("last"), { kind: "last" });
 * assert.deepEqual(parseSelector("2-3"), { kind: "ids", ids: [{ start: 2, end: 3 }] });
 * assert.throws(() => parseSelector("newest"), SyntaxError);
 * ```
 *
 * @throws {SyntaxError} When the text is neither keyword nor a valid id set.
 * @throws {RangeError} When the id set has an out-of-range value.
 */
export function parseSelector(text: string): Selector {
  const trimmed = text.trim();
  if (trimmed === "last") return { kind: "last" };
  if (trimmed === "all") return { kind: "all" };
  return { kind: "ids", ids: parseIdSet(text) };
}

/**
 * Picks the existing ids a selector refers to, in ascending order: `last` is
 * the largest existing id (or none), `all` is every id, and an id set keeps
 * only the ids that exist.
 *
 * @example Usage
 * ```ts
 * import { parseSelector, resolveSelector } from "./selector.ts";
 * import assert from "node:assert/strict";
 * const existing = [1, 2, 4];
 * assert.deepEqual(resolveSelector(parseSelector("last"), existing), [4]);
 * assert.deepEqual(resolveSelector(parseSelector("2-3"), existing), [2]);
 * assert.deepEqual(resolveSelector(parseSelector("last"), []), []);
 * ```
 */
export function resolveSelector(
  selector: Selector,
  existingIdsSortedAscending: readonly number[],
): number[] {
  switch (selector.kind) {
    case "all":
      return [...existingIdsSortedAscending];
    case "last": {
      const last = existingIdsSortedAscending[existingIdsSortedAscending.length - 1];
      return last === undefined ? [] : [last];
    }
    case "ids": {
      const ids = selector.ids;
      return existingIdsSortedAscending.filter((id) => idSetHas(ids, id));
    }
    default:
      return assertNever(selector, "selector");
  }
}
