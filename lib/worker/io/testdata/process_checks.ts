/**
 * Checks on real processes, and start orders, for the worker's process tests.
 *
 * @module
 */
import type { ProgramSpec, TaskTemplate } from "../../../protocol/mod.ts";
import type { StartOrder } from "../../mod.ts";

/** Whether `pid` is gone (no process, or a zombie). */
export function gone(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}

/** Waits up to `ms` for `pred`; whether it came true. */
export async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/**
 * A start order of the `true` program (job 4, task 9, instance 2) with `program` and `over`
 * (the template) overridden, and the order itself with `order`.
 */
export function startOrder(
  program: Partial<ProgramSpec>,
  over: Partial<TaskTemplate> = {},
  order: Partial<StartOrder> = {},
): StartOrder {
  return {
    jobId: 4,
    taskId: 9,
    instance: 2,
    submitDir: "/home/u",
    classKey: "k",
    template: {
      program: { args: ["true"], env: {}, cwd: Deno.cwd(), stdout: null, stderr: null, ...program },
      requests: [{ entries: [], minTimeMs: 0 }],
      pin: null,
      priority: 0,
      timeLimitMs: null,
      crashLimit: 5,
      ...over,
    },
    variant: 0,
    allocation: { resources: [] },
    nodes: null,
    startedAt: 0,
    ...order,
  };
}
