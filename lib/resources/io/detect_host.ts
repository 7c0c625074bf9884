/**
 * Host adapters for `detect.ts`: the real filesystem and environment. This is
 * the only resources file that touches `Deno.*`.
 *
 * @module
 */
import type { DetectOptions, ListDir, ReadText } from "../mod.ts";

/**
 * A reader of the real filesystem under `root`, a prefix put before every path (default: none,
 * i.e. `/`). Missing or unreadable files read as `undefined`.
 *
 * @example Usage
 * ```ts
 * import { fileReader } from "./detect_host.ts";
 * import assert from "node:assert/strict";
 * const root = await Deno.makeTempDir();
 * try {
 *   await Deno.mkdir(`${root}/proc`);
 *   await Deno.writeTextFile(`${root}/proc/meminfo`, "MemTotal: 1024 kB\n");
 *   const read = fileReader(root);
 *   assert.equal(read("/proc/meminfo"), "MemTotal: 1024 kB\n");
 *   assert.equal(read("/proc/missing"), undefined);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export function fileReader(root = ""): ReadText {
  return (path) => {
    try {
      return Deno.readTextFileSync(root + path);
    } catch {
      return undefined;
    }
  };
}

/**
 * A directory lister of the real filesystem under `root`, a path prefix as for
 * {@link fileReader}. Missing or unreadable directories list as `undefined`.
 *
 * @example Usage
 * ```ts
 * import { dirLister } from "./detect_host.ts";
 * import assert from "node:assert/strict";
 * const root = await Deno.makeTempDir();
 * try {
 *   await Deno.mkdir(`${root}/gpus/0000:01:00.0`, { recursive: true });
 *   const list = dirLister(root);
 *   assert.deepEqual(list("/gpus"), ["0000:01:00.0"]);
 *   assert.equal(list("/none"), undefined);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export function dirLister(root = ""): ListDir {
  return (path) => {
    try {
      return [...Deno.readDirSync(root + path)].map((e) => e.name);
    } catch {
      return undefined;
    }
  };
}

/**
 * Detection sources of this host: its files, its environment and its thread
 * count as the CPU fallback (everything {@link DetectOptions} needs but `what`).
 *
 * @example Usage
 * ```ts
 * import { hostDetectOptions } from "./detect_host.ts";
 * import { detectResources } from "../detect.ts";
 * import assert from "node:assert/strict";
 * const { pools } = detectResources({ ...hostDetectOptions(false), what: new Set(["cpus"]) });
 * // Every host has CPUs; how many depends on the machine.
 * assert.equal(pools.length, 1);
 * assert.equal(pools[0]!.name, "cpus");
 * assert.ok(pools[0]!.groups.flat().length >= 1);
 * ```
 */
export function hostDetectOptions(noHyperThreading: boolean): Omit<DetectOptions, "what"> {
  return {
    noHyperThreading,
    read: fileReader(),
    listDir: dirLister(),
    env: Deno.env.toObject(),
    fallbackCpuCount: navigator.hardwareConcurrency,
  };
}
