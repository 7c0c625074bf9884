/**
 * The `worker` commands that only read: `worker list` and `worker info`. The worker role
 * lists them in its `worker` tree, and the umbrella runs them through the query part
 * (`query_workers/mod.ts`) without loading the rest of that role.
 *
 * @module
 */
import { withClient } from "../../client/io/mod.ts";
import { idSetIterate, parseSelector, resolveSelector } from "../../common/mod.ts";
import type { WorkerView } from "../../protocol/mod.ts";
import { argString, optFlag, optString } from "../parsed_values.ts";
import { selectorArg } from "../arg_checks.ts";
import { workerInfoJson, workerListJson } from "../hq_json_workers.ts";
import { quietWorkerList } from "../quiet.ts";
import { renderWorkerInfo, renderWorkerList } from "../render_workers.ts";
import type { Command, CommandContext } from "./run_cli.ts";

/** What `hq --help` says of `hq worker`. */
export const WORKER_ABOUT = "Commands for workers";

/** The `SELECTOR` argument of the `worker` commands. */
export const WORKER_SELECTOR_ARG = {
  name: "SELECTOR",
  required: true,
  check: selectorArg,
  help: "id, range, last or all",
} as const;

async function list(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  let workers = await withClient(ctx.serverDir, (c) => c.listWorkers());
  const filter = optString(p, "filter");
  if (filter === "offline") workers = workers.filter((w) => w.state !== "running");
  else if (filter === "running" || !optFlag(p, "all")) {
    workers = workers.filter((w) => w.state === "running");
  }
  if (out.mode === "json") out.json(workerListJson(workers));
  else if (out.mode === "quiet") { for (const l of quietWorkerList(workers)) out.text(l); }
  else out.text(renderWorkerList(workers));
}

function pickWorkers(
  out: CommandContext["out"],
  selector: string,
  all: readonly WorkerView[],
): WorkerView[] {
  const sel = parseSelector(selector);
  const ids = resolveSelector(sel, all.map((w) => w.id));
  if (sel.kind === "ids") {
    for (const r of sel.ids) {
      for (const id of idSetIterate([r])) {
        if (!all.some((w) => w.id === id)) out.log("ERROR", `Worker ${id} not found`);
      }
    }
  }
  return all.filter((w) => ids.includes(w.id));
}

async function info(ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const all = await withClient(ctx.serverDir, (c) => c.listWorkers());
  const picked = pickWorkers(out, argString(ctx.parsed, "SELECTOR")!, all);
  if (out.mode === "json") out.json(workerInfoJson(picked));
  else if (out.mode === "cli" && picked.length > 0) {
    out.text(picked.map((w) => renderWorkerInfo(w)).join("\n"));
  }
}

/** `hq worker list`. */
export const workerListCommand: Command = {
  name: "list",
  about: "Display information about workers",
  options: [
    { long: "all", conflicts: ["filter"], help: "Display all workers, also the offline ones" },
    {
      long: "filter",
      value: "FILTER",
      choices: ["running", "offline"],
      help: "Display only workers in this state",
    },
  ],
  run: list,
};

/** `hq worker info`. */
export const workerInfoCommand: Command = {
  name: "info",
  about: "Display information about workers",
  args: [WORKER_SELECTOR_ARG],
  run: info,
};
