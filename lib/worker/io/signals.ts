/**
 * Signals to task processes: their process group (tasks that lead one) and their process
 * tree found through `/proc`, SIGINT first and SIGKILL after a grace period.
 *
 * @module
 */

function childrenOf(pid: number): number[] {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`);
    return text.split(" ").filter((s) => s.trim() !== "").map(Number);
  } catch {
    return [];
  }
}

/** The process and all its descendants, parents first. */
export function processTree(pid: number): number[] {
  const result: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    result.push(p);
    stack.push(...childrenOf(p));
  }
  return result;
}

/** Signals a process tree; missing processes are ignored. */
export function killTree(pid: number, signal: Deno.Signal): void {
  for (const p of processTree(pid)) {
    try {
      Deno.kill(p, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Signals every process of group `pgid`; an empty group is ignored. */
export function killGroup(pgid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pgid, signal);
  } catch {
    // No process left in the group.
  }
}

/**
 * Whether process group `pgid` still has a process (a zombie not yet reaped counts).
 * Probes with SIGCONT, as Deno offers no signal 0: meant for a group being ended,
 * whose stopped members may as well resume to handle the SIGINT they were sent.
 */
export function groupExists(pgid: number): boolean {
  try {
    Deno.kill(-pgid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link signalTask}. */
export interface SignalTaskOptions {
  /**
   * Whether to signal the descendants of `pid` found through `/proc` too (those that
   * left the group). Only while `pid` has not been reaped: its number may be reused.
   * @default true
   */
  tree?: boolean;
  /**
   * Whether the task leads its own process group (pgid = `pid`), which is signaled whole.
   * @default true
   */
  group?: boolean;
}

/**
 * Signals a task started by {@link launchTask}: its process group (pgid = `pid`),
 * which keeps the processes orphaned by the end of their parent, and its process
 * tree. Missing processes are ignored.
 */
export function signalTask(
  pid: number,
  signal: Deno.Signal,
  options: SignalTaskOptions = {},
): void {
  if (options.group ?? true) killGroup(pid, signal);
  if (options.tree ?? true) killTree(pid, signal);
}

/** How long a task may take to end after SIGINT before it gets SIGKILL (HyperQueue: 1 s). */
export const KILL_GRACE_MS = 1000;
