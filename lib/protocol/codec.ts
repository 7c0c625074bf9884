/**
 * Versioned JSON codec for protocol messages, with shape validation.
 *
 * Every record is `{"v":<version>, "kind": ..., ...fields}`. Decoding checks the
 * version, the kind and the type of each required field, so a foreign or
 * damaged record is rejected with a {@link ProtocolSyntaxError} instead of
 * reaching the reactors.
 *
 * @module
 */
import {
  type FromClientMsg,
  type FromWorkerMsg,
  type InboxEnvelope,
  PROTOCOL_VERSION,
  type ToClientMsg,
  type ToWorkerMsg,
} from "./messages.ts";
import { assertNever, escapeControl, quote } from "../common/mod.ts";

/**
 * A record that is not valid JSON or not a valid message; the message says which record and
 * what is wrong (`Cannot decode worker record "heartbeat": field "at" must be number`).
 *
 * @example Usage
 * ```ts
 * import { decodeFromWorker, ProtocolSyntaxError } from "./codec.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => decodeFromWorker("{not json"), ProtocolSyntaxError);
 * ```
 */
export class ProtocolSyntaxError extends SyntaxError {
  /** `message` is the whole message. */
  constructor(message: string) {
    super(message);
    this.name = "ProtocolSyntaxError";
  }
}

type FieldType =
  | "number"
  /** A non-negative safe integer: ids, instances, offsets, variants. */
  | "uint"
  | "uint|null"
  | "string"
  | "boolean"
  | "array"
  | "object"
  | "string|null"
  | "number|null"
  | "any";
type Schema = Record<string, Record<string, FieldType>>;

const FROM_CLIENT: Schema = {
  submit: { job: "object" },
  jobList: {},
  jobInfo: { selector: "string" },
  jobCancel: { selector: "string", reason: "string|null" },
  jobOpen: { name: "string", maxFails: "uint|null" },
  jobClose: { selector: "string" },
  jobWait: { selector: "string" },
  jobForget: { selector: "string", filter: "array" },
  journalEvents: { live: "boolean" },
  journalPrune: {},
  journalFlush: {},
  taskList: { selector: "string", taskIds: "any", states: "any", after: "any", limit: "uint" },
  taskNotify: { jobId: "uint", taskId: "uint", instance: "uint", message: "string" },
  taskExplain: { selector: "string", taskId: "uint" },
  workerList: {},
  workerStop: { selector: "string" },
  serverStop: {},
  ping: {},
  debugDump: {},
  registerWorker: { key: "string", config: "object" },
  allocAdd: { params: "object", dryRun: "boolean" },
  allocDryRun: { params: "object" },
  allocList: {},
  allocInfo: { queueId: "uint" },
  allocPause: { queueId: "uint" },
  allocResume: { queueId: "uint" },
  allocRemove: { queueId: "uint", force: "boolean" },
  allocExplain: { queueId: "uint" },
  allocLog: { allocationId: "string" },
};

const TO_WORKER: Schema = {
  registered: { workerId: "uint", serverUid: "string" },
  computeTasks: {
    jobId: "uint",
    submitDir: "string",
    template: "object",
    tasks: "array",
    sentAt: "number",
  },
  cancelTasks: { tasks: "array" },
  retractTasks: { tasks: "array" },
  stop: { reason: "string" },
  ack: { segment: "uint" },
  serverRestarted: { serverStartedAt: "number" },
  refused: { reason: "string" },
};

const FROM_WORKER: Schema = {
  heartbeat: { at: "number" },
  taskUpdates: { updates: "array" },
  stopping: { reason: "string" },
  ack: { segment: "uint" },
  reattached: { running: "array" },
};

const TO_CLIENT: Schema = {
  submitted: { request: "number", jobId: "number" },
  notify: {
    request: "number",
    jobId: "uint",
    taskId: "uint",
    workerId: "uint|null",
    message: "string",
  },
  data: { request: "number", data: "any" },
  error: { request: "number", message: "string" },
};

/**
 * Sorted kinds of each union, for the version guard test: a changed list must come with a new
 * `PROTOCOL_VERSION`.
 */
