/**
 * Turns a decision to submit into the action the shell carries out: the
 * allocation's directory (`autoalloc/<queue id>[-<name>]/<NNN>/` in the
 * server's instance directory, as HyperQueue lays it out), its job name and
 * its batch script.
 *
 * @module
 */
import type { ManagerKind, Queue, QueueParams } from "./queue.ts";
import { queueLabel } from "./queue.ts";
import { allocationJobName, pbsScript, slurmScript } from "./script.ts";
import { workerCommand } from "./worker_command.ts";
import type { AutoallocAction } from "./state.ts";

/** What scripts need to know about the server that writes them. */
export interface AutoallocContext {
  /** Words that run this project's worker (or `hq`), with absolute paths. */
  program: readonly string[];
  /** The server directory the workers read. */
  serverDir: string;
  /** The server's instance directory, under which `autoalloc/` lives. */
  instanceRoot: string;
}

/** The program's words that are absolute paths: the files every allocation needs. */
function requiredFiles(ctx: AutoallocContext): string[] {
  return ctx.program.filter((w) => w.startsWith("/"));
}

/** Directory name of a queue: `<id>` or `<id>-<name>`. */
export function queueDirName(queue: Pick<Queue, "id" | "params">): string {
  const name = queue.params.name?.replace(/[^A-Za-z0-9_.-]/g, "_");
  return name ? `${queue.id}-${name}` : String(queue.id);
}

function script(
  params: QueueParams,
  workerCount: number,
  jobName: string,
  dir: string,
  ctx: AutoallocContext,
  dryRun: boolean,
): string {
  const workerLine = workerCommand(params, { program: ctx.program, serverDir: ctx.serverDir });
  const options = { params, workerCount, jobName, dir, workerLine };
  return params.manager === "pbs" ? pbsScript({ ...options, dryRun }) : slurmScript(options);
}

/**
 * The action that submits one allocation of `workerCount` workers for
 * `queue`; takes the queue's next directory number.
 *
 * @example Usage
 * ```ts
 * import { submissionAction } from "./submission.ts";
 * import { addQueue, createAutoallocState } from "./state.ts";
 * import { testQueueParams } from "./testdata/params.ts";
 * import assert from "node:assert/strict";
 * const aa = createAutoallocState();
 * const queue = addQueue(aa, testQueueParams({ name: "gpu" }), 0);
 * const ctx = { program: ["/bin/hq"], serverDir: "/s", instanceRoot: "/s/001" };
 * const action = submissionAction(queue, 2, ctx);
 * assert.equal(action.kind === "submit" && action.dir, "/s/001/autoalloc/1-gpu/001");
 * assert.match(action.kind === "submit" ? action.script : "", /#SBATCH --nodes=2/);
 * ```
 */
export function submissionAction(
  queue: Queue,
  workerCount: number,
  ctx: AutoallocContext,
): AutoallocAction {
  const counter = ++queue.dirCounter;
  const dir = `${ctx.instanceRoot}/autoalloc/${queueDirName(queue)}/${
    String(counter).padStart(3, "0")
  }`;
  const jobName = allocationJobName(queueLabel(queue), counter);
  return {
    kind: "submit",
    queueId: queue.id,
    manager: queue.params.manager,
    dir,
    script: script(queue.params, workerCount, jobName, dir, ctx, false),
    workerCount,
    requires: requiredFiles(ctx),
  };
}

/**
 * The action that tests a queue's parameters: one allocation of the most
 * workers an allocation may have, submitted in `autoalloc/dry-run/<token>/`
 * and cancelled at once (held on PBS).
 */
export function dryRunAction(
  params: QueueParams,
  token: number,
  ctx: AutoallocContext,
): AutoallocAction {
  const dir = `${ctx.instanceRoot}/autoalloc/dry-run/${String(token).padStart(3, "0")}`;
  const manager: ManagerKind = params.manager;
  const jobName = allocationJobName(params.name ?? "hq-dry-run", token);
  return {
    kind: "dryRun",
    token,
    manager,
    dir,
    script: script(params, params.maxWorkersPerAlloc, jobName, dir, ctx, true),
    requires: requiredFiles(ctx),
  };
}
