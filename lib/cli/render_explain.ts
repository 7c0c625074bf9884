/**
 * `task explain` in HyperQueue's `cli` mode: the dependency sentence, the
 * workers the task can run on, and a table of what each worker provides
 * against what each variant requests.
 *
 * @module
 */
import { type ExplainItemView, type ExplainView, isBlocking } from "../protocol/mod.ts";
import { formatAmount } from "../resources/mod.ts";
import { assertNever, formatHumanDuration, formatIdSet, idSetFromIds } from "../common/mod.ts";
import { renderTable } from "./table.ts";
import { pluralize } from "./text_util.ts";

function itemCells(item: ExplainItemView): [string, string, string] {
  switch (item.kind) {
    case "time":
      return [
        "time",
        item.remaining_time_ms === null ? "unknown" : formatHumanDuration(item.remaining_time_ms),
        formatHumanDuration(item.min_time_ms),
      ];
    case "resources":
      return [item.resource, formatAmount(item.worker_amount), formatAmount(item.request_amount)];
    case "workerGroup":
      return ["nodes", `group size ${item.group_size}`, String(item.n_nodes)];
    default:
      return assertNever(item, "explain item");
  }
}

function dependencyLine(e: ExplainView): string {
  const id = `${e.job_id}@${e.task_id}`;
  if (e.n_task_deps === 0) return `Task ${id} is ready to run because it has no dependencies.`;
  // HyperQueue's own test compares `n_waiting_deps` (unfinished ones) with the total, which
  // calls a task whose dependencies all wait "ready"; the unfinished count decides here.
  if (e.n_waiting_deps === 0) {
    return `Task ${id} is ready to run because its all ${e.n_task_deps} dependencies are finished.`;
  }
  return `Task ${id} is not ready to run, because ${e.n_waiting_deps}/${e.n_task_deps} dependencies are not finished.`;
}

/**
 * `task explain`: the dependency sentence, the workers it can run on, then
 * per worker and non-empty variant (0-based) a row with the items' Type,
 * Provides and Request, one item per line.
 *
 * @example Usage
 * ```ts
 * import { renderExplain } from "./render_explain.ts";
 * import assert from "node:assert/strict";
 * const text = renderExplain({
 *   job_id: 1,
 *   task_id: 0,
 *   state: "waiting",
 *   n_task_deps: 0,
 *   n_waiting_deps: 0,
 *   workers: [{
 *     worker_id: 2,
 *     runnable: false,
 *     variants: [[
 *       { kind: "resources", resource: "gpus", request_amount: 20000, worker_amount: 0 },
 *     ]],
 *   }],
 * });
 * const lines = text.split("\n");
 * assert.equal(lines[0], "Task 1@0 is ready to run because it has no dependencies.");
 * assert.equal(lines[1], "There is no worker where the task can run.");
 * assert.equal(lines[5], "| 2         | No       | 0       | gpus | 0        | 2       |");
 * ```
 */
export function renderExplain(e: ExplainView): string {
  const lines = [dependencyLine(e)];
  const runnable = e.workers.filter((w) => w.variants.some((v) => !v.some(isBlocking)));
  if (runnable.length === 0) lines.push("There is no worker where the task can run.");
  else {
    const ids = formatIdSet(idSetFromIds(runnable.map((w) => w.worker_id)));
    lines.push(
      `The task can run on ${runnable.length} ${pluralize("worker", runnable.length)}: ${ids}`,
    );
  }
  if (e.workers.length === 0) return lines.join("\n");
  const rows: string[][] = [];
  for (const w of e.workers) {
    const enabled = w.variants.filter((v) => !v.some(isBlocking)).length;
    const canRun = enabled === 0
      ? "No"
      : w.variants.length === 1
      ? "Yes"
      : `Yes (${enabled}/${w.variants.length})`;
    let first = true;
    w.variants.forEach((items, i) => {
      if (items.length === 0) return;
      const cells = items.map(itemCells);
      rows.push([
        first ? String(w.worker_id) : "",
        first ? canRun : "",
        String(i),
        cells.map((c) => c[0]).join("\n"),
        cells.map((c) => c[1]).join("\n"),
        cells.map((c) => c[2]).join("\n"),
      ]);
      first = false;
    });
    if (first) rows.push([String(w.worker_id), canRun, "", "", "", ""]);
  }
  lines.push(
    renderTable(["Worker Id", "Runnable", "Variant", "Type", "Provides", "Request"], rows),
  );
  return lines.join("\n");
}
