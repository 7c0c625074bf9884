/**
 * Private: helpers for the unit tests of the round's stages (the
 * `schedule_*_test.ts` files): a round begun on a test state, and its
 * pending placements in the notation of `sim/_fixtures.ts`'s `sent()`.
 *
 * @module
 */
import type { ServerState } from "../state.ts";
import { beginRound, type RoundContext } from "../schedule_context.ts";

/** Begins a round at `now` with a fresh outbox; fails when no worker is running. */
export function begin(state: ServerState, now = 0): RoundContext {
  const round = beginRound(state, now, new Map());
  if (round === null) throw new Error("Cannot begin a round: no worker is running");
  return round;
}

/**
 * The round's pending single-node placements by worker id: `job:task/vN` for a task to run
 * with variant N, `job:task/q` for a prefilled one.
 */
export function pendingOf(round: RoundContext): Record<number, string[]> {
  const result: Record<number, string[]> = {};
  for (const [workerId, groups] of round.pending) {
    result[workerId] = groups.flatMap((g) =>
      g.ids.map((id) => `${g.jobId}:${id}/${g.variant === null ? "q" : `v${g.variant}`}`)
    );
  }
  return result;
}
