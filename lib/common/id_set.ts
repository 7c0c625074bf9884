/**
 * Sets of u32 ids (task ids, job ids, worker ids) kept as sorted inclusive
 * ranges, with the HyperQueue array syntax (`1-10:2,15,20-30`).
 *
 * @module
 */
import { quote } from "./quote.ts";

/** Largest id HyperQueue accepts (u32). */
export const MAX_ID = 4_294_967_295;

/**
 * Most single ids the step expressions of one id set (`0-100:2`) may expand into, all
 * items together: each becomes a range of its own (a million take about 0.3 s to parse).
 */
export const MAX_STEP_EXPANSION = 1_000_000;

/** One inclusive range of ids, `start <= end`. */
export interface IdRange {
  readonly start: number;
  /** Last id in the range (inclusive). */
  readonly end: number;
}

/**
 * A set of ids: ranges sorted ascending, non-overlapping, and with adjacent
 * ranges merged (so `end + 1 < next.start`).
 */
export type IdSet = readonly IdRange[];

const NUMBER_REGEXP = /^[0-9][0-9_]*$/;

function parseIdNumber(input: string, part: string): number {
  if (!NUMBER_REGEXP.test(part)) {
    const shown = part === "" ? "a missing number" : quote(part);
    throw new SyntaxError(`Cannot parse id set ${quote(input)}: expected a number, found ${shown}`);
  }
  const value = Number(part.replaceAll("_", ""));
  if (value > MAX_ID) {
    throw new RangeError(
      `Cannot parse id set ${quote(input)}: ${part} is larger than the maximum id ${MAX_ID}`,
    );
  }
  return value;
}

function parseIdItem(input: string, item: string, out: IdRange[]): void {
  const colon = item.indexOf(":");
  const rangePart = colon === -1 ? item : item.slice(0, colon);
  const stepPart = colon === -1 ? undefined : item.slice(colon + 1);
  const dash = rangePart.indexOf("-");
  if (dash === -1) {
    if (stepPart !== undefined) {
      throw new SyntaxError(
        `Cannot parse id set ${quote(input)}: a step needs a range, as in "0-10:2", found ${
          quote(item)
        }`,
      );
    }
    const id = parseIdNumber(input, rangePart.trim());
    out.push({ start: id, end: id });
    return;
  }
  const start = parseIdNumber(input, rangePart.slice(0, dash).trim());
  const end = parseIdNumber(input, rangePart.slice(dash + 1).trim());
  if (end < start) {
    throw new RangeError(
      `Cannot parse id set ${quote(input)}: range ${quote(item)} ends before it starts`,
    );
  }
  if (stepPart === undefined) {
    out.push({ start, end });
    return;
  }
  const step = parseIdNumber(input, stepPart.trim());
  if (step === 0) {
    throw new RangeError(
      `Cannot parse id set ${quote(input)}: step in ${quote(item)} must be positive`,
    );
  }
  if (step === 1) {
    out.push({ start, end });
    return;
  }
  const count = Math.floor((end - start) / step) + 1;
  if (count > MAX_STEP_EXPANSION) {
    throw new RangeError(
      `Cannot parse id set ${quote(input)}: ${
        quote(item)
      } has ${count} ids, more than ${MAX_STEP_EXPANSION}`,
    );
  }
  if (out.length + count > MAX_STEP_EXPANSION) {
    throw new RangeError(
      `Cannot parse id set ${quote(input)}: its steps give more than ${MAX_STEP_EXPANSION} ids`,
    );
  }
  for (let id = start; id <= end; id += step) out.push({ start: id, end: id });
}

/**
 * Sorts ranges and merges overlapping or adjacent ones. `ranges` are the parser's own
 * (fresh objects): kept as they are where nothing merges, and not sorted when already in order
 * (a step expression gives them in order).
 */
function normalizeRanges(ranges: IdRange[]): IdSet {
  let sorted = true;
  for (let i = 1; i < ranges.length && sorted; i++) {
    sorted = ranges[i - 1]!.start <= ranges[i]!.start;
  }
  if (!sorted) ranges.sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: IdRange[] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range.start <= last.end + 1) {
      if (range.end > last.end) merged[merged.length - 1] = { start: last.start, end: range.end };
    } else {
      merged.push(range);
    }
  }
  return merged;
}

