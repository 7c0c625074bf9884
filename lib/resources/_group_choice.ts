/**
 * Private: how many whole indices to take from each group of an indexed pool, per policy.
 * Greedy on sorted free counts (no search), deterministic: ties go to the lowest group id.
 *
 * @module
 */

/** Group-level policy after strictness is handled by the caller. */
export type GroupPolicy = "compact" | "tight" | "scatter";

/** Group ids sorted by free count, largest first, then by id. */
function byFreeDesc(free: readonly number[]): number[] {
  return free.map((_, g) => g).sort((a, b) => free[b]! - free[a]! || a - b);
}

/**
 * Fewest groups whose counts reach `n`, taking the largest first; 0 for `n = 0`,
 * `Infinity` when even all groups together are too small.
 */
export function minGroups(counts: readonly number[], n: number): number {
  if (n <= 0) return 0;
  const sorted = [...counts].sort((a, b) => b - a);
  let sum = 0;
  for (let k = 0; k < sorted.length; k++) {
    sum += sorted[k]!;
    if (sum >= n) return k + 1;
  }
  return Infinity;
}

/** The group with the fewest free indices that still holds `n`, among `candidates`. */
function bestFit(free: readonly number[], candidates: readonly number[], n: number): number {
  let best = -1;
  for (const g of candidates) {
    if (free[g]! < n) continue;
    if (best < 0 || free[g]! < free[best]! || (free[g] === free[best] && g < best)) best = g;
  }
  return best;
}

/** Deals `n` units one at a time over `groups` (in id order), skipping full ones. */
function roundRobin(free: readonly number[], groups: readonly number[], n: number): number[] {
  const counts = free.map(() => 0);
  let active = [...groups].sort((a, b) => a - b).filter((g) => free[g]! > 0);
  let left = n;
  while (left > 0 && active.length > 0) {
    const next: number[] = [];
    for (const g of active) {
      if (left === 0) break;
      counts[g]!++;
      left--;
      if (counts[g]! < free[g]!) next.push(g);
    }
    active = next;
  }
  return counts;
}

/**
 * Splits `n` whole indices over groups whose wholly free counts are `free`.
 * Returns the count per group, or null when fewer than `n` indices are free.
 *
 * - `compact`: the fewest groups, taken evenly (one group: the tightest that fits).
 * - `tight`: the fewest groups, filling the biggest first (the rest goes to the tightest fit).
 * - `scatter`: as many groups as possible, dealt round robin.
 */
export function chooseGroups(
  free: readonly number[],
  n: number,
  policy: GroupPolicy,
): number[] | null {
  const total = free.reduce((a, b) => a + b, 0);
  if (total < n) return null;
  const counts = free.map(() => 0);
  if (n === 0) return counts;
  if (policy === "scatter") return roundRobin(free, free.map((_, g) => g), n);
  const order = byFreeDesc(free);
  const k = minGroups(free, n);
  if (k === 1) {
    counts[bestFit(free, order, n)] = n;
    return counts;
  }
  if (policy === "compact") return roundRobin(free, order.slice(0, k), n);
  let left = n;
  for (const g of order.slice(0, k - 1)) {
    counts[g] = free[g]!;
    left -= free[g]!;
  }
  counts[bestFit(free, order.slice(k - 1), left)] = left;
  return counts;
}
