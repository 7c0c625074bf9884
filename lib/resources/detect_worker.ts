/**
 * The worker's resource flags (`--cpus`, `--resource NAME=DEF`,
 * `--detect-resources`) combined with detection, and the `hq worker hwdetect`
 * output. Pure: detection reads through the injected readers of
 * {@link DetectOptions}.
 *
 * Rules (HyperQueue's, reference §1.2 and §3.3):
 *
 * - a resource defined explicitly is never detected (nor overridden);
 * - `--cpus` and `--resource cpus=...` cannot be combined, and CPUs cannot be a
 *   sum pool;
 * - a `--resource` name may be given once;
 * - without CPU detection, CPUs must be defined explicitly.
 *
 * @module
 */
import { quote } from "../common/mod.ts";
import { parsePool, type ResourcePool } from "./descriptor.ts";
import {
  DETECT_ITEMS,
  type DetectItem,
  type DetectOptions,
  detectResources,
  type DetectResult,
} from "./detect.ts";

/** The resource flags of `hq worker start`, as given on the command line. */
export interface WorkerResourceFlags {
  /** `--cpus DEF`, when given. */
  cpus?: string | undefined;
  /** Every `--resource NAME=DEF`, in order. @default {[]} */
  resources?: readonly string[];
  /** `--detect-resources`: `all`, `none` or a comma list of items. @default {"all"} */
  detectResources?: string;
}

/** Explicit pools and what is left to detect. */
export interface ResourcePlan {
  /** Pools defined on the command line, `cpus` first when defined. */
  explicit: ResourcePool[];
  /** Resources to detect: the chosen items minus the explicitly defined ones. */
  detect: Set<DetectItem>;
}

const RESOURCE_NAME_REGEXP = /^[A-Za-z][A-Za-z0-9/]*$/;

/**
 * Parses `--detect-resources`: `all`, `none`, or a comma list of
 * `cpus`, `mem`, `gpus/nvidia`, `gpus/amd`.
 *
 * @example Usage
 * ```ts
 * import { parseDetectList } from "./detect_worker.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...parseDetectList("mem,cpus")], ["mem", "cpus"]);
 * ```
 *
 * @throws {SyntaxError} On an unknown item, an empty item, or `all`/`none` inside a list.
 */
export function parseDetectList(text: string): Set<DetectItem> {
  const items = text.split(",").map((s) => s.trim());
  if (items.length === 1 && items[0] === "all") return new Set(DETECT_ITEMS);
  if (items.length === 1 && items[0] === "none") return new Set();
  const out = new Set<DetectItem>();
  for (const item of items) {
    if (item === "all" || item === "none") {
      throw new SyntaxError(
        `Invalid value ${quote(text)} for --detect-resources: ${
          quote(item)
        } cannot be combined with other items`,
      );
    }
    const known = DETECT_ITEMS.find((d) => d === item);
    if (known === undefined) {
      throw new SyntaxError(
        `Invalid value ${quote(text)} for --detect-resources: unknown item ${quote(item)} ` +
          `(expected all, none, or a list of ${DETECT_ITEMS.join(",")})`,
      );
    }
    out.add(known);
  }
  return out;
}

/**
 * Splits `--resource NAME=DEF` at the first `=` and parses the definition.
 *
 * @throws {SyntaxError} Without `=`, with an invalid name, or an unparsable definition.
 * @throws {RangeError} On an empty pool.
 */
function parseResourceFlag(arg: string): ResourcePool {
  const eq = arg.indexOf("=");
  if (eq < 0) {
    throw new SyntaxError(`Invalid value ${quote(arg)} for --resource: expected NAME=DEF`);
  }
  const name = arg.slice(0, eq).trim();
  if (!RESOURCE_NAME_REGEXP.test(name)) {
    throw new SyntaxError(
      `Invalid value ${quote(arg)} for --resource: resource name ${
        quote(name)
      } must start with a letter ` +
        `and contain only letters, digits or "/"`,
    );
  }
  return parsePool(name, arg.slice(eq + 1));
}

function rejectSumCpus(pool: ResourcePool, flag: string, input: string): void {
  if (pool.name === "cpus" && pool.kind === "sum") {
    throw new TypeError(`Invalid value ${quote(input)} for ${flag}: cpus cannot be a sum pool`);
  }
}