/**
 * Parses a HyperQueue id array such as `7`, `1-10`, `0-10:2`, `1,3,5-8` or
 * `1_000-2_000`. Whitespace around items is allowed.
 *
 * @example Usage
 * ```ts
 * import { parseIdSet } from "./id_set.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseIdSet("1-3,5"), [{ start: 1, end: 3 }, { start: 5, end: 5 }]);
 * // Steps expand to single ids; overlapping and adjacent items merge.
 * assert.deepEqual(parseIdSet("0-6:3, 4"), [
 *   { start: 0, end: 0 },
 *   { start: 3, end: 4 },
 *   { start: 6, end: 6 },
 * ]);
 * assert.throws(() => parseIdSet("5-1"), RangeError);
 * ```
 *
 * @throws {SyntaxError} When the text is empty or malformed.
 * @throws {RangeError} When a range ends before it starts, an id exceeds u32, or a step is 0.
 */
export function parseIdSet(text: string): IdSet {
  if (text.trim() === "") {
    throw new SyntaxError(`Cannot parse id set ${quote(text)}: it is empty`);
  }
  const ranges: IdRange[] = [];
  for (const item of text.split(",")) {
    const trimmed = item.trim();
    if (trimmed === "") {
      throw new SyntaxError(`Cannot parse id set ${quote(text)}: empty item between commas`);
    }
    parseIdItem(text, trimmed, ranges);
  }
  return normalizeRanges(ranges);
}

/**
 * Formats a set compactly; the empty set formats as `""`. {@link parseIdSet} reads it back.
 *
 * @example Usage
 * ```ts
 * import { formatIdSet, parseIdSet } from "./id_set.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatIdSet(parseIdSet("7-9,1,2,3,5")), "1-3,5,7-9");
 * assert.equal(formatIdSet([]), "");
 * ```
 */
export function formatIdSet(set: IdSet): string {
  return set.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(",");
}

/**
 * Number of ids in the set.
 *
 * @example Usage
 * ```ts
 * import { idSetSize, parseIdSet } from "./id_set.ts";
 * import assert from "node:assert/strict";
 * assert.equal(idSetSize(parseIdSet("1-10,20")), 11);
 * ```
 */
export function idSetSize(set: IdSet): number {
  let size = 0;
  for (const range of set) size += range.end - range.start + 1;
  return size;
}

/**
 * Whether `id` is in the set (binary search over the ranges).
 *
 * @example Usage
 * ```ts
 * import { idSetHas, parseIdSet } from "./id_set.ts";
 * import assert from "node:assert/strict";
 * const set = parseIdSet("1-10,20");
 * assert.equal(idSetHas(set, 20), true);
 * assert.equal(idSetHas(set, 11), false);
 * ```
 */
export function idSetHas(set: IdSet, id: number): boolean {
  return rangeIndex(set, id) >= 0;
}

/** Index of the range of `set` holding `id` (binary search), or -1. */
function rangeIndex(set: IdSet, id: number): number {
  let low = 0;
  let high = set.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const range = set[mid]!;
    if (id < range.start) high = mid - 1;
    else if (id > range.end) low = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * Builds a set from ids in any order; duplicates are ignored.
 *
 * @example Usage
 * ```ts
 * import { idSetFromIds } from "./id_set.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(idSetFromIds([4, 2, 3, 3, 9]), [{ start: 2, end: 4 }, { start: 9, end: 9 }]);
 * ```
 *
 * @throws {RangeError} When an id is not an integer in 0..4294967295.
 */
export function idSetFromIds(ids: Iterable<number>): IdSet {
  const sorted: number[] = [];
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id > MAX_ID) {
      throw new RangeError(`Cannot add id ${id} to an id set: ids are integers 0..${MAX_ID}`);
    }
    sorted.push(id);
  }
  sorted.sort((a, b) => a - b);
  const ranges: IdRange[] = [];
  let start: number | undefined;
  let end = 0;
  for (const id of sorted) {
    if (start === undefined) {
      start = id;
      end = id;
    } else if (id <= end + 1) {
      if (id > end) end = id;
    } else {
      ranges.push({ start, end });
      start = id;
      end = id;
    }
  }
  if (start !== undefined) ranges.push({ start, end });
  return ranges;
}

/**
 * Yields every id in the set in ascending order.
 *
 * @example Usage
 * ```ts
 * import { idSetIterate, parseIdSet } from "./id_set.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...idSetIterate(parseIdSet("5,1-2"))], [1, 2, 5]);
 * ```
 */
