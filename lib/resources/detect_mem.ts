/**
 * Memory detection (see `detect.ts` for the order of sources), in MiB.
 *
 * @module
 */
import type { Detected, EnvRecord, ReadText } from "./_detect_types.ts";

const INT_REGEXP = /^\d+$/;
const MIB = 1024 * 1024;
/** Cgroup limits at or above this many bytes (1 EiB) mean "no limit". */
const ABSURD_LIMIT_BYTES = 2 ** 60;

function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || !INT_REGEXP.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

function slurmMemMib(env: EnvRecord, warnings: string[]): number | undefined {
  if (env["SLURM_JOB_ID"] === undefined && env["SLURM_JOBID"] === undefined) return undefined;
  const perNode = env["SLURM_MEM_PER_NODE"];
  if (perNode !== undefined) {
    const n = positiveInt(perNode);
    if (n !== undefined) return n;
    warnings.push(`Ignoring SLURM_MEM_PER_NODE="${perNode}": expected a positive integer (MiB)`);
  }
  const perCpu = positiveInt(env["SLURM_MEM_PER_CPU"]);
  const cpus = positiveInt(env["SLURM_CPUS_ON_NODE"]);
  return perCpu !== undefined && cpus !== undefined ? perCpu * cpus : undefined;
}

function memTotalMib(read: ReadText): number | undefined {
  const line = read("/proc/meminfo")?.split("\n").find((l) => l.startsWith("MemTotal:"));
  const m = line === undefined ? null : /^MemTotal:\s*(\d+)\s*kB/.exec(line);
  return m ? Math.floor(Number(m[1]) / 1024) : undefined;
}

/** `/a/b` → `["/a/b", "/a", "/"]`. */
function ancestors(path: string): string[] {
  const parts = path.split("/").filter((p) => p !== "");
  const out: string[] = [];
  for (let i = parts.length; i >= 0; i--) out.push("/" + parts.slice(0, i).join("/"));
  return out;
}

/** Smallest cgroup (v2 and v1) memory limit in bytes over this process's cgroup and its ancestors. */
function cgroupLimitBytes(read: ReadText): number | undefined {
  const files: string[] = [];
  for (const line of (read("/proc/self/cgroup") ?? "").split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1).trim();
    if (line.slice(0, first) === "0" && controllers === "") {
      for (const dir of ancestors(path)) {
        files.push(`/sys/fs/cgroup${dir === "/" ? "" : dir}/memory.max`);
      }
    } else if (controllers.split(",").includes("memory")) {
      for (const dir of ancestors(path)) {
        files.push(`/sys/fs/cgroup/memory${dir === "/" ? "" : dir}/memory.limit_in_bytes`);
      }
    }
  }
  let best: number | undefined;
  for (const file of files) {
    const text = read(file)?.trim();
    if (text === undefined || !INT_REGEXP.test(text)) continue; // missing, or "max"
    const bytes = Number(text);
    if (bytes > 0 && bytes < ABSURD_LIMIT_BYTES && (best === undefined || bytes < best)) {
      best = bytes;
    }
  }
  return best;
}

/**
 * Detects the memory this process may use, in MiB (see the module docs for
 * the order of sources).
 *
 * @example Usage
 * ```ts
 * import { detectMemory } from "./detect_mem.ts";
 * import assert from "node:assert/strict";
 * const files: Record<string, string> = { "/proc/meminfo": "MemTotal:  2097152 kB\n" };
 * assert.equal(detectMemory((p) => files[p], {}).pool?.size, 2048);
 * ```
 */
export function detectMemory(read: ReadText, env: EnvRecord): Detected {
  const warnings: string[] = [];
  const sum = (size: number): Detected => ({
    pool: { name: "mem", kind: "sum", groups: [], size },
    warnings,
  });
  const slurm = slurmMemMib(env, warnings);
  if (slurm !== undefined) return sum(slurm);
  const total = memTotalMib(read);
  const limit = cgroupLimitBytes(read);
  if (limit !== undefined) {
    const mib = Math.floor(limit / MIB);
    if (mib > 0 && (total === undefined || mib < total)) return sum(mib);
  }
  if (total !== undefined && total > 0) return sum(total);
  warnings.push("Cannot detect memory: /proc/meminfo has no MemTotal");
  return { pool: null, warnings };
}