/**
 * Checks the resource flags and splits them into explicit pools and the set
 * of resources still to detect.
 *
 * @example Usage
 * ```ts
 * import { planWorkerResources } from "./detect_worker.ts";
 * import assert from "node:assert/strict";
 * const plan = planWorkerResources({ resources: ["gpus/nvidia=[3]"] });
 * assert.deepEqual([...plan.detect], ["cpus", "gpus/amd", "mem"]);
 * ```
 *
 * @throws {SyntaxError} On malformed flags (see {@link parseDetectList}).
 * @throws {TypeError} On conflicting or duplicate definitions, sum CPUs, or missing CPUs.
 * @throws {RangeError} On an empty pool.
 */
export function planWorkerResources(flags: WorkerResourceFlags): ResourcePlan {
  const chosen = parseDetectList(flags.detectResources ?? "all");
  const explicit: ResourcePool[] = [];
  if (flags.cpus !== undefined) {
    const cpus = parsePool("cpus", flags.cpus);
    rejectSumCpus(cpus, "--cpus", flags.cpus);
    explicit.push(cpus);
  }
  for (const arg of flags.resources ?? []) {
    const pool = parseResourceFlag(arg);
    if (pool.name === "cpus" && flags.cpus !== undefined) {
      throw new TypeError(
        `Invalid value ${quote(arg)} for --resource: cannot be combined with --cpus`,
      );
    }
    if (explicit.some((p) => p.name === pool.name)) {
      throw new TypeError(
        `Invalid value ${quote(arg)} for --resource: resource ${quote(pool.name)} is defined twice`,
      );
    }
    rejectSumCpus(pool, "--resource", arg);
    if (pool.name === "cpus") explicit.unshift(pool);
    else explicit.push(pool);
  }
  const names = new Set(explicit.map((p) => p.name));
  const detect = new Set([...chosen].filter((d) => !names.has(d)));
  if (!names.has("cpus") && !detect.has("cpus")) {
    throw new TypeError(
      `Invalid value ${quote(flags.detectResources ?? "all")} for --detect-resources: ` +
        `--cpus is required when CPU detection is off`,
    );
  }
  return { explicit, detect };
}

/**
 * Combines explicit and detected pools: explicit ones win, `cpus` comes first,
 * then the explicit pools in flag order, then the remaining detected ones.
 *
 * @example Usage
 * ```ts
 * import { mergeResources } from "./detect_worker.ts";
 * import assert from "node:assert/strict";
 * const mem = (size: number) => ({ name: "mem", kind: "sum" as const, groups: [], size });
 * assert.deepEqual(mergeResources([mem(5)], [mem(9)]), [mem(5)]);
 * ```
 */
export function mergeResources(
  explicit: readonly ResourcePool[],
  detected: readonly ResourcePool[],
): ResourcePool[] {
  const names = new Set(explicit.map((p) => p.name));
  const all = [...explicit, ...detected.filter((p) => !names.has(p.name))];
  return [...all.filter((p) => p.name === "cpus"), ...all.filter((p) => p.name !== "cpus")];
}

/**
 * The worker's final pools: checks the flags, detects what is left to detect
 * and merges.
 *
 * @example Usage
 * ```ts
 * import { resolveWorkerResources } from "./detect_worker.ts";
 * import assert from "node:assert/strict";
 * const r = resolveWorkerResources({ cpus: "2", detectResources: "gpus/nvidia" }, {
 *   read: () => undefined,
 *   listDir: () => undefined,
 *   env: { CUDA_VISIBLE_DEVICES: "0" },
 *   fallbackCpuCount: 1,
 * });
 * assert.deepEqual(r.pools.map((p) => p.name), ["cpus", "gpus/nvidia"]);
 * ```
 *
 * @throws {SyntaxError | TypeError | RangeError} As {@link planWorkerResources}.
 */
export function resolveWorkerResources(
  flags: WorkerResourceFlags,
  host: Omit<DetectOptions, "what">,
): DetectResult {
  const plan = planWorkerResources(flags);
  const found = detectResources({ ...host, what: plan.detect });
  return { pools: mergeResources(plan.explicit, found.pools), warnings: found.warnings };
}
