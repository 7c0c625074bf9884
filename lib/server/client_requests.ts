/**
 * Applies one client request to the server state (synchronously) and says
 * what to reply once the round is committed.
 *
 * @module
 */
import {
  assertNever,
  fillPlaceholdersAfterSubmit,
  idSetIterate,
  idSetSize,
  type JobId,
  parseSelector,
  resolveSelector,
} from "../common/mod.ts";
import {
  type AllocMsg,
  type ForgetResult,
  type ForgettableState,
  type FromClientMsg,
  type InboxEnvelope,
  type JobSubmit,
  type JournalMsg,
  type StdioSpec,
  type TaskTemplate,
  type ToClientMsg,
  validateJobSubmit,
} from "../protocol/mod.ts";
import { debugDump } from "./debug_dump.ts";
import { checkSubmit } from "./submit_checks.ts";
import {
  canForget,
  forgetJob,
  heldJobs,
  isJobComplete,
  onJobClose,
  onJobOpen,
  onSubmit,
  onWorkerLost,
  type Outbox,
  sendToWorker,
  type ServerState,
  stopUnfinished,
} from "../scheduler/mod.ts";
import {
  jobInfoData,
  jobListData,
  selectJobs,
  taskExplainData,
  taskListData,
  workerListData,
} from "./queries.ts";

/** A `job wait` request answered when its jobs complete. */
export interface PendingWait {
  /** Client key. */
  client: string | null;
  request: number;
  /** Jobs waited for. */
  jobIds: JobId[];
  /** Whether an open job counts as complete once its tasks are (`--without-close`). */
  withoutClose: boolean;
  /** Whether the client is sent its jobs' task notifications (`--on-notify`). */
  notify: boolean;
}

/** Longest `hq task notify` message, in UTF-8 bytes (HyperQueue's limit). */
export const MAX_NOTIFY_BYTES = 1024;

/** Outcome of `job close` for one job id. */
export type CloseResult = { id: JobId; result: "closed" | "alreadyClosed" | "notFound" };

/** What handling a request produced. */
export interface Handled {
  /** Reply to send after the commit. */
  reply?: ToClientMsg;
  /** Key of an applied submit (for replay safety). */
  requestKey?: string;
  /** Job created by a submit. */
  jobId?: JobId;
  /** Whether the server should stop. */
  stop?: boolean;
  /** Messages to other clients (task notifications to waiting clients). */
  notices?: { client: string | null; msg: ToClientMsg }[];
}

/** Outcome of `job cancel` for one job id. */
export type CancelResult =
  | { id: JobId; result: "canceled"; canceled: number; alreadyFinished: number }
  | { id: JobId; result: "alreadyFinished" }
  | { id: JobId; result: "notFound" };

/** Outcome of `worker stop` for one worker id. */
export type WorkerStopResult = { id: number; result: "stopped" | "alreadyStopped" | "notFound" };

/**
 * Ids a `job cancel` or `worker stop` names, as HyperQueue picks them: `all`
 * is every one still active, `last` the newest, ids as given (a missing one
 * is reported as not found).
 */
function namedIds(selector: string, existing: readonly number[], active: (id: number) => boolean) {
  const sel = parseSelector(selector);
  const ids = [...existing].sort((a, b) => a - b);
  switch (sel.kind) {
    case "all":
      return ids.filter(active);
    case "last":
      return ids.slice(-1);
    case "ids":
      // Each missing id is reported by name, as HyperQueue does, unless the range is huge
      // (`1-4294967295` must not be walked): then only the ids that exist.
      return idSetSize(sel.ids) <= MAX_NAMED_IDS
        ? [...idSetIterate(sel.ids)]
        : resolveSelector(sel, ids);
    default:
      return assertNever(sel, "selector");
  }
}

/** Most ids of a selector reported one by one (`job cancel`, `worker stop`). */
const MAX_NAMED_IDS = 10_000;

function cancelTargets(state: ServerState, selector: string): JobId[] {
  return namedIds(selector, [...state.jobs.keys()], (id) => !isJobComplete(state.jobs.get(id)!));
}

function stopTargets(state: ServerState, selector: string): number[] {
  return namedIds(selector, [...state.workers.keys()], (id) => {
    return state.workers.get(id)!.state === "running";
  });
}

