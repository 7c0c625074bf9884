/**
 * Worker resource pools (`--cpus 4`, `--cpus 2x4`, `--cpus [0,2,4]`, `--cpus range(0-7)`).
 *
 * @module
 */
import { ResourceSpecSyntaxError } from "./request.ts";

/** Kind of a resource pool, as in HyperQueue's `ResourceDescriptorKind`. */
export type PoolKind = "list" | "range" | "groups" | "sum";

/** One resource pool of a worker. Indexed pools list their labels per group. */
export interface ResourcePool {
  /** Resource name. */
  name: string;
  /** How the pool was defined. */
  kind: PoolKind;
  /** Index labels by group (one group unless NUMA-like); empty for sum pools. */
  groups: string[][];
  /** Size of a sum pool in units (MiB for memory); 0 for indexed pools. */
  size: number;
}

const NXM_REGEXP = /^(\d+)x(\d+)$/;
const RANGE_REGEXP = /^range\((\d+)-(\d+)\)$/;
const SUM_REGEXP = /^sum\((\d+)\)$/;

function parseList(name: string, text: string, inner: string): string[] {
  const values = inner.split(",").map((v) => v.trim().replace(/^"(.*)"$/, "$1"));
  if (values.some((v) => v === "")) {
    throw new ResourceSpecSyntaxError(
      text,
      `Cannot parse resource "${name}=${text}": empty value in list`,
    );
  }
  if (new Set(values).size !== values.length) {
    throw new ResourceSpecSyntaxError(
      text,
      `Cannot parse resource "${name}=${text}": duplicate values in list`,
    );
  }
  return values;
}

/**
 * Parses a pool definition; a plain integer `N` means N indices `0..N-1`.
 *
 * @throws {ResourceSpecSyntaxError} On malformed definitions.
 * @throws {RangeError} On empty pools.
 */
export function parsePool(name: string, text: string): ResourcePool {
  const t = text.trim();
  let match: RegExpExecArray | null;
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n < 1) {
      throw new RangeError(`Cannot use resource "${name}=${text}": pool must not be empty`);
    }
    return { name, kind: "range", groups: [labels(0, n - 1)], size: 0 };
  }
  if ((match = NXM_REGEXP.exec(t))) {
    const groups = Number(match[1]);
    const per = Number(match[2]);
    if (groups < 1 || per < 1) {
      throw new RangeError(`Cannot use resource "${name}=${text}": pool must not be empty`);
    }
    return {
      name,
      kind: "groups",
      groups: Array.from({ length: groups }, (_, g) => labels(g * per, g * per + per - 1)),
      size: 0,
    };
  }
  if ((match = RANGE_REGEXP.exec(t))) {
    const start = Number(match[1]);
    const end = Number(match[2]);
    if (end < start) {
      throw new RangeError(`Cannot use resource "${name}=${text}": range end is before its start`);
    }
    return { name, kind: "range", groups: [labels(start, end)], size: 0 };
  }
  if ((match = SUM_REGEXP.exec(t))) {
    return { name, kind: "sum", groups: [], size: Number(match[1]) };
  }
  if (t.startsWith("[[") && t.endsWith("]]")) {
    const groups = t.slice(2, -2).split(/\]\s*,\s*\[/).map((g) => parseList(name, text, g));
    const all = groups.flat();
    if (new Set(all).size !== all.length) {
      throw new ResourceSpecSyntaxError(
        text,
        `Cannot parse resource "${name}=${text}": duplicate values in groups`,
      );
    }
    return { name, kind: "groups", groups, size: 0 };
  }
  if (t.startsWith("[") && t.endsWith("]")) {
    return { name, kind: "list", groups: [parseList(name, text, t.slice(1, -1))], size: 0 };
  }
  throw new ResourceSpecSyntaxError(
    text,
    `Cannot parse resource "${name}=${text}": expected N, NxM, [a,b,..], [[..],[..]], range(a-b) or sum(N)`,
  );
}

function labels(start: number, end: number): string[] {
  return Array.from({ length: end - start + 1 }, (_, i) => String(start + i));
}

/** Number of units a pool offers (indices, or the sum size). */
export function poolUnits(pool: ResourcePool): number {
  return pool.kind === "sum" ? pool.size : pool.groups.reduce((n, g) => n + g.length, 0);
}

/** HyperQueue-style summary of a pool, e.g. `cpus 2x4` or `cpus 8`. */
export function formatPoolSummary(pool: ResourcePool): string {
  if (pool.kind === "sum") return `${pool.name} ${pool.size}`;
  if (pool.groups.length > 1) {
    const sizes = new Set(pool.groups.map((g) => g.length));
    if (sizes.size === 1) return `${pool.name} ${pool.groups.length}x${pool.groups[0]!.length}`;
  }
  return `${pool.name} ${poolUnits(pool)}`;
}
