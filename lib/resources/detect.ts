/**
 * Resource autodetection (HyperQueue's `worker/hwdetect.rs`), written as pure
 * functions over an injected file reader, directory lister and environment so
 * that tests can use fake `/proc` and `/sys` trees. The real host adapters live
 * in `detect_host.ts`.
 *
 * What is detected:
 *
 * - `cpus`: the affinity mask (`/proc/self/status` `Cpus_allowed_list`), one
 *   group per NUMA node (`/sys/devices/system/node/possible`,
 *   `node*\/cpulist`); without an affinity mask, `fallbackCpuCount` CPUs.
 *   Inside SLURM or PBS the affinity mask already is the allocation's cpuset,
 *   so it is not capped by a count; when `SLURM_CPUS_ON_NODE` is smaller than
 *   what the mask allows (a cluster that does not confine cores) a warning
 *   suggests `--cpus`, because picking *which* CPUs to drop would be a guess.
 * - `gpus/nvidia`: `CUDA_VISIBLE_DEVICES`, else the entries of
 *   `/proc/driver/nvidia/gpus` as indices `0..n-1`.
 * - `gpus/amd`: `ROCR_VISIBLE_DEVICES`.
 * - `mem` (MiB, a sum pool): `SLURM_MEM_PER_NODE` (or `SLURM_MEM_PER_CPU` times
 *   `SLURM_CPUS_ON_NODE`) inside a SLURM job, else the smallest cgroup memory
 *   limit of this process (v2 `memory.max`, v1 `memory.limit_in_bytes`, on the
 *   process's cgroup and its ancestors) when below the RAM size, else
 *   `/proc/meminfo` `MemTotal`. PBS confines jobs with cgroups, so the same
 *   cgroup rule covers it.
 *
 * Nothing here throws on odd host data: unreadable or malformed files and
 * variables give a warning and the next source is tried.
 *
 * @module
 */
import { assertNever } from "../common/mod.ts";
import type { ResourcePool } from "./descriptor.ts";
import {
  DETECT_ITEMS,
  type Detected,
  type DetectItem,
  type EnvRecord,
  type ListDir,
  type ReadText,
} from "./_detect_types.ts";
import { detectMemory } from "./detect_mem.ts";

export type { Detected, DetectItem, EnvRecord, ListDir, ReadText } from "./_detect_types.ts";
export { DETECT_ITEMS } from "./_detect_types.ts";
export { detectMemory } from "./detect_mem.ts";

/** Options of {@link detectCpus}. */
export interface DetectCpusOptions {
  /** CPU count to use when no affinity mask can be read (`navigator.hardwareConcurrency`). */
  fallbackCount: number;
  /** Keep one hardware thread per core. @default {false} */
  noHyperThreading?: boolean;
  /** Environment, for the `SLURM_CPUS_ON_NODE` check. @default {{}} */
  env?: EnvRecord;
}

/** Options of {@link detectResources}. */
export interface DetectOptions {
  /** Which resources to detect. */
  what: ReadonlySet<DetectItem>;
  /** Keep one hardware thread per core. @default {false} */
  noHyperThreading?: boolean;
  /** File reader (absolute paths such as `/proc/self/status`). */
  read: ReadText;
  /** Directory lister (for `/proc/driver/nvidia/gpus`). */
  listDir: ListDir;
  /** Environment variables (SLURM's and the `*_VISIBLE_DEVICES` lists). */
  env: EnvRecord;
  /** CPU count used when no affinity mask can be read. */
  fallbackCpuCount: number;
}

/** Result of {@link detectResources}. */
export interface DetectResult {
  /** Detected pools, in {@link DETECT_ITEMS} order. */
  pools: ResourcePool[];
  /** Warnings, one line each. */
  warnings: string[];
}

const CPU_RANGE_REGEXP = /^(\d+)(?:\s*-\s*(\d+))?$/;
const INT_REGEXP = /^\d+$/;