export const MESSAGE_KINDS = {
  fromClient: Object.keys(FROM_CLIENT).sort(),
  toWorker: Object.keys(TO_WORKER).sort(),
  fromWorker: Object.keys(FROM_WORKER).sort(),
  toClient: Object.keys(TO_CLIENT).sort(),
} as const;

function typeMatches(value: unknown, type: FieldType): boolean {
  switch (type) {
    case "any":
      return value !== undefined;
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "string|null":
      return value === null || typeof value === "string";
    case "number|null":
      return value === null || (typeof value === "number" && Number.isFinite(value));
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "uint":
      return Number.isSafeInteger(value) && (value as number) >= 0;
    case "uint|null":
      return value === null || (Number.isSafeInteger(value) && (value as number) >= 0);
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    default:
      return assertNever(type, "field type");
  }
}

function checkShape(value: unknown, schema: Schema, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolSyntaxError(`Cannot decode ${what}: not an object`);
  }
  const obj = value as Record<string, unknown>;
  const kind = obj.kind;
  if (typeof kind !== "string" || !Object.hasOwn(schema, kind)) {
    const shown = typeof kind === "string"
      ? quote(kind.slice(0, 100))
      : String(JSON.stringify(kind));
    throw new ProtocolSyntaxError(`Cannot decode ${what}: unknown kind ${escapeControl(shown)}`);
  }
  for (const [field, type] of Object.entries(schema[kind]!)) {
    if (!typeMatches(obj[field], type)) {
      throw new ProtocolSyntaxError(
        `Cannot decode ${what} "${kind}": field "${field}" must be ${typeName(type)}`,
      );
    }
  }
  return obj;
}