export function* idSetIterate(set: IdSet): Generator<number> {
  for (const range of set) {
    for (let id = range.start; id <= range.end; id++) yield id;
  }
}

/**
 * Largest id in the set, or `undefined` for the empty set.
 *
 * @example Usage
 * ```ts
 * import { idSetMax, parseIdSet } from "./id_set.ts";
 * import assert from "node:assert/strict";
 * assert.equal(idSetMax(parseIdSet("3,10-12")), 12);
 * assert.equal(idSetMax([]), undefined);
 * ```
 */
export function idSetMax(set: IdSet): number | undefined {
  return set[set.length - 1]?.end;
}

/**
 * Union of two sets, merged into sorted, disjoint, non-adjacent ranges.
 *
 * @example Usage
 * ```ts
 * import { idSetUnion, parseIdSet } from "./id_set.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(idSetUnion(parseIdSet("1-3,9"), parseIdSet("4-5")), parseIdSet("1-5,9"));
 * ```
 */
export function idSetUnion(a: IdSet, b: IdSet): IdSet {
  const all = [...a, ...b].sort((x, y) => x.start - y.start);
  const out: IdRange[] = [];
  for (const r of all) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) {
      if (r.end > last.end) out[out.length - 1] = { start: last.start, end: r.end };
    } else {
      out.push({ start: r.start, end: r.end });
    }
  }
  return out;
}

/**
 * The ids in both sets, as a set; either input may be unsorted or overlapping.
 *
 * @example Usage
 * ```ts
 * import { idSetIntersect, parseIdSet } from "./id_set.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(idSetIntersect(parseIdSet("1-10"), parseIdSet("9-12,3")), parseIdSet("3,9-10"));
 * ```
 */
export function idSetIntersect(a: IdSet, b: IdSet): IdSet {
  const x = idSetUnion(a, []);
  const y = idSetUnion(b, []);
  const out: IdRange[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const start = Math.max(x[i]!.start, y[j]!.start);
    const end = Math.min(x[i]!.end, y[j]!.end);
    if (start <= end) out.push({ start, end });
    if (x[i]!.end < y[j]!.end) i++;
    else j++;
  }
  return out;
}

/**
 * The first id the two sets share, or `undefined` when they are disjoint.
 *
 * @example Usage
 * ```ts
 * import { idSetCommon, parseIdSet } from "./id_set.ts";
 * import assert from "node:assert/strict";
 * assert.equal(idSetCommon(parseIdSet("1-3,9-12"), parseIdSet("5,10")), 10);
 * assert.equal(idSetCommon(parseIdSet("1-3"), parseIdSet("4")), undefined);
 * ```
 */
export function idSetCommon(a: IdSet, b: IdSet): number | undefined {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const start = Math.max(x.start, y.start);
    if (start <= Math.min(x.end, y.end)) return start;
    if (x.end < y.end) i++;
    else j++;
  }
  return undefined;
}

/**
 * Position of `id` among the set's ids in ascending order, or -1 when absent.
 *
 * @example Usage
 * ```ts
 * import { idSetRank, parseIdSet } from "./id_set.ts";
 * import assert from "node:assert/strict";
 * const set = parseIdSet("2-4,10");
 * assert.equal(idSetRank(set, 10), 3);
 * assert.equal(idSetRank(set, 5), -1);
 * ```
 */
export function idSetRank(set: IdSet, id: number): number {
  if (set.length <= 8) {
    let before = 0;
    for (const range of set) {
      if (id < range.start) return -1;
      if (id <= range.end) return before + id - range.start;
      before += range.end - range.start + 1;
    }
    return -1;
  }
  // Many ranges (an array picked from failed ids, say): binary search over the ids before
  // each range, computed once per set.
  let before = rankStarts.get(set);
  if (!before) {
    before = new Array<number>(set.length);
    let n = 0;
    set.forEach((r, i) => {
      before![i] = n;
      n += r.end - r.start + 1;
    });
    rankStarts.set(set, before);
  }
  const i = rangeIndex(set, id);
  return i < 0 ? -1 : before[i]! + id - set[i]!.start;
}

/** Ids before each range of a set, for {@link idSetRank}. */
const rankStarts = new WeakMap<IdSet, number[]>();
