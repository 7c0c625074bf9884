/**
 * Host adapters for `detect.ts`: the real filesystem and environment. This is
 * the only resources file that touches `Deno.*`.
 *
 * @module
 */
import type { DetectOptions, ListDir, ReadText } from "./detect.ts";

/**
 * A reader of the real filesystem under `root` (default: `/`, i.e. no prefix).
 *
 * @example Usage
 * ```ts ignore
 * import { fileReader } from "./detect_host.ts";
 * const status = fileReader()("/proc/self/status");
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
 * A directory lister of the real filesystem under `root` (default: `/`).
 *
 * @example Usage
 * ```ts ignore
 * import { dirLister } from "./detect_host.ts";
 * const gpus = dirLister()("/proc/driver/nvidia/gpus")?.length ?? 0;
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
 * ```ts ignore
 * import { hostDetectOptions } from "./detect_host.ts";
 * import { detectResources } from "./detect.ts";
 * const { pools } = detectResources({ ...hostDetectOptions(false), what: new Set(["cpus"]) });
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