const FORGETTABLE: readonly ForgettableState[] = ["finished", "failed", "canceled", "aborted"];

/** The states of a `job forget --filter`, checked (the request crossed a file). */
function checkForgetFilter(filter: readonly unknown[]): ForgettableState[] {
  for (const s of filter) {
    if (!FORGETTABLE.includes(s as ForgettableState)) {
      throw new RangeError(
        `Cannot forget jobs in state ${JSON.stringify(s)}: expected one of ${
          FORGETTABLE.join(", ")
        }`,
      );
    }
  }
  return filter as ForgettableState[];
}

/**
 * The submit with the placeholders known now filled in (a new job gets `nextJobId`, see
 * `onSubmit`).
 */
function withSubmitPlaceholders(job: JobSubmit, state: ServerState): JobSubmit {
  const values = {
    jobId: job.jobId ?? state.nextJobId,
    submitDir: job.submitDir,
    serverUid: state.serverUid,
  };
  const fill = (template: TaskTemplate): TaskTemplate => {
    const program = template.program;
    const filled = fillPlaceholdersAfterSubmit(
      {
        cwd: program.cwd,
        stdout: program.stdout?.path ?? null,
        stderr: program.stderr?.path ?? null,
      },
      values,
    );
    const stdio = (spec: StdioSpec, path: string | null): StdioSpec =>
      spec === null || path === null ? null : { ...spec, path };
    // The stream dir takes the cwd's resolution: filled, and relative to the submit dir.
    const stream = program.stream && {
      ...program.stream,
      dir: fillPlaceholdersAfterSubmit(
        { cwd: program.stream.dir, stdout: null, stderr: null },
        values,
      ).cwd,
    };
    return {
      ...template,
      program: {
        ...program,
        cwd: filled.cwd,
        stdout: stdio(program.stdout, filled.stdout),
        stderr: stdio(program.stderr, filled.stderr),
        ...(stream ? { stream } : {}),
      },
    };
  };
  const graph = job.graph && { ...job.graph, templates: job.graph.templates.map(fill) };
  return { ...job, template: fill(job.template), ...(graph ? { graph } : {}) };
}

/**
 * The notification of a running task, addressed to every waiting client that asked for its
 * job's notifications.
 *
 * @throws {RangeError} When the message is too long or the task is not running.
 */
function notices(
  state: ServerState,
  msg: Extract<FromClientMsg, { kind: "taskNotify" }>,
  waits: readonly PendingWait[],
): NonNullable<Handled["notices"]> {
  const bytes = new TextEncoder().encode(msg.message).length;
  if (bytes > MAX_NOTIFY_BYTES) {
    throw new RangeError(
      `Notification message is too long: ${bytes} bytes (at most ${MAX_NOTIFY_BYTES})`,
    );
  }
  const task = state.jobs.get(msg.jobId)?.tasks.get(msg.taskId);
  if (!task || task.state !== "running" || task.instance !== msg.instance) {
    throw new RangeError(`Task ${msg.jobId}@${msg.taskId} is not running`);
  }
  return waits.filter((w) => w.notify && w.jobIds.includes(msg.jobId)).map((w) => ({
    client: w.client,
    msg: {
      kind: "notify",
      request: w.request,
      jobId: msg.jobId,
      taskId: msg.taskId,
      workerId: task.workerId,
      message: msg.message,
    },
  }));
}

