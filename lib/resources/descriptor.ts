/**
 * Worker resource pools (`--cpus 4`, `--cpus 2x4`, `--cpus [0,2,4]`, `--cpus range(0-7)`,
 * `--resource mem=sum(1024)`).
 *
 * @module
 */
import { quote } from "../common/mod.ts";
import { FRACTIONS_PER_UNIT } from "./amount.ts";
import { scanList } from "./_list_syntax.ts";
import { isValidResourceName, ResourceSpecSyntaxError } from "./request.ts";

/** Kind of a resource pool, as in HyperQueue's `ResourceDescriptorKind`. */
export type PoolKind = "list" | "range" | "groups" | "sum";

/** One resource pool of a worker. Indexed pools list their labels per group. */
export interface ResourcePool {
  name: string;
  /** How the pool was defined (`2x4` gives `groups`, `sum(N)` gives `sum`). */
  kind: PoolKind;
  /** Index labels by group (one group unless NUMA-like); empty for sum pools. */
  groups: string[][];
  /** Size of a sum pool in units (MiB for memory); 0 for indexed pools. */
  size: number;
}

/** Most indices an indexed pool may have; larger definitions throw `RangeError`. */
export const MAX_POOL_INDICES = 100_000;

/** Largest sum pool size in units (so that the size in 1/10000 stays a safe integer). */
export const MAX_SUM_SIZE = Math.floor(Number.MAX_SAFE_INTEGER / FRACTIONS_PER_UNIT);

const NXM_REGEXP = /^(\d+)\s*x\s*(\d+)$/;
const RANGE_REGEXP = /^range\s*\(\s*(\d+)\s*-\s*(\d+)\s*\)$/;
const SUM_REGEXP = /^sum\s*\(\s*(\d+)\s*\)$/;
const INT_REGEXP = /^\d+$/;

function syntaxError(name: string, text: string, detail: string): ResourceSpecSyntaxError {
  return new ResourceSpecSyntaxError(
    text,
    `Cannot parse resource ${quote(`${name}=${text}`)}: ${detail}`,
  );
}

function rangeError(name: string, text: string, detail: string): RangeError {
  return new RangeError(`Cannot use resource ${quote(`${name}=${text}`)}: ${detail}`);
}

function checkCount(name: string, text: string, count: number): void {
  if (count < 1) throw rangeError(name, text, "pool must not be empty");
  if (count > MAX_POOL_INDICES) {
    throw rangeError(name, text, `pool has more than ${MAX_POOL_INDICES} indices`);
  }
}

/**
 * Parses a pool definition: `N` (N indices `0..N-1`), `NxM` (N groups of M indices numbered
 * from 0), `[a, b, "quoted, value"]`, `[[0,1],[2,3]]`, `range(a-b)` (inclusive) or `sum(N)`.
 *
 * @example Usage
 * ```ts
 * import { parsePool } from "./descriptor.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parsePool("cpus", "2x2").groups, [["0", "1"], ["2", "3"]]);
 * assert.deepEqual(parsePool("cpus", "range(4-6)").groups, [["4", "5", "6"]]);
 * assert.equal(parsePool("mem", "sum(1024)").size, 1024);
 * assert.throws(() => parsePool("cpus", "0"), RangeError);
 * ```
 *
 * @throws {ResourceSpecSyntaxError} On malformed definitions, duplicate values or an invalid name.
 * @throws {RangeError} On empty or too large pools.
 */
export function parsePool(name: string, text: string): ResourcePool {
  if (!isValidResourceName(name)) {
    throw syntaxError(
      name,
      text,
      `invalid resource name ${quote(name)} (use an ASCII letter, then letters, digits or "/")`,
    );
  }
  const t = text.trim();
  let match: RegExpExecArray | null;
  if (INT_REGEXP.test(t)) {
    const n = Number(t);
    checkCount(name, text, n);
    return { name, kind: "range", groups: [labels(0, n - 1)], size: 0 };
  }
  if ((match = NXM_REGEXP.exec(t))) {
    const groups = Number(match[1]);
    const per = Number(match[2]);
    checkCount(name, text, groups * per);
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
    if (end < start) throw rangeError(name, text, "range end is before its start");
    checkCount(name, text, end - start + 1);
    return { name, kind: "range", groups: [labels(start, end)], size: 0 };
  }
  if ((match = SUM_REGEXP.exec(t))) {
    const size = Number(match[1]);
    if (size > MAX_SUM_SIZE) throw rangeError(name, text, "sum size is too large");
    return { name, kind: "sum", groups: [], size };
  }
  if (t.startsWith("[")) {
    const list = scanList(t);
    if (list.kind === "error") throw syntaxError(name, text, list.detail);
    const groups = list.kind === "list" ? [list.values] : list.groups;
    const all = groups.flat();
    checkCount(name, text, all.length);
    if (new Set(all).size !== all.length) {
      throw syntaxError(name, text, "duplicate values in list");
    }
    return { name, kind: list.kind, groups, size: 0 };
  }
  throw syntaxError(
    name,
    text,
    "expected N, NxM, [a,b,..], [[..],[..]], range(a-b) or sum(N)",
  );
}

/**
 * Parses a `--resource` value of `hq worker start`: `name=DEF` with DEF as in {@link parsePool}.
 *
 * @example Usage
 * ```ts
 * import { parseResourceDef } from "./descriptor.ts";
 * import assert from "node:assert/strict";
 * const pool = parseResourceDef("gpus=[0,1]");
 * assert.equal(pool.name, "gpus");
 * assert.deepEqual(pool.groups, [["0", "1"]]);
 * ```
 *
 * @throws {ResourceSpecSyntaxError} When `=` is missing, the name is invalid or DEF is malformed.
 * @throws {RangeError} On empty or too large pools.
 */