function parseVersioned(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolSyntaxError(`Cannot decode ${what}: invalid JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolSyntaxError(`Cannot decode ${what}: not an object`);
  }
  const v = (value as { v?: unknown }).v;
  if (v !== PROTOCOL_VERSION) {
    throw new ProtocolSyntaxError(
      `Cannot decode ${what}: protocol version ${JSON.stringify(v)} is not ${PROTOCOL_VERSION}`,
    );
  }
  return value as Record<string, unknown>;
}

function encodeVersioned(msg: { kind: string }): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, ...msg });
}

function stripVersion<T>(obj: Record<string, unknown>): T {
  const { v: _v, ...rest } = obj;
  return rest as T;
}

/**
 * Encodes a server-to-worker record: the message's fields plus `v`, the protocol version.
 *
 * @example Usage
 * ```ts
 * import { decodeToWorker, encodeToWorker } from "./codec.ts";
 * import { PROTOCOL_VERSION } from "./messages.ts";
 * import assert from "node:assert/strict";
 * const text = encodeToWorker({ kind: "ack", segment: 3 });
 * assert.deepEqual(JSON.parse(text), { v: PROTOCOL_VERSION, kind: "ack", segment: 3 });
 * assert.deepEqual(decodeToWorker(text), { kind: "ack", segment: 3 });
 * ```
 */
export function encodeToWorker(msg: ToWorkerMsg): string {
  return encodeVersioned(msg);
}

/**
 * Decodes a server-to-worker record (see {@link encodeToWorker}).
 *
 * @throws {ProtocolSyntaxError} On invalid JSON, another protocol version, an unknown kind or a
 * field of the wrong type.
 */
export function decodeToWorker(text: string): ToWorkerMsg {
  const obj = parseVersioned(text, "server record");
  const msg = checkShape(obj, TO_WORKER, "server record");
  if (msg.kind === "computeTasks") {
    for (const t of msg.tasks as unknown[]) {
      const a = checkItem(t, ASSIGNMENT, "task assignment");
      if (a.nodes !== undefined) {
        if (!Array.isArray(a.nodes)) throw itemError("task assignment", "nodes", "array");
        for (const n of a.nodes) checkItem(n, TASK_NODE, "task node");
      }
    }
  } else if (msg.kind === "cancelTasks" || msg.kind === "retractTasks") {
    for (const t of msg.tasks as unknown[]) checkItem(t, TASK_ID_REF, "task reference");
  }
  return stripVersion(msg);
}

const ASSIGNMENT: Record<string, FieldType> = {
  id: "uint",
  instance: "uint",
  variant: "uint|null",
};
const TASK_NODE: Record<string, FieldType> = { workerId: "uint", hostname: "string" };
const TASK_ID_REF: Record<string, FieldType> = { jobId: "uint", id: "uint", instance: "uint" };

function itemError(what: string, field: string, type: FieldType): ProtocolSyntaxError {
  return new ProtocolSyntaxError(
    `Cannot decode ${what}: field "${field}" must be ${typeName(type)}`,
  );
}

/** How an error names a field type. */
function typeName(type: FieldType): string {
  if (type === "uint") return "a non-negative integer";
  if (type === "uint|null") return "a non-negative integer or null";
  return type;
}

/** Checks an element of a message's list against `fields`; returns it as a record. */
function checkItem(
  value: unknown,
  fields: Record<string, FieldType>,
  what: string,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolSyntaxError(`Cannot decode ${what}: not an object`);
  }
  const obj = value as Record<string, unknown>;
  for (const [field, type] of Object.entries(fields)) {
    if (!typeMatches(obj[field], type)) throw itemError(what, field, type);
  }
  return obj;
}

const TASK_STATES = new Set(["waiting", "running", "finished", "failed", "canceled", "aborted"]);

/**
 * Checks a `taskList` request: `taskIds` null or id ranges (`start` <= `end`), `states` null
 * or state names, `after` null or a cursor, `limit` at least 1.
 */
function checkTaskList(msg: Record<string, unknown>): void {
  const what = 'inbox message "taskList"';
  if (msg.taskIds !== null) {
    if (!Array.isArray(msg.taskIds)) throw itemError(what, "taskIds", "array");
    for (const r of msg.taskIds) {
      const range = checkItem(r, { start: "uint", end: "uint" }, "task id range");
      if ((range.start as number) > (range.end as number)) {
        throw new ProtocolSyntaxError("Cannot decode task id range: start is after end");
      }
    }
  }
  if (msg.states !== null) {
    if (!Array.isArray(msg.states) || !msg.states.every((s) => TASK_STATES.has(s))) {
      throw new ProtocolSyntaxError(`Cannot decode ${what}: field "states" must be task states`);
    }
  }
  if (msg.after !== null) checkItem(msg.after, { job: "uint", task: "uint" }, "task cursor");
  if ((msg.limit as number) < 1) {
    throw new ProtocolSyntaxError(`Cannot decode ${what}: field "limit" must be at least 1`);
  }
}

/**
 * Encodes a worker-to-server record, as {@link encodeToWorker} does.
 *
 * @example Usage
 * ```ts
 * import { decodeFromWorker, encodeFromWorker } from "./codec.ts";
 * import assert from "node:assert/strict";
 * const msg = { kind: "heartbeat" as const, at: 1_700_000_000_000 };
 * assert.deepEqual(decodeFromWorker(encodeFromWorker(msg)), msg);
 * ```
 */
export function encodeFromWorker(msg: FromWorkerMsg): string {
  return encodeVersioned(msg);
}

const TASK_REF: Record<string, FieldType> = {
  jobId: "uint",
  id: "uint",
  instance: "uint",
  at: "number",
};

const TASK_UPDATE: Schema = {
  started: { ...TASK_REF, variant: "uint" },
  finished: TASK_REF,
  failed: { ...TASK_REF, error: "string" },
  canceled: TASK_REF,
  returned: TASK_REF,
  rejected: { ...TASK_REF, variant: "uint" },
};

const RUNNING_TASK: Schema = {
  running: { jobId: "uint", id: "uint", instance: "uint", variant: "uint", startedAt: "number" },
};

/** `obj`'s `kind` and the `fields`, nothing else. */
function pick(
  obj: Record<string, unknown>,
  fields: Record<string, FieldType>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: obj.kind };
  for (const f of Object.keys(fields)) out[f] = obj[f];
  return out;
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolSyntaxError("Cannot decode running task: not an object");
  }
  return value as Record<string, unknown>;
}

/**
 * Decodes a worker-to-server record, checking each task update of a `taskUpdates` record too.
 *
 * @example Usage
 * ```ts
 * import { decodeFromWorker, encodeFromWorker } from "./codec.ts";
 * import assert from "node:assert/strict";
 * const started = { kind: "started" as const, jobId: 1, id: 0, instance: 0, at: 5, variant: 0 };
 * const text = encodeFromWorker({ kind: "taskUpdates", updates: [started] });
 * assert.deepEqual(decodeFromWorker(text), { kind: "taskUpdates", updates: [started] });
 * // A started update without its variant is rejected.
 * const { variant: _, ...broken } = started;
 * const bad = JSON.stringify({ ...JSON.parse(text), updates: [broken] });
 * assert.throws(() => decodeFromWorker(bad), {
 *   message: 'Cannot decode task update "started": field "variant" must be a non-negative integer',
 * });
 * ```
 *
 * @throws {ProtocolSyntaxError} As {@link decodeToWorker}, and for a malformed task update.
 */
export function decodeFromWorker(text: string): FromWorkerMsg {
  const obj = parseVersioned(text, "worker record");
  const msg = checkShape(obj, FROM_WORKER, "worker record");
  if (msg.kind === "taskUpdates") {
    if (msg.echo !== undefined && !typeMatches(msg.echo, "number")) {
      throw itemError("worker record", "echo", "number");
    }
    // Only the checked fields go on to the scheduler.
    msg.updates = (msg.updates as unknown[]).map((u) => {
      const update = checkShape(u, TASK_UPDATE, "task update");
      return pick(update, TASK_UPDATE[update.kind as string]!);
    });
  } else if (msg.kind === "reattached") {
    for (const task of msg.running as unknown[]) {
      checkShape({ kind: "running", ...asObject(task) }, RUNNING_TASK, "running task");
    }
  }
  return stripVersion(msg);
}

/**
 * Encodes a server-to-client reply record, as {@link encodeToWorker} does.
 *
 * @example Usage
 * ```ts
 * import { decodeToClient, encodeToClient } from "./codec.ts";
 * import assert from "node:assert/strict";
 * const reply = { kind: "submitted" as const, request: 1, jobId: 7 };
 * assert.deepEqual(decodeToClient(encodeToClient(reply)), reply);
 * ```
 */
export function encodeToClient(msg: ToClientMsg): string {
  return encodeVersioned(msg);
}

/**
 * Decodes a server-to-client reply record.
 *
 * @throws {ProtocolSyntaxError} As {@link decodeToWorker}.
 */
export function decodeToClient(text: string): ToClientMsg {
  const obj = parseVersioned(text, "reply record");
  return stripVersion(checkShape(obj, TO_CLIENT, "reply record"));
}

/**
 * Encodes an inbox envelope; the protocol version `v` is added here.
 *
 * @example Usage
 * ```ts
 * import { decodeInbox, encodeInbox } from "./codec.ts";
 * import { PROTOCOL_VERSION } from "./messages.ts";
 * import assert from "node:assert/strict";
 * const envelope = { client: "c1", request: 1, sentAt: 0, msg: { kind: "ping" as const } };
 * assert.deepEqual(decodeInbox(encodeInbox(envelope)), { ...envelope, v: PROTOCOL_VERSION });
 * ```
 */
export function encodeInbox(envelope: Omit<InboxEnvelope, "v">): string {
  return JSON.stringify({ ...envelope, v: PROTOCOL_VERSION });
}

/**
 * Decodes an inbox envelope: a client request, or a worker registration (`client` null).
 *
 * @throws {ProtocolSyntaxError} As {@link decodeToWorker}, and for a bad `client`, `request`
 * or `sentAt`.
 */
export function decodeInbox(text: string): InboxEnvelope {
  const obj = parseVersioned(text, "inbox message");
  if (!(obj.client === null || typeof obj.client === "string")) {
    throw new ProtocolSyntaxError(
      `Cannot decode inbox message: field "client" must be string|null`,
    );
  }
  if (!typeMatches(obj.request, "number") || !typeMatches(obj.sentAt, "number")) {
    throw new ProtocolSyntaxError(
      `Cannot decode inbox message: fields "request" and "sentAt" must be numbers`,
    );
  }
  const msg = checkShape(obj.msg, FROM_CLIENT, "inbox message");
  if (msg.kind === "taskList") checkTaskList(msg);
  return {
    v: PROTOCOL_VERSION,
    client: obj.client,
    request: obj.request as number,
    sentAt: obj.sentAt as number,
    msg: msg as unknown as FromClientMsg,
  };
}