/** Handles one client request other than `hq alloc`'s. Errors become error replies. */
export function handleClientMsg(
  state: ServerState,
  env: InboxEnvelope & { msg: Exclude<InboxEnvelope["msg"], AllocMsg | JournalMsg> },
  now: number,
  out: Outbox,
  waits: PendingWait[],
): Handled {
  const request = env.request;
  const msg = env.msg;
  try {
    switch (msg.kind) {
      case "submit": {
        const key = `${env.client}:${request}`;
        const done = state.appliedRequests.get(key);
        if (done !== undefined) return { reply: { kind: "submitted", request, jobId: done } };
        const checked = checkSubmit(state, validateJobSubmit(msg.job));
        const job = withSubmitPlaceholders(checked.submit, state);
        const jobId = onSubmit(state, job, now, checked.after);
        state.appliedRequests.set(key, jobId);
        return { reply: { kind: "submitted", request, jobId }, requestKey: key, jobId };
      }
      case "jobList":
        return { reply: { kind: "data", request, data: jobListData(state) } };
      case "jobInfo":
        return { reply: { kind: "data", request, data: jobInfoData(state, msg.selector) } };
      case "taskList":
        return {
          reply: { kind: "data", request, data: taskListData(state, msg) },
        };
      case "taskExplain":
        return {
          reply: {
            kind: "data",
            request,
            data: taskExplainData(state, msg.selector, msg.taskId, now),
          },
        };
      case "jobCancel": {
        const results = cancelTargets(state, msg.selector).map((id): CancelResult => {
          const job = state.jobs.get(id);
          if (!job) return { id, result: "notFound" };
          const canceled = stopUnfinished(state, job, "canceled", now, out);
          if (canceled === 0) return { id, result: "alreadyFinished" };
          if (msg.reason !== null) {
            job.cancelReason = msg.reason;
            state.dirtyJobs.add(id);
          }
          return { id, result: "canceled", canceled, alreadyFinished: job.size - canceled };
        });
        return { reply: { kind: "data", request, data: results } };
      }
      case "jobForget": {
        const filter = new Set(checkForgetFilter(msg.filter));
        const result: ForgetResult = { forgotten: 0, ignored: 0 };
        const held = heldJobs(state);
        const ids = selectJobs(state, msg.selector);
        // Ids that no job has count as ignored (counted, not walked: `1-4294967295`).
        const sel = parseSelector(msg.selector);
        result.ignored = sel.kind === "ids" ? idSetSize(sel.ids) - ids.length : 0;
        for (const id of ids) {
          if (canForget(state, id, filter) && forgetJob(state, id, held)) result.forgotten++;
          else result.ignored++;
        }
        return { reply: { kind: "data", request, data: result } };
      }
      case "jobWait": {
        const jobIds = selectJobs(state, msg.selector);
        waits.push({
          client: env.client,
          request,
          jobIds,
          withoutClose: msg.withoutClose === true,
          notify: msg.notify === true,
        });
        return {};
      }
      case "taskNotify":
        return {
          reply: { kind: "data", request, data: null },
          notices: notices(state, msg, waits),
        };
      case "jobOpen": {
        if (msg.name.length === 0 || /[\n\t]/.test(msg.name)) {
          throw new RangeError("Job name must be non-empty, without newlines or tabs");
        }
        const jobId = onJobOpen(state, msg.name, msg.maxFails, now);
        return { reply: { kind: "submitted", request, jobId }, jobId };
      }
      case "jobClose": {
        const results = namedIds(msg.selector, [...state.jobs.keys()], (id) => {
          return state.jobs.get(id)!.open;
        }).map((id): CloseResult => {
          const job = state.jobs.get(id);
          if (!job) return { id, result: "notFound" };
          if (!job.open) return { id, result: "alreadyClosed" };
          onJobClose(state, job, now);
          return { id, result: "closed" };
        });
        return { reply: { kind: "data", request, data: results } };
      }
      case "workerList":
        return { reply: { kind: "data", request, data: workerListData(state) } };
      case "workerStop": {
        const results = stopTargets(state, msg.selector).map((id): WorkerStopResult => {
          const w = state.workers.get(id);
          if (!w) return { id, result: "notFound" };
          if (w.state !== "running") return { id, result: "alreadyStopped" };
          sendToWorker(out, id, { kind: "stop", reason: "stopped" });
          onWorkerLost(state, id, "stopped", now);
          return { id, result: "stopped" };
        });
        return { reply: { kind: "data", request, data: results } };
      }
      case "serverStop":
        return { reply: { kind: "data", request, data: null }, stop: true };
      case "debugDump":
        return { reply: { kind: "data", request, data: debugDump(state, now) } };
      case "ping":
        return { reply: { kind: "data", request, data: { serverUid: state.serverUid } } };
      case "registerWorker":
        return {
          reply: {
            kind: "error",
            request,
            message: "Cannot handle registerWorker as a client request",
          },
        };
      default:
        return assertNever(msg, "client request");
    }
  } catch (e) {
    return { reply: { kind: "error", request, message: (e as Error).message } };
  }
}
