/**
 * Resource texts of HyperQueue's `cli` output: worker pool summaries
 * (`cpus 1x1 1x2 1x3`, `mem 4.12 GiB`), `hwdetect`'s full description
 * (`cpus: [[0,1],[2,3]]`, `mem: sum(15892)`), and request variants as
 * `job info` prints them (`cpus: 2 compact`).
 *
 * @module
 */
import { type AllocationPolicy, formatAmount, type ResourcePool } from "../resources/mod.ts";
import { assertNever } from "../common/mod.ts";

/** A pool as the text helpers need it (the worker's {@link ResourcePool}). */
export type PoolText = Pick<ResourcePool, "name" | "kind" | "groups" | "size">;

/** A requested resource (amount in 1/10000; 0 for `all`). */
export interface RequestEntryText {
  readonly resource: string;
  /** Amount in 1/10000. */
  readonly amount: number;
  readonly policy: AllocationPolicy;
}

/** A request variant: entries, or whole nodes. */
export interface RequestText {
  /** Whole workers of a multi-node request; 0 for a single-node one. */
  // deno-lint-ignore camelcase -- the view's snake_case name
  readonly n_nodes: number;
  readonly entries: readonly RequestEntryText[];
}

/** `value / 100` as Rust's `{:.2}` prints it: exact ties round to even. */
function fixed2(numerator: number, denominator: number): string {
  const scaled = numerator * 100;
  let q = Math.floor(scaled / denominator);
  const r = scaled - q * denominator;
  if (2 * r > denominator || (2 * r === denominator && q % 2 === 1)) q++;
  return `${Math.floor(q / 100)}.${String(q % 100).padStart(2, "0")}`;
}

/**
 * HyperQueue's `human_mem_amount` of a size in MiB: below 512 as
 * `N.NN MiB`, else `N.NN GiB` (two decimals, ties to even).
 *
 * @example Usage
 * ```ts
 * import { humanMemAmount } from "./resource_text.ts";
 * import assert from "node:assert/strict";
 * assert.equal(humanMemAmount(4 * 1024 + 123), "4.12 GiB");
 * assert.equal(humanMemAmount(256), "256.00 MiB");
 * ```
 */
export function humanMemAmount(mib: number): string {
  return mib < 512 ? `${fixed2(mib, 1)} MiB` : `${fixed2(mib, 1024)} GiB`;
}

function kindSummary(pool: PoolText): string {
  switch (pool.kind) {
    case "sum":
      return String(pool.size);
    case "list":
    case "range":
      return String(pool.groups.reduce((n, g) => n + g.length, 0));
    case "groups": {
      if (pool.groups.length === 1) return String(pool.groups[0]!.length);
      const counts = new Map<number, number>();
      for (const g of pool.groups) counts.set(g.length, (counts.get(g.length) ?? 0) + 1);
      return [...counts].sort((a, b) => a[0] - b[0] || a[1] - b[1])
        .map(([size, count]) => `${count}x${size}`).join(" ");
    }
    default:
      return assertNever(pool.kind, "pool kind");
  }
}

/**
 * HyperQueue's `resources_summary`: per pool its name and size (`mem` as
 * {@link humanMemAmount}, grouped pools as `<count>x<size>` per group
 * size), joined by `; ` on one line (`worker list`) or as `name: summary`
 * lines (`worker info`, `hwdetect`).
 *
 * @example Usage
 * ```ts
 * import { resourcesSummary } from "./resource_text.ts";
 * import assert from "node:assert/strict";
 * const cpus = { name: "cpus", kind: "groups" as const, groups: [["0"], ["1", "2"]], size: 0 };
 * assert.equal(resourcesSummary([cpus], false), "cpus 1x1 1x2");
 * ```
 */
export function resourcesSummary(pools: readonly PoolText[], multiline: boolean): string {
  return pools.map((p) => {
    const value = p.name === "mem" && p.kind === "sum" ? humanMemAmount(p.size) : kindSummary(p);
    return multiline ? `${p.name}: ${value}` : `${p.name} ${value}`;
  }).join(multiline ? "\n" : "; ");
}

