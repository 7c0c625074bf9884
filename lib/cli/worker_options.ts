/**
 * The worker options `hq worker start` shares with `hq alloc add` (HyperQueue's
 * `SharedWorkerStartOpts`): resources, group, detection, idle timeout,
 * min-utilization.
 *
 * @module
 */
import type { OptionSpec } from "./args.ts";
import { durationArg } from "./arg_checks.ts";

const MIN_UTILIZATION_REGEXP = /^(0(\.\d{1,4})?|1(\.0{1,4})?|\.\d{1,4})$/;

/** Options `hq worker start` shares with `hq alloc add` (HyperQueue's `SharedWorkerStartOpts`). */
/** Options shared by `worker start` and `alloc add`. */
export const SHARED_WORKER_OPTIONS: readonly OptionSpec[] = [
  {
    long: "cpus",
    value: "CPUS",
    help: "CPU layout: N, NxM, [a,b], [[..],[..]] or range(a-b) (default: detected)",
  },
  {
    long: "resource",
    value: "RESOURCE",
    multiple: true,
    help: "Resource pool NAME=DEF: N, NxM, [a,b], [[..],[..]], range(a-b) or sum(N)",
  },
  { long: "group", value: "GROUP", help: "Worker group for multi-node tasks" },
  {
    long: "coupling",
    value: "COUPLING",
    check: (v) => {
      const item = /^[A-Za-z][A-Za-z0-9/]*\[\d+\]:[A-Za-z][A-Za-z0-9/]*\[\d+\](=\d+)?$/;
      if (!v.split(",").every((x) => item.test(x.trim()))) {
        throw new SyntaxError("expected items like cpus[0]:gpus[0]=256, separated by commas");
      }
    },
    help: "Resource group coupling, e.g. cpus[0]:gpus[0],cpus[1]:gpus[1] (accepted, not used)",
  },
  {
    long: "detect-resources",
    value: "DETECT_RESOURCES",
    default: "all",
    help: "What to detect: all, none, or a list of cpus,mem,gpus/nvidia,gpus/amd",
  },
  { long: "no-hyper-threading", help: "Keep only the first hardware thread of each core" },
  {
    long: "idle-timeout",
    value: "IDLE_TIMEOUT",
    check: durationArg,
    help: "Stop after this long without tasks",
  },
  {
    long: "overview-interval",
    value: "OVERVIEW_INTERVAL",
    check: durationArg,
    help: "How often hardware overviews are sent (accepted; overviews are not collected)",
  },
  {
    long: "min-utilization",
    value: "MIN_UTILIZATION",
    default: "0",
    check: (v) => {
      if (!MIN_UTILIZATION_REGEXP.test(v)) {
        throw new RangeError("Minimal utilization has to be in the interval [0.0, 1.0].");
      }
    },
    help: "Plan work onto the worker only if at least this fraction of its CPUs is used",
  },
];