/**
 * Parses a Linux CPU list such as `0-3,8,10-11` (spaces and a trailing newline allowed).
 *
 * @example Usage
 * ```ts
 * import { parseCpuList } from "./detect.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseCpuList("0-2,5\n"), [0, 1, 2, 5]);
 * ```
 *
 * @throws {SyntaxError} On a malformed item or a descending range.
 */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    const item = part.trim();
    if (item === "" && text.trim() === "") continue;
    const m = CPU_RANGE_REGEXP.exec(item);
    if (!m) throw new SyntaxError(`Cannot parse CPU list "${text.trim()}": bad item "${item}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) {
      throw new SyntaxError(`Cannot parse CPU list "${text.trim()}": range "${item}" descends`);
    }
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

/** Reads and parses a CPU list file; undefined (with a warning when malformed) otherwise. */
function readCpuList(read: ReadText, path: string, warnings: string[]): number[] | undefined {
  const text = read(path);
  if (text === undefined) return undefined;
  try {
    return parseCpuList(text);
  } catch (e) {
    warnings.push(`Ignoring ${path}: ${(e as Error).message}`);
    return undefined;
  }
}

function affinityMask(read: ReadText, warnings: string[]): number[] | undefined {
  const status = read("/proc/self/status");
  const line = status?.split("\n").find((l) => l.startsWith("Cpus_allowed_list:"));
  if (line === undefined) return undefined;
  try {
    const cpus = parseCpuList(line.slice(line.indexOf(":") + 1));
    return cpus.length > 0 ? cpus : undefined;
  } catch (e) {
    warnings.push(`Ignoring the affinity mask in /proc/self/status: ${(e as Error).message}`);
    return undefined;
  }
}

/** Allowed CPUs grouped by NUMA node; undefined unless every allowed CPU is in a node. */
function numaGroups(
  read: ReadText,
  allowed: ReadonlySet<number>,
  warnings: string[],
): number[][] | undefined {
  const nodes = readCpuList(read, "/sys/devices/system/node/possible", warnings);
  if (nodes === undefined) return undefined;
  const groups: number[][] = [];
  for (const node of nodes) {
    const list = readCpuList(read, `/sys/devices/system/node/node${node}/cpulist`, warnings);
    const cpus = (list ?? []).filter((c) => allowed.has(c));
    if (cpus.length > 0) groups.push(cpus);
  }
  return groups.flat().length === allowed.size ? groups : undefined;
}

/**
 * Drops all but the first allowed hardware thread of each core. A CPU is kept
 * when it is the smallest *allowed* id of its `thread_siblings_list`, so a
 * cpuset holding only the second thread of a core still gets that core; a CPU
 * whose siblings cannot be read is kept (with one warning).
 */
function dropHyperThreads(read: ReadText, groups: number[][], warnings: string[]): number[][] {
  const allowed = new Set(groups.flat());
  const unreadable: number[] = [];
  const out = groups.map((group) =>
    group.filter((cpu) => {
      const path = `/sys/devices/system/cpu/cpu${cpu}/topology/thread_siblings_list`;
      const siblings = readCpuList(read, path, warnings)?.filter((s) => allowed.has(s));
      if (siblings === undefined || siblings.length === 0) {
        unreadable.push(cpu);
        return true;
      }
      return Math.min(...siblings) === cpu;
    })
  ).filter((g) => g.length > 0);
  if (unreadable.length > 0) {
    warnings.push(
      `Cannot read the thread siblings of CPU(s) ${unreadable.join(",")}; keeping them`,
    );
  }
  return out;
}

/**
 * Detects the CPUs this process may use: the affinity mask, one group per
 * NUMA node when there are several, optionally one thread per core.
 *
 * @example Usage
 * ```ts
 * import { detectCpus } from "./detect.ts";
 * import assert from "node:assert/strict";
 * const files: Record<string, string> = { "/proc/self/status": "Cpus_allowed_list:\t0-3\n" };
 * const { pool } = detectCpus((p) => files[p], { fallbackCount: 1 });
 * assert.deepEqual(pool?.groups, [["0", "1", "2", "3"]]);
 * // Without an affinity mask, the fallback count is used.
 * assert.deepEqual(detectCpus(() => undefined, { fallbackCount: 2 }).pool?.groups, [["0", "1"]]);
 * ```
 */
export function detectCpus(read: ReadText, options: DetectCpusOptions): Detected {
  const warnings: string[] = [];
  let allowed = affinityMask(read, warnings);
  if (allowed === undefined) {
    const n = Math.max(1, Math.floor(options.fallbackCount));
    allowed = Array.from({ length: n }, (_, i) => i);
  }
  let groups = numaGroups(read, new Set(allowed), warnings) ?? [allowed];
  const slurmCpus = options.env?.["SLURM_CPUS_ON_NODE"];
  if (slurmCpus !== undefined && INT_REGEXP.test(slurmCpus.trim())) {
    const n = Number(slurmCpus);
    if (n > 0 && n < allowed.length) {
      warnings.push(
        `The affinity mask allows ${allowed.length} CPUs but SLURM_CPUS_ON_NODE is ${n}; ` +
          `use --cpus to restrict the worker`,
      );
    }
  }
  if (options.noHyperThreading) groups = dropHyperThreads(read, groups, warnings);
  const labels = groups.map((g) => g.map(String));
  const pool: ResourcePool = labels.length > 1
    ? { name: "cpus", kind: "groups", groups: labels, size: 0 }
    : { name: "cpus", kind: "list", groups: labels, size: 0 };
  return { pool, warnings };
}

/**
 * Parses a `*_VISIBLE_DEVICES` list. Returns undefined (and a warning) for a
 * list with empty or duplicate items, so the caller falls back.
 */
function visibleDevices(variable: string, value: string, warnings: string[]): string[] | undefined {
  if (value.trim() === "") return [];
  const items = value.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    warnings.push(`Ignoring ${variable}="${value}": empty item in the list`);
    return undefined;
  }
  if (new Set(items).size !== items.length) {
    warnings.push(`Ignoring ${variable}="${value}": duplicate items in the list`);
    return undefined;
  }
  return items;
}

function gpuPool(name: string, labels: string[], kind: "list" | "range"): ResourcePool | null {
  return labels.length === 0 ? null : { name, kind, groups: [labels], size: 0 };
}

/**
 * Detects NVIDIA GPUs: the list in `CUDA_VISIBLE_DEVICES` (an empty value
 * means none), else one index per entry of `/proc/driver/nvidia/gpus`.
 *
 * @example Usage
 * ```ts
 * import { detectNvidiaGpus } from "./detect.ts";
 * import assert from "node:assert/strict";
 * const { pool } = detectNvidiaGpus(() => ["0000:01:00.0"], { CUDA_VISIBLE_DEVICES: "2,3" });
 * assert.deepEqual(pool?.groups, [["2", "3"]]);
 * // Without the variable, one index per driver entry.
 * const listed = detectNvidiaGpus(() => ["0000:01:00.0", "0000:02:00.0"], {});
 * assert.deepEqual(listed.pool?.groups, [["0", "1"]]);
 * ```
 */
export function detectNvidiaGpus(listDir: ListDir, env: EnvRecord): Detected {
  const warnings: string[] = [];
  const value = env["CUDA_VISIBLE_DEVICES"];
  const fromEnv = value === undefined
    ? undefined
    : visibleDevices("CUDA_VISIBLE_DEVICES", value, warnings);
  if (fromEnv !== undefined) return { pool: gpuPool("gpus/nvidia", fromEnv, "list"), warnings };
  const n = listDir("/proc/driver/nvidia/gpus")?.length ?? 0;
  const labels = Array.from({ length: n }, (_, i) => String(i));
  return { pool: gpuPool("gpus/nvidia", labels, "range"), warnings };
}

/**
 * Detects AMD GPUs from `ROCR_VISIBLE_DEVICES`.
 *
 * @example Usage
 * ```ts
 * import { detectAmdGpus } from "./detect.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(detectAmdGpus({ ROCR_VISIBLE_DEVICES: "0,1" }).pool?.groups, [["0", "1"]]);
 * ```
 */
export function detectAmdGpus(env: EnvRecord): Detected {
  const warnings: string[] = [];
  const value = env["ROCR_VISIBLE_DEVICES"];
  const list = value === undefined
    ? undefined
    : visibleDevices("ROCR_VISIBLE_DEVICES", value, warnings);
  return { pool: gpuPool("gpus/amd", list ?? [], "list"), warnings };
}

/**
 * Detects the resources in `options.what`; pools come in {@link DETECT_ITEMS}
 * order, resources that were not found are left out.
 *
 * @example Usage
 * ```ts
 * import { detectResources } from "./detect.ts";
 * import assert from "node:assert/strict";
 * const r = detectResources({
 *   what: new Set(["gpus/amd"]),
 *   read: () => undefined,
 *   listDir: () => undefined,
 *   env: { ROCR_VISIBLE_DEVICES: "1" },
 *   fallbackCpuCount: 1,
 * });
 * assert.deepEqual(r.pools.map((p) => p.name), ["gpus/amd"]);
 * ```
 */
export function detectResources(options: DetectOptions): DetectResult {
  const pools: ResourcePool[] = [];
  const warnings: string[] = [];
  for (const item of DETECT_ITEMS) {
    if (!options.what.has(item)) continue;
    const found = detectOne(item, options);
    if (found.pool !== null) pools.push(found.pool);
    warnings.push(...found.warnings);
  }
  return { pools, warnings };
}

function detectOne(item: DetectItem, o: DetectOptions): Detected {
  switch (item) {
    case "cpus":
      return detectCpus(o.read, {
        fallbackCount: o.fallbackCpuCount,
        noHyperThreading: o.noHyperThreading ?? false,
        env: o.env,
      });
    case "gpus/nvidia":
      return detectNvidiaGpus(o.listDir, o.env);
    case "gpus/amd":
      return detectAmdGpus(o.env);
    case "mem":
      return detectMemory(o.read, o.env);
    default:
      return assertNever(item, "detect item");
  }
}
