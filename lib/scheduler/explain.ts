/**
 * Why a task can or cannot run on each live worker (`hq task explain`),
 * per variant, with HyperQueue's blocker kinds.
 *
 * @module
 */
import type { WorkerId } from "../ids.ts";
import { formatAmount } from "../resources/amount.ts";
import { formatDuration } from "../cli/duration.ts";
import { blockKey, type Job, type ServerState } from "./state.ts";
import { entryAmount } from "./worker_load.ts";
import { groupSizes } from "./multinode.ts";

/** One reason a variant cannot run on a worker. */
export interface ExplainBlocker {
  /** `Time`, `Resources`, `WorkerGroup` (multi-node: the group is too small) or `Rejected`. */
  type: "Time" | "Resources" | "WorkerGroup" | "Rejected";
  /** What the worker offers. */
  provides: string;
  /** What the task asks for. */
  request: string;
}

/** Explanation for one worker and variant. */
export interface ExplainVariant {
  /** Variant index. */
  variant: number;
  /** Reasons it cannot run; empty when it can. */
  blockers: ExplainBlocker[];
}

/** Explanation for one worker. */
export interface ExplainWorker {
  /** Worker id. */
  workerId: WorkerId;
  /** Whether some variant can run there (ignoring what is busy now). */
  runnable: boolean;
  /** Per variant. */
  variants: ExplainVariant[];
}

/** The whole explanation. */
export interface Explanation {
  /** Live workers, by id. */
  workers: ExplainWorker[];
  /** Dependencies not finished yet (always 0 until dependencies exist). */
  waitingDeps: number;
  /** All dependencies. */
  totalDeps: number;
}

/** Explains a task of `job` against the live workers at time `now`. */
export function explainTask(state: ServerState, job: Job, now: number): Explanation {
  const cls = state.classes.get(job.classId)!;
  const workers: ExplainWorker[] = [];
  const sizes = groupSizes(state);
  for (const w of state.workers.values()) {
    if (w.state !== "running") continue;
    const variants: ExplainVariant[] = cls.variants.map((req, variant) => {
      const blockers: ExplainBlocker[] = [];
      if (w.endsAt !== null && now + req.minTimeMs > w.endsAt) {
        blockers.push({
          type: "Time",
          provides: formatDuration(Math.max(0, w.endsAt - now)),
          request: formatDuration(req.minTimeMs),
        });
      }
      const nNodes = req.nNodes ?? 0;
      const groupSize = sizes.get(w.config.group) ?? 0;
      if (nNodes > 0 && groupSize < nNodes) {
        blockers.push({
          type: "WorkerGroup",
          provides: `group ${w.config.group} has ${groupSize} worker${groupSize === 1 ? "" : "s"}`,
          request: `${nNodes} nodes`,
        });
      }
      for (const entry of req.entries) {
        const total = w.capacity.get(entry.resource) ?? 0;
        const needed = entryAmount(entry, w.capacity);
        if (total === 0 || needed > total) {
          blockers.push({
            type: "Resources",
            provides: `${entry.resource}: ${formatAmount(total)}`,
            request: `${entry.resource}: ${
              entry.policy === "all" ? "all" : formatAmount(entry.amount)
            }`,
          });
        }
      }
      if (w.blocked.has(blockKey(cls.id, variant))) {
        blockers.push({
          type: "Rejected",
          provides: "rejected by the worker until it frees resources",
          request: `variant ${variant}`,
        });
      }
      return { variant, blockers };
    });
    workers.push({
      workerId: w.id,
      runnable: variants.some((v) => v.blockers.length === 0),
      variants,
    });
  }
  return { workers, waitingDeps: 0, totalDeps: 0 };
}
