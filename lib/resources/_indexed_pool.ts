/**
 * Private: free state of one indexed pool and the choice of concrete indices for an amount.
 *
 * @module
 */
import { type Amount, FRACTIONS_PER_UNIT } from "./amount.ts";
import { chooseGroups, type GroupPolicy, minGroups } from "./_group_choice.ts";
import type { AllocationPolicy } from "./request.ts";

/** Indices taken for one request entry: positions in the pool and the amount of each. */
export interface IndexTake {
  /** Positions of the taken indices; whole ones first, a partially used one last. */
  positions: number[];
  /** Fractions taken from each position (10000 for a whole index). */
  fractions: Amount[];
}

/** Free state of an indexed pool: 10000 fractions per index. */
export class IndexedPool {
  /** Labels by position (groups concatenated in order). */
  readonly labels: readonly string[];
  /** Group of each position. */
  readonly groupOf: readonly number[];
  readonly groupSizes: readonly number[];
  /** Free fractions per position (10000 when wholly free); {@link apply} changes them. */
  readonly free: number[];
  #positionOf = new Map<string, number>();

  /** Creates a wholly free pool of the given label groups. */
  constructor(groups: readonly (readonly string[])[]) {
    this.labels = groups.flat();
    this.groupOf = groups.flatMap((g, i) => g.map(() => i));
    this.groupSizes = groups.map((g) => g.length);
    this.free = this.labels.map(() => FRACTIONS_PER_UNIT);
    this.labels.forEach((label, pos) => this.#positionOf.set(label, pos));
  }

  /** Position of a label, or undefined. */
  positionOf(label: string): number | undefined {
    return this.#positionOf.get(label);
  }

  /** Total free fractions. */
  totalFree(): Amount {
    return this.free.reduce((a, b) => a + b, 0);
  }

  /** Whether every index is wholly free. */
  isWhollyFree(): boolean {
    return this.free.every((f) => f === FRACTIONS_PER_UNIT);
  }

  /** Chooses indices for `amount` under `policy` without changing the state; null if none fit. */
  choose(amount: Amount, policy: AllocationPolicy): IndexTake | null {
    if (policy === "all") {
      if (this.labels.length === 0 || !this.isWhollyFree()) return null;
      return {
        positions: this.labels.map((_, p) => p),
        fractions: this.labels.map(() => FRACTIONS_PER_UNIT),
      };
    }
    const whole = Math.floor(amount / FRACTIONS_PER_UNIT);
    const fraction = amount % FRACTIONS_PER_UNIT;
    const strict = policy === "forceCompact" || policy === "forceTight";
    const base: GroupPolicy = policy === "forceCompact"
      ? "compact"
      : policy === "forceTight"
      ? "tight"
      : policy;
    const limit = strict ? minGroups(this.groupSizes, whole + (fraction > 0 ? 1 : 0)) : Infinity;
    const wholeFree = this.groupSizes.map(() => 0);
    this.free.forEach((f, p) => {
      if (f === FRACTIONS_PER_UNIT) wholeFree[this.groupOf[p]!]!++;
    });
    if (fraction > 0) {
      const counts = chooseGroups(wholeFree, whole, base);
      if (counts === null) return null;
      const partial = this.#partialFor(fraction, counts);
      if (partial !== undefined) {
        const used = new Set(counts.flatMap((c, g) => (c > 0 ? [g] : [])));
        used.add(this.groupOf[partial]!);
        if (used.size <= limit) {
          const take = this.#takeWhole(counts);
          take.positions.push(partial);
          take.fractions.push(fraction);
          return take;
        }
      }
    }
    const counts = chooseGroups(wholeFree, whole + (fraction > 0 ? 1 : 0), base);
    if (counts === null) return null;
    if (counts.filter((c) => c > 0).length > limit) return null;
    const take = this.#takeWhole(counts);
    if (fraction > 0) take.fractions[take.fractions.length - 1] = fraction;
    return take;
  }

  /** Applies (sign 1) or returns (sign -1) a take. Callers check capacity first. */
  apply(take: IndexTake, sign: 1 | -1): void {
    take.positions.forEach((p, i) => {
      this.free[p]! -= sign * take.fractions[i]!;
    });
  }

  /**
   * The partially used index with room for `fraction`: in a group of `counts` first, then the
   * least room, then the lowest position.
   */
  #partialFor(fraction: number, counts: readonly number[]): number | undefined {
    let best: number | undefined;
    let bestKey: [number, number] = [0, 0];
    this.free.forEach((f, p) => {
      if (f >= FRACTIONS_PER_UNIT || f < fraction) return;
      const key: [number, number] = [counts[this.groupOf[p]!]! > 0 ? 0 : 1, f];
      if (
        best === undefined || key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])
      ) {
        best = p;
        bestKey = key;
      }
    });
    return best;
  }

  /** The lowest wholly free positions of each group, `counts[g]` of them. */
  #takeWhole(counts: readonly number[]): IndexTake {
    const left = [...counts];
    const positions: number[] = [];
    this.free.forEach((f, p) => {
      const g = this.groupOf[p]!;
      if (f === FRACTIONS_PER_UNIT && left[g]! > 0) {
        positions.push(p);
        left[g]!--;
      }
    });
    return { positions, fractions: positions.map(() => FRACTIONS_PER_UNIT) };
  }
}
