/**
 * Resource detection from injectable file roots (so tests can use fake trees).
 *
 * @module
 */
import type { ResourcePool } from "./descriptor.ts";

/** Reads a text file under a root; undefined when missing. */
export type ReadText = (path: string) => string | undefined;

/** Parses a Linux CPU list such as `0-3,8,10-11`. @throws {SyntaxError} */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    if (part === "") continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new SyntaxError(`Cannot parse CPU list "${text.trim()}": bad item "${part}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

/** Detects the CPUs this process may use (affinity mask), grouped by NUMA node when known. */
export function detectCpus(read: ReadText, fallbackCount: number): ResourcePool {
  const status = read("/proc/self/status");
  const line = status?.split("\n").find((l) => l.startsWith("Cpus_allowed_list:"));
  let allowed = line ? parseCpuList(line.split(":")[1]!) : [];
  if (allowed.length === 0) {
    allowed = Array.from({ length: Math.max(1, fallbackCount) }, (_, i) => i);
  }
  const possible = read("/sys/devices/system/node/possible");
  const groups: string[][] = [];
  if (possible) {
    for (const node of parseCpuList(possible)) {
      const list = read(`/sys/devices/system/node/node${node}/cpulist`);
      if (!list) continue;
      const cpus = parseCpuList(list).filter((c) => allowed.includes(c));
      if (cpus.length > 0) groups.push(cpus.map(String));
    }
  }
  if (groups.length > 1 && groups.flat().length === allowed.length) {
    return { name: "cpus", kind: "groups", groups, size: 0 };
  }
  return { name: "cpus", kind: "list", groups: [allowed.map(String)], size: 0 };
}

/** A reader of the real filesystem under `root` (default `/`). */
export function fileReader(root = ""): ReadText {
  return (path) => {
    try {
      return Deno.readTextFileSync(root + path);
    } catch {
      return undefined;
    }
  };
}
