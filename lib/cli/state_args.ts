/**
 * State lists on the command line (`--filter`, `--task-status`): the states a command
 * accepts, the check of a comma-separated list and its parsed value.
 *
 * @module
 */
import { type Parsed } from "./args.ts";
import { optList } from "./parsed_values.ts";
import type { TaskStateName } from "../protocol/mod.ts";

/** Task states a filter names, in HyperQueue's words. */
export const TASK_STATE_NAMES = [
  "waiting",
  "running",
  "finished",
  "failed",
  "canceled",
  "aborted",
] as const;

/** Job states a filter names (the task states and `opened`). */
export const JOB_STATE_NAMES = [...TASK_STATE_NAMES, "opened"] as const;

/**
 * Check of a comma-separated state list against `allowed`.
 *
 * @example Usage
 * ```ts
 * import { stateListArg, TASK_STATE_NAMES } from "./state_args.ts";
 * import assert from "node:assert/strict";
 * stateListArg(TASK_STATE_NAMES)("failed,canceled");
 * assert.throws(() => stateListArg(TASK_STATE_NAMES)("done"), /unknown state 'done'/);
 * ```
 */
export function stateListArg(allowed: readonly string[]): (value: string) => void {
  return (value) => {
    for (const s of value.split(",")) {
      if (!allowed.includes(s)) {
        throw new RangeError(`unknown state '${s}' [possible values: ${allowed.join(", ")}]`);
      }
    }
  };
}

/** The states given with option `long` (repeated or comma-separated), or null for none. */
export function stateFilter(p: Parsed, long: string): string[] | null {
  const list = optList(p, long);
  return list.length === 0 ? null : list.flatMap((v) => v.split(","));
}

/**
 * The task states named by a repeatable state-list option checked with
 * `stateListArg(TASK_STATE_NAMES)`, or null when it is absent.
 */
export function taskStateFilter(p: Parsed, long: string): TaskStateName[] | null {
  return stateFilter(p, long) as TaskStateName[] | null;
}
