/**
 * What the SLURM and PBS end-to-end tests of automatic allocation share: the
 * server setting that makes status queries fast, the allocations of a queue,
 * and the end of the main flow (workers idle out, every allocation finished,
 * `alloc info` says so and why, and the queue's JSON documents have the golden
 * files' shapes).
 *
 * @module
 */
import assert from "node:assert/strict";
import { type AllocationJson, type Cluster, waitFor } from "./_harness.ts";
import { assertShapesIn, golden } from "./_json_shapes.ts";

/** Server environment: status queries every second instead of every 30 minutes. */
export const FAST_REFRESH = { HQ_AUTOALLOC_REFRESH_INTERVAL_MS: "1000" };

/** Allocations of queue `queue` (`alloc info --output-mode json`). */
export async function allocations(c: Cluster, queue = 1): Promise<AllocationJson[]> {
  return await c.json<AllocationJson[]>(["alloc", "info", String(queue)]);
}

/**
 * Waits until the workers of queue 1 left after their 5 s idle timeout and
 * every allocation finished; checks each one's times in the JSON and its row
 * in the table (FINISHED, three times, why it ended), and that `firstId` is
 * among them. Returns the allocations.
 */
export async function assertAllocationsIdledOut(
  c: Cluster,
  firstId: string,
): Promise<AllocationJson[]> {
  await c.waitWorkers(0, 20_000, "the workers to leave after their idle timeout");
  const ended = await waitFor(
    async () => {
      const all = await allocations(c);
      return all.length > 0 && all.every((a) => a.status === "finished") ? all : undefined;
    },
    15_000,
    "every allocation to be FINISHED",
  );
  for (const a of ended) {
    assert.ok(a.started_at !== null && a.ended_at !== null, JSON.stringify(a));
    assert.ok(Date.parse(a.queued_at) <= Date.parse(a.started_at), JSON.stringify(a));
    assert.ok(Date.parse(a.started_at) <= Date.parse(a.ended_at), JSON.stringify(a));
    assert.equal(a.target_worker_count, 1);
  }
  assert.ok(ended.some((a) => a.id === firstId));
  const info = await c.hqOk(["alloc", "info", "1"]);
  for (const a of ended) {
    const row = info.stdout.split("\n").find((l) => l.includes(`| ${a.id} `));
    assert.ok(row, `alloc info lists ${a.id}:\n${info.stdout}`);
    assert.match(row, /\| FINISHED +\|/);
    assert.equal(row.match(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g)?.length, 3, row);
    // Why it ended, in the last column.
    assert.match(row, /\| its workers ended \(idleTimeout\) +\|$/);
  }
  // The queue's documents have the golden files' shapes.
  assertShapesIn(ended, await golden("alloc_info"), "alloc info");
  const documents: [string[], string][] = [
    [["alloc", "list"], "alloc_list"],
    [["alloc", "explain", "1"], "alloc_explain"],
  ];
  for (const [args, name] of documents) {
    assertShapesIn(await c.json(args), await golden(name), args.join(" "));
  }
  return ended;
}