export function parseResourceDef(text: string): ResourcePool {
  const eq = text.indexOf("=");
  if (eq < 0) {
    throw new ResourceSpecSyntaxError(
      text,
      `Cannot parse resource definition ${quote(text)}: expected "name=DEF"`,
    );
  }
  const name = text.slice(0, eq).trim();
  if (!isValidResourceName(name)) {
    throw new ResourceSpecSyntaxError(
      text,
      `Cannot parse resource definition ${quote(text)}: invalid resource name ${quote(name)} ` +
        `(use an ASCII letter, then letters, digits or "/")`,
    );
  }
  return parsePool(name, text.slice(eq + 1));
}

/**
 * Parses the `--cpus` value of `hq worker start`; a plain `N` means one group of N CPUs.
 *
 * @example Usage
 * ```ts
 * import { parseCpusDef } from "./descriptor.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseCpusDef("4").groups, [["0", "1", "2", "3"]]);
 * assert.throws(() => parseCpusDef("sum(4)"), SyntaxError);
 * ```
 *
 * @throws {ResourceSpecSyntaxError} On malformed definitions, and for `sum(N)`.
 * @throws {RangeError} On empty or too large pools.
 */
export function parseCpusDef(text: string): ResourcePool {
  const pool = parsePool("cpus", text);
  if (pool.kind === "sum") {
    throw new ResourceSpecSyntaxError(
      text,
      `Cannot parse --cpus ${quote(text)}: cpus cannot be a sum pool`,
    );
  }
  return pool;
}

/** Explicit resource flags of `hq worker start`. */
export interface WorkerPoolsOptions {
  /** Value of `--cpus` (see {@link parseCpusDef}). */
  cpus?: string;
  /** Values of `--resource` (`name=DEF`), in order. */
  resources: string[];
}

/**
 * Builds the explicitly defined pools of a worker from `--cpus` and `--resource` values, in
 * flag order (`--cpus` first). Detection is not done here.
 *
 * @example Usage
 * ```ts
 * import { buildWorkerPools } from "./descriptor.ts";
 * import assert from "node:assert/strict";
 * const pools = buildWorkerPools({ cpus: "2x4", resources: ["mem=sum(2048)"] });
 * assert.deepEqual(pools.map((p) => [p.name, p.kind]), [["cpus", "groups"], ["mem", "sum"]]);
 * assert.throws(
 *   () => buildWorkerPools({ cpus: "4", resources: ["cpus=8"] }),
 *   /cannot be combined with --cpus "4"/,
 * );
 * ```
 *
 * @throws {ResourceSpecSyntaxError} On malformed values, a `sum` cpus pool, a name defined twice,
 * or `--cpus` together with `--resource cpus=...`.
 * @throws {RangeError} On empty or too large pools.
 */
export function buildWorkerPools(options: WorkerPoolsOptions): ResourcePool[] {
  const pools: ResourcePool[] = [];
  if (options.cpus !== undefined) pools.push(parseCpusDef(options.cpus));
  for (const text of options.resources) {
    const pool = parseResourceDef(text);
    if (pool.name === "cpus" && pool.kind === "sum") {
      throw new ResourceSpecSyntaxError(
        text,
        `Cannot parse --resource ${quote(text)}: cpus cannot be a sum pool`,
      );
    }
    if (pools.some((p) => p.name === pool.name)) {
      const detail = pool.name === "cpus" && options.cpus !== undefined
        ? `cannot be combined with --cpus ${quote(options.cpus)}`
        : `resource ${quote(pool.name)} is defined twice`;
      throw new ResourceSpecSyntaxError(text, `Cannot use --resource ${quote(text)}: ${detail}`);
    }
    pools.push(pool);
  }
  return pools;
}

function labels(start: number, end: number): string[] {
  return Array.from({ length: end - start + 1 }, (_, i) => String(start + i));
}

/**
 * Number of units a pool offers (indices, or the sum size).
 *
 * @example Usage
 * ```ts
 * import { parsePool, poolUnits } from "./descriptor.ts";
 * import assert from "node:assert/strict";
 * assert.equal(poolUnits(parsePool("cpus", "2x4")), 8);
 * assert.equal(poolUnits(parsePool("mem", "sum(512)")), 512);
 * ```
 */
export function poolUnits(pool: ResourcePool): number {
  return pool.kind === "sum" ? pool.size : pool.groups.reduce((n, g) => n + g.length, 0);
}

/**
 * HyperQueue-style summary of a pool, e.g. `cpus 2x4` or `cpus 8`.
 *
 * @example Usage
 * ```ts
 * import { formatPoolSummary, parsePool } from "./descriptor.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatPoolSummary(parsePool("cpus", "2x4")), "cpus 2x4");
 * assert.equal(formatPoolSummary(parsePool("cpus", "[[0,1],[2]]")), "cpus 3");
 * ```
 */
export function formatPoolSummary(pool: ResourcePool): string {
  if (pool.kind === "sum") return `${pool.name} ${pool.size}`;
  if (pool.groups.length > 1) {
    const sizes = new Set(pool.groups.map((g) => g.length));
    if (sizes.size === 1) return `${pool.name} ${pool.groups.length}x${pool.groups[0]!.length}`;
  }
  return `${pool.name} ${poolUnits(pool)}`;
}