function describeKind(pool: PoolText): string {
  switch (pool.kind) {
    case "list":
      return `[${pool.groups.flat().join(",")}]`;
    case "groups":
      return `[${pool.groups.map((g) => `[${g.join(",")}]`).join(",")}]`;
    case "range": {
      const all = pool.groups.flat();
      const start = all[0] ?? "0";
      const end = all[all.length - 1] ?? start;
      return start === end ? `[${start}]` : `range(${start}-${end})`;
    }
    case "sum":
      return `sum(${pool.size})`;
    default:
      return assertNever(pool.kind, "pool kind");
  }
}

/**
 * `hwdetect`'s `Full Description`: one `name: kind` line per pool
 * (`[a,b]`, `[[..],[..]]`, `[n]` or `range(a-b)`, `sum(n)`).
 *
 * @example Usage
 * ```ts
 * import { resourcesFullDescribe } from "./resource_text.ts";
 * import assert from "node:assert/strict";
 * const cpus = { name: "cpus", kind: "range" as const, groups: [["0", "1", "2"]], size: 0 };
 * const mem = { name: "mem", kind: "sum" as const, groups: [], size: 2048 };
 * assert.equal(resourcesFullDescribe([cpus, mem]), "cpus: range(0-2)\nmem: sum(2048)");
 * ```
 */
export function resourcesFullDescribe(pools: readonly PoolText[]): string {
  return pools.map((p) => `${p.name}: ${describeKind(p)}`).join("\n");
}

/**
 * An allocation request as tako displays it: `2 compact`, `1.5 scatter`, `4 tight!`, `all`.
 *
 * @example Usage
 * ```ts
 * import { formatAllocationRequest } from "./resource_text.ts";
 * import assert from "node:assert/strict";
 * const gpus = { resource: "gpus", amount: 15000, policy: "scatter" as const };
 * assert.equal(formatAllocationRequest(gpus), "1.5 scatter");
 * assert.equal(formatAllocationRequest({ resource: "cpus", amount: 0, policy: "all" }), "all");
 * ```
 */
export function formatAllocationRequest(entry: RequestEntryText): string {
  const amount = formatAmount(entry.amount);
  switch (entry.policy) {
    case "all":
      return "all";
    case "compact":
      return `${amount} compact`;
    case "forceCompact":
      return `${amount} compact!`;
    case "tight":
      return `${amount} tight`;
    case "forceTight":
      return `${amount} tight!`;
    case "scatter":
      return `${amount} scatter`;
    default:
      return assertNever(entry.policy, "allocation policy");
  }
}

function formatRequest(rq: RequestText): string {
  if (rq.n_nodes > 0) return `nodes: ${rq.n_nodes}`;
  return [...rq.entries]
    .sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0))
    .map((e) => `${e.resource}: ${formatAllocationRequest(e)}`)
    .join("\n");
}

/**
 * HyperQueue's `format_resource_variants` (the `Resources` row): one
 * `name: request` line per resource sorted by name (`nodes: N` for a
 * multi-node task); several variants as `# Variant 1` blocks separated by a
 * blank line.
 *
 * @example Usage
 * ```ts
 * import { formatResourceVariants } from "./resource_text.ts";
 * import assert from "node:assert/strict";
 * const cpus = (amount: number) => ({
 *   n_nodes: 0,
 *   entries: [{ resource: "cpus", amount, policy: "compact" as const }],
 * });
 * assert.equal(formatResourceVariants([cpus(10000)]), "cpus: 1 compact");
 * assert.equal(
 *   formatResourceVariants([cpus(20000), cpus(80000)]),
 *   "# Variant 1\ncpus: 2 compact\n\n# Variant 2\ncpus: 8 compact",
 * );
 * ```
 */
export function formatResourceVariants(requests: readonly RequestText[]): string {
  if (requests.length === 1) return formatRequest(requests[0]!);
  return requests.map((rq, i) => `# Variant ${i + 1}\n${formatRequest(rq)}`).join("\n\n");
}
