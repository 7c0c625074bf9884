/**
 * Types shared by the detection files (re-exported by `detect.ts`).
 *
 * @module
 */
import type { ResourcePool } from "./descriptor.ts";

/** Reads a text file; `undefined` when it is missing or unreadable. */
export type ReadText = (path: string) => string | undefined;

/** Lists the entry names of a directory; `undefined` when it is missing or unreadable. */
export type ListDir = (path: string) => string[] | undefined;

/** Environment variables, as `Deno.env.toObject()` returns them. */
export type EnvRecord = Readonly<Record<string, string | undefined>>;

/** A resource that can be detected (the items of `--detect-resources`). */
export type DetectItem = "cpus" | "mem" | "gpus/nvidia" | "gpus/amd";

/** Every detectable resource, in the order detected pools are listed. */
export const DETECT_ITEMS: readonly DetectItem[] = ["cpus", "gpus/nvidia", "gpus/amd", "mem"];

/** Result of one detector: the pool (null when nothing was found) and warnings. */
export interface Detected {
  pool: ResourcePool | null;
  /** Human-readable warnings, one line each. */
  warnings: string[];
}
